"""Fixtures of the usage tests."""

from __future__ import annotations

import pytest
from helpers.postgres import Postgres


@pytest.fixture(scope="session")
def postgres_server():
    server = Postgres()
    yield server
    server.stop()


@pytest.fixture
def postgres(postgres_server) -> str:
    """The URL of a new, empty PostgreSQL database."""
    return postgres_server.database()
