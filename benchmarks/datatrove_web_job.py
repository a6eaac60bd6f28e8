"""The datatrove side of ``benchmarks/bench_web_extract.py``: ``WarcReader`` -> ``Trafilatura``
over one folder of ``.warc.gz`` files, in one process, as datatrove's FineWeb example starts
(``examples/fineweb.py``: ``WarcReader`` then ``Trafilatura(favour_precision=True)``).

Runs inside the datatrove virtualenv (never cleanpipe's environment):

    benchmarks/.work/dt-venv/bin/python benchmarks/datatrove_web_job.py \\
        --input /tmp/web-bench --result dt.json

Datatrove's ``Trafilatura`` runs each page in a sandbox process (its time limit, 1 s by
default in 0.10); its CPU time is counted through ``os.times()`` of the children, after the
sandbox is joined. Writes wall and CPU seconds, pages read and pages extracted.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from importlib.metadata import version

from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.readers import WarcReader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True, help="folder of *.warc.gz")
    parser.add_argument("--result", required=True, help="JSON file for the figures")
    args = parser.parse_args()

    reader = WarcReader(args.input, glob_pattern="*.warc.gz")
    extractor = Trafilatura(favour_precision=True)
    counted = {"read": 0, "extracted": 0, "chars": 0}

    def read():
        for doc in reader.run(rank=0, world_size=1):
            counted["read"] += 1
            yield doc

    before = os.times()
    started = time.perf_counter()
    for doc in extractor.run(read(), rank=0, world_size=1):
        counted["extracted"] += 1
        counted["chars"] += len(doc.text)
    wall = time.perf_counter() - started
    after = os.times()
    cpu = sum(after[:4]) - sum(before[:4])  # user + system, self + children
    result = {
        "tool": "datatrove",
        "datatrove": version("datatrove"),
        "trafilatura": version("trafilatura"),
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "pages_read": counted["read"],
        "pages_extracted": counted["extracted"],
        "chars_out": counted["chars"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    with open(args.result, "w") as fh:
        json.dump(result, fh, indent=1)


if __name__ == "__main__":
    main()
