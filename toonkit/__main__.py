from toonkit.cli.main import main

raise SystemExit(main())
