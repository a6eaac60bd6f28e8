"""cleanpipe: clean, deduplicate and mix pretraining text into Parquet shards."""

from cleanpipe.document import Document

__version__ = "0.1.0"

__all__ = ["Document", "__version__"]
