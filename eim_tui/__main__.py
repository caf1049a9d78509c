"""`python -m eim_tui`: the `eim` command."""

from eim_tui.cli.entry import main

raise SystemExit(main())
