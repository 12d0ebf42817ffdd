"""The build of sseq's optional compiled core (sseq/_speedups.c).

Everything else is in setup.cfg.  ``optional=True``: where the extension
cannot be built (no C compiler, no Python headers) the install goes on
without it and sseq runs in pure Python, with the same output.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("sseq._speedups", ["sseq/_speedups.c"], optional=True)])
