"""s3:// inputs and outputs, against a real S3-compatible server (moto) on loopback.

The server runs in this process (a thread); the run's worker processes reach it over
127.0.0.1 with the ``AWS_*`` variables set here, exactly as they would reach S3 or MinIO.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

pytest.importorskip("moto.server", reason="needs moto[server] (pip install 'moto[server]')")

from moto.server import ThreadedMotoServer  # noqa: E402

from cleanpipe import runner  # noqa: E402
from cleanpipe.config import ConfigError, load_config  # noqa: E402
from cleanpipe.io import fs  # noqa: E402
from cleanpipe.io.layout import shard_name  # noqa: E402
from cleanpipe.io.readers import InputFile, ReadOptions, expand_paths, read_input  # noqa: E402
from cleanpipe.report import load_report  # noqa: E402
from cleanpipe.runner import driver  # noqa: E402
from cleanpipe.runner.folder import prepare_output_folder  # noqa: E402
from cleanpipe.runner.shard import run_shard_task  # noqa: E402
from cleanpipe.runner.tasks import ShardJob  # noqa: E402
from tests.conftest import write_config  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
BUCKET = "cleanpipe-test"
_REAL_SHARD_TASK = run_shard_task


class _CompleteMultipartFix:
    """WSGI middleware: moto names the root of CompleteMultipartUpload's answer
    ``CompleteMultipartUploadResponse``; S3 (and pyarrow, which checks it) says ``...Result``.
    Only matters for objects above pyarrow's part size, but keeps large uploads working."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        query = environ.get("QUERY_STRING", "")
        if environ.get("REQUEST_METHOD") != "POST" or "uploadId=" not in query:
            return self.app(environ, start_response)
        answer: list[Any] = []
        body = b"".join(
            self.app(environ, lambda status, headers, *exc: answer.extend([status, headers]))
        )
        body = body.replace(b"CompleteMultipartUploadResponse", b"CompleteMultipartUploadResult")
        headers = [(k, v) for k, v in answer[1] if k.lower() != "content-length"]
        start_response(answer[0], [*headers, ("Content-Length", str(len(body)))])
        return [body]


