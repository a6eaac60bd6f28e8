"""Token files beside the shards (``output.token_files``), written and read.

Every document is one sequence, in shard row order: its tokens, then the tokenizer's
end-of-document id (the last document's too). Two formats:

- ``megatron``: the indexed dataset of Megatron-LM / Megatron-Core
  (``megatron/core/datasets/indexed_dataset.py``). ``.bin`` holds the sequences back to back;
  ``.idx`` is ``MMIDIDX\\x00\\x00``, version 1 as ``<Q``, the dtype code as ``<B``
  (:data:`MEGATRON_DTYPE_CODES`), the sequence count ``<Q``, the document-index length
  ``<Q``, then the int32 sequence lengths, the int64 byte pointers and the int64 document
  indices ``0, 1, ..., N`` (N + 1 entries, as Megatron's own writer makes them). uint16 below
  65,500 ids, else int32 (Megatron's ``DType.optimal_dtype``).
- ``numpy``: ``.bin`` is one flat array (nanoGPT's ``train.bin``: uint16 below 65,500 ids,
  else uint32) and ``.offsets.npy`` the int64 start of every document in tokens, N + 1
  entries from 0 to the array's length; both open with ``np.memmap`` /
  ``np.load(mmap_mode="r")``.

A writer streams the ``.bin`` to a temporary name, so it holds one slice at a time, renames
it when done, and only then writes the index: a ``.bin`` without its index is a file being
written, never a complete-looking dataset.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

from cleanpipe.io import fs

TOKEN_FORMATS = ("megatron", "numpy")
#: the index file beside each ``.bin``, by format.
INDEX_EXT = {"megatron": "idx", "numpy": "offsets.npy"}
MEGATRON_HEADER = b"MMIDIDX\x00\x00"
MEGATRON_VERSION = 1
#: Megatron-Core's ``DType`` codes.
MEGATRON_DTYPE_CODES = {
    np.dtype(np.uint8): 1,
    np.dtype(np.int8): 2,
    np.dtype(np.int16): 3,
    np.dtype(np.int32): 4,
    np.dtype(np.int64): 5,
    np.dtype(np.float64): 6,
    np.dtype(np.float32): 7,
    np.dtype(np.uint16): 8,
}
#: vocabularies below this many ids are stored as uint16 (Megatron's and nanoGPT's choice).
UINT16_VOCAB = 65_500


def token_dtype(fmt: str, vocab_size: int) -> np.dtype:
    """The element type of ``fmt`` for a vocabulary of ``vocab_size`` ids."""
    if vocab_size < UINT16_VOCAB:
        return np.dtype(np.uint16)
    return np.dtype(np.int32 if fmt == "megatron" else np.uint32)


def megatron_index(lengths: np.ndarray, dtype: np.dtype) -> bytes:
    """The ``.idx`` of sequences of ``lengths`` tokens (eos included), one per document."""
    lengths = lengths.astype(np.int32)
    n = len(lengths)
    pointers = np.zeros(n, np.int64)
    np.cumsum(lengths[:-1], dtype=np.int64, out=pointers[1:])
    pointers *= dtype.itemsize
    header = MEGATRON_HEADER + struct.pack(
        "<QBQQ", MEGATRON_VERSION, MEGATRON_DTYPE_CODES[dtype], n, n + 1
    )
    documents = np.arange(n + 1, dtype=np.int64)
    return b"".join([header, lengths.tobytes(), pointers.tobytes(), documents.tobytes()])


def numpy_offsets(lengths: np.ndarray) -> bytes:
    """The ``.offsets.npy`` of sequences of ``lengths`` tokens: int64, N + 1 entries."""
    offsets = np.zeros(len(lengths) + 1, np.int64)
    np.cumsum(lengths, dtype=np.int64, out=offsets[1:])
    buffer = io.BytesIO()
    np.save(buffer, offsets, allow_pickle=False)
    return buffer.getvalue()


class TokenFileWriter:
    """One shard's ``.bin`` and index, written document list by document list.

    Use as a context manager; on an exception nothing appears. After :meth:`close`,
    :attr:`summary` holds ``documents``, ``tokens`` (without eos) and the ``sha256`` of each
    file written."""

    def __init__(self, bin_path: str, index_path: str, fmt: str, dtype: np.dtype, eos_id: int):
        if fmt not in TOKEN_FORMATS:
            raise ValueError(f"token file format must be one of {TOKEN_FORMATS}, got {fmt!r}")
        self.bin_path, self.index_path, self.fmt = bin_path, index_path, fmt
        self.dtype, self.eos_id = np.dtype(dtype), eos_id
        self.summary: dict[str, Any] = {}
        self._lengths: list[np.ndarray] = []
        self._hash = hashlib.sha256()
        self._out = fs.AtomicOutput(bin_path)
        self._stream: Any = self._out.open()

    def add(self, documents: list[list[int]]) -> None:
        """Append documents (token ids without eos), each followed by the eos id."""
        if not documents:
            return
        lengths = np.fromiter((len(d) + 1 for d in documents), np.int64, len(documents))
        flat = np.empty(int(lengths.sum()), self.dtype)
        ends = np.cumsum(lengths)
        flat[ends - 1] = self.eos_id
        start = 0
        for doc, end in zip(documents, ends.tolist(), strict=True):
            flat[start : end - 1] = doc
            start = end
        blob = flat.tobytes()
        self._stream.write(blob)
        self._hash.update(blob)
        self._lengths.append(lengths)

    def close(self) -> None:
        if self._stream is None:
            return
        self._stream.close()
        self._stream = None
        self._out.commit()
        lengths = np.concatenate(self._lengths) if self._lengths else np.zeros(0, np.int64)
        if self.fmt == "megatron":
            index = megatron_index(lengths, self.dtype)
        else:
            index = numpy_offsets(lengths)
        with fs.atomic_write(self.index_path) as fh:
            fh.write(index)
        self.summary = {
            "documents": len(lengths),
            "tokens": int(lengths.sum()) - len(lengths),
            "sha256": {
                "bin": self._hash.hexdigest(),
                "idx" if self.fmt == "megatron" else "offsets": hashlib.sha256(index).hexdigest(),
            },
        }

    def abort(self) -> None:
        if self._stream is not None:
            try:
                self._stream.close()
            finally:
                self._stream = None
                self._out.abort()

    def __enter__(self) -> TokenFileWriter:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


@dataclass(frozen=True)
class TokenFile:
    """A local ``.bin`` memory-mapped with its index: ``offsets`` (N + 1, in tokens) and the
    end-of-document id at the end of every sequence."""

    tokens: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def document(self, index: int) -> np.ndarray:
        """Document ``index`` (0-based, its Parquet twin's row), without the eos id."""
        if not 0 <= index < len(self):
            raise IndexError(f"document {index} out of range: the file has {len(self)}")
        return self.tokens[self.offsets[index] : self.offsets[index + 1] - 1]


def _memmap(bin_path: str, dtype: np.dtype) -> np.ndarray:
    if fs.getsize(bin_path) == 0:  # a shard without rows; mmap refuses empty files
        return np.zeros(0, dtype)
    return np.memmap(bin_path, dtype, mode="r")


def open_token_file(bin_path: str) -> TokenFile:
    """Open a local ``.bin`` of either format, whichever index is beside it."""
    stem = bin_path.removesuffix(".bin")
    if fs.exists(f"{stem}.{INDEX_EXT['numpy']}"):
        offsets = np.load(f"{stem}.{INDEX_EXT['numpy']}", mmap_mode="r")
        size = fs.getsize(bin_path)
        dtype = np.dtype(np.uint16) if size == 2 * int(offsets[-1]) else np.dtype(np.uint32)
        return TokenFile(_memmap(bin_path, dtype), np.asarray(offsets))
    with open(f"{stem}.{INDEX_EXT['megatron']}", "rb") as fh:
        blob = fh.read()
    if not blob.startswith(MEGATRON_HEADER):
        raise ValueError(f"{stem}.idx is not a Megatron index (no {MEGATRON_HEADER!r} header)")
    _, code, n, _ = struct.unpack_from("<QBQQ", blob, len(MEGATRON_HEADER))
    dtype = {c: d for d, c in MEGATRON_DTYPE_CODES.items()}[code]
    body = len(MEGATRON_HEADER) + struct.calcsize("<QBQQ")
    lengths = np.frombuffer(blob, np.int32, n, body)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, dtype=np.int64, out=offsets[1:])
    return TokenFile(_memmap(bin_path, dtype), offsets)
