"""import-not-packaged reads the function's own environment (deploy/environment.py): the
site-packages of the interpreter the runner will run it on (here a real `python -m venv` with
wheels pip installed into it), not the metadata of the interpreter running HandlerLens; and
HandlerLens's own only where no environment of the function is found."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from handlerlens.core.problems import Severity
from handlerlens.deploy.dists import local_import_map
from handlerlens.deploy.environment import Environments, site_folders
from tests.deploy.test_checks import codes, deploy_problems, sam, write

# The runtime of this interpreter: without a venv the runner would run the function on
# HandlerLens's own interpreter (no environment of the function: the fallback).
HERE = f"python3.{sys.version_info[1]}"


def wheel(folder: Path, name: str, files: dict[str, str], requires: tuple[str, ...] = ()) -> Path:
    """A pure-Python wheel of distribution `name` 1.0 (no top_level.txt: pip writes RECORD)."""
    dist = name.replace("-", "_")
    info = f"{dist}-1.0.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    contents = {
        **files,
        f"{info}/METADATA": meta,
        f"{info}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    rows = []
    for path, text in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        rows.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    rows.append(f"{info}/RECORD,,")
    path = folder / f"{dist}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name_in, text in contents.items():
            archive.writestr(name_in, text)
        archive.writestr(f"{info}/RECORD", "\n".join(rows) + "\n")
    return path


def venv_with(root: Path, *wheels: Path) -> Path:
    """A real virtual environment at root/.venv with `wheels` installed by pip; its python."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(root / ".venv")],
        check=True,
        capture_output=True,
    )
    python = root / ".venv" / "bin" / "python"
    install(python, *wheels)
    return python


def install(python: Path, *wheels: Path) -> None:
    if wheels:
        subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
            + ["--no-index", "--no-deps", "--disable-pip-version-check", *map(str, wheels)],
            check=True,
            capture_output=True,
        )


def _site(python: Path) -> Path:
    (folder,) = site_folders(str(python), sys.version_info[:2])
    return Path(folder)


APP = """\
import zorblax
import zeta
import blorp

def handler(e, c):
    return 1
"""


def _acme(tmp_path: Path) -> list[Path]:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    return [
        # Installs the import `zorblax` (no name in common) and requires zeta-lib.
        wheel(wheels, "acme-kit", {"zorblax/__init__.py": ""}, ("zeta-lib>=1",)),
        wheel(wheels, "zeta-lib", {"zeta.py": ""}),
        wheel(wheels, "Blorp-Core", {"blorp/__init__.py": ""}),
    ]


