"""Token files: the Megatron indexed dataset and the numpy memmap, checked field by field
against readers written here from the format definitions (issue 14; Megatron-Core's
``indexed_dataset.py``), not from cleanpipe's own reader."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from cleanpipe.io.token_files import TokenFileWriter, open_token_file, token_dtype
from cleanpipe.tokens import load_tokenizer

TEXTS = [
    "It is a truth universally acknowledged, that a single man in possession of a good "
    "fortune, must be in want of a wife.",
    "All human beings are born free and equal in dignity and rights.",
    "",  # an empty document is one sequence holding only the end-of-document id
    "A text that mentions <|endoftext|> and </s> as plain words.",
]


def read_megatron(prefix: Path) -> dict:
    """Megatron-Core's MMapIndexedDataset layout, read with struct and numpy only."""
    blob = (prefix.with_suffix(".idx")).read_bytes()
    assert blob[:9] == b"MMIDIDX\x00\x00"
    (version,) = struct.unpack("<Q", blob[9:17])
    (code,) = struct.unpack("<B", blob[17:18])
    (sequences,) = struct.unpack("<Q", blob[18:26])
    (doc_index_len,) = struct.unpack("<Q", blob[26:34])
    at = 34
    lengths = np.frombuffer(blob, np.int32, sequences, at)
    at += 4 * sequences
    pointers = np.frombuffer(blob, np.int64, sequences, at)
    at += 8 * sequences
    documents = np.frombuffer(blob, np.int64, doc_index_len, at)
    at += 8 * doc_index_len
    dtype = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 8: np.uint16}[code]
    tokens = np.fromfile(prefix.with_suffix(".bin"), dtype)
    return {
        "version": version,
        "dtype": np.dtype(dtype),
        "lengths": lengths,
        "pointers": pointers,
        "documents": documents,
        "tokens": tokens,
        "trailing": len(blob) - at,
    }


def write(tmp_path: Path, fmt: str, tokenizer: str, docs: list[list[int]]) -> dict:
    tok = load_tokenizer(tokenizer)
    index = tmp_path / ("t.idx" if fmt == "megatron" else "t.offsets.npy")
    writer = TokenFileWriter(
        str(tmp_path / "t.bin"), str(index), fmt, token_dtype(fmt, tok.vocab_size), tok.eos_id
    )
    with writer:
        writer.add(docs[:2])  # two slices, as a shard task writes them
        writer.add(docs[2:])
    return writer.summary


@pytest.mark.parametrize(("tokenizer", "dtype"), [("cl100k", np.int32), ("mistral-v1", np.uint16)])
def test_megatron_files_match_the_format_definition(tmp_path: Path, tokenizer, dtype) -> None:
    tok = load_tokenizer(tokenizer)
    docs = [tok.encode(t) for t in TEXTS]
    summary = write(tmp_path, "megatron", tokenizer, docs)
    got = read_megatron(tmp_path / "t")
    n = len(docs)
    assert got["version"] == 1 and got["dtype"] == np.dtype(dtype) and got["trailing"] == 0
    assert got["lengths"].tolist() == [len(d) + 1 for d in docs]  # eos is part of a sequence
    starts = np.concatenate([[0], np.cumsum(got["lengths"])[:-1]])
    assert got["pointers"].tolist() == (starts * np.dtype(dtype).itemsize).tolist()
    assert got["documents"].tolist() == list(range(n + 1))  # N + 1 entries, as Megatron writes
    for i, doc in enumerate(docs):
        sequence = got["tokens"][starts[i] : starts[i] + got["lengths"][i]].tolist()
        assert sequence == [*doc, tok.eos_id]
        assert tok.decode(sequence[:-1]) == TEXTS[i]
    assert summary["documents"] == n and summary["tokens"] == sum(map(len, docs))
    assert set(summary["sha256"]) == {"bin", "idx"}


def test_numpy_files_load_with_memmap(tmp_path: Path) -> None:
    tok = load_tokenizer("cl100k")
    docs = [tok.encode(t) for t in TEXTS]
    summary = write(tmp_path, "numpy", "cl100k", docs)
    tokens = np.memmap(tmp_path / "t.bin", dtype=np.uint32, mode="r")  # vocab above 65,500
    offsets = np.load(tmp_path / "t.offsets.npy", mmap_mode="r")
    assert offsets.dtype == np.int64 and len(offsets) == len(docs) + 1
    assert offsets[0] == 0 and offsets[-1] == len(tokens)
    for i, doc in enumerate(docs):
        assert tokens[offsets[i] : offsets[i + 1]].tolist() == [*doc, 100257]
    assert set(summary["sha256"]) == {"bin", "offsets"}


def test_special_token_text_is_ordinary_text() -> None:
    tok = load_tokenizer("cl100k")
    assert tok.eos_id == 100257 and 100257 not in tok.encode(TEXTS[3])
    mistral = load_tokenizer("mistral-v1")
    assert mistral.eos_id == 2 and 2 not in mistral.encode(TEXTS[3])
    assert mistral.encode("word")[0] != 1  # no BOS added


@pytest.mark.parametrize("fmt", ["megatron", "numpy"])
def test_own_reader_reads_both_formats(tmp_path: Path, fmt: str) -> None:
    docs = [[5, 6, 7], [], [8]]
    write(tmp_path, fmt, "mistral-v1", docs)
    tokens = open_token_file(str(tmp_path / "t.bin"))
    assert len(tokens) == 3
    assert [tokens.document(i).tolist() for i in range(3)] == docs
    with pytest.raises(IndexError, match="out of range"):
        tokens.document(3)


def test_nothing_appears_until_closed_and_an_error_leaves_nothing(tmp_path: Path) -> None:
    bin_path, idx = tmp_path / "t.bin", tmp_path / "t.idx"
    writer = TokenFileWriter(str(bin_path), str(idx), "megatron", np.dtype(np.uint16), 2)
    writer.add([[3, 4]])
    assert not bin_path.exists() and not idx.exists()
    writer.close()
    assert bin_path.exists() and idx.exists()
    with pytest.raises(RuntimeError):
        with TokenFileWriter(str(tmp_path / "u.bin"), str(tmp_path / "u.idx"), "megatron", "u2", 2):
            raise RuntimeError("shard task failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.bin", "t.idx"]


def test_megatron_core_reads_the_files(tmp_path: Path) -> None:
    """Megatron-Core's own reader, when it is installed (it needs torch: not by default)."""
    indexed = pytest.importorskip("megatron.core.datasets.indexed_dataset")
    docs = [[5, 6, 7], [9], [8, 8]]
    write(tmp_path, "megatron", "mistral-v1", docs)
    dataset = indexed.IndexedDataset(str(tmp_path / "t"), mmap=True)
    assert len(dataset) == 3
    assert [dataset[i].tolist() for i in range(3)] == [[*d, 2] for d in docs]
    assert dataset.document_indices.tolist() == [0, 1, 2, 3]
