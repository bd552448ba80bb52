"""AWS Lambda: entry-point, handler and runtime rules (PLATFORMS.md §1.2, §2, §5.2)."""

from __future__ import annotations

from handlerlens.core.problems import Severity
from handlerlens.platforms.rules import PlatformRules

# Built-in modules of CPython on Linux that awslambdaric refuses as a handler's first segment
# (`sys.builtin_module_names` of the runtime) [ric bootstrap.py `_get_handler`]. The
# underscore-prefixed ones are private and never a user's module name, so only these matter.
BUILTIN_MODULES = frozenset(
    {
        "sys",
        "builtins",
        "time",
        "posix",
        "errno",
        "itertools",
        "marshal",
        "gc",
        "atexit",
        "faulthandler",
        "pwd",
        "xxsubtype",
    }
)

# CloudFormation saves inline code (`Code.ZipFile`; SAM `InlineCode` becomes it) "in a file
# named index" and zips it, so "the first part of the handler identifier must be index"
# (AWS::Lambda::Function Code, ZipFile property).
INLINE_CODE_MODULE = "index"

RULES = PlatformRules(
    name="aws",
    title="AWS Lambda",
    # AWS Lambda runtimes page (docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html):
    # python3.9 was deprecated on 2025-12-15; 3.10–3.14 accept new functions. Deprecation
    # stops security patches; blocking creates and then updates follows on dates AWS has
    # moved more than once, so the message points at the page instead of quoting them.
    supported_runtimes=("python3.10", "python3.11", "python3.12", "python3.13", "python3.14"),
    retired_runtimes={
        "python2.7": "deprecated, creating and updating functions on it are blocked",
        "python3.6": "deprecated, creating and updating functions on it are blocked",
        "python3.7": "deprecated, creating and updating functions on it are blocked",
    },
    deprecated_runtimes={
        "python3.8": "since 2024-10-14, no security patches",
        "python3.9": "since 2025-12-15, no security patches",
    },
    runtime_schedule="docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html",
    subdirectory_entry_severity=None,
    # §2: the un-awaited coroutine fails marshalling on every call.
    async_handler_severity=Severity.ERROR,
    generator_handler_severity=Severity.ERROR,
    # §5.2: bytes are written raw with content type application/unknown.
    bytes_response_ok=True,
    init_error_text={
        # Exact awslambdaric texts [ric tests/test_bootstrap.py].
        "entry-point-malformed": (
            "Runtime.MalformedHandlerName: Bad handler '{entry}': not enough values to "
            "unpack (expected 2, got 1)"
        ),
        "entry-point-module-missing": (
            "Runtime.ImportModuleError: Unable to import module '{module}': "
            "No module named '{module}'"
        ),
        "entry-point-dotted-filename": (
            "Runtime.ImportModuleError: Unable to import module '{module}': "
            "No module named '{module}'; '{package}' is not a package"
        ),
        "entry-point-function-missing": (
            "Runtime.HandlerNotFound: Handler '{function}' missing on module '{module}'"
        ),
        "entry-point-syntax-error": (
            "Runtime.UserCodeSyntaxError: Syntax error in module '{module}': {error}"
        ),
        "entry-point-builtin-module": (
            "Runtime.BuiltInModuleConflict: Cannot use built-in module {module} as a handler module"
        ),
        "handler-async-unsupported": (
            "Runtime.MarshalError: Unable to marshal response: Object of type coroutine is not "
            "JSON serializable"
        ),
        "handler-generator": (
            "Runtime.MarshalError: Unable to marshal response: Object of type generator is not "
            "JSON serializable"
        ),
        "response-not-serializable": (
            "Runtime.MarshalError: Unable to marshal response: Object of type {type} is not "
            "JSON serializable"
        ),
    },
    builtin_module_conflict=True,
)
