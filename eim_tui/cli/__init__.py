"""The command line: `entry.py` is the `eim` command (it answers `eim status` before loading the
rest), `main.py` parses and dispatches, one module per command family does the work."""
