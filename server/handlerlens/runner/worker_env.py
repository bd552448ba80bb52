"""The worker's environment and its resident memory: what both the supervisor and
`handlerlens invoke` need, without the asyncio the supervisor's worker handling loads."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

_PAGE = os.sysconf("SC_PAGE_SIZE")


def worker_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment a worker starts from: this one, minus the extension's bundle.

    The VS Code extension runs the server and the runner on its own bundled libraries
    (PYTHONPATH, named by HANDLERLENS_BUNDLED_LIBS). The user's handler must import the
    user's packages only, as on the platform: a `yaml` the function forgot to require must
    fail here too, not be found in our bundle. (Debugging needs nothing from it either:
    debugpy starts a worker through its own launcher, by path.)
    """
    env = dict(environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONSAFEPATH", None)
    bundled = env.pop("HANDLERLENS_BUNDLED_LIBS", "")
    if bundled:
        ours = os.path.realpath(bundled)
        kept = [
            p
            for p in env.get("PYTHONPATH", "").split(os.pathsep)
            if p and os.path.realpath(p) != ours
        ]
        if kept:
            env["PYTHONPATH"] = os.pathsep.join(kept)
        else:
            env.pop("PYTHONPATH", None)
    return env


def resident_bytes(pid: int) -> int | None:
    """The process's resident set size now (Linux /proc), None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None
