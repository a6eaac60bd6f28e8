# temporary shim for issue 12 integration; removed when runner/ lands
"""Old home of :mod:`cleanpipe.dedup.clusters` (the dedup barrier); import from there."""

from cleanpipe.dedup.clusters import *  # noqa: F403
from cleanpipe.dedup.clusters import find_duplicates  # noqa: F401
