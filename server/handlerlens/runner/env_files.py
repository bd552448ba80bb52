"""Environment files users already have: SAM's `--env-vars` JSON and a dotenv `--env-file`.

`--env-vars FILE` is `sam local`'s (PLATFORMS.md §12.1; SAM samcli/local/lambdafn/env_vars.py):
`{"Parameters": {…}, "<Function>": {…}}`, the first for every function, the second for the
function of that name (its logical id, or its name in the declaring file); like SAM, it only
sets variables the function declares: the others would not exist deployed. Values are
stringified as SAM does (true/false for booleans, numbers as written).

`--env-file FILE` is a dotenv file: `NAME=value` lines, `#` comments, blank lines, an optional
`export ` in front, one pair of matching quotes around the value taken off. Its variables go to
every served function, as `--env` does. No library: python-dotenv would be one more dependency
(and one more import at `invoke`'s start) for these few lines, and its expansions (`${VAR}`
from the developer's shell) are what this runner keeps out.
"""

from __future__ import annotations

import json
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class EnvFileError(Exception):
    """A file that cannot be used; the message names it and says why."""


def _stringify(value: Any) -> str:
    # SAM env_vars.py `_stringify_value`: booleans as "true"/"false", numbers as str().
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_env_vars(path: str) -> dict[str, dict[str, str]]:
    """The file's sections: `Parameters` and one per function name, each NAME -> value."""
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read())
    except OSError as exc:
        raise EnvFileError(f"--env-vars {path}: cannot read it: {exc.strerror}") from None
    except ValueError as exc:
        raise EnvFileError(f"--env-vars {path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise EnvFileError(
            f'--env-vars {path}: expected an object like {{"Parameters": {{"NAME": "value"}}, '
            f'"MyFunction": {{"NAME": "value"}}}}, got {type(data).__name__}'
        )
    sections: dict[str, dict[str, str]] = {}
    for section, values in data.items():
        if not isinstance(values, dict):
            raise EnvFileError(
                f"--env-vars {path}: '{section}' must be an object of NAME: value pairs"
            )
        for name, value in values.items():
            if isinstance(value, (dict, list)) or value is None:
                raise EnvFileError(
                    f"--env-vars {path}: {section}.{name}: a variable's value is a string, "
                    "number or boolean"
                )
        sections[section] = {name: _stringify(value) for name, value in values.items()}
    return sections


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def read_dotenv(path: str) -> dict[str, str]:
    """NAME -> value from a dotenv file; EnvFileError with file:line for a bad line."""
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError as exc:
        raise EnvFileError(f"--env-file {path}: cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise EnvFileError(f"--env-file {path}: not UTF-8 text: {exc}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("export "):
            text = text[len("export ") :].lstrip()
        name, sep, value = text.partition("=")
        name = name.strip()
        if not sep:
            raise EnvFileError(
                f"--env-file {path}:{number}: expected NAME=value, got {line.strip()!r}"
            )
        if not _NAME.fullmatch(name):
            raise EnvFileError(f"--env-file {path}:{number}: {name!r} is not a variable name")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()  # a comment after an unquoted value
        values[name] = value
    return values


def read_parameter_overrides(values: list[str]) -> dict[str, str]:
    """`--parameter-overrides` as `sam deploy`/`sam local` take it: `Key=Value` pairs separated
    by spaces, or CloudFormation's `ParameterKey=Key,ParameterValue=Value`; a value may be
    quoted (`Name="a b"`). Given once or more; a later pair wins."""
    import shlex

    found: dict[str, str] = {}
    for given in values:
        try:
            words = shlex.split(given)
        except ValueError as exc:
            raise EnvFileError(f"--parameter-overrides {given!r}: {exc}") from None
        for word in words:
            if word.startswith("ParameterKey="):
                key_part, sep, value_part = word.partition(",")
                key = key_part[len("ParameterKey=") :]
                if not sep or not value_part.startswith("ParameterValue="):
                    raise EnvFileError(
                        f"--parameter-overrides {word!r}: expected "
                        "ParameterKey=Name,ParameterValue=value"
                    )
                value = value_part[len("ParameterValue=") :]
            else:
                key, sep, value = word.partition("=")
                if not sep:
                    raise EnvFileError(
                        f"--parameter-overrides {word!r}: expected Name=value (or "
                        "ParameterKey=Name,ParameterValue=value)"
                    )
            if not re.fullmatch(r"[A-Za-z0-9]+", key):
                raise EnvFileError(
                    f"--parameter-overrides {word!r}: {key!r} is not a template parameter "
                    "name (letters and digits)"
                )
            found[key] = value
    return found
