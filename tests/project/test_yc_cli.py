"""`yc serverless function version create` in scripts and CI files declares a function."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from handlerlens.core.problems import Severity
from handlerlens.project import discover
from tests.project.conftest import file_text_at

HANDLER = "def handler(event, context):\n    return 1\n"

SCRIPT = """#!/bin/sh
set -e
# yc serverless function version create --entrypoint old.handler --runtime python312
yc serverless function version create \\
  --function-name my-fn \\
  --runtime python312 \\
  --entrypoint main.handler \\
  --memory 256m \\
  --execution-timeout 5s \\
  --environment STAGE=dev,TABLE=orders \\
  --source-path ./src
echo done
"""


def _write(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def test_a_shell_script_with_continuations_declares_a_yandex_function(tmp_path: Path) -> None:
    _write(tmp_path, {"deploy.sh": SCRIPT, "src/main.py": HANDLER})
    model = discover(str(tmp_path))
    (spec,) = model.functions
    assert (spec.name, spec.platform, spec.entry, spec.runtime) == (
        "my-fn",
        "yandex",
        "main.handler",
        "python312",
    )
    assert (spec.root, spec.memory, spec.timeout) == (str(tmp_path / "src"), 256, 5.0)
    assert spec.env == {"STAGE": "dev", "TABLE": "orders"}
    assert spec.declared_by == "yc-cli"
    assert spec.entry_span is not None and spec.runtime_span is not None
    assert file_text_at(str(tmp_path / "deploy.sh"), spec.entry_span) == "main.handler"
    assert file_text_at(str(tmp_path / "deploy.sh"), spec.runtime_span) == "python312"
    assert model.problems == []


def test_ci_files_and_makefiles_are_read_and_other_runtimes_are_not(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "src/main.py": HANDLER,
            ".github/workflows/deploy.yml": "jobs:\n  deploy:\n    steps:\n      - run: |\n"
            "          yc serverless function version create --function-name=gh \\\n"
            '            --runtime=python312 --entrypoint "main.handler" --source-path src\n',
            ".gitlab-ci.yml": "deploy:\n  script:\n    - yc serverless function version create"
            " --function-name gl --runtime python312 --entrypoint main.handler"
            " --source-path ./src\n",
            "Makefile": "deploy:\n\tyc serverless function version create --function-name mk \\\n"
            "\t  --runtime python312 --entrypoint main.handler --source-path src\n"
            "node:\n\tyc serverless function version create --function-name js "
            "--runtime nodejs18 --entrypoint index.handler --source-path web\n",
        },
    )
    names = sorted(s.name for s in discover(str(tmp_path)).functions)
    assert names == ["gh", "gl", "mk"]


def test_computed_values_are_infos_and_a_zip_is_read_for_its_names(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", HANDLER)
    _write(
        tmp_path,
        {
            "dist/fn.zip": buffer.getvalue(),
            "deploy.sh": "yc serverless function version create --function-name a "
            "--runtime python312 --entrypoint $ENTRY --source-path .\n"
            "yc serverless function version create --function-name b "
            "--runtime python312 --entrypoint index.handler --source-path dist/fn.zip\n"
            "yc serverless function version create --function-name c "
            '--runtime python312 --entrypoint index.handler --source-path "$BUILD_DIR"\n',
        },
    )
    model = discover(str(tmp_path))
    specs = {s.name: s for s in model.functions}
    assert sorted(specs) == ["b", "c"]
    packed = specs["b"].packed
    assert packed is not None and packed.names == frozenset({"index.py"})
    c_packed = specs["c"].packed
    assert c_packed is not None and c_packed.names is None
    found = sorted((file_text_at(p.path, p.span), p.severity) for p in model.problems)
    assert found == [("$BUILD_DIR", Severity.INFO), ("$ENTRY", Severity.INFO)]


def test_variables_the_script_sets_to_literals_are_read_at_their_literal(tmp_path: Path) -> None:
    # Holdout miss (b).
    script = (
        "#!/bin/bash\n"
        "RUNTIME=python39\n"
        'export ENTRY="main.handler"\n'
        "MODULE='main'  # the entry file\n"
        "RUNTIME=python312\n"
        "yc serverless function version create --function-name a \\\n"
        '  --runtime "$RUNTIME" --entrypoint ${ENTRY} --source-path ./src\n'
        "yc serverless function version create --function-name b \\\n"
        "  --runtime $RUNTIME --entrypoint ${MODULE}.other --source-path ./src\n"
        "yc serverless function version create --function-name c \\\n"
        "  --runtime $LATER --entrypoint main.handler --source-path ./src\n"
        "LATER=python311\n"
    )
    _write(tmp_path, {"deploy.sh": script, "src/main.py": HANDLER})
    path = str(tmp_path / "deploy.sh")
    model = discover(str(tmp_path))
    # c's runtime is set only after the command (the shell has not set it yet): unknown, so
    # not known to be Python, as before.
    a, b = sorted(model.functions, key=lambda s: s.name)
    assert (a.runtime, a.entry, b.runtime, b.entry) == (
        "python312",
        "main.handler",
        "python312",
        "main.other",
    )
    assert a.runtime_span is not None and a.entry_span is not None
    # The last assignment before the command, where it is written.
    assert a.runtime_span.start.line == 4 and file_text_at(path, a.runtime_span) == "python312"
    assert a.entry_span.start.line == 2 and file_text_at(path, a.entry_span) == "main.handler"
    assert a.entry_editable
    # Part of a word: shown at the word, never rewritten by a fix.
    assert b.entry_span is not None and file_text_at(path, b.entry_span) == "${MODULE}.other"
    assert not b.entry_editable


def test_makefile_and_ci_variables_are_read_too(tmp_path: Path) -> None:
    makefile = (
        "RUNTIME := python312\nENTRY = main.handler\n\n"
        "deploy:\n\tyc serverless function version create --function-name m "
        "--runtime $(RUNTIME) --entrypoint $(ENTRY) --source-path src\n"
    )
    workflow = (
        "jobs:\n  deploy:\n    steps:\n      - run: yc serverless function version create"
        " --function-name w --runtime $RUNTIME --entrypoint main.handler --source-path src\n"
        "        env:\n          RUNTIME: python311\n"
    )
    script_step = (
        "jobs:\n  deploy:\n    steps:\n      - run: |\n"
        "          RUNTIME=python310\n"
        "          yc serverless function version create --function-name s --runtime $RUNTIME"
        " --entrypoint main.handler --source-path src\n"
    )
    _write(
        tmp_path,
        {
            "Makefile": makefile,
            ".github/workflows/deploy.yml": workflow,
            ".github/workflows/script.yml": script_step,
            "src/main.py": HANDLER,
        },
    )
    by_name = {s.name: s for s in discover(str(tmp_path)).functions}
    assert (by_name["m"].runtime, by_name["m"].entry) == ("python312", "main.handler")
    assert by_name["w"].runtime == "python311"
    assert by_name["s"].runtime == "python310"  # a shell line of the step's script
