from cart19.cli import main

raise SystemExit(main())
