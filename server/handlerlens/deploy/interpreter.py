"""Which interpreter runs the function: the project's, as close to the deployed runtime as the
machine has, and never HandlerLens's own packages (issue #18).

In order: `--python PATH` (or `python = "…"` in `[tool.handlerlens]` of the root's
pyproject.toml); a `.venv` or `venv` in a function's code root or above it up to the project
root (`--root`); `python3.X` on PATH when the functions declare runtime `python3.X`
(`python312` on Yandex); else the interpreter running HandlerLens, with its site-packages left
out of the function's `sys.path` (they hold PyYAML, pygls, attrs…: the deployed function has
none of them; see worker/isolation.py) and a warning when the declared runtime is another
version: `runtime python3.12 declared; running on 3.11`.

Cheap on purpose (`invoke` runs it every time): a few stat calls; a subprocess only for an
interpreter given by path whose name does not say it is Python. It lives with the deploy checks
(floor 3), whose runtime-interpreter-mismatch foresees the same choice from files alone
(`foreseen`); the runner (floor 6) calls `choose`.
"""

from __future__ import annotations

import os
import re
import sys

TYPE_CHECKING = False  # `typing` is not loaded for this: `invoke` imports this module
if TYPE_CHECKING:
    from typing import Any

_VENVS = (".venv", "venv")


class InterpreterError(Exception):
    """An interpreter that cannot be used; the message is for the user."""


class Choice:
    """The interpreter chosen, why, and what the runner must do about it."""

    __slots__ = ("path", "source", "version", "strip_site", "bin_dir", "warning")

    def __init__(
        self,
        path: str,
        source: str,
        version: tuple[int, int] | None,
        *,
        strip_site: bool = False,
        warning: str | None = None,
    ) -> None:
        self.path = path
        # "--python", "pyproject.toml", "venv", "runtime", "handlerlens" (ours, isolated) or
        # "editor" (the user's, which the VS Code extension runs us on)
        self.source = source
        self.version = version
        # HandlerLens's own interpreter: the function gets its standard library only.
        self.strip_site = strip_site
        # Its directory goes first on the function's PATH (as /var/lang/bin does deployed),
        # except HandlerLens's own bin/, which holds our CLI.
        self.bin_dir = None if strip_site else os.path.dirname(path)
        self.warning = warning

    def as_event(self) -> dict[str, object]:
        """The `--status-json` event the editor shows (`event: interpreter`)."""
        return {
            "event": "interpreter",
            "path": self.path,
            "source": self.source,
            "version": None if self.version is None else "{}.{}".format(*self.version),
            "isolated": self.strip_site,
            "warning": self.warning,
        }


def runtime_version(runtime: str | None) -> tuple[int, int] | None:
    """(3, 12) for `python3.12` (AWS) or `python312` (Yandex); None for anything else."""
    # Plain string work: `invoke` imports this module every time (a regex costs more).
    rest = (runtime or "").removeprefix("python3")
    rest = rest.removeprefix(".")
    if not rest.isdigit() or rest == (runtime or ""):
        return None
    return (3, int(rest))


