"""Token accounting for recorded streams: the library under ``sseq usage``.

::

    from sseq.usage import iter_usages, usage_of
    for usage in iter_usages(["recordings/"], on_problem=print):
        print(usage.file, usage.model, usage.input_tokens, usage.output_tokens)

Modules: ``model`` (the StreamUsage shape), ``streams`` (inputs split into
streams, each read by its provider's rules from :mod:`sseq.providers`),
``parallel`` (files read in N processes), ``shard`` (stable slices of an
archive), ``report`` (groups and formats), ``schema`` (the versioned
per-stream row), ``prices`` (cost by the providers' billing rules),
``ledger`` (each stream counted once; stores in ``ledger_sqlite`` and
``ledger_postgres``), ``estimate``.
"""

from .model import StreamUsage, Tokens
from .streams import iter_file_usages, iter_input_paths, usage_of


def iter_usages(paths, on_problem=None, **options):
    """Every stream in files and folders; bad inputs go to ``on_problem``
    (raised when it is None)."""
    from .streams import iter_usages as _iter

    def _raise(error):
        raise error

    return _iter(iter_input_paths(paths), on_problem or _raise, **options)


__all__ = ["StreamUsage", "Tokens", "iter_file_usages", "iter_usages", "usage_of"]
