"""Command line: ``cleanpipe run | validate | plan | stages | report | inspect |
train-classifier``."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from cleanpipe import __version__

#: the shell's status for a process ended by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130
RESUME_HINT = (
    "interrupted: finished tasks are kept; rerun the same command to resume (finished map "
    "tasks are reused, --force starts over)"
)


def _load(  # noqa: ANN202 - returns Config
    config_path: str, output: str | None = None, require_output: bool = True
):
    from cleanpipe.config import ConfigError, load_config

    try:
        return load_config(config_path, output=output, require_output=require_output)
    except ConfigError as err:
        click.echo(f"error: {config_path}: {err}", err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cleanpipe")
def main() -> None:
    """Clean, deduplicate and mix pretraining text into Parquet shards.

    \b
    Examples:
      cleanpipe validate configs/mixtures/llama.yaml
      cleanpipe run configs/mixtures/llama.yaml
      cleanpipe run configs/mixtures/llama.yaml --output /tmp/llama --workers 2
      cleanpipe plan configs/mixtures/llama.yaml
      cleanpipe report out/llama
      cleanpipe stages
      cleanpipe inspect out/llama/tokens/train-00000-of-00002.bin --doc 3
    """


@main.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.option("--output", "-o", help="Output folder (overrides output.path of the config).")
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(min=1),
    help="Worker processes (default: number of CPUs).",
)
@click.option(
    "--resume/--force",
    default=True,
    show_default=True,
    help="--resume reuses finished tasks of an earlier run of the same config; "
    "--force deletes earlier output and starts over.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Fail if any input record is bad (broken JSON, invalid UTF-8, missing text ...) "
    "instead of writing it to rejects/ and going on.",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: a process pool on this machine; ray: Ray tasks (pip install "
    '"cleanpipe[ray]"), on a cluster with --ray-address.',
)
@click.option(
    "--ray-address",
    help="With --executor ray: a running cluster (auto, host:port or ray://host:10001); "
    "default: start a local Ray instance.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or summary.")
def run(
    config_path: str,
    output: str | None,
    workers: int | None,
    resume: bool,
    strict: bool,
    executor: str,
    ray_address: str | None,
    quiet: bool,
) -> None:
    """Run the whole job of CONFIG: clean, deduplicate, mix, write shards and report.

    \b
    Examples:
      cleanpipe run configs/mixtures/llama.yaml --output out/llama
      cleanpipe run configs/mixtures/llama.yaml --executor ray --ray-address auto
    """
    if executor == "local" and ray_address:
        raise click.UsageError("--ray-address goes with --executor ray")
    if ray_address and workers:
        raise click.UsageError("--workers sets local CPUs; a Ray cluster has its own")
    try:
        _run(config_path, output, workers, resume, strict, executor, ray_address, quiet)
    except KeyboardInterrupt:
        click.echo(f"\n{RESUME_HINT}", err=True)
        sys.exit(EXIT_INTERRUPTED)


def _run(
    config_path: str,
    output: str | None,
    workers: int | None,
    resume: bool,
    strict: bool,
    executor: str,
    ray_address: str | None,
    quiet: bool,
) -> None:
    from cleanpipe.mixture import PlanError
    from cleanpipe.report import print_report
    from cleanpipe.runner import RunError
    from cleanpipe.runner import run as run_job
    from cleanpipe.stages import StageLoadError

    pool: Any = None
    if executor == "local":
        from cleanpipe.executors.local import LocalExecutor

        # The workers start and import the stages while this process reads the config and
        # plans the map step: 0.5-0.9 s off a 6.5 s run of 10k documents on 2 workers. (Started
        # before this process's own imports, they only competed with them for the cores.)
        pool = LocalExecutor(workers, progress=not quiet)
        pool.start(preload=["cleanpipe.runner"])
    from cleanpipe.executors.local import arrow_without_pandas

    arrow_without_pandas()  # this process converts no pandas objects
    try:
        try:
            config = _load(config_path, output)
        except BaseException:
            if pool is not None:
                pool.close(wait=False)
            raise
        started = time.perf_counter()
        if executor == "ray":
            from cleanpipe.executors.ray import RayExecutor

            pool = RayExecutor(address=ray_address, num_cpus=workers, progress=not quiet)
        result = run_job(
            config,
            workers=workers,
            force=not resume,
            strict=strict,
            progress=not quiet,
            executor=pool,
        )
    except (RunError, PlanError, StageLoadError) as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        if pool is not None:  # workers ignore Ctrl-C: stop them now, without waiting
            _close_quietly(pool)
            pool = None
        raise
    finally:
        if pool is not None:
            pool.close()
    if not quiet:
        print_report(result.report, Console(stderr=True))
        click.echo(
            f"wrote {result.out}/data ({result.report['run']['shards_written']} shards) and "
            f"{result.out}/report.json in {time.perf_counter() - started:.1f}s; "
            f"map tasks reused: {result.map_tasks_skipped}/{result.map_tasks}",
            err=True,
        )


def _close_quietly(pool: Any) -> None:
    """Stop an executor's workers at once (their tasks are abandoned: rerun resumes)."""
    try:
        pool.close(wait=False)
    except BaseException:  # noqa: BLE001 - a second Ctrl-C while closing: still exit 130
        pass