def pyvenv_cfg(prefix: str) -> str | None:
    """The text of the virtual environment `prefix`'s pyvenv.cfg; None: it has none."""
    try:
        with open(os.path.join(prefix, "pyvenv.cfg"), encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _venv_version(prefix: str) -> tuple[int, int] | None:
    """The version pyvenv.cfg records (`version = 3.11.2`, uv's `version_info = 3.12.1`)."""
    text = pyvenv_cfg(prefix)
    if text is None:
        return None
    match = re.search(r"^\s*version(?:_info)?\s*=\s*3\.(\d+)", text, re.MULTILINE)
    return (3, int(match.group(1))) if match else None


def _venv_python(prefix: str) -> str | None:
    if not os.path.isfile(os.path.join(prefix, "pyvenv.cfg")):
        return None
    for name in ("python", "python3"):
        candidate = os.path.join(prefix, "bin", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _is_current(path: str) -> bool:
    try:
        return os.path.samefile(path, sys.executable)
    except OSError:
        return False


def _probe(path: str, who: str) -> tuple[int, int]:
    """Run it: its version, or InterpreterError when it is not a Python 3 interpreter."""
    import subprocess

    code = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        done = subprocess.run(
            [path, "-c", code], capture_output=True, timeout=20, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise InterpreterError(f"{who} is not a Python interpreter: {exc}") from None
    match = re.fullmatch(rb"3\.(\d+)\s*", done.stdout)
    if done.returncode != 0 or match is None:
        said = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        detail = f": {said[-1]}" if said else f" (exit status {done.returncode})"
        raise InterpreterError(f"{who} is not a Python 3 interpreter{detail}")
    return (3, int(match.group(1)))


def _which(name: str, environ: dict[str, str] | os._Environ[str]) -> str | None:
    for folder in environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(folder or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _runtime_python(version: tuple[int, int]) -> str | None:
    """`python3.X` on PATH, else one pyenv installed. Version managers' shims (pyenv's, asdf's
    `shims/` folders) are skipped: they run only the versions selected for the folder and
    fail for the others ("pyenv: python3.12: command not found")."""
    name = "python{}.{}".format(*version)
    for folder in os.environ.get("PATH", os.defpath).split(os.pathsep):
        if os.path.basename(folder.rstrip(os.sep)) == "shims":
            continue
        candidate = os.path.join(folder or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    try:
        installed = os.listdir(os.path.join(pyenv, "versions"))
    except OSError:
        return None
    prefix = "{}.{}.".format(*version)
    patches = []
    for entry in installed:
        patch = entry[len(prefix) :]
        if entry.startswith(prefix) and patch.isdigit():
            patches.append((int(patch), entry))
    for _, entry in sorted(patches, reverse=True):
        candidate = os.path.join(pyenv, "versions", entry, "bin", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _other_runtime_python(version: tuple[int, int]) -> str | None:
    found = _runtime_python(version)
    return None if found is None or _is_current(found) else found


def _given(path: str, flag: str, base: str, runtime: tuple[int, int] | None) -> Choice:
    given = path
    who = f"--python {given}" if flag == "--python" else flag
    if os.sep not in path and not path.startswith("~"):
        found = _which(path, os.environ)
        if found is None:
            raise InterpreterError(f"Python interpreter not found: {path} ({flag}: not on PATH)")
        path = found
    else:
        path = os.path.join(base, os.path.expanduser(path))
    if not os.path.exists(path):
        raise InterpreterError(f"Python interpreter not found: {given} ({flag}: no such file)")
    if os.path.isdir(path):
        venv = _venv_python(path)  # a virtual environment's folder names its interpreter
        if venv is None:
            raise InterpreterError(f"{who} is a folder, not a Python interpreter")
        path = venv
    if not os.access(path, os.X_OK):
        raise InterpreterError(f"{who} is not executable")
    if _is_current(path):
        version: tuple[int, int] | None = sys.version_info[:2]
    else:
        version = _venv_version(os.path.dirname(os.path.dirname(path)))
        named = re.match(r"^(?:python|pypy)(3(?:\.\d+)?)?$", os.path.basename(path))
        if named is None:
            version = _probe(path, who)  # e.g. `--python /bin/ls`
        elif version is None and named.group(1) and "." in named.group(1):
            version = (3, int(named.group(1).split(".")[1]))
        elif version is None and runtime is not None:
            version = _probe(path, who)  # the mismatch warning needs it
    source = "--python" if flag == "--python" else "pyproject.toml"
    return Choice(os.path.abspath(path), source, version, warning=_mismatch(runtime, version))


def given_interpreter(path: str) -> str:
    """The absolute path of an interpreter given with --python; InterpreterError if unusable."""
    return _given(path, "--python", os.getcwd(), None).path


def _mismatch(runtime: tuple[int, int] | None, version: tuple[int, int] | None) -> str | None:
    if runtime is None or version is None or runtime == version:
        return None
    return "runtime python{}.{} declared; running on {}.{}".format(*runtime, *version)


def pyproject_python(root: str) -> str | None:
    """`python = "…"` in `[tool.handlerlens]` of `root/pyproject.toml`, if set."""
    path = os.path.join(root, "pyproject.toml")
    if not os.path.isfile(path):
        return None
    from handlerlens.project.toml_compat import loads

    try:
        with open(path, encoding="utf-8") as handle:
            data = loads(handle.read())
    except Exception:  # `check` reports a broken pyproject.toml; the runner need not
        return None
    value = data.get("tool", {}).get("handlerlens", {}).get("python")
    return value if isinstance(value, str) and value else None


def _memo(memo: dict[tuple[str, object], Any] | None, key: tuple[str, object], compute: Any) -> Any:
    """`compute()`, kept in `memo` under `key` (when there is a memo)."""
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _folder_venv(folder: str) -> tuple[str, tuple[int, int] | None] | None:
    for name in _VENVS:
        python = _venv_python(os.path.join(folder, name))
        if python is not None:
            return python, _venv_version(os.path.join(folder, name))
    return None


def _project_venv(
    project_root: str,
    code_roots: list[str],
    memo: dict[tuple[str, object], Any] | None = None,
) -> tuple[str, tuple[int, int] | None] | None:
    """The interpreter of the first `.venv`/`venv` in a code root or a folder above it up to
    `project_root`, with the version its pyvenv.cfg records (None: it records none)."""
    seen: set[str] = set()
    top = os.path.abspath(project_root)
    for root in code_roots:
        folder = os.path.abspath(root)
        while True:
            if folder not in seen:
                seen.add(folder)
                found = _memo(memo, ("venv", folder), lambda f=folder: _folder_venv(f))
                if found is not None:
                    return found  # type: ignore[no-any-return]
            parent = os.path.dirname(folder)
            inside = folder == top or not (folder + os.sep).startswith(top + os.sep)
            if inside or parent == folder:
                break
            folder = parent
    return None


def _named_version(path: str) -> tuple[int, int] | None:
    """The version of an interpreter given by path, told without running it: this one's, its
    virtual environment's pyvenv.cfg, or a `python3.X` name; None when none of them says."""
    if _is_current(path):
        return (sys.version_info[0], sys.version_info[1])
    if os.path.isdir(path):
        return _venv_version(path)
    version = None
    if os.path.isabs(path):  # not a bare name that is not on PATH
        version = _venv_version(os.path.dirname(os.path.dirname(path)))
    if version is None:
        named = re.match(r"^(?:python|pypy)3\.(\d+)$", os.path.basename(path))
        version = (3, int(named.group(1))) if named else None
    return version


def foreseen(
    project_root: str,
    code_root: str,
    runtime: str | None,
    memo: dict[tuple[str, object], Any] | None = None,
) -> tuple[str, str, tuple[int, int] | None]:
    """(path, source, version) of the interpreter `choose` would pick, with no --python, for
    one function: told from files only (pyvenv.cfg, names on PATH), never by running one, for
    the language server's runtime-interpreter-mismatch and the function's environment. Version
    None: it cannot be told so. `memo` keeps what was looked at for the next functions (one
    check of many code roots: the same parents, runtimes and pyproject.toml)."""
    wanted = runtime_version(runtime)
    configured = _memo(memo, ("pyproject", project_root), lambda: pyproject_python(project_root))
    if configured:
        if os.sep not in configured and not configured.startswith("~"):
            path = _which(configured, os.environ) or configured
        else:
            path = os.path.join(project_root, os.path.expanduser(configured))
        return os.path.abspath(path), "pyproject.toml", _named_version(path)
    venv = _project_venv(project_root, [code_root], memo)
    if venv is not None:
        return venv[0], "venv", venv[1]
    current = (sys.version_info[0], sys.version_info[1])
    if wanted is not None and wanted != current:
        found = _memo(memo, ("runtime", wanted), lambda: _other_runtime_python(wanted))
        if found is not None:
            return found, "runtime", wanted
    return sys.executable, "handlerlens", current


def choose(
    given: str | None, project_root: str, code_roots: list[str], runtimes: list[str | None]
) -> Choice:
    """The interpreter for functions in `code_roots` (under `project_root`) that declare
    `runtimes`; InterpreterError for an unusable given one."""
    declared = {v for v in map(runtime_version, runtimes) if v is not None}
    runtime = declared.pop() if len(declared) == 1 else None
    if given:
        return _given(given, "--python", os.getcwd(), runtime)
    configured = pyproject_python(project_root)
    if configured:
        flag = f"python = {configured!r} in {os.path.join(project_root, 'pyproject.toml')}"
        return _given(configured, flag, project_root, runtime)
    venv = _project_venv(project_root, code_roots)
    if venv is not None:
        python, version = venv
        return Choice(python, "venv", version, warning=_mismatch(runtime, version))
    current: tuple[int, int] = sys.version_info[:2]
    if runtime is not None and runtime != current:
        found = _runtime_python(runtime)
        if found is not None and not _is_current(found):
            return Choice(found, "runtime", runtime)
    warning = _mismatch(runtime, current)
    if os.environ.get("HANDLERLENS_BUNDLED_LIBS"):
        # The VS Code extension runs us on the user's interpreter with our libraries in a
        # bundle (PYTHONPATH, which workers never get): its site-packages are the user's.
        return Choice(sys.executable, "editor", current, warning=warning)
    return Choice(sys.executable, "handlerlens", current, strip_site=True, warning=warning)
