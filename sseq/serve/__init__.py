"""``sseq serve``: recordings replayed to HTTP clients on 127.0.0.1.

``server`` (the ReplayServer lifecycle, usable from Python) runs
``replay_handler`` (HTTP: CORS, limits, routes) with ``request_limits``;
what one connection is sent is worked out without I/O by ``playback``
(resumption, ids, pacing, keep-alives, fault modes) and ``rechunk``, from
the ``recording`` that ``routes`` loaded at start.
"""
