"""`python -m handlerlens.runner serve|invoke …`."""

from handlerlens.runner.cli import main

raise SystemExit(main())
