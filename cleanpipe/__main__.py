"""``python -m cleanpipe ...``: the same command line as the ``cleanpipe`` script."""

from cleanpipe.cli import main

main()
