from kalan.cli import main

raise SystemExit(main())
