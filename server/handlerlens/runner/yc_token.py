"""A Yandex function's IAM token, as the platform puts it in `context.token` when the function
has a service account (PLATFORMS.md §12.2; YC functions/concepts/function-invoke.md
#service-data: `{"access_token": "…", "expires_in": 42299, "token_type": "Bearer"}`, "present
only if the correct service account is specified"). Without a service account it stays None
(§9 #7).

Where the token comes from, first found: `--token-file FILE` (the token as `yc iam
create-token > FILE` writes it, or JSON with `access_token`/`iam_token`/`iamToken` and
optionally `expires_at`/`expiresAt`), the `HANDLERLENS_YC_TOKEN` or `YC_TOKEN` variable of the
runner's environment, else `yc iam create-token` when `yc` is on PATH. An IAM token lives at
most 12 hours (YC iam/concepts/authorization/iam-token.md; Yandex suggests getting a new one
every hour, _includes/iam-token-lifetime.md): the runner takes a new one from its source
before the old one expires, and the function's `expires_in` counts down to that expiry (an
emulation: the CLI does not print the lifetime, §12.2 Rec.).

The runner writes the token to a private file that the worker reads as it builds each call's
context (worker/contexts.py), so a refreshed token reaches workers that already run.
"""

from __future__ import annotations

import json
import os
import time

from handlerlens.core.text import read_lenient
from handlerlens.platforms.runner_env import gives_account_token

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

LIFETIME_S = 12 * 3600.0
# Taken again this long before it expires; a `yc` token every hour, as Yandex suggests.
MARGIN_S = 3600.0
YC_REFRESH_S = 3600.0
ENV_NAMES = ("HANDLERLENS_YC_TOKEN", "YC_TOKEN")
YC_TIMEOUT_S = 30.0


class TokenError(Exception):
    """A token source that cannot be used; the message names it and says why."""


class Token:
    __slots__ = ("value", "expires_at", "source", "taken_at")

    def __init__(self, value: str, expires_at: float, source: str, taken_at: float) -> None:
        self.value = value
        self.expires_at = expires_at
        self.source = source
        self.taken_at = taken_at


def _parse_time(text: str) -> float | None:
    from datetime import datetime

    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    # Nanoseconds (yc prints them) are cut by fromisoformat on 3.10: seconds suffice.
    return when.timestamp()


