"""Handlers that are not the function's own Python code, and code in another language.

A declared handler is sometimes written by a plugin at package time (serverless-wsgi's
`wsgi_handler.handler`, the Serverless Dashboard's `serverless_sdk`), or is the start command of
a web server run by the Lambda Web Adapter (`Handler: run.sh`): checking it as a Python module
in the workspace would report a module that is missing only until packaging. And a function
whose handler file is JavaScript or TypeScript is not Python, whatever else is unsaid.
"""

from __future__ import annotations

import ast
import os
import warnings

from handlerlens.project import probes

# Lambda Web Adapter: its layer (`arn:aws:lambda:…:753240598075:layer:LambdaAdapterLayerX86:…`)
# and the wrapper it is started through (`AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap`); the
# function's handler is then the web server's start script (github.com/awslabs/
# aws-lambda-web-adapter, "Lambda functions packaged as Zip package for AWS managed runtimes").
_LWA_LAYER = "LambdaAdapterLayer"
_LWA_WRAPPER = "/opt/bootstrap"
_EXEC_WRAPPER = "AWS_LAMBDA_EXEC_WRAPPER"

# serverless-wsgi writes `wsgi_handler.py` into the package (older versions: `wsgi.py`) and
# points the handler at it; the real application is `custom.wsgi.app`.
WSGI_HANDLERS = frozenset({"wsgi_handler.handler", "wsgi.handler"})

_SCRIPT_SUFFIXES = (".sh", ".bash")
_JS_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")


def web_adapter_reason(entry: str, env: dict[str, str], layers: list[str]) -> str | None:
    """Why `entry` is a Lambda Web Adapter start command rather than a Python handler, or None.

    The adapter's layer or its `/opt/bootstrap` wrapper is enough; another exec wrapper (an
    OpenTelemetry one) still runs the Python handler, so with it only a script handler counts.
    """
    wrapper = env.get(_EXEC_WRAPPER)
    if any(_LWA_LAYER in layer for layer in layers) or wrapper == _LWA_WRAPPER:
        return "it runs behind the Lambda Web Adapter, which starts a web server instead"
    if wrapper is not None and entry.strip().lower().endswith(_SCRIPT_SUFFIXES):
        return f"it is a start script run through {_EXEC_WRAPPER}={wrapper}"
    return None


def generated_handler_reason(entry: str) -> str | None:
    """Why `entry` names a module a Serverless plugin writes at package time, or None."""
    stripped = entry.strip()
    if stripped in WSGI_HANDLERS:
        return "serverless-wsgi writes this module into the package at deploy time"
    if stripped.split(".", 1)[0].split("/", 1)[0] == "serverless_sdk":
        return "the Serverless Dashboard SDK wraps the handler at deploy time"
    return None


def python_module_file(root: str, entry: str) -> str | None:
    """The Python file the module of `entry` (`pkg/app.handler`, `pkg.app.handler`) names
    under `root`, if it exists."""
    module = entry.strip().rpartition(".")[0]
    if not module:
        return None
    base = os.path.join(root, *module.replace(".", "/").split("/"))
    for candidate in (base + ".py", os.path.join(base, "__init__.py")):
        if probes.isfile(candidate):
            return candidate
    return None


def handler_language(root: str, entry: str) -> str | None:
    """ "python" or "javascript" from the file the entry point's module names under `root`,
    None when neither exists (the module may be missing, or generated)."""
    if python_module_file(root, entry) is not None:
        return "python"
    module = entry.strip().rpartition(".")[0]
    if not module:
        return None
    base = os.path.join(root, *module.replace(".", "/").split("/"))
    if any(probes.isfile(base + suffix) for suffix in _JS_SUFFIXES):
        return "javascript"
    return None


def parse_error_of(source: str) -> str | None:
    """Why `source` is not Python (`exports.handler = async (event) => …`), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except SyntaxError as exc:
        return exc.msg
    except (ValueError, RecursionError, MemoryError):
        return "unreadable"
    return None
