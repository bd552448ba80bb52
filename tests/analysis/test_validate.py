"""Validation of one declared function: the diagnostics a user sees, code by code."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from handlerlens.analysis.sources import Sources
from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Problem, Severity, Span
from handlerlens.engine.validate import validate_function

CONFIG = "template.yaml"
ENTRY_SPAN = Span.of(4, 15, 4, 27)


def run(
    tmp_path: Path,
    files: dict[str, str],
    entry: str = "main.handler",
    platform: str = "yandex",
    runtime: str | None = None,
    trigger: str | None = None,
    **extra: object,
) -> list[Problem]:
    for name, text in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    spec = FunctionSpec(
        name="fn",
        platform=platform,  # type: ignore[arg-type]
        entry=entry,
        root=str(tmp_path),
        declared_by="sam",
        declared_in=str(tmp_path / CONFIG),
        entry_span=ENTRY_SPAN,
        runtime=runtime,
        runtime_span=Span.of(3, 15, 3, 25) if runtime else None,
        trigger=trigger,
        triggers=(trigger,) if trigger else (),
        **extra,  # type: ignore[arg-type]
    )
    return validate_function(spec, Sources()).problems


def codes(problems: list[Problem], where: str | None = None) -> list[str]:
    return sorted(p.code for p in problems if where is None or p.path.endswith(where))


GOOD = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'ok'}\n"


@pytest.mark.parametrize("platform", ["yandex", "aws"])
def test_valid_handler_has_no_problems(tmp_path: Path, platform: str) -> None:
    assert run(tmp_path, {"main.py": GOOD}, platform=platform) == []


@pytest.mark.parametrize(
    ("entry", "platform", "code", "quoted"),
    [
        (
            "handler",
            "aws",
            "entry-point-malformed",
            "Runtime.MalformedHandlerName: Bad handler 'handler': not enough values to unpack",
        ),
        ("handler", "yandex", "entry-point-malformed", "<file>.<function>"),
        (
            "mian.handler",
            "aws",
            "entry-point-module-missing",
            "Runtime.ImportModuleError: Unable to import module 'mian': No module named 'mian'",
        ),
        ("mian.handler", "yandex", "entry-point-module-missing", "No module named 'mian'"),
        (
            "main.py.handler",
            "aws",
            "entry-point-dotted-filename",
            "No module named 'main.py'; 'main' is not a package",
        ),
        ("main.py.handler", "yandex", "entry-point-dotted-filename", "without '.py'"),
        (
            "sys.handler",
            "aws",
            "entry-point-builtin-module",
            "Runtime.BuiltInModuleConflict: Cannot use built-in module sys as a handler module",
        ),
        (
            "main.handlr",
            "aws",
            "entry-point-function-missing",
            "Runtime.HandlerNotFound: Handler 'handlr' missing on module 'main'",
        ),
    ],
)
def test_entry_point_faults_quote_the_platform(
    tmp_path: Path, entry: str, platform: str, code: str, quoted: str
) -> None:
    problems = run(tmp_path, {"main.py": GOOD}, entry=entry, platform=platform)
    on_config = [p for p in problems if p.path.endswith(CONFIG)]
    assert [p.code for p in on_config] == [code]
    assert on_config[0].span == ENTRY_SPAN
    assert on_config[0].severity == Severity.ERROR
    assert quoted in on_config[0].message


def test_misspelt_function_suggests_and_fixes_on_both_files(tmp_path: Path) -> None:
    problems = run(tmp_path, {"main.py": GOOD}, entry="main.handlr")
    config, module = (
        next(p for p in problems if p.path.endswith(CONFIG)),
        next(p for p in problems if p.path.endswith("main.py")),
    )
    assert "Did you mean 'handler'?" in config.message
    assert config.fixes[0].new_text == "main.handler"
    assert config.fixes[0].span == ENTRY_SPAN
    # On the module, the diagnostic sits on the def that was probably meant.
    assert module.code == "entry-point-function-missing"
    assert module.span == Span.of(0, 4, 0, 11)
    assert module.fixes == config.fixes


def test_missing_module_suggests_the_close_file(tmp_path: Path) -> None:
    problems = run(tmp_path, {"main.py": GOOD}, entry="mian.handler")
    assert "Did you mean 'main.handler'?" in problems[0].message
    assert problems[0].fixes[0].new_text == "main.handler"


def test_dotted_file_name_is_an_error(tmp_path: Path) -> None:
    problems = run(tmp_path, {"my.handler.py": GOOD}, entry="my.handler.handler")
    assert codes(problems) == ["entry-point-dotted-filename"]


@pytest.mark.parametrize(
    ("platform", "expected"), [("yandex", ["entry-point-outside-root"]), ("aws", [])]
)
def test_subdirectory_entry(tmp_path: Path, platform: str, expected: list[str]) -> None:
    for entry in ("src/main.handler", "src.main.handler"):
        problems = run(tmp_path, {"src/main.py": GOOD}, entry=entry, platform=platform)
        assert codes(problems) == expected
        assert all(p.severity == Severity.WARNING for p in problems)


def test_syntax_error_reported_once_at_its_position_and_on_the_config(tmp_path: Path) -> None:
    problems = run(
        tmp_path, {"main.py": "def handler(event, context):\n    return (\n"}, platform="aws"
    )
    module = [p for p in problems if p.path.endswith("main.py")]
    assert [p.code for p in module] == ["entry-point-syntax-error"]
    assert module[0].span.start.line == 1
    config = [p for p in problems if p.path.endswith(CONFIG)]
    assert "Runtime.UserCodeSyntaxError: Syntax error in module 'main'" in config[0].message


@pytest.mark.parametrize(
    ("source", "code", "severity"),
    [
        ("handler = 42\n", "handler-not-callable", Severity.ERROR),
        ("handler = 'main'\n", "handler-not-callable", Severity.ERROR),
        ("def handler(event):\n    return 1\n", "handler-arity", Severity.ERROR),
        ("def handler():\n    return 1\n", "handler-arity", Severity.ERROR),
        ("def handler(a, b, c):\n    return 1\n", "handler-arity", Severity.ERROR),
        ("handler = lambda event: 1\n", "handler-arity", Severity.ERROR),
        (
            "def handler(event, context, *, db):\n    return 1\n",
            "handler-required-kwonly",
            Severity.ERROR,
        ),
        (
            "from mangum import Mangum\napp = object\nhandler = Mangum(app)\n",
            "handler-unverifiable",
            Severity.INFO,
        ),
        ("from impl import handler\n", "handler-unverifiable", Severity.INFO),
        ("def handler(event, context):\n    yield 1\n", "handler-generator", Severity.WARNING),
    ],
)
def test_handler_binding_rules(tmp_path: Path, source: str, code: str, severity: Severity) -> None:
    problems = run(tmp_path, {"main.py": source})
    module = [p for p in problems if p.path.endswith("main.py")]
    assert [p.code for p in module] == [code]
    assert module[0].severity == severity


@pytest.mark.parametrize(
    ("source", "code", "severity"),
    [
        (
            "try:\n    from fast import handler\nexcept ImportError:\n    handler = None\n",
            "handler-unverifiable",
            Severity.INFO,
        ),
        (
            "if DEBUG:\n    def handler(event, context):\n        return 1\n"
            "else:\n    handler = None\n",
            "handler-unverifiable",
            Severity.INFO,
        ),
        (
            "from fast import handler\nif DEBUG:\n    handler = None\n",
            "handler-unverifiable",
            Severity.INFO,
        ),
        # Certain at import time: the last binding is the one in effect.
        ("from fast import handler\nhandler = None\n", "handler-not-callable", Severity.ERROR),
        (
            "def handler(event, context):\n    return 1\nhandler = 42\n",
            "handler-not-callable",
            Severity.ERROR,
        ),
        (
            "if DEBUG:\n    handler = 1\nelse:\n    handler = 2\n",
            "handler-not-callable",
            Severity.ERROR,
        ),
        ("handler = 42\ndef handler(event):\n    return 1\n", "handler-arity", Severity.ERROR),
    ],
)
def test_a_literal_bound_in_one_branch_of_several_is_unverifiable(
    tmp_path: Path, source: str, code: str, severity: Severity
) -> None:
    problems = run(tmp_path, {"main.py": source})
    module = [p for p in problems if p.path.endswith("main.py")]
    assert [(p.code, p.severity) for p in module] == [(code, severity)]


@pytest.mark.parametrize(
    "source",
    [
        "def handler(event, context, extra=None):\n    return 1\n",
        "def handler(*args):\n    return 1\n",
        "def handler(event, /, context, **kw):\n    return 1\n",
        "def handler(event, context, *, db=None):\n    return 1\n",
        "handler = lambda event, context: 1\n",
        "import functools\n@functools.lru_cache\ndef handler(e):\n    return 1\n",
    ],
)
def test_acceptable_signatures(tmp_path: Path, source: str) -> None:
    assert run(tmp_path, {"main.py": source}) == []


def test_not_callable_messages_use_the_right_article(tmp_path: Path) -> None:
    python, config = sorted(run(tmp_path, {"main.py": "handler = 42\n"}), key=lambda p: p.path)
    assert python.message.startswith("'handler' is bound to an int, which cannot be called")
    assert (
        config.message
        == "Entry point 'main.handler': 'handler' is an int in main.py, not a function."
    )


def test_decorated_handler_is_fine(tmp_path: Path) -> None:
    source = """
        from aws_lambda_powertools import Logger
        logger = Logger()

        @logger.inject_lambda_context
        def handler(event, context):
            return {"ok": True}
    """
    assert run(tmp_path, {"main.py": source}, platform="aws") == []


def test_missing_context_parameter_has_a_fix(tmp_path: Path) -> None:
    problems = run(tmp_path, {"main.py": "def handler(event: dict):\n    return 1\n"})
    (problem,) = problems
    assert problem.code == "handler-arity"
    assert problem.span == Span.of(0, 4, 0, 11)
    (fix,) = problem.fixes
    assert fix.new_text == ", context"
    assert fix.span == Span.of(0, 23, 0, 23)


def test_fix_adding_both_parameters_says_parameters(tmp_path: Path) -> None:
    (problem,) = run(tmp_path, {"main.py": "def handler():\n    return 1\n"})
    (fix,) = problem.fixes
    assert fix.title == "Add the 'event, context' parameters"


def test_async_handler_allowed_on_yandex_refused_on_aws(tmp_path: Path) -> None:
    source = "async def handler(event, context):\n    return 1\n"
    assert run(tmp_path, {"main.py": source}, platform="yandex") == []
    (problem,) = run(tmp_path, {"main.py": source}, platform="aws")
    assert problem.code == "handler-async-unsupported"
    assert problem.severity == Severity.ERROR
    assert "Object of type coroutine is not JSON serializable" in problem.message
    assert problem.span == Span.of(0, 10, 0, 17)


@pytest.mark.parametrize(
    ("ret", "platform", "code"),
    [
        ("{'statusCode': 200, 'body': {'a': 1}}", "yandex", "response-body-not-string"),
        ("{'statusCode': 200, 'body': [1, 2]}", "aws", "response-body-not-string"),
        ("{'statusCode': '200', 'body': 'x'}", "aws", "response-status-code-type"),
        ("{1, 2}", "aws", "response-not-serializable"),
        ("{'items': {1, 2}}", "yandex", "response-not-serializable"),
        ("b'raw'", "yandex", "response-not-serializable"),
        ("object()", "aws", "response-not-serializable"),
        (
            "{'statusCode': 200, 'headers': {'Via': 'x'}, 'body': ''}",
            "yandex",
            "response-header-forbidden",
        ),
    ],
)
def test_returned_literals(tmp_path: Path, ret: str, platform: str, code: str) -> None:
    source = f"def handler(event, context):\n    if event:\n        return {ret}\n    return None\n"
    http = {"yandex": "http", "aws": "api-gateway-rest"}[platform]
    problems = run(tmp_path, {"main.py": source}, platform=platform, trigger=http)
    assert codes(problems) == [code]
    assert problems[0].span.start.line == 2


def test_bytes_are_fine_on_aws(tmp_path: Path) -> None:
    source = "def handler(event, context):\n    return b'raw'\n"
    assert run(tmp_path, {"main.py": source}, platform="aws") == []


@pytest.mark.parametrize(
    ("platform", "runtime", "expected"),
    [
        ("yandex", "python312", []),
        ("yandex", "python311", ["runtime-unsupported"]),
        ("yandex", "python313", ["runtime-unsupported"]),
        ("aws", "python3.12", []),
        ("aws", "python3.8", ["runtime-unsupported"]),
        ("aws", "python312", ["runtime-unsupported"]),
    ],
)
def test_runtimes(tmp_path: Path, platform: str, runtime: str, expected: list[str]) -> None:
    problems = run(tmp_path, {"main.py": GOOD}, platform=platform, runtime=runtime)
    assert codes(problems) == expected
    for p in problems:
        assert p.span == Span.of(3, 15, 3, 25)
        assert p.severity == Severity.WARNING


def test_non_utf8_module_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_bytes(b"def handler(event, context):\n    return '\xff'\n")
    problems = run(tmp_path, {})
    assert codes(problems) == ["entry-point-module-unreadable"]


def test_module_in_its_declared_encoding_is_read(tmp_path: Path) -> None:
    # PEP 263: Python imports this file, so it is as readable as a UTF-8 one.
    source = "# -*- coding: latin-1 -*-\n# caf\xe9\ndef handler(event):\n    return 1\n"
    (tmp_path / "main.py").write_bytes(source.encode("latin-1"))
    (problem,) = run(tmp_path, {})
    assert problem.code == "handler-arity"
    assert problem.span == Span.of(2, 4, 2, 11)


def test_unicode_columns_are_utf16(tmp_path: Path) -> None:
    source = "x = '😀'; y = 1\ndef handler(event):\n    return 1\n"
    problems = run(tmp_path, {"main.py": source})
    assert problems[0].span == Span.of(1, 4, 1, 11)


HTTP_SHAPED = "def handler(event, context):\n    return {'statusCode': '200', 'body': {'a': 1}}\n"


@pytest.mark.parametrize(
    ("platform", "trigger", "extra"),
    [
        ("aws", None, {}),  # directly invoked, or nothing declares how
        ("aws", "s3", {}),
        ("aws", "sqs", {}),
        ("aws", "schedule", {}),
        ("yandex", None, {}),
        ("yandex", "timer", {}),
        ("yandex", "raw", {}),  # ?integration=raw returns the value as it is
        # Serverless `integration: lambda`: a mapping template maps the reply.
        ("aws", "api-gateway-rest", {"custom_event": True}),
        # A guess of unknown platform.
        ("aws", "api-gateway-rest", {"platform_known": False}),
    ],
)
def test_response_shape_is_checked_only_behind_an_http_proxy(
    tmp_path: Path, platform: str, trigger: str | None, extra: dict[str, object]
) -> None:
    # Issue #14 F.
    files = {"main.py": HTTP_SHAPED}
    assert run(tmp_path, files, platform=platform, trigger=trigger, **extra) == []
    assert codes(run(tmp_path, {"main.py": "def handler(e, c):\n    return {1}\n"}, **extra)) == [
        "response-not-serializable"
    ]


@pytest.mark.parametrize(
    ("platform", "trigger"),
    [("aws", "http-api"), ("aws", "function-url"), ("yandex", "api-gateway"), ("yandex", "http")],
)
def test_http_proxy_triggers_check_the_response(
    tmp_path: Path, platform: str, trigger: str
) -> None:
    problems = run(tmp_path, {"main.py": HTTP_SHAPED}, platform=platform, trigger=trigger)
    assert codes(problems) == ["response-body-not-string", "response-status-code-type"]


@pytest.mark.parametrize(
    "runtime", ["${PythonVersion}", "PYTHON3_VERSION", "{{cookiecutter.python}}", "%RUNTIME%"]
)
def test_placeholder_runtimes_are_not_judged(tmp_path: Path, runtime: str) -> None:
    # Issue #14 L.
    assert run(tmp_path, {"main.py": GOOD}, platform="aws", runtime=runtime) == []


def test_deprecated_runtime_says_deprecated_not_refused(tmp_path: Path) -> None:
    (problem,) = run(tmp_path, {"main.py": GOOD}, platform="aws", runtime="python3.9")
    assert problem.code == "runtime-unsupported"
    assert problem.message.startswith(
        "Runtime 'python3.9' is deprecated on AWS Lambda (since 2025-12-15, no security patches)"
    )
    assert "does not accept" not in problem.message
    (old,) = run(tmp_path, {"main.py": GOOD}, platform="aws", runtime="python3.7")
    assert "Runtime 'python3.7' is not supported by AWS Lambda" in old.message


PEP_701 = 'def handler(event, context):\n    return f"{", ".join(event["names"])}"\n'


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the server parses 3.12 syntax itself")
@pytest.mark.parametrize("runtime", ["python3.12", "python3.13", None])
def test_newer_grammar_than_the_servers_is_unchecked_not_an_error(
    tmp_path: Path, runtime: str | None
) -> None:
    # Issue #14 L: PEP 701 f-strings are valid on python3.12; the server runs on 3.10/3.11.
    found = run(tmp_path, {"main.py": PEP_701}, platform="aws", runtime=runtime)
    # One mistake, one problem (issue #21 item 12): in main.py; the declaration shows a hint.
    problems = [p for p in found if not p.echo]
    assert {p.code for p in problems} == {"entry-point-syntax-unchecked"}
    assert all(p.severity == Severity.INFO for p in problems)
    assert all(p.severity == Severity.HINT for p in found if p.echo)
    server = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert f"does not parse with Python {server}" in problems[0].message
    if runtime:
        assert f"{runtime} (Python 3.1" in problems[0].message


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the server parses 3.12 syntax itself")
@pytest.mark.parametrize("other_break", ["\f", "\x0c\x0b", "\u2028", "\x85"])
def test_the_failing_line_is_found_past_characters_only_splitlines_breaks_at(
    tmp_path: Path, other_break: str
) -> None:
    # Python and LSP break lines at \r\n, \r and \n only: a comment holding a form feed or
    # U+2028 must not shift the line that is looked at for a newer construct.
    source = f"# a{other_break}b\n" + PEP_701
    problems = run(tmp_path, {"main.py": source}, platform="aws", runtime="python3.12")
    assert {p.code for p in problems} == {"entry-point-syntax-unchecked"}


@pytest.mark.parametrize("runtime", ["python3.12", "python3.14", None])
def test_a_syntax_error_of_every_grammar_is_still_an_error(
    tmp_path: Path, runtime: str | None
) -> None:
    typo = "def handler(event, context)\n    return 1\n"
    problems = run(tmp_path, {"main.py": typo}, platform="aws", runtime=runtime)
    assert "entry-point-syntax-error" in codes(problems)


def test_newer_grammar_on_an_older_runtime_is_an_error(tmp_path: Path) -> None:
    problems = run(tmp_path, {"main.py": PEP_701}, platform="aws", runtime="python3.10")
    assert "entry-point-syntax-error" in codes(problems)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("async def handler(event, context):\n    return 1\n", []),  # Yandex awaits it
        ("def handler(event, context):\n    return b'raw'\n", []),  # AWS writes it raw
        ("def handler(event, context):\n    yield 1\n", ["handler-generator"]),  # fails on both
        ("def handler(event):\n    return 1\n", ["handler-arity"]),
        ("def handler(event, context):\n    return {1}\n", ["response-not-serializable"]),
    ],
)
def test_a_function_of_unknown_platform_gets_the_checks_both_platforms_agree_on(
    tmp_path: Path, source: str, expected: list[str]
) -> None:
    # Issue #14 E.
    problems = run(tmp_path, {"main.py": source}, platform="aws", platform_known=False)
    assert codes(problems) == expected
    for problem in problems:
        assert "would fail with" not in problem.message  # no platform to quote
        if problem.code == "handler-generator":
            assert problem.severity == Severity.WARNING


@pytest.mark.parametrize(
    ("body", "generator"),
    [
        ("    for r in event:\n        x = 1\n    return (\n        yield r\n    )\n", True),
        ("    # yield in a comment\n    return 'yield'\n", False),
        ("    def inner():\n        yield 1\n    return list(inner())\n", False),
        ("    return 1\n", False),
    ],
)
def test_a_generator_handler_is_found_below_other_statements_and_only_then(
    tmp_path: Path, body: str, generator: bool
) -> None:
    # The handler is not the module's first statement: its lines are offset from its chunk's.
    source = "import os\n\nX = 1\n\n\n# handler\ndef handler(event, context):\n" + body
    problems = run(tmp_path, {"main.py": source}, platform="aws")
    found = [p for p in problems if p.code == "handler-generator"]
    assert bool(found) is generator
    if generator:
        assert found[0].span.start.line == 6
