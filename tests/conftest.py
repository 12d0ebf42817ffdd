"""Fixtures shared by every test folder; helpers live in tests/helpers/."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REAL_FILES, run_sseq

# The fetch tests' real HTTP server on 127.0.0.1, as the fixture drip_server.
from helpers.http_servers import drip_server  # noqa: F401


@pytest.fixture
def sseq():
    return run_sseq


@pytest.fixture(params=REAL_FILES, ids=lambda p: p.stem)
def real_recording(request) -> Path:
    return request.param
