"""Everything sseq knows about each provider's wire format, one module per
family, behind one small interface (:class:`~sseq.providers.base.Family`).

Modules: ``base`` (the interface, the ``Api`` names, ``Fragment`` and
``Tokens``), ``registry`` (the families in order; detection and the
per-record questions; ``StreamReader`` for one stream), and one module per
family: ``openai_chat`` (Chat Completions and its relays), ``openai_responses``,
``anthropic``, ``gemini`` (with Vertex AI), ``cohere`` (Chat v2).

Adding a family is one module with a ``FAMILY`` instance, listed in
``registry.FAMILIES``, and one test folder under ``tests/providers/``.
"""

from .base import REASONING, TEXT, TOOL, Api, Family, Fragment, Tokens, UsageObserver
from .registry import (FAMILIES, RUN_SHAPES, StreamReader, detect_family, family_named, family_of, is_terminal,
                       maybe_error, maybe_http_error_message, maybe_provider_of_url)

__all__ = [
    "Api", "FAMILIES", "RUN_SHAPES", "Family", "Fragment", "REASONING", "StreamReader", "TEXT", "TOOL", "Tokens",
    "UsageObserver", "detect_family", "family_named", "family_of", "is_terminal", "maybe_error",
    "maybe_http_error_message", "maybe_provider_of_url",
]
