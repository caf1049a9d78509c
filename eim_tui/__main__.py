from eim_tui.cli import main

raise SystemExit(main())
