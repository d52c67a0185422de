from photoindex.cli import main

raise SystemExit(main())
