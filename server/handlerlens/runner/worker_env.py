"""The worker's environment and its resident memory: what both the supervisor and
`handlerlens invoke` need, without the asyncio the supervisor's worker handling loads."""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

_PAGE = os.sysconf("SC_PAGE_SIZE")


class Isolation:
    """How workers are set apart from this process, for every function the runner serves.

    The CLI sets it once (`configure`) before any worker starts; the defaults isolate.
    """

    __slots__ = ("strip_site", "inherit", "bin_dir", "writable", "aws_keys", "token_files")

    def __init__(self) -> None:
        # The interpreter is HandlerLens's own (the project has none): the worker keeps only
        # the standard library on sys.path (worker/isolation.py).
        self.strip_site = False
        # Host variables passed to the function as they are (`--inherit-env`): names, or
        # prefixes ending in `*` (`*` alone: every one).
        self.inherit: tuple[str, ...] = ()
        # The function's interpreter's directory, first on PATH as the runtime's /var/lang/bin
        # is (None: HandlerLens's own, whose bin/ holds our CLI).
        self.bin_dir: str | None = None
        # `--writable`: writes outside the platform's writable paths are allowed.
        self.writable = False
        # `--profile`'s keys for AWS functions (None: placeholders, see runner_env).
        self.aws_keys: dict[str, str] | None = None
        # Served function name -> the file holding its IAM token (runner/yc_token.py): only
        # Yandex functions that declare a service account.
        self.token_files: dict[str, str] = {}


settings = Isolation()


def configure(
    *,
    strip_site: bool = False,
    inherit: tuple[str, ...] = (),
    bin_dir: str | None = None,
    writable: bool = False,
    aws_keys: dict[str, str] | None = None,
) -> None:
    """Set the runner-wide isolation (before the first worker starts)."""
    settings.strip_site = strip_site
    settings.inherit = tuple(inherit)
    settings.bin_dir = bin_dir
    settings.writable = writable
    settings.aws_keys = aws_keys


def inherited(environ: Mapping[str, str]) -> dict[str, str]:
    """The host variables `--inherit-env` names, as the host has them."""
    names = settings.inherit
    if not names:
        return {}
    exact = {n for n in names if not n.endswith("*")}
    prefixes = tuple(n[:-1] for n in names if n.endswith("*"))
    return {k: v for k, v in environ.items() if k in exact or (prefixes and k.startswith(prefixes))}


# The platform's PATH without the directories only the platform has (/var/lang/bin, /opt/bin):
# enough for a function's subprocess to find the system's programs (PLATFORMS.md §12.1).
SYSTEM_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
# Set by the worker's start-up (`isolation.MARK`): keep the standard library only.
ISOLATE_MARK = "HANDLERLENS_ISOLATE"


def worker_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment a worker interpreter starts in: what it needs to run, nothing else.

    Not the host's: PLATFORMS.md §12.1 "the deploying machine's environment is never carried
    over" (`HOME`, `SHELL`, `PIP_*`, `AWS_PROFILE`, `PYTHONPATH`… stay out); at init the
    function's own environment replaces this one (worker_init.init_message). Kept: PATH as the
    platform's, LD_LIBRARY_PATH when the host's interpreter needs it to load, and the
    variables `--inherit-env` names.

    The VS Code extension runs the server and the runner on its own bundled libraries
    (PYTHONPATH, named by HANDLERLENS_BUNDLED_LIBS): even an inherited PYTHONPATH loses that
    entry, so a `yaml` the function forgot to require fails here too, not found in our bundle.
    """
    path = ([settings.bin_dir] if settings.bin_dir else []) + list(SYSTEM_PATH)
    env = {"PATH": os.pathsep.join(path), "PYTHONUNBUFFERED": "1"}
    if environ.get("LD_LIBRARY_PATH"):
        env["LD_LIBRARY_PATH"] = environ["LD_LIBRARY_PATH"]
    env.update(inherited(environ))
    env.pop("PYTHONSAFEPATH", None)
    env.pop("HANDLERLENS_BUNDLED_LIBS", None)
    bundled = environ.get("HANDLERLENS_BUNDLED_LIBS", "")
    if bundled and "PYTHONPATH" in env:
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
    if settings.strip_site:
        env[ISOLATE_MARK] = "stdlib"
    return env


def resident_bytes(pid: int) -> int | None:
    """The process's resident set size now (Linux /proc), None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def enter_forked_worker(worker_dir: str) -> None:
    """In a fork of this process that becomes the worker (`invoke`): what a spawned worker
    gets from `worker_environ` and its start-up (worker/isolation.py), done in place."""
    from handlerlens.worker import isolation

    env = worker_environ(os.environ)
    os.environ.clear()
    os.environ.update(env)
    isolation.rename_package("handlerlens.worker", "_handlerlens_worker")
    isolation.start(worker_dir, os.path.join(worker_dir, "__main__.py"))
