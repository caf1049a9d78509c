"""The command line: `entry.py` is `eim`, `main.py` parses and dispatches, a module per command family works.

`entry.py` answers `eim status` before loading the rest (it has 100 ms).
"""
