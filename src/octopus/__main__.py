from octopus.cli import main

raise SystemExit(main())