class _Server(ThreadedMotoServer):
    def _server_entry(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        app = _CompleteMultipartFix(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._ip_address, self._port, app, True)
        self._server_ready_event.set()
        self._server.serve_forever()


@pytest.fixture(scope="module")
def s3() -> Iterator[pafs.S3FileSystem]:
    """A moto S3 server on 127.0.0.1 with one bucket; the AWS_* variables point at it."""
    server = _Server(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    mp = pytest.MonkeyPatch()
    for var in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        mp.delenv(var, raising=False)
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    mp.setenv("AWS_REGION", "us-east-1")
    mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
    mp.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    fs.clear_cache()
    store = pafs.S3FileSystem(
        access_key="testing",
        secret_key="testing",
        region="us-east-1",
        endpoint_override=f"127.0.0.1:{port}",
        scheme="http",
        allow_bucket_creation=True,
    )
    store.create_dir(BUCKET)
    big = "\n".join(json.dumps({"text": t}) for t in _misc_texts() * 40_000).encode()
    put(store, "big/multipart.jsonl", big)  # > pyarrow's part size: a multipart upload
    assert fs.getsize(f"s3://{BUCKET}/big/multipart.jsonl") == len(big)
    upload = {
        "web": sorted((REPO / "sample_data/web").glob("crawl-00[01].jsonl.gz")),
        "papers": sorted((REPO / "sample_data/papers").glob("*.parquet")),
        "code/Lib/json": sorted((REPO / "sample_data/code/Lib/json").glob("*.py")),
    }
    for folder, files in upload.items():
        for path in files:
            put(store, f"in/{folder}/{path.name}", path.read_bytes())
    put(store, "in/code/Lib/.hidden/skip.py", b"print('hidden folders are skipped')\n")
    put(store, "in/code/.skip.py", b"print('hidden files are skipped')\n")
    lines = [json.dumps({"text": t}) for t in _misc_texts()] + ['{"text": "cut off']
    put(store, "in/misc/no-ids.jsonl", ("\n".join(lines) + "\n").encode())
    try:
        yield store
    finally:
        mp.undo()
        fs.clear_cache()
        server.stop()


def put(store: pafs.FileSystem, key: str, data: bytes) -> None:
    with store.open_output_stream(f"{BUCKET}/{key}", compression=None) as out:
        out.write(data)


def _misc_texts() -> list[str]:
    return [
        "All human beings are born free and equal in dignity and rights. They are endowed "
        "with reason and conscience and should act towards one another in a spirit of "
        "brotherhood.",
        "It is a truth universally acknowledged, that a single man in possession of a good "
        "fortune, must be in want of a wife.",
    ]


def keys(store: pafs.FileSystem, prefix: str) -> list[str]:
    selector = pafs.FileSelector(f"{BUCKET}/{prefix}", recursive=True, allow_not_found=True)
    infos = store.get_file_info(selector)
    return sorted(i.path for i in infos if i.type == pafs.FileType.File)


def shard_digests(folder: str) -> dict[str, str]:
    """sha256 of each shard in ``folder``/data, read through pyarrow (local path or URI)."""
    data = fs.join(folder, "data")
    return {
        name: hashlib.sha256(fs.read_bytes(fs.join(data, name))).hexdigest()
        for name in fs.listdir(data)
    }


def s3_config(tmp_path: Path, out: str) -> Any:
    uri = f"s3://{BUCKET}/in"
    path = write_config(
        tmp_path,
        f"""
seed: 3
output: {{path: "{out}", shard_size: 300KB}}
sources:
  web:
    paths: ["{uri}/web/*.jsonl.gz"]
    weight: 0.6995
    stages: [normalize]
  papers:
    paths: ["{uri}/papers/*.parquet"]
    text_field: body
    id_field: doc_id
    weight: 0.25
    stages: [normalize]
  code:
    paths: ["{uri}/code"]
    weight: 0.05
    stages: []
  misc:
    paths: ["{uri}/misc/*.jsonl"]
    weight: 0.0005
    stages: []
dedup: {{exact: true, minhash: {{ngram: 5, bands: 14, rows: 8}}}}
mixture: {{total_tokens: 300_000, max_epochs: 4}}
""",
    )
    return load_config(str(path))


@pytest.fixture(scope="module")
def s3_run(s3: pafs.S3FileSystem, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """The same config twice: output on S3, and output on local disk (inputs on S3 both)."""
    tmp = tmp_path_factory.mktemp("s3run")
    out = f"s3://{BUCKET}/out/run1"
    result = runner.run(s3_config(tmp, out), workers=2, progress=False)
    local_out = tmp / "local-out"
    local = runner.run(s3_config(tmp, str(local_out)), workers=2, progress=False)
    return out, result, local_out, local


def test_glob_and_folders_list_like_local_files(s3: pafs.S3FileSystem, tmp_path: Path) -> None:
    local = tmp_path / "in"
    shutil.copytree(REPO / "sample_data/code/Lib/json", local / "code/Lib/json")
    (local / "code/Lib/.hidden").mkdir()
    (local / "code/Lib/.hidden/skip.py").write_text("x\n")
    (local / "code/.skip.py").write_text("x\n")
    uri = f"s3://{BUCKET}/in"
    for pattern in ("code", "code/Lib/*/*.py", "code/**/*.py", "co*", "code/Lib/json/[de]*.py"):
        remote = [(fs.relpath(f.path, uri), f.root) for f in expand_paths(f"{uri}/{pattern}")]
        here = [
            (fs.relpath(f.path, str(local)), f.root) for f in expand_paths(f"{local}/{pattern}")
        ]
        assert [p for p, _ in remote] == [p for p, _ in here], pattern
        assert [r is None for _, r in remote] == [r is None for _, r in here], pattern
    assert expand_paths(f"{uri}/web/*.jsonl.gz") == [
        InputFile(f"{uri}/web/crawl-00{i}.jsonl.gz") for i in (0, 1)
    ]
    assert expand_paths(f"{uri}/nothing/*.jsonl") == []


def test_uri_helpers_keep_the_query_out_of_names() -> None:
    uri = "s3://b/out?endpoint_override=127.0.0.1:9000&scheme=http"
    assert fs.join(uri, "data", "x.parquet") == (
        "s3://b/out/data/x.parquet?endpoint_override=127.0.0.1:9000&scheme=http"
    )
    assert fs.display(fs.join(uri, "data")) == "s3://b/out/data"
    assert fs.display("s3://b/in/file-?.jsonl") == "s3://b/in/file-?.jsonl"  # a glob's "?"
    assert fs.join("out/run", "data") == "out/run/data" and not fs.is_uri("out/run")


def test_endpoint_given_in_the_uri_query(
    s3: pafs.S3FileSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = os.environ["AWS_ENDPOINT_URL"].removeprefix("http://")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    query = f"?endpoint_override={endpoint}&scheme=http"
    found = expand_paths(f"s3://{BUCKET}/in/papers/*.parquet{query}")
    assert [fs.display(f.path) for f in found] == [
        f"s3://{BUCKET}/in/papers/jss-vignettes-0{i}.parquet" for i in (0, 1)
    ]
    assert fs.parquet_file(found[0].path).metadata.num_rows > 0
    root = f"s3://{BUCKET}/out/query{query}"
    out = fs.join(root, "x", "hello.txt")
    with fs.atomic_write(out) as fh:
        fh.write(b"hello")
    assert fs.read_text(out) == "hello"
    assert fs.listdir(fs.join(root, "x")) == ["hello.txt"]
    fs.rmtree(root)
    assert not fs.exists(out) and not keys(s3, "out/query/")


def test_a_glob_matching_no_objects_is_a_config_error(
    s3: pafs.S3FileSystem, tmp_path: Path
) -> None:
    path = write_config(
        tmp_path,
        f"""
output: {{path: "s3://{BUCKET}/out/x"}}
sources:
  web: {{paths: ["s3://{BUCKET}/in/nope/*.jsonl"], weight: 1}}
""",
    )
    with pytest.raises(ConfigError, match="matches no objects"):
        load_config(str(path))


def test_s3_output_is_byte_identical_to_local_output(s3: pafs.S3FileSystem, s3_run: tuple) -> None:
    out, result, local_out, local = s3_run
    remote = shard_digests(out)
    assert len(remote) == result.report["run"]["shards_written"] >= 2
    assert remote == shard_digests(str(local_out))
    for name, source in result.report["sources"].items():  # all but timings
        for key in ("funnel", "accounting", "tokens_available", "output_docs", "output_tokens"):
            assert source[key] == local.report["sources"][name][key], (name, key)
    table = pq.read_table(f"{BUCKET}/out/run1/data", filesystem=s3)
    assert table.column_names == ["id", "text", "source", "lang", "tokens", "meta", "copy"]
    assert set(table.column("source").to_pylist()) == {"web", "papers", "code", "misc"}
    assert result.report["accounting_ok"] and result.report["dedup"]["enabled"]
    assert load_report(out) == result.report
    assert not [k for k in keys(s3, "out/") if ".tmp-" in k]
    assert s3.get_file_info(f"{BUCKET}/out/run1/.lock").type == pafs.FileType.NotFound


def test_ids_and_rejects_name_inputs_by_their_uri(s3: pafs.S3FileSystem, s3_run: tuple) -> None:
    out, *_ = s3_run
    staged = [
        k
        for k in keys(s3, "out/run1/staging/")
        if k.endswith(".parquet") and not k.endswith((".sig.parquet", ".signals.parquet"))
    ]
    ids = {i for k in staged for i in pq.read_table(k, filesystem=s3).column("id").to_pylist()}
    uri = f"s3://{BUCKET}/in"
    assert f"misc/{uri}/misc/no-ids.jsonl:1" in ids  # derived: source/file:line
    assert "code/Lib/json/decoder.py" in ids  # relative to the folder the glob matched
    assert not [i for i in ids if "hidden" in i or "skip" in i]
    rejects = pq.read_table(f"{BUCKET}/out/run1/rejects", filesystem=s3).to_pylist()
    assert {(r["file"], r["location"], r["reason"]) for r in rejects if r["source"] == "misc"} == {
        (f"{uri}/misc/no-ids.jsonl", "line 3", "read:malformed_json")
    }


def test_rerun_reuses_every_map_task(s3: pafs.S3FileSystem, s3_run: tuple, tmp_path: Path) -> None:
    out, first, *_ = s3_run
    again = runner.run(s3_config(tmp_path, out), workers=2, progress=False)
    assert again.map_tasks_skipped == again.map_tasks == first.map_tasks
    assert shard_digests(out) == shard_digests(first.out)


def _failing_shard_task(job: ShardJob) -> dict[str, Any]:
    """Shard 1 leaves a half-written temporary object behind (as a killed process would)
    and fails; the rest run as usual. Module level, so worker processes can unpickle it."""
    if job.index == 1:
        name = shard_name(job.index, job.layout.shards)
        with fs.atomic_write(fs.join(job.root, "data", f"{name}.tmp-99-dead")) as fh:
            fh.write(b"PAR1 half a shard")
        raise RuntimeError("injected failure in shard task 1")
    return _REAL_SHARD_TASK(job)


def test_interrupted_run_resumes_to_identical_shards(
    s3: pafs.S3FileSystem, s3_run: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference, *_ = s3_run
    out = f"s3://{BUCKET}/out/run2"
    config = s3_config(tmp_path, out)
    put(s3, "out/run2/staging/web/part-00000.parquet.tmp-99-dead", b"PAR1 killed map task")
    put(s3, "out/run2/report.json.tmp-99-dead", b'{"killed": ')
    with monkeypatch.context() as mp:
        mp.setattr(driver, "run_shard_task", _failing_shard_task)
        with pytest.raises(RuntimeError, match="injected failure"):
            runner.run(config, workers=2, progress=False)
    assert [k for k in keys(s3, "out/run2/") if ".tmp-" in k]
    resumed = runner.run(config, workers=2, progress=False)
    assert resumed.map_tasks_skipped == resumed.map_tasks
    assert shard_digests(out) == shard_digests(reference)
    assert not [k for k in keys(s3, "out/run2/") if ".tmp-" in k]
    prepare_output_folder(out, force=True)  # what --force does first
    assert keys(s3, "out/run2/") == []


def test_a_warc_archive_reads_from_the_store_as_from_disk(s3: pafs.S3FileSystem) -> None:
    local = REPO / "sample_data/web-archive/crawl-000.warc.gz"
    put(s3, "crawl/crawl-000.warc.gz", local.read_bytes())
    options = ReadOptions("web")
    remote = list(read_input(InputFile(f"s3://{BUCKET}/crawl/crawl-000.warc.gz"), options))
    here = list(read_input(InputFile(str(local)), options))
    assert [type(r).__name__ for r in remote] == [type(r).__name__ for r in here]
    pairs = [(a, b) for a, b in zip(remote, here, strict=True) if hasattr(a, "text")]
    assert pairs and all(a.text == b.text and a.meta == b.meta for a, b in pairs)
    # the truncated last record is found at the same offset through the stream
    assert remote[-1].location == here[-1].location and remote[-1].reason == "truncated_record"
