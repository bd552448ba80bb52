"""Problems the project model reports about declaring files, with their stable codes."""

from __future__ import annotations

from handlerlens.core.problems import Problem, Severity, Span

CONFIG_PARSE_ERROR = "config-parse-error"
CONFIG_INVALID = "config-invalid"
CONFIG_VALUE_UNRESOLVED = "config-value-unresolved"
CONFIG_TEMPLATE = "config-template"
CODE_ROOT_OUTSIDE_WORKSPACE = "code-root-outside-workspace"
CODE_ROOT_MISSING = "code-root-missing"
CODE_ROOT_UNRESOLVED = "code-root-unresolved"
HANDLER_UNVERIFIABLE = "handler-unverifiable"


def parse_error(
    path: str, span: Span, file_type: str, detail: str, *, stricter_than_deploy: str | None = None
) -> Problem:
    """A file HandlerLens could not parse at all: one error at the parser's position.

    `stricter_than_deploy` names the parser when it is known to reject some files the deploy
    tool accepts: the message then does not claim the deploy tool would reject this one.
    """
    detail = " ".join(detail.split()) or "unknown error"
    if stricter_than_deploy is None:
        said = "The deploy tool would reject it too; HandlerLens reads no functions from it until "
        said += "it parses."
    else:
        said = (
            "HandlerLens reads no functions from it until it parses. Its parser "
            f"({stricter_than_deploy}) is stricter than the deploy tool's in places: if the deploy "
            "tool accepts this file, the limit is HandlerLens's."
        )
    return Problem(
        path=path,
        span=span,
        severity=Severity.ERROR,
        code=CONFIG_PARSE_ERROR,
        message=f"This {file_type} does not parse: {detail}. {said}",
    )


def invalid(path: str, span: Span, message: str) -> Problem:
    """A value HandlerLens understood the shape of but cannot use."""
    return Problem(path, span, Severity.WARNING, CONFIG_INVALID, message)


def unresolved(path: str, span: Span, message: str) -> Problem:
    """A value computed at deploy time, so HandlerLens cannot check it."""
    return Problem(path, span, Severity.INFO, CONFIG_VALUE_UNRESOLVED, message)


def code_unresolved(path: str, span: Span, message: str) -> Problem:
    """Code HandlerLens cannot locate (a build output not made yet): not checked, and why."""
    return Problem(path, span, Severity.INFO, CODE_ROOT_UNRESOLVED, message)


def not_checked(path: str, span: Span, message: str) -> Problem:
    """A handler that is not the function's Python code (a plugin's, an adapter's start
    command): not checked, and why."""
    return Problem(path, span, Severity.INFO, HANDLER_UNVERIFIABLE, message)
