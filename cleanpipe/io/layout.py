"""Every folder, file, marker and shard name of an output folder, in one place.

```
OUT/
  manifest.json plan.json report.json report.md report.html .lock
  staging/<source>/part-NNNNN.parquet       staged documents (+ .sig.parquet, .signals.parquet,
                                            .units.parquet: paragraph hashes, .done.json:
                                            the map task's marker)
  rejects/<source>/part-NNNNN.parquet       what the map task dropped, with reasons
  dedup/removed.parquet, dedup/done.json    the dedup barrier's decisions and marker
  dedup/paragraphs/cuts-PPPP-of-NNNN.parquet  paragraph dedup: units to cut, per partition
  dedup/paragraphs/<source>/part-NNNNN.parquet  its edits (text after the cut, tokens,
                                            emptied), dedup/paragraphs.json its marker
  routing/<source>/part-NNNNN.parquet       routed copies (+ .done.json: the route marker)
  data/train-NNNNN-of-NNNNN.parquet         the shards
  tokens/train-NNNNN-of-NNNNN.bin           with output.token_files: each shard's tokens
         (+ .idx for megatron, .offsets.npy for numpy), tokens/manifest.json
```

``root`` is a local path or a URI (see :mod:`cleanpipe.io.fs`).
"""

from __future__ import annotations

from dataclasses import dataclass

from cleanpipe.io import fs

#: folders a run writes below the output folder, in flow order.
STEP_FOLDERS = ("staging", "rejects", "dedup", "routing", "data", "tokens")
#: files a run writes at the top of the output folder.
ROOT_FILES = ("plan.json", "report.json", "report.md", "report.html", "manifest.json")
LOCK_FILE = ".lock"
#: the infix of a file being written (``<name>.tmp-<pid>-<random>``, see io.fs).
TEMPORARY_INFIX = ".tmp-"


def part_name(part: int) -> str:
    """``part-00003``: the stem of a map task's files in every step folder."""
    return f"part-{part:05d}"


def shard_name(index: int, total: int) -> str:
    """Hugging Face style shard file name: ``train-00000-of-00004.parquet``."""
    return f"train-{index:05d}-of-{total:05d}.parquet"


def token_file_name(index: int, total: int, ext: str) -> str:
    """A shard's token-file twin: ``train-00000-of-00004.bin`` (``ext``: ``bin``, ``idx``,
    ``offsets.npy``)."""
    return shard_name(index, total).removesuffix(".parquet") + "." + ext


@dataclass(frozen=True)
class Layout:
    """Paths inside one output folder."""

    root: str

    def staged(self, source: str, part: int, kind: str = "parquet") -> str:
        """A map task's staged documents; ``kind``: ``sig.parquet`` (dedup signatures),
        ``signals.parquet`` (report samples), ``done.json`` (its marker)."""
        return fs.join(self.root, "staging", source, f"{part_name(part)}.{kind}")

    def rejects(self, source: str, part: int) -> str:
        return fs.join(self.root, "rejects", source, f"{part_name(part)}.parquet")

    def routed(self, source: str, part: int, kind: str = "parquet") -> str:
        return fs.join(self.root, "routing", source, f"{part_name(part)}.{kind}")

    @property
    def removed(self) -> str:
        """The dedup barrier's decisions: one row per removed staged row."""
        return fs.join(self.root, "dedup", "removed.parquet")

    @property
    def dedup_marker(self) -> str:
        return fs.join(self.root, "dedup", "done.json")

    @property
    def data(self) -> str:
        return fs.join(self.root, "data")

    def shard(self, index: int, total: int) -> str:
        return fs.join(self.data, shard_name(index, total))

    @property
    def tokens(self) -> str:
        """The token files' folder (``output.token_files``)."""
        return fs.join(self.root, "tokens")

    def token_file(self, index: int, total: int, ext: str) -> str:
        return fs.join(self.tokens, token_file_name(index, total, ext))

    @property
    def tokens_manifest(self) -> str:
        return fs.join(self.tokens, "manifest.json")

    def file(self, *names: str) -> str:
        """Any other path below the output folder (``manifest.json``, ``dedup``, ...)."""
        return fs.join(self.root, *names)

    def relative(self, path: str) -> str:
        """``path`` relative to the output folder: how files name each other, so a moved or
        copied output folder still works."""
        return fs.relpath(path, self.root)