def read_token_file(path: str, now: float) -> Token:
    """The token in `path`; TokenError when it is missing, empty, unreadable or expired."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
        written = os.stat(path).st_mtime
    except OSError as exc:
        raise TokenError(f"--token-file {path}: cannot read it: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise TokenError(f"--token-file {path}: not text: expected an IAM token") from None
    text = text.strip()
    if not text:
        raise TokenError(
            f"--token-file {path}: the file is empty; put an IAM token in it "
            f"(yc iam create-token > {path})"
        )
    expires_at = written + LIFETIME_S
    value = text
    if text.startswith("{"):
        try:
            data: Any = json.loads(text)
        except ValueError as exc:
            raise TokenError(f"--token-file {path}: not valid JSON: {exc}") from None
        found = next(
            (data.get(k) for k in ("access_token", "iam_token", "iamToken") if k in data), None
        )
        if not isinstance(found, str) or not found.strip():
            raise TokenError(
                f"--token-file {path}: a JSON token file needs an access_token (or iam_token, "
                "iamToken) string"
            )
        value = found.strip()
        stamp = data.get("expires_at") or data.get("expiresAt")
        if isinstance(stamp, str):
            parsed = _parse_time(stamp)
            if parsed is None:
                raise TokenError(
                    f"--token-file {path}: expires_at {stamp!r} is not a time like "
                    "2026-01-31T12:00:00Z"
                )
            expires_at = parsed
    elif len(text.split()) != 1:
        raise TokenError(
            f"--token-file {path}: expected one IAM token (yc iam create-token > {path}), "
            "found several words"
        )
    if expires_at <= now:
        raise TokenError(
            f"--token-file {path}: the token expired at {_utc(expires_at)} (an IAM token lives "
            f"at most 12 hours); get a new one: yc iam create-token > {path}"
        )
    return Token(value, expires_at, f"--token-file {path}", now)


def _utc(stamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(stamp))


def from_yc(yc: str, now: float, environ: Mapping[str, str] | None = None) -> Token:
    """`yc iam create-token`'s token (for the yc CLI's current profile)."""
    import subprocess

    try:
        done = subprocess.run(
            [yc, "iam", "create-token"],
            capture_output=True,
            timeout=YC_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
            env=dict(environ) if environ is not None else None,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TokenError(f"`yc iam create-token` ({yc}) did not run: {exc}") from None
    out = done.stdout.decode("utf-8", "replace").strip()
    if done.returncode != 0 or not out:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = said[-1] if said else f"exit status {done.returncode}, no token printed"
        raise TokenError(f"`yc iam create-token` ({yc}) failed: {why}")
    return Token(out.split()[-1], now + LIFETIME_S, f"`yc iam create-token` ({yc})", now)


def find_token(token_file: str | None, environ: Mapping[str, str], now: float) -> Token | None:
    """The token from the first source there is; None when there is none; TokenError when
    the chosen source fails."""
    if token_file:
        return read_token_file(token_file, now)
    for name in ENV_NAMES:
        value = environ.get(name, "").strip()
        if value:
            return Token(value, now + LIFETIME_S, f"the {name} variable", now)
    import shutil

    yc = shutil.which("yc", path=environ.get("PATH"))
    if yc is None:
        return None
    return from_yc(yc, now, environ)


class TokenKeeper:
    """The current token in a private file for the workers, taken again before it expires."""

    def __init__(self, token_file: str | None, environ: Mapping[str, str], token: Token) -> None:
        import tempfile

        self.token_file = token_file
        self.environ = dict(environ)
        self.token = token
        self.folder = tempfile.mkdtemp(prefix="handlerlens-token-")
        self.path = os.path.join(self.folder, "token.json")
        self._seen_mtime = self._mtime()
        self._write()

    def _mtime(self) -> float | None:
        if not self.token_file:
            return None
        try:
            return os.stat(self.token_file).st_mtime
        except OSError:
            return None

    def _write(self) -> None:
        data = {"access_token": self.token.value, "expires_at": self.token.expires_at}
        staging = self.path + ".new"
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(json.dumps(data))
        os.replace(staging, self.path)  # a worker never reads half a file

    def due(self, now: float) -> bool:
        """Whether to take the token again: near its expiry, an hour-old `yc` token, or a
        token file that changed."""
        if self.token_file and self._mtime() != self._seen_mtime:
            return True
        if self.token.source.startswith("`yc") and now - self.token.taken_at >= YC_REFRESH_S:
            return True
        return self.token.expires_at - now <= MARGIN_S

    def refresh(self, now: float) -> str | None:
        """Take the token again when due; a line to say (what happened), or None."""
        if not self.due(now):
            return None
        self._seen_mtime = self._mtime()
        try:
            fresh = find_token(self.token_file, self.environ, now)
        except TokenError as exc:
            left = self.token.expires_at - now
            if left > 0:
                return f"could not refresh the IAM token ({exc}); the current one expires in " + (
                    f"{int(left)} s"
                )
            return f"could not refresh the IAM token ({exc}); the function's token has expired"
        if fresh is None:
            return None
        if fresh.value == self.token.value and fresh.expires_at <= self.token.expires_at:
            # The same token (an environment variable does not change): keep its expiry.
            return None
        self.token = fresh
        self._write()
        return f"IAM token refreshed from {fresh.source}"

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


def declares_service_account(fn: Any) -> bool:
    """Whether the Yandex function's declaration gives it a service account: Terraform's
    `service_account_id`, `--service-account-id` of `yc serverless function version create`,
    the Serverless Framework's `account` (the function's, else the provider's)."""
    declared_in = fn.declared_in
    if not gives_account_token(fn.platform) or not declared_in:
        return False
    text = read_lenient(declared_in)
    if text is None:
        return False
    name = os.path.basename(declared_in)
    if name.endswith(".tf"):
        return "service_account_id" in text and _terraform_account(declared_in, fn)
    if name.startswith("serverless."):
        return "account" in text and _serverless_account(declared_in, text, fn.function_name)
    if "--service-account-id" in text:
        return _yc_account(text, fn)
    return False


