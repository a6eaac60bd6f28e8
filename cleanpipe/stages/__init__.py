"""Stages: composable steps over ``Iterable[Document]``. Import the public ones from here.

Importing this package registers every built-in stage by its config name
(``STAGE_REGISTRY``). Stages of installed packages (the ``cleanpipe.stages`` entry-point
group) are loaded when a config names them (:func:`stage_class`) or all at once
(:func:`load_entry_points`).
"""

from cleanpipe.stages.base import (
    STAGE_REGISTRY,
    Filter,
    Stage,
    StageLoadError,
    StageStats,
    Transform,
    load_entry_points,
    register,
    stage_class,
)
from cleanpipe.stages.classifier import QualityClassifier
from cleanpipe.stages.code import CodeQuality
from cleanpipe.stages.decontaminate import Decontaminate
from cleanpipe.stages.dedup import ExactDedup, MinHashDedup
from cleanpipe.stages.html_extract import HTMLExtract
from cleanpipe.stages.langid import LanguageID
from cleanpipe.stages.latex_clean import LatexClean
from cleanpipe.stages.normalize import Normalize
from cleanpipe.stages.pii import PIIScrubber
from cleanpipe.stages.quality import C4Quality, FineWebQuality, GopherQuality, GopherRepetition
from cleanpipe.stages.url_filter import URLFilter

__all__ = [
    "STAGE_REGISTRY",
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
    "Stage",
    "StageLoadError",
    "StageStats",
    "Transform",
    "URLFilter",
    "load_entry_points",
    "register",
    "stage_class",
]