@main.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False))
def validate(config_path: str) -> None:
    """Check CONFIG (keys, types, stage names and parameters, input globs) without running.

    \b
    Example:
      cleanpipe validate configs/mixtures/llama.yaml
    """
    config = _load(config_path, require_output=False)
    n_stages = sum(len(s.stages) for s in config.sources.values())
    output = config.output.path or "not set: `cleanpipe run` needs --output DIR"
    click.echo(
        f"{config_path}: ok ({len(config.sources)} sources, {n_stages} stages, output {output})"
    )


@main.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False))
@click.option("--output", "-o", help="Output folder of an earlier run to plan from.")
def plan(config_path: str, output: str | None) -> None:
    """Print the mixture plan of CONFIG (tokens per source, epochs, warnings) without running.

    Uses the cleaned data of an earlier run of the same sources when there is one (exact),
    else a quick estimate on the raw inputs, and says which: tune weights in seconds.

    \b
    Example:
      cleanpipe plan configs/mixtures/llama.yaml
    """
    from cleanpipe.mixture import PlanError
    from cleanpipe.report import print_plan
    from cleanpipe.runner.preview import preview_plan

    config = _load(config_path, output)
    try:
        preview = preview_plan(config)
    except PlanError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    print_plan(preview.plan, preview.detail)


@main.command()
@click.argument("config_path", metavar="[CONFIG]", required=False, type=click.Path(dir_okay=False))
def stages(config_path: str | None) -> None:
    """List every stage a config can use, with its parameters, defaults and choices.

    Stages of installed packages (the cleanpipe.stages entry-point group) are included; with
    CONFIG, also those of its `plugins:` modules.

    \b
    Examples:
      cleanpipe stages
      cleanpipe stages my.yaml
    """
    from cleanpipe.config import parameter_choices, stage_parameters, stage_summary
    from cleanpipe.stages import STAGE_REGISTRY, load_entry_points

    if config_path is not None:
        _load(config_path)
    errors = load_entry_points()
    console = Console()
    for name, cls in sorted(STAGE_REGISTRY.items()):
        where = "  (top-level `dedup:` section)" if cls.is_global else ""
        table = Table(
            title=f"{name}  ({cls.__name__}){where}",
            title_justify="left",
            caption=stage_summary(cls),
            caption_justify="left",
        )
        choices = parameter_choices(cls)
        table.add_column("parameter")
        table.add_column("type")
        table.add_column("default")
        if choices:
            table.add_column("choices")
        for pname, kind, default in stage_parameters(cls):
            cells = [pname, kind, repr(default)]
            table.add_row(*cells, *([", ".join(choices.get(pname, []))] if choices else []))
        console.print(table)
    for message in errors.values():
        click.echo(f"warning: {message}", err=True)


@main.command()
@click.argument("out")
@click.option("--json", "as_json", is_flag=True, help="Print report.json as it is.")
@click.option(
    "--compare",
    "other",
    help="Another run's folder: show what changed from it to OUT, per source.",
)
@click.option("--all", "show_all", is_flag=True, help="With --compare: unchanged numbers too.")
def report(out: str, as_json: bool, other: str | None, show_all: bool) -> None:
    """Summarise the report of a finished run in OUT (funnel per source, mixture table).

    The full report is OUT/report.html (open it in a browser; it works offline) and
    OUT/report.md.

    \b
    Examples:
      cleanpipe report out/llama
      cleanpipe report out/llama --json
      cleanpipe report out/llama --compare out/llama-before
    """
    from cleanpipe.report import load_report, print_comparison, print_report

    def load(folder: str) -> dict:
        try:
            return load_report(folder)
        except FileNotFoundError:
            click.echo(f"error: {folder}: no report.json (has a run finished there?)", err=True)
            sys.exit(1)

    data = load(out)
    if as_json:
        click.echo(json.dumps(data, indent=2))
    elif other is not None:
        print_comparison(
            load(other), data, Console(), old_label=other, new_label=out, only_changed=not show_all
        )
    else:
        print_report(data)


