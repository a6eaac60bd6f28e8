"""Executors run the tasks of a step: a local process pool (default) or Ray."""

from cleanpipe.executors.local import LocalExecutor

__all__ = ["LocalExecutor"]
