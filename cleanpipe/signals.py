# temporary shim for issue 12 integration; removed when runner/ lands
"""Moved to :mod:`cleanpipe.report.samples`."""

from cleanpipe.report.samples import *  # noqa: F403
from cleanpipe.report.samples import SignalCollector, merge_collected  # noqa: F401
