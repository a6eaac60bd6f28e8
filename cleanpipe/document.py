"""The unit every stage reads and writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Document:
    """One text with its identity and what stages measured about it.

    ``meta`` is where filters record signals (language, quality measures) so that
    reports and users see the exact numbers a decision was based on.
    """

    id: str
    text: str
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
