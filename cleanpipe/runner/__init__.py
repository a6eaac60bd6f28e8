"""Running a job: the flow of DESIGN.md, one module per step.

- :mod:`~cleanpipe.runner.driver` — ``run``: map -> barrier -> route -> shard -> report
- :mod:`~cleanpipe.runner.tasks` — typed task descriptions, fingerprints, resume markers
- :mod:`~cleanpipe.runner.map` — per input file: read, stages, staged Parquet, rejects
- :mod:`~cleanpipe.runner.barrier` — once: dedup across sources, the plan's inputs, checks
- :mod:`~cleanpipe.runner.route` — per staged file: drop duplicates, copies, shard places
- :mod:`~cleanpipe.runner.shard` — per output shard: gather, order, write
- :mod:`~cleanpipe.runner.folder` — the output folder: lock, stale files, ``--force``
- :mod:`~cleanpipe.runner.preview` — ``cleanpipe plan``: the mixture plan without a run
"""

from cleanpipe.errors import RunError
from cleanpipe.runner.driver import RunResult, run
from cleanpipe.runner.folder import output_lock

__all__ = ["RunError", "RunResult", "output_lock", "run"]
