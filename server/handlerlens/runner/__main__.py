"""`python -m handlerlens.runner serve|invoke …`: the same as `handlerlens serve|invoke …`.

An entry point like `handlerlens/__main__.py`, on the top floor with it: it may import the
command line (`handlerlens.cli`), which the rest of `runner/` never does.
"""

from handlerlens.cli import main

raise SystemExit(main())