def test_the_functions_venv_maps_imports_handlerlens_cannot(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    sam(project, runtime=HERE)
    write(project, "app/app.py", APP)
    write(project, "app/requirements.txt", "acme-kit\n")
    assert "zorblax" not in local_import_map()  # HandlerLens's own environment lacks them

    # No environment of the function (no venv; the runtime is this Python's): today's reading,
    # HandlerLens's own metadata, which knows none of them; the doubt says why.
    before = deploy_problems(project)
    # acme-kit's dependencies unknown: each import may come with it, could not decide.
    assert codes(before) == [
        ("app.py", 0, "import-not-packaged", Severity.INFO),
        ("app.py", 1, "import-not-packaged", Severity.INFO),
        ("app.py", 2, "import-not-packaged", Severity.INFO),
    ]
    assert "(not installed here, and no environment of the function was found to read" in (
        before[1].message
    )
    assert "Add 'blorp' to app/requirements.txt" in before[2].message

    # The venv the runner would use (at the project root, above the code root): acme-kit
    # provides zorblax and brings zeta-lib; blorp is still missing, and the fix names the
    # distribution the venv installs it from, as its metadata spells it.
    venv_with(project, *_acme(tmp_path))
    after = deploy_problems(project)
    assert codes(after) == [("app.py", 2, "import-not-packaged", Severity.ERROR)]
    (fix,) = after[0].fixes
    assert fix.title == "Add 'Blorp-Core' to app/requirements.txt"
    assert "'blorp' is not in the deployment" in after[0].message


def test_the_functions_venv_overrides_what_handlerlens_has(tmp_path: Path) -> None:
    # HandlerLens's own pytest installs `py` and requires iniconfig; the function's pytest
    # (another distribution of that name) does neither: its environment decides.
    assert "pytest" in local_import_map().get("py", frozenset())
    project = tmp_path / "project"
    project.mkdir()
    sam(project, runtime=HERE)
    write(
        project, "app/app.py", "import py\nimport iniconfig\n\ndef handler(e, c):\n    return 1\n"
    )
    write(project, "app/requirements.txt", "pytest\n")
    assert deploy_problems(project) == []  # read from HandlerLens's own metadata

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    venv_with(project, wheel(wheels, "pytest", {"pytest/__init__.py": ""}, ("pluggy",)))
    assert codes(deploy_problems(project)) == [
        ("app.py", 0, "import-not-packaged", Severity.ERROR),
        ("app.py", 1, "import-not-packaged", Severity.ERROR),
    ]


def test_an_egg_info_and_a_dist_info_without_metadata(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    sam(project, runtime=HERE)
    write(
        project, "app/app.py", "import oldmod\nimport oldfriend\n\ndef handler(e, c):\n    pass\n"
    )
    write(project, "app/requirements.txt", "legacy-thing\n")
    python = venv_with(project)
    egg = _site(python) / "legacy_thing-1.0-py3.11.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: legacy-thing\nVersion: 1.0\n")
    (egg / "top_level.txt").write_text("oldmod\n")
    (egg / "requires.txt").write_text("old-friend\n\n[extra]\nnever-installed\n")
    (_site(python) / "old_friend-2.0.dist-info").mkdir()
    (_site(python) / "old_friend-2.0.dist-info" / "top_level.txt").write_text("oldfriend\n")
    assert deploy_problems(project) == []


def test_the_environment_is_read_again_when_its_site_packages_change(tmp_path: Path) -> None:
    code = tmp_path / "app"
    code.mkdir()
    python = venv_with(tmp_path)
    envs = Environments()
    envs.project_root = str(tmp_path)
    env = envs.environment(str(code), HERE)
    assert env is not None and env.python == str(python) and env.folders == [str(_site(python))]
    assert env.provides("zorblax") == frozenset()
    assert envs.environment(str(code), HERE) is env  # kept
    install(python, *_acme(tmp_path))
    again = envs.environment(str(code), HERE)
    assert again is not None and again is not env
    assert again.provides("zorblax") == {"acme-kit"}
    assert again.requires("acme-kit") == {"zeta-lib"}
    assert again.requires("not-installed") is None
    # No venv, the runtime of this Python: the runner would use HandlerLens's own (isolated):
    # no environment, HandlerLens's own metadata is read instead.
    shutil.rmtree(tmp_path / ".venv")
    envs.clear()
    assert envs.environment(str(code), HERE) is None


def test_check_reads_the_venv_cold_and_warm(tmp_path: Path) -> None:
    # Through the real command, with its parse cache: a warm run says the same, and a
    # distribution installed between two runs is seen (the site-packages folder's stamp).
    project = tmp_path / "project"
    project.mkdir()
    sam(project, runtime=HERE)
    write(project, "app/app.py", APP)
    write(project, "app/requirements.txt", "acme-kit\n")
    python = venv_with(project)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}

    def check() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "handlerlens", "check", "--format", "json", str(project)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        return done.stdout

    cold = check()
    assert "'zorblax' may be missing" in cold and "'blorp' may be missing" in cold
    assert "(not installed in the function's environment (.venv/bin/python)" in cold
    assert check() == cold
    install(python, *_acme(tmp_path)[:2])  # acme-kit and zeta-lib
    warm = check()
    assert "zorblax" not in warm and "'blorp' is not in the deployment" in warm
    assert check() == warm


def test_a_venv_whose_python_cannot_run_is_read_from_its_files(tmp_path: Path) -> None:
    # The venv's interpreter leaves a file behind if it is ever run: it never is (the checks
    # run on every edit); its version comes from pyvenv.cfg and its distributions from files.
    from tests.deploy.test_interpreter_choice import fake_venv

    project = tmp_path / "project"
    project.mkdir()
    sam(project, runtime="python3.9")
    write(project, "app/app.py", "import zorblax\n\ndef handler(e, c):\n    return 1\n")
    write(project, "app/requirements.txt", "acme-kit\n")
    fake_venv(project, "3.9.18")
    info = project / ".venv" / "lib" / "python3.9" / "site-packages" / "acme_kit-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-kit\nVersion: 1.0\n")
    (info / "RECORD").write_text("zorblax/__init__.py,,\nacme_kit-1.0.dist-info/METADATA,,\n")
    assert deploy_problems(project) == []
    assert not (project / "ran").exists()
    info.rename(info.with_name("other-1.0.dist-info"))  # acme-kit gone: zorblax is unprovided
    (problem,) = deploy_problems(project)
    assert (problem.code, problem.severity) == ("import-not-packaged", Severity.INFO)
    assert "(not installed in the function's environment (.venv/bin/python)" in problem.message
    assert not (project / "ran").exists()
