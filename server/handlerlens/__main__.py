"""`python -m handlerlens` is the `handlerlens` command."""

from handlerlens.cli import main

raise SystemExit(main())
