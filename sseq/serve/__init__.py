"""``sseq serve``: recordings replayed to HTTP clients on 127.0.0.1.

``server`` (the ReplayServer lifecycle, usable from Python) runs
``replay_handler`` (HTTP: CORS, limits, answers) with ``request_limits``,
handing it a ``context`` (the options, and where to find a request's
recording); ``cassette`` matches a request to its recording (by the rules
of :mod:`sseq.cassette.matching`), ``routes`` serves files by path; what
one connection is sent is worked out without I/O by ``playback``
(resumption, ids, pacing, keep-alives, fault modes) and ``rechunk``, from
the ``recording`` loaded at start.
"""
