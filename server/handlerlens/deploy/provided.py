"""What a function's deployment provides beyond the standard library, for the runner's worker
to compare its imports with (worker/deployed.py: "works here, would fail deployed").

The same knowledge as `import-not-packaged` (checks.py): the code root's manifest as the
deployment installs it (requirements.txt, else pyproject.toml dependencies, else a Pipfile,
markers evaluated for the declared runtime's Python) and what the platform preinstalls.
"""

from __future__ import annotations

import os
from typing import Any

from handlerlens.core.text import read_lenient
from handlerlens.deploy import facts
from handlerlens.deploy.layers import LAYER_FOLDER, LAYERS
from handlerlens.deploy.manifest import Manifest, read_pipfile, read_pyproject, read_requirements
from handlerlens.platforms.rules import runtime_python

_CACHE: dict[tuple[str, str, str, str], tuple[tuple[float, ...], dict[str, Any]]] = {}


def _stamps(paths: list[str]) -> tuple[float, ...]:
    out = []
    for path in paths:
        try:
            out.append(os.stat(path).st_mtime)
        except OSError:
            out.append(-1.0)
    return tuple(out)


def _kind(declared_in: str) -> str:
    name = os.path.basename(declared_in)
    if name.endswith(".tf"):
        return "terraform"
    return "serverless" if name.startswith("serverless.") else "sam"


def _layers(
    declared_in: str | None, version: tuple[int, int] | None
) -> tuple[bool, list[str], set[str], list[str]]:
    """(the declaring file gives functions layers, the project folders they are built from
    with their `python/` folders, what their requirements.txt install, the files read)."""
    if not declared_in:
        return False, [], set(), []
    text = read_lenient(declared_in)
    if text is None or not LAYERS.search(text):
        return False, [], set(), []
    base = os.path.dirname(declared_in)
    roots: list[str] = []
    layer = Manifest()
    for match in LAYER_FOLDER[_kind(declared_in)].finditer(text):
        folder = os.path.normpath(os.path.join(base, match.group(1).strip("'\"")))
        if not folder.startswith(base) or not os.path.isdir(folder):
            continue
        roots += [folder, os.path.join(folder, "python")]
        requirements = os.path.join(folder, "requirements.txt")
        if os.path.isfile(requirements):
            read_requirements(requirements, layer, version)
    return True, roots, layer.names, [declared_in, *layer.files]


def provided(
    root: str, platform: str, runtime: str | None, declared_in: str | None = None
) -> dict[str, Any]:
    """The init message's `deployed` field (protocol.InitMessage) for a function whose code
    root is `root`, declared in `declared_in`; cached until a file it was read from changes."""
    key = (root, platform, runtime or "", declared_in or "")
    names = [os.path.join(root, n) for n in ("requirements.txt", "pyproject.toml", "Pipfile")]
    hit = _CACHE.get(key)
    if hit is not None and hit[0] == _stamps(names + hit[1]["_files"]):
        return {k: v for k, v in hit[1].items() if k != "_files"}
    version = runtime_python(runtime) if runtime else None
    manifest = Manifest()
    label: str | None = None
    requirements, pyproject, pipfile = names
    if os.path.isfile(requirements):
        read_requirements(requirements, manifest, version)
        label = "requirements.txt"
    elif os.path.isfile(pyproject) and read_pyproject(pyproject, manifest, version):
        label = "pyproject.toml"
    elif os.path.isfile(pipfile) and read_pipfile(pipfile, manifest):
        label = "Pipfile"
    preinstalled: set[str] = set()
    if platform == "aws":
        preinstalled = set(facts.AWS_PREINSTALLED | facts.AWS_MAYBE_PREINSTALLED)
    elif (runtime or "") in facts.YANDEX_SDK_RUNTIMES:
        preinstalled = set(facts.YANDEX_PREINSTALLED)
    has_layers, roots, layer_dists, layer_files = _layers(declared_in, version)
    result: dict[str, Any] = {
        "dists": sorted(manifest.names | layer_dists),
        "names": sorted(preinstalled),
        "roots": roots,
        "manifest": label,
    }
    if has_layers:
        # Layers not built from a project folder (an ARN) may provide anything: said softly.
        result["layers"] = True
    if manifest.unnamed:
        # A URL or a path installs something unnamed: no claim about what it provides.
        result["unnamed"] = True
    included = [f for f in [*manifest.files, *layer_files] if f not in names]
    _CACHE[key] = (_stamps(names + included), {**result, "_files": included})
    return result


def files_read(
    root: str, platform: str, runtime: str | None, declared_in: str | None = None
) -> list[str]:
    """The files `provided` read for these arguments (and the manifests it looked for), for a
    cache kept elsewhere (`invoke`'s, on disk); [] before `provided` ran for them."""
    hit = _CACHE.get((root, platform, runtime or "", declared_in or ""))
    if hit is None:
        return []
    names = [os.path.join(root, n) for n in ("requirements.txt", "pyproject.toml", "Pipfile")]
    return names + list(hit[1]["_files"])
