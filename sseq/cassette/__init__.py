"""Cassettes: recordings of HTTP exchanges that ``serve`` replays.

A recording is the NDJSON that ``fetch`` and ``proxy`` write:
``sseq.open`` (the request that was asked, redacted, and the answer's
status and headers), the events with ``t``, ``sseq.close`` (why it ended).
This package holds the writing side shared by fetch and proxy:
``request`` describes a request for ``sseq.open``, ``records`` builds the
``sseq.open`` and ``sseq.close`` records.  Secrets are redacted here, with
:mod:`sseq.redact`, never on the wire.
"""
