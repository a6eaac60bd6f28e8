"""The public names of ``cleanpipe`` and ``cleanpipe.stages`` (DESIGN.md's contract): a name
that appears or disappears by accident fails here. Adding one on purpose means adding it
to ``__all__`` and to this list."""

from __future__ import annotations

import types

import cleanpipe
import cleanpipe.stages

CLEANPIPE = ["Document", "__version__"]

STAGES = [
    "C4Quality",
    "CodeQuality",
    "Decontaminate",
    "ExactDedup",
    "Filter",
    "FineWebQuality",
    "GopherQuality",
    "GopherRepetition",
    "HTMLExtract",
    "LanguageID",
    "LatexClean",
    "MinHashDedup",
    "Normalize",
    "PIIScrubber",
    "QualityClassifier",
    "STAGE_REGISTRY",
    "Stage",
    "StageLoadError",
    "StageStats",
    "Transform",
    "URLFilter",
    "load_entry_points",
    "register",
    "stage_class",
]


def public_attributes(module: types.ModuleType) -> list[str]:
    """What ``from module import *`` users see without ``__all__``: names without a leading
    underscore that are not submodules (``cleanpipe.stages.base`` is not a name it exports)."""
    return sorted(
        name
        for name, value in vars(module).items()
        if (not name.startswith("_") or name == "__version__")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"  # from __future__ import annotations
    )


def test_cleanpipe_exports_exactly_its_documented_names() -> None:
    assert sorted(cleanpipe.__all__) == CLEANPIPE
    assert public_attributes(cleanpipe) == CLEANPIPE


def test_cleanpipe_stages_exports_exactly_its_documented_names() -> None:
    assert sorted(cleanpipe.stages.__all__) == sorted(STAGES)
    assert public_attributes(cleanpipe.stages) == sorted(STAGES)


def test_the_runner_entry_point_is_where_the_docs_say() -> None:
    from cleanpipe.runner import run

    assert callable(run)
