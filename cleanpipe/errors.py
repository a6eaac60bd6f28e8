"""The errors cleanpipe raises on purpose, and what each asks of whoever catches it.

Every error here is a problem the user can fix from the message alone; the CLI prints it in
one block and exits 2, without a traceback. Anything else that escapes (a ``TypeError`` in
a stage, an ``OSError`` from a disk) is a bug or an environment failure and keeps its
traceback.

Hierarchy::

    CleanpipeError                  base: catch this to handle every cleanpipe error
    ├── ConfigError(ValueError)     the config is wrong; nothing has run. Fix the lines it
    │                               lists (all of them at once, ``key.path: message``).
    ├── StageLoadError(LookupError) a configured stage cannot be found or imported, in the
    │                               driver or in a worker. Install or import its module.
    ├── PlanError(ValueError)       the mixture cannot be met with the data there is; the
    │                               message names the source and the ways out. Nothing is
    │                               written after the barrier; a rerun resumes.
    └── RunError(RuntimeError)      a run cannot start or continue (output folder locked,
                                    ``--strict`` and bad records, an executor that is not
                                    installed or lost its workers). What finished is kept;
                                    fix the cause and rerun to resume.

The second base of each class is the built-in it subclassed before this module existed, so
``except ValueError`` around ``load_config`` or ``except RuntimeError`` around ``run`` still
catch what they caught.
"""

from __future__ import annotations

__all__ = ["CleanpipeError", "ConfigError", "PlanError", "RunError", "StageLoadError"]


class CleanpipeError(Exception):
    """Base of the errors cleanpipe raises on purpose: the message says what to do."""


class ConfigError(CleanpipeError, ValueError):
    """All problems found in a config, one ``key.path: message`` per line."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(
            f"{len(problems)} config {noun}:\n" + "\n".join(f"  {p}" for p in problems)
        )


class StageLoadError(CleanpipeError, LookupError):
    """A configured stage cannot be found or imported (in the driver or in a worker)."""


class PlanError(CleanpipeError, ValueError):
    """The mixture cannot be met; the message says which source and the ways out."""


class RunError(CleanpipeError, RuntimeError):
    """A run cannot start or continue; the message says why and what to do."""
