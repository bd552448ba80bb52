"""How hard the reliability suite pushes: small counts in `make test`, full ones in soak mode.

`scripts/soak.sh` sets HANDLERLENS_SOAK=1. Both modes run the same checks; only the counts
(and the per-test time limits that follow from them) change.
"""

from __future__ import annotations

import os

SOAK = os.environ.get("HANDLERLENS_SOAK", "") == "1"


def scaled(fast: int, soak: int) -> int:
    """`soak` in soak mode, else `fast`."""
    return soak if SOAK else fast
