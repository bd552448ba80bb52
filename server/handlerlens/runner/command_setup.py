"""What `serve` and `invoke` set up from their options before anything runs: the functions
(the targets resolved against the declaring files, with the environment files and template
parameters the options name), the interpreter that runs them and the workers' isolation,
and the IAM token keeper of Yandex functions with a service account. Each says what is wrong
on stderr and returns None (False for the token keeper) when an option is unusable.

Imports stay lazy: `invoke` must not pay for the project model or the token keeper when it
does not need them.
"""

from __future__ import annotations

import argparse
import os
import re
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def given_python(args: argparse.Namespace) -> str | None:
    """The interpreter --python names (the current one without it), or None after a message
    when it cannot run a function (for commands that only pass it on: `handlerlens test`)."""
    from handlerlens.deploy.interpreter import InterpreterError, given_interpreter

    if not args.python:
        return sys.executable
    try:
        return given_interpreter(args.python)
    except InterpreterError as exc:
        _interpreter_unusable(exc)
        return None


def _interpreter_unusable(exc: Exception) -> None:
    print(
        f"handlerlens: {exc}. Point --python (or the handlerlens.interpreter setting) at "
        "the interpreter of the function's environment.",
        file=sys.stderr,
    )


def isolate(args: argparse.Namespace, functions: list[Any], status: Any = None) -> str | None:
    """Choose the functions' interpreter and set the workers' isolation (worker_env); the
    interpreter's path, or None after a message when an option is unusable."""
    from handlerlens.deploy.interpreter import InterpreterError, choose
    from handlerlens.runner import worker_env

    inherit: list[str] = []
    for value in args.inherit_env:
        names = [n.strip() for n in value.split(",") if n.strip()]
        bad = [n for n in names if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\*?|\*", n)]
        if bad or not names:
            print(
                f"handlerlens: --inherit-env {value!r}: expected variable names (NAME, NAME*, "
                "or * for all), comma-separated",
                file=sys.stderr,
            )
            return None
        inherit += names
    keys = None
    if args.profile:
        from handlerlens.platforms.aws_credentials import CredentialsError, profile_keys

        try:
            keys = profile_keys(args.profile, os.environ)
        except CredentialsError as exc:
            print(f"handlerlens: {exc}", file=sys.stderr)
            return None
    if args.project_root and not os.path.isdir(args.project_root):
        print(
            f"handlerlens: --project-root is not a directory: {args.project_root}", file=sys.stderr
        )
        return None
    try:
        choice = choose(
            args.python,
            os.path.abspath(args.project_root or args.root),
            [fn.root for fn in functions],
            [fn.runtime for fn in functions],
        )
    except InterpreterError as exc:
        _interpreter_unusable(exc)
        return None
    worker_env.configure(
        strip_site=choice.strip_site,
        inherit=tuple(inherit),
        bin_dir=choice.bin_dir,
        writable=args.writable,
        aws_keys=keys,
    )
    if keys is not None:
        print(
            f"handlerlens: AWS functions get the keys of profile '{args.profile}'",
            file=sys.stderr,
        )
    if status is not None and status.wants_events:
        status.emit(choice.as_event())
    if choice.warning:
        where = "the interpreter running handlerlens" if choice.strip_site else choice.path
        print(
            f"handlerlens: warning: {choice.warning} ({where}); create a .venv with that "
            "version in the code root, or pass --python",
            file=sys.stderr,
        )
    return choice.path


def say(line: str) -> None:
    """A line for the person at the terminal, on stderr."""
    print(f"handlerlens: {line}", file=sys.stderr)


def token_keeper(args: argparse.Namespace, functions: list[Any]) -> Any:
    """The IAM token keeper for Yandex functions with a service account (runner/yc_token.py):
    None when none needs one, False after a message when --token-file is unusable."""
    from handlerlens.platforms.runner_env import gives_account_token

    if not args.token_file and not any(
        gives_account_token(fn.platform) and fn.declared_in for fn in functions
    ):
        return None  # nothing can declare a service account: yc_token is not even loaded
    from handlerlens.runner import yc_token

    try:
        return yc_token.setup(functions, args.token_file, os.environ, say)
    except yc_token.TokenError as exc:
        say(str(exc))
        return False


def resolve_functions(
    args: argparse.Namespace, targets: list[str], *, single: bool = False
) -> list[object] | None:
    """The functions `targets` name (all the declared ones without any; exactly one with
    `single`), with what the options add; None after a message when they cannot be had."""
    from handlerlens.runner.targets import TargetError, resolve_targets

    root = os.path.abspath(args.root)
    if not os.path.isdir(root):
        print(f"handlerlens: code root is not a directory: {root}", file=sys.stderr)
        return None
    warnings: list[str] = []
    notes: list[str] = []
    told: list[str] = []
    env: dict[str, str] = {}
    env_vars = None
    parameters: dict[str, str] = {}
    if args.env_vars or args.env_file or args.parameter_overrides:
        from handlerlens.runner.env_files import (
            EnvFileError,
            read_dotenv,
            read_env_vars,
            read_parameter_overrides,
        )

        try:
            env_vars = read_env_vars(args.env_vars) if args.env_vars else None
            env = read_dotenv(args.env_file) if args.env_file else {}
            parameters = read_parameter_overrides(args.parameter_overrides)
        except EnvFileError as exc:
            print(f"handlerlens: {exc}", file=sys.stderr)
            return None
    env.update(args.env)
    try:
        functions = resolve_targets(
            targets,
            root=root,
            platform=args.platform,
            timeout=args.timeout,
            memory=args.memory,
            env=env,
            trigger=args.trigger,
            single=single,
            warnings=warnings,
            env_vars=env_vars,
            notes=notes,
            runtime=args.runtime,
            # With --declared-in, adopt_declaration below checks them against that file.
            parameters=None if getattr(args, "declared_in", None) else parameters,
            told=told,
        )
    except TargetError as exc:
        print(f"handlerlens: {exc}", file=sys.stderr)
        return None
    declared_in = getattr(args, "declared_in", None)
    if declared_in:
        from handlerlens.runner.function_setup import adopt_declaration

        try:
            for fn in functions:
                if fn.declared_in is None:
                    adopt_declaration(fn, os.path.abspath(declared_in), parameters, told)
        except TargetError as exc:
            print(f"handlerlens: {exc}", file=sys.stderr)
            return None
    for line in told:
        print(f"handlerlens: {line}", file=sys.stderr)
    for note in notes:
        print(f"handlerlens: --env-vars {args.env_vars}: {note}", file=sys.stderr)
    if warnings:
        files = "file does" if len(warnings) == 1 else "files do"
        print(
            f"handlerlens: warning: {len(warnings)} declaring {files} not parse; the functions "
            "declared there are left out:",
            *warnings,
            sep="\n",
            file=sys.stderr,
        )
    return list(functions)


def resolve_again(args: argparse.Namespace) -> list[Any]:
    """The served functions read again from their declaring files (serve, after one of them
    changed): what resolve_functions says goes into the exception, not to stderr."""
    import contextlib
    import io

    said = io.StringIO()
    with contextlib.redirect_stderr(said):
        functions = resolve_functions(args, list(args.targets))
    if functions is None or "not parse" in said.getvalue():
        # A declaring file that does not parse declares nothing now: keep what it declared.
        raise ValueError(said.getvalue().strip().removeprefix("handlerlens: "))
    if args.timeout_from and args.timeout:
        for fn in functions:
            fn.timeout_from = args.timeout_from  # type: ignore[attr-defined]
    return functions
