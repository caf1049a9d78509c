"""The command line: `main.py` parses and dispatches, one module per command family does the work."""

from eim_tui.cli.main import main

__all__ = ["main"]
