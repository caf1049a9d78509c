"""The command line: `main.py` parses and dispatches, one module per command family does the work.

`eim status` is answered before the rest is loaded: tmux runs it every few seconds and it has
100 ms (cli/status.py).
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
    from eim_tui.cli.main import main as full

    return full(argv)


__all__ = ["main"]
