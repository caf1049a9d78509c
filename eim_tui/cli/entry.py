"""The `eim` command's entry point (pyproject `[project.scripts]`, `python -m eim_tui`).

`eim status` is answered before the rest of the command line is loaded: tmux runs it every few
seconds and it has 100 ms (cli/status.py). Everything else goes to `cli/main.py`. (This lives
apart from the package's `__init__`, whose `main` attribute is the `cli.main` module once that
is imported.)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    from eim_tui.cli.status import fast_path

    words = sys.argv[1:] if argv is None else list(argv)
    status_args = fast_path(words)
    if status_args is not None:
        from eim_tui.cli.status import main as status

        return status(status_args)
    from eim_tui.cli import main as full

    return full.main(argv)

