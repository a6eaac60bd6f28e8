"""The run report, in the order a run makes it:

- :mod:`~cleanpipe.report.samples`: what the map tasks sample of the documents (languages,
  quality signals, rejected examples), merged across tasks;
- :mod:`~cleanpipe.report.build`: report.json from the run's stats (``build_report``), and
  the three report files of an output folder (``write_reports``, ``load_report``);
- :mod:`~cleanpipe.report.view`: the view of a report.json that every renderer shares (the
  package's internal API, not re-exported here);
- :mod:`~cleanpipe.report.markdown` (report.md), :mod:`~cleanpipe.report.html` (report.html,
  charts in :mod:`~cleanpipe.report.svg`);
- :mod:`~cleanpipe.report.compare`: two runs' numbers side by side (``--compare``);
- :mod:`~cleanpipe.report.terminal`: ``cleanpipe report``, ``cleanpipe plan`` and
  ``--compare`` in a terminal.
"""

from cleanpipe.report.build import build_report, load_report, write_reports
from cleanpipe.report.terminal import print_comparison, print_plan, print_report

__all__ = [
    "build_report",
    "load_report",
    "print_comparison",
    "print_plan",
    "print_report",
    "write_reports",
]