@main.command("train-classifier")
@click.option(
    "--positive",
    "positive",
    multiple=True,
    required=True,
    metavar="GLOB",
    help="Files of high-quality documents (JSONL, Parquet, text folders); repeatable.",
)
@click.option(
    "--negative",
    "negative",
    multiple=True,
    required=True,
    metavar="GLOB",
    help="Files of other documents (random or low-quality pages); repeatable.",
)
@click.option("--output", "-o", required=True, help="Model file to write (.bin, or .ftz).")
@click.option(
    "--text-field",
    default="text",
    show_default=True,
    help="The field (column) holding the text in JSONL and Parquet files.",
)
@click.option(
    "--label",
    default="hq",
    show_default=True,
    help="The positive label: the model's labels are __label__LABEL, __label__other.",
)
@click.option(
    "--validation-fraction",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.1,
    show_default=True,
    help="Documents held out to measure precision, recall, AUC.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seeds the split, the order and fastText: the same seed, the same bytes.",
)
@click.option(
    "--quantize",
    is_flag=True,
    help="Write a compressed model (fastText's quantization: a few hundred kB).",
)
@click.option(
    "--target-precision",
    type=click.FloatRange(0, 1),
    default=0.9,
    show_default=True,
    help="Report the score threshold reaching this precision.",
)
def train_classifier(
    positive: tuple[str, ...],
    negative: tuple[str, ...],
    output: str,
    text_field: str,
    label: str,
    validation_fraction: float,
    seed: int,
    quantize: bool,
    target_precision: float,
) -> None:
    """Train a fastText quality classifier (the `classifier` stage's model) on positive and
    negative documents, and print its held-out precision, recall and AUC.

    Metrics are also written beside the model (model.ftz -> model.json).

    \b
    Example:
      cleanpipe train-classifier --positive 'sample_data/books/*.jsonl' \\
        --negative 'sample_data/web/*.jsonl.gz' --quantize --output /tmp/quality.ftz
    """
    from cleanpipe.stages.classifier_train import (
        TrainError,
        metrics_path,
        read_texts,
        train_classifier,
    )

    started = time.perf_counter()
    try:
        if quantize and output.endswith(".bin"):
            raise TrainError(f"--quantize writes a .ftz model; name it so, not {output}")
        positives, bad_pos = read_texts(list(positive), text_field, "positive")
        negatives, bad_neg = read_texts(list(negative), text_field, "negative")
        metrics = train_classifier(
            positives,
            negatives,
            output,
            label=label,
            validation_fraction=validation_fraction,
            seed=seed,
            quantize=quantize,
            target_precision=target_precision,
        )
    except (TrainError, ValueError, OSError) as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    if bad_pos or bad_neg:
        click.echo(f"skipped {bad_pos + bad_neg} unreadable records", err=True)
    _print_training(metrics, output, time.perf_counter() - started)
    click.echo(f"metrics: {metrics_path(output)}")


def _print_training(metrics: dict[str, Any], output: str, seconds: float) -> None:
    n = metrics["training_documents"]
    click.echo(
        f"{output}: {metrics['model_bytes']:,} bytes, trained on {n['positive']} positive and "
        f"{n['negative']} negative documents in {seconds:.1f} s"
    )
    held = metrics.get("held_out")
    if held is None:
        click.echo("no documents held out (--validation-fraction 0): no metrics")
        return
    h = held["documents"]
    click.echo(
        f"held out {h['positive']} positive, {h['negative']} negative: AUC {held['auc']:.3f}, "
        f"precision {held['precision_at_0.5']:.3f} recall {held['recall_at_0.5']:.3f} at 0.5"
    )
    if held["threshold_for_target"] is None:
        click.echo(f"no threshold reaches precision {held['target_precision']}")
    else:
        click.echo(
            f"precision >= {held['target_precision']}: min_score {held['threshold_for_target']}"
            f" (recall {held['recall_at_threshold']:.3f})"
        )


@main.command()
@click.argument("bin_path", metavar="FILE.bin", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--doc",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="The document (0-based: the row of the Parquet shard of the same name).",
)
@click.option("--ids", is_flag=True, help="Print the token ids instead of the decoded text.")
def inspect(bin_path: str, doc: int, ids: bool) -> None:
    """Decode one document of a token file (output.token_files) back to text.

    The tokenizer is the one the run used (OUT/manifest.json beside tokens/).

    \b
    Examples:
      cleanpipe inspect out/llama/tokens/train-00000-of-00002.bin --doc 3
      cleanpipe inspect out/llama/tokens/train-00000-of-00002.bin --doc 3 --ids
    """
    from pathlib import Path

    from cleanpipe.io.token_files import open_token_file
    from cleanpipe.tokens import load_tokenizer, tokenizer_spec

    manifest = Path(bin_path).resolve().parent.parent / "manifest.json"
    try:
        config = json.loads(manifest.read_text(encoding="utf-8"))["config"]
        tokens = open_token_file(bin_path)
        document = tokens.document(doc).tolist()
        # an hf tokenizer.json is found relative to where the run started, and needs its
        # extra: both are the user's to fix, so one line, not a traceback
        tokenizer = load_tokenizer(tokenizer_spec(config["mixture"]["tokenizer"]))
    except (FileNotFoundError, KeyError, ValueError, IndexError, ImportError) as err:
        click.echo(f"error: {bin_path}: {err}", err=True)
        sys.exit(1)
    click.echo(
        f"{Path(bin_path).name}: document {doc} of {len(tokens)}, {len(document)} tokens "
        f"+ eos ({tokenizer.name})",
        err=True,
    )
    click.echo(" ".join(map(str, document)) if ids else tokenizer.decode(document))


if __name__ == "__main__":
    main()
