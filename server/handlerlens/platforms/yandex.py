"""Yandex Cloud Functions: entry-point, handler and runtime rules (PLATFORMS.md §1.1, §2, §5.1)."""

from __future__ import annotations

from handlerlens.core.problems import Severity
from handlerlens.platforms.rules import PlatformRules

RULES = PlatformRules(
    name="yandex",
    title="Yandex Cloud Functions",
    # [YC functions/concepts/runtime/index.md@c0fbbcd]: only python312 is "supported by the
    # service"; the others are listed as not supported.
    supported_runtimes=("python312",),
    retired_runtimes={
        "python37": "listed as not supported by the service",
        "python38": "listed as not supported by the service",
        "python39": "listed as not supported by the service",
        "python311": "listed as not supported by the service",
    },
    # §9 #2: no source says how subdirectories resolve; the runner resolves them like
    # awslambdaric, the validator warns.
    subdirectory_entry_severity=Severity.WARNING,
    # handler.md@034ae1d: "A handler can be an async def asynchronous function".
    async_handler_severity=None,
    # §9 #18: undocumented; the return value is not serialisable.
    generator_handler_severity=Severity.WARNING,
    bytes_response_ok=False,
    init_error_text={
        # §9 #1: the platform's load-error text is undocumented; these are the Python errors
        # the runtime's import would raise, which is what it reports in errorType/errorMessage.
        "entry-point-malformed": "the runtime cannot split '{entry}' into <file>.<function>",
        "entry-point-module-missing": "ModuleNotFoundError: No module named '{module}'",
        "entry-point-function-missing": (
            "AttributeError: module '{module}' has no attribute '{function}'"
        ),
        "entry-point-syntax-error": "SyntaxError: {error}",
    },
    # §5.1 and §9 #9: these response headers make the platform answer 502.
    forbidden_response_headers=frozenset({"proxy-authenticate", "transfer-encoding", "via"}),
)
