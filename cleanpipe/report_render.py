# temporary shim for issue 12 integration; removed when runner/ lands
"""Moved to :mod:`cleanpipe.report` (``print_comparison``)."""

from cleanpipe.report import print_comparison  # noqa: F401