def _terraform_account(declared_in: str, fn: Any) -> bool:
    from handlerlens.project.terraform_files import parsed_folder

    for text, blocks in parsed_folder(os.path.dirname(declared_in), "yandex_function"):
        for block in blocks:
            if block.type != "resource" or block.labels[:1] != ["yandex_function"]:
                continue
            attrs = block.attributes
            named = attrs.get("name")
            written = text[named.start : named.end].strip().strip('"') if named else None
            if fn.function_name in (block.labels[-1], written):
                return "service_account_id" in attrs
    return False


def _serverless_account(declared_in: str, text: str, function: str) -> bool:
    from handlerlens.project import yaml_nodes as yn

    doc = yn.parse(declared_in, text, "Serverless Framework file")[0]
    own = yn.get(yn.get(yn.get(doc, "functions"), function), "account")
    return own is not None or yn.get(yn.get(doc, "provider"), "account") is not None


def _yc_account(text: str, fn: Any) -> bool:
    from handlerlens.project.yc_cli import COMMAND, _options

    for match in COMMAND.finditer(text):
        options = _options(text, match.end())
        named = options.get("--function-name") or options.get("--function-id")
        entry = options.get("--entrypoint")
        if (named is not None and named[0] == fn.function_name) or (
            named is None and entry is not None and entry[0] == fn.entry
        ):
            return "--service-account-id" in options
    return False


def setup(
    functions: list[Any], token_file: str | None, environ: Mapping[str, str], say: Any
) -> TokenKeeper | None:
    """Give the served Yandex functions that declare a service account their token (the
    workers read it through `worker_env.settings.token_files`); `say(line)` the lines for
    the user. TokenError for a `--token-file` that cannot be used; a `yc` that fails is
    said, and the functions run with `context.token` None."""
    from handlerlens.runner import worker_env

    yandex = [fn for fn in functions if gives_account_token(fn.platform)]
    given = token_file or next((n for n in ENV_NAMES if environ.get(n, "").strip()), None)
    if not yandex:
        if token_file:
            say(f"--token-file {token_file}: no Yandex function is served; not used")
        return None
    with_account = [fn for fn in yandex if declares_service_account(fn)]
    if given:
        for fn in yandex:
            if fn not in with_account:
                say(
                    f"{fn.name} declares no service account: context.token is None, as "
                    "deployed (a token is there only with a service account)"
                )
    if not with_account:
        return None
    names = ", ".join(fn.name for fn in with_account)
    now = time.time()
    try:
        token = find_token(token_file, environ, now)
    except TokenError as exc:
        if token_file:
            raise
        say(f"warning: {exc}; context.token is None for {names}")
        return None
    if token is None:
        say(
            f"{names}: a service account is declared, but no IAM token was found (--token-file, "
            "HANDLERLENS_YC_TOKEN or YC_TOKEN, or yc on PATH): context.token is None"
        )
        return None
    keeper = TokenKeeper(token_file, environ, token)
    worker_env.settings.token_files = {fn.name: keeper.path for fn in with_account}
    say(f"{names}: context.token from {token.source}, refreshed before it expires")
    return keeper


def keep_fresh(keeper: TokenKeeper, say: Any, every_s: float | None = None) -> None:
    """Check the token every minute in a daemon thread (`serve`), taking it again when due
    (HANDLERLENS_TOKEN_CHECK_S sets another interval: the tests use a short one)."""
    import threading

    if every_s is None:
        try:
            every_s = float(os.environ.get("HANDLERLENS_TOKEN_CHECK_S", "") or 60.0)
        except ValueError:
            every_s = 60.0

    def loop() -> None:
        while True:
            time.sleep(every_s)
            line = keeper.refresh(time.time())
            if line:
                say(line)

    threading.Thread(target=loop, name="yc-token", daemon=True).start()
