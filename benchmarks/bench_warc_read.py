"""WARC reader throughput and memory over a ~1 GB archive.

Method: the records of the bundled ``sample_data/web-archive/crawl-000.warc.gz`` (real HTML
pages of Debian documentation, crawler-recorded: requests, responses, metadata ...; one gzip
member each) are repeated, member by member, into a ``.warc.gz`` of ``--size`` bytes in a
temporary folder (not committed; its truncated last record is left out). Then, in the same
run and on the same file:

* **baseline**: a bare fastwarc loop that reads every record's block (no HTTP parsing, no
  decoding), the least any WARC reader built on fastwarc can do;
* **cleanpipe**: :func:`cleanpipe.io.readers.read_input`, which also parses the HTTP block,
  undoes gzip/chunked bodies, decodes the charset and builds each document with its metadata.

Reported: records/s, HTML documents/s and compressed MB/s for each, cleanpipe's time as a
multiple of the baseline's, and the process's resident memory (RSS, from /proc) as the reader
passes 10%, 50% and 100% of the file: it stays flat, because records are streamed one at a time
and never a file is held.

    python benchmarks/bench_warc_read.py               # 1 GB (about 2-4 minutes)
    python benchmarks/bench_warc_read.py --size 200MB
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from fastwarc.warc import ArchiveIterator

from cleanpipe._config_checks import parse_size
from cleanpipe.document import Document
from cleanpipe.io.readers import BadRecord, InputFile, ReadOptions, read_input

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_data" / "web-archive" / "crawl-000.warc.gz"


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def members(path: Path) -> list[bytes]:
    """The gzip members (one per record) of a ``.warc.gz``, the damaged last one left out."""
    data = path.read_bytes()
    with open(path, "rb") as fh:
        starts = [r.stream_pos for r in ArchiveIterator(fh, parse_http=False)]
    return [data[a:b] for a, b in zip(starts, starts[1:], strict=False)]


def build(target: int, folder: str) -> Path:
    parts = members(SAMPLE)
    path = Path(folder) / "big.warc.gz"
    written = 0
    with open(path, "wb") as out:
        while written < target:
            for part in parts:
                out.write(part)
                written += len(part)
    return path


def baseline(path: Path) -> dict[str, float]:
    started, records, block = time.perf_counter(), 0, 0
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh, parse_http=False):
            block += len(record.reader.read())
            records += 1
    return {"seconds": time.perf_counter() - started, "records": records, "docs": 0}


def cleanpipe_read(path: Path, total: int) -> dict[str, float]:
    """Read with cleanpipe; RSS noted after 10%, 50% and 100% of the ``total`` records."""
    marks = [0.1, 0.5, 1.0]
    rss: dict[str, float] = {"start": rss_mb()}
    started, records, docs, bad, seen_bytes = time.perf_counter(), 0, 0, 0, 0
    options = ReadOptions("web")
    for record in read_input(InputFile(str(path)), options):
        records += 1
        if isinstance(record, Document):
            docs += 1
            seen_bytes += len(record.text)
        elif isinstance(record, BadRecord):
            bad += 1
        while marks and records >= marks[0] * total:
            rss[f"{int(marks.pop(0) * 100)}%"] = rss_mb()
    rss["end"] = rss_mb()
    return {
        "seconds": time.perf_counter() - started,
        "records": records,
        "docs": docs,
        "bad": bad,
        "rss": rss,
        "text_mb": seen_bytes / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="1GB", help="archive size (compressed), e.g. 200MB")
    args = parser.parse_args()
    target = parse_size(args.size)
    with tempfile.TemporaryDirectory(prefix="bench-warc-") as folder:
        path = build(target, folder)
        size_mb = path.stat().st_size / 1e6
        base = baseline(path)
        ours = cleanpipe_read(path, int(base["records"]))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"archive: {size_mb:,.0f} MB compressed, {base['records']:,} records, "
        f"{ours['docs']:,} HTML documents ({ours['text_mb']:,.0f} MB of decoded HTML)"
    )
    print("| reader | seconds | records/s | documents/s | MB/s (compressed) | vs baseline |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in (("fastwarc loop (baseline)", base), ("cleanpipe read_input", ours)):
        print(
            f"| {name} | {r['seconds']:.1f} | {r['records'] / r['seconds']:,.0f} | "
            f"{(r['docs'] or ours['docs']) / r['seconds']:,.0f} | {size_mb / r['seconds']:,.0f} | "
            f"{r['seconds'] / base['seconds']:.2f}x |"
        )
    marks = ", ".join(f"{k} {v:,.0f} MB" for k, v in ours["rss"].items())
    print(f"RSS while reading: {marks}; peak of the process {peak:,.0f} MB")


if __name__ == "__main__":
    main()
