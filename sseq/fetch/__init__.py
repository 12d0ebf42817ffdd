"""``sseq fetch``: one streamed HTTP request, recorded as records.

``transport`` is the only module that touches the network (``body`` reads a
response body to its true end for it); around it:
``request`` (what is sent, built from user input), ``retrying`` (backoff and
Retry-After), ``resume`` (Last-Event-ID without repeats), ``outcome`` (why a
run ended, in words and exit statuses) and ``clock`` (timeouts and ``t``).
The sseq.open and sseq.close records are :mod:`sseq.cassette`'s (proxy
writes them too), secrets :mod:`sseq.redact`'s.
"""
