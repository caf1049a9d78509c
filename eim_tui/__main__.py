"""`python -m eim_tui`: the `eim` command."""

from eim_tui import cli

raise SystemExit(cli.main())
