"""What the deployment provides, for `invoke`'s worker to say which imports work here but
would fail deployed, kept on disk between invocations: reading a manifest loads
`packaging`, slower than the rest of `invoke`'s start."""

from __future__ import annotations

import json
import os

from handlerlens.runner.targets import ServedFunction

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# HandlerLens's own deploy/ modules: what they know is part of the answer.
DEPLOY_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "deploy")


def _deployed_cache_path(key: str) -> str:
    import zlib  # hashlib would load OpenSSL (~10 ms); the file holds its key, checked on read

    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    data = key.encode("utf-8")
    name = f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}.json"
    return os.path.join(base, "handlerlens", "deployed", name)


def _stamps(paths: list[str]) -> list[list[int]]:
    out = []
    for path in paths:
        try:
            st = os.stat(path)
            out.append([st.st_mtime_ns, st.st_size])
        except OSError:
            out.append([-1, -1])
    return out


def cached_deployed_field(fn: ServedFunction) -> dict[str, Any] | None:
    """What the deployment provides (InitMessage `deployed`, as `serve` sends it: worker_init.py),
    for the worker's "works here, would fail deployed" note; None when it cannot be read.

    Reading a manifest loads `packaging` (~60 ms, more than the rest of `invoke`'s start), so
    the answer is kept on disk ($XDG_CACHE_HOME/handlerlens/deployed, one small JSON file per
    function) with the size and mtime of every file it was read from (the manifests, looked
    for or read, their includes, the declaring file, layers' requirements, and HandlerLens's
    own deploy/ modules that made it): a later `invoke` reads it back while none changed."""
    key = json.dumps([fn.root, fn.platform, fn.runtime or "", fn.declared_in or ""])
    path = _deployed_cache_path(key)
    found: dict[str, Any] | None = None
    try:
        with open(path, encoding="utf-8") as handle:
            kept = json.load(handle)
        if kept["key"] == key and kept["stamps"] == _stamps(kept["files"]):
            found = kept["provided"]
    except (OSError, ValueError, KeyError, TypeError):
        found = None
    if not isinstance(found, dict):
        try:
            from handlerlens.deploy.provided import files_read, provided

            found = provided(fn.root, fn.platform, fn.runtime, fn.declared_in)
            files = files_read(fn.root, fn.platform, fn.runtime, fn.declared_in)
        except Exception:  # a note must never keep a function from running
            return None
        if fn.declared_in:
            files.append(fn.declared_in)  # it may gain layers
        # HandlerLens's own facts (what platforms preinstall…): an upgrade reads again.
        files += [os.path.join(DEPLOY_DIR, f"{n}.py") for n in ("facts", "layers", "manifest")]
        files.append(os.path.join(DEPLOY_DIR, "provided.py"))
        data = {"key": key, "files": files, "stamps": _stamps(files), "provided": found}
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            temporary = f"{path}.{os.getpid()}"
            with open(temporary, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(temporary, path)
        except OSError:
            pass  # no cache (a read-only home): read again next time
    if fn.paths:
        # The local layers on its sys.path (function_setup) are deployed with it too.
        found = {**found, "roots": [*(found.get("roots") or []), *fn.paths]}
    return found
