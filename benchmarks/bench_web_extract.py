"""WARC -> extracted text, pages per second per core: cleanpipe's reader + ``html_extract``
(fastwarc + resiliparse, the default) against datatrove's ``WarcReader`` + ``Trafilatura``,
on the same archive in the same run.

    apt-get download python3.11-doc debian-reference-en debian-reference-ja
    for f in *.deb; do dpkg-deb -x "$f" /tmp/html-src; done
    python benchmarks/bench_web_extract.py --src /tmp/html-src [--copies 2] [--only cleanpipe]

The archive: every HTML page of those packages (Sphinx and DocBook pages, 9 kB to 2.6 MB,
100 kB on average, 57 kB the median), recorded as a crawler records them, with the record
writers of ``scripts/build_web_archive.py`` (the sample archive's): a ``warcinfo`` record,
then per page a ``request``, a ``response`` (HTTP/1.1 200, ``Content-Type: text/html;
charset=utf-8``) and a ``metadata`` record, each its own gzip member, into
``benchmarks/.work/web-bench/`` (git-ignored); ``--copies`` repeats the pages under other
URLs for a longer run.

Each tool runs in one process. Pages/s per core is pages over the process's CPU seconds
(user + system, with the children for datatrove, whose Trafilatura runs in a sandbox
process), so other load on the machine does not lower it; wall-clock pages/s is given too.
cleanpipe is also timed with ``extractor: trafilatura``, which separates the extractor's cost
from the reader's and the pipeline's. The datatrove side runs in its own virtualenv
(``benchmarks/.work/dt-venv``, made by ``harness.py``; this script adds warcio, python-magic,
faust-cchardet and trafilatura to it), never in cleanpipe's environment.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

import corpus  # noqa: E402  (benchmarks/corpus.py: where benchmark files go)

WORK = corpus.WORK / "web-bench"
#: what datatrove's WarcReader and Trafilatura import (its [io] extra without `datasets`).
DATATROVE_WEB_REQUIREMENTS = ["warcio", "python-magic", "faust-cchardet", "trafilatura"]
PAGE_ROOTS = ["usr/share/doc/python3.11/html", "usr/share/debian-reference"]


def real_pages(src: Path) -> list[tuple[str, bytes]]:
    """(URL, HTML bytes) of every page under the unpacked packages, sorted."""
    pages = []
    for root in PAGE_ROOTS:
        base = src / root
        for path in sorted(base.rglob("*.html")):
            rel = path.relative_to(base).as_posix()
            pages.append(
                (f"https://docs.example.org/{root.split('/')[-1]}/{rel}", path.read_bytes())
            )
    return pages


def build_archive(src: Path, copies: int) -> tuple[Path, int, int]:
    """The benchmark archive (built once per ``copies``), its responses and HTML bytes."""
    from scripts.build_web_archive import (
        Capture,
        capture_records,
        gzip_member,
        record_id,
        warcinfo,
    )

    pages = real_pages(src)
    if not pages:
        sys.exit(f"no HTML pages under {src}: unpack the .debs there (see this script's doc)")
    folder = WORK / f"archive-x{copies}"
    path = folder / "bench-00000.warc.gz"
    html_bytes = sum(len(html) for _, html in pages) * copies
    if path.exists():
        return folder, len(pages) * copies, html_bytes
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        out.write(gzip_member(warcinfo(path.name)))
        info_id = record_id(path.name, "warcinfo")
        for copy in range(copies):
            for i, (url, html) in enumerate(pages):
                url = url if copy == 0 else f"{url}?copy={copy}"
                headers = [
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("Content-Length", str(len(html))),
                ]
                capture = Capture(url, "200 OK", headers, html, {})
                for record in capture_records(capture, copy * len(pages) + i, info_id):
                    out.write(gzip_member(record))
    tmp.rename(path)
    return folder, len(pages) * copies, html_bytes


def run_cleanpipe(folder: Path, extractor: str) -> dict:
    """cleanpipe's WARC reader -> HTMLExtract, in this process."""
    from cleanpipe.io.readers import ReadOptions
    from cleanpipe.io.warc import read_archive
    from cleanpipe.stages import HTMLExtract

    stage = HTMLExtract(extractor=extractor)
    counted = {"read": 0, "skipped": 0}

    def documents():
        for path in sorted(folder.glob("*.warc.gz")):
            for record in read_archive(str(path), ReadOptions(source="web")):
                if hasattr(record, "text"):
                    counted["read"] += 1
                    yield record
                else:
                    counted["skipped"] += 1

    cpu0, started = time.process_time(), time.perf_counter()
    chars = sum(len(doc.text) for doc in stage(documents()))
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    return {
        "tool": f"cleanpipe (fastwarc + {extractor})",
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "pages_read": counted["read"],
        "pages_extracted": stage.stats.docs_out,
        "dropped": dict(stage.stats.dropped),
        "chars_out": chars,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def datatrove_python(given: str | None) -> Path:
    """The datatrove virtualenv's python, with what its web reader and extractor import."""
    if given:
        python = Path(given)
    else:
        import harness  # benchmarks/harness.py creates the virtualenv on first use

        python = harness.ensure_datatrove_venv()
    probe = "import warcio, magic, cchardet, trafilatura, datatrove"
    if subprocess.run([python, "-c", probe], capture_output=True).returncode != 0:
        pip = [str(python), "-m", "pip", "install", "--quiet", *DATATROVE_WEB_REQUIREMENTS]
        subprocess.run(pip, check=True)
    return python


def run_datatrove(folder: Path, python: Path) -> dict:
    result = WORK / "datatrove-result.json"
    job = Path(__file__).resolve().parent / "datatrove_web_job.py"
    subprocess.run(
        [str(python), str(job), "--input", str(folder), "--result", str(result)],
        check=True,
        env={**os.environ, "DATATROVE_COLORIZE_LOGS": "0"},
    )
    data = json.loads(result.read_text())
    data["tool"] = f"datatrove {data['datatrove']} (warcio + trafilatura {data['trafilatura']})"
    return data


def table(results: list[dict], html_bytes: int) -> str:
    base = next((r for r in results if r["tool"].startswith("datatrove")), None)
    lines = [
        "| path | pages extracted | pages/s per core (CPU) | MB/s per core | wall pages/s |"
        " vs datatrove | peak RSS MB |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        per_core = r["pages_read"] / r["cpu_seconds"]
        ratio = f"{per_core / (base['pages_read'] / base['cpu_seconds']):.1f}x" if base else "-"
        lines.append(
            f"| {r['tool']} | {r['pages_extracted']} of {r['pages_read']} | {per_core:.0f} | "
            f"{html_bytes / 1e6 / r['cpu_seconds']:.1f} | {r['pages_read'] / r['wall_seconds']:.0f}"
            f" | {ratio} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--src", type=Path, required=True, help="where the .debs are unpacked")
    parser.add_argument("--copies", type=int, default=1, help="times each page is recorded")
    parser.add_argument("--only", choices=["cleanpipe", "datatrove"])
    parser.add_argument("--dt-python", help="python of an existing datatrove virtualenv")
    parser.add_argument(
        "--no-trafilatura", action="store_true", help="skip cleanpipe with trafilatura"
    )
    args = parser.parse_args()
    folder, pages, html_bytes = build_archive(args.src, args.copies)
    size = sum(p.stat().st_size for p in folder.glob("*.warc.gz"))
    print(f"archive: {pages} responses, {html_bytes / 1e6:.1f} MB of HTML, {size / 1e6:.1f} MB gz")
    results = []
    if args.only != "datatrove":
        results.append(run_cleanpipe(folder, "resiliparse"))
        if not args.no_trafilatura:
            results.append(run_cleanpipe(folder, "trafilatura"))
    if args.only != "cleanpipe":
        results.append(run_datatrove(folder, datatrove_python(args.dt_python)))
    print(table(results, html_bytes))
    out = WORK / "results.json"
    out.write_text(
        json.dumps({"pages": pages, "html_bytes": html_bytes, "runs": results}, indent=1)
    )


if __name__ == "__main__":
    main()
