"""``sseq proxy``: forward every request to an upstream, relay the answer
live, record each exchange as a cassette recording.

``server`` (the ProxyServer lifecycle, usable from Python as a context
manager) runs ``handler`` (HTTP: limits, the exchange), which sends the
request through ``upstream`` (the only module that talks to the upstream),
copies the body to the client with ``relay`` and hands it to ``recording``
(NDJSON files in the cassette format); ``gateway`` edits requests
(--jq-body, --include-usage), ``accounting`` says what each exchange cost
(the log line, the usage ledger), ``cassette_modes`` answers from the
cassette in the record modes that replay.
"""
