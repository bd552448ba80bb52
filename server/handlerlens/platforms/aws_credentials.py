"""The developer's AWS keys for `--profile`, read as the AWS CLI and boto3 read them.

`sam local` gives the function the caller's resolved credentials (PLATFORMS.md §12.2, SAM
samcli/commands/local/lib/local_lambda.py `get_aws_creds`). Without boto3 (not one of our
dependencies) this reads static keys only, from the shared credentials file and then the
config file (`[profile NAME]`, `[default]`), at the paths AWS_SHARED_CREDENTIALS_FILE and
AWS_CONFIG_FILE name, else ~/.aws/credentials and ~/.aws/config. A profile that gets its keys
another way (SSO, an assumed role, a credential process) is named in the error, with the way
out.
"""

from __future__ import annotations

import configparser
import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

KEY_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_INDIRECT = ("sso_session", "sso_start_url", "role_arn", "credential_process", "source_profile")


class CredentialsError(Exception):
    """A `--profile` that gives no keys; the message is for the user."""


def _files(environ: Mapping[str, str]) -> tuple[str, str]:
    home = environ.get("HOME") or os.path.expanduser("~")
    credentials = environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(
        home, ".aws", "credentials"
    )
    config = environ.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config")
    return os.path.expanduser(credentials), os.path.expanduser(config)


def _read(path: str) -> configparser.RawConfigParser | None:
    parser = configparser.RawConfigParser()
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise CredentialsError(f"--profile: cannot read {path}: {exc}") from None
    return parser


def profile_keys(profile: str, environ: Mapping[str, str]) -> dict[str, str]:
    """AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and (when the profile has one)
    AWS_SESSION_TOKEN of `profile`; CredentialsError when it has none."""
    credentials_path, config_path = _files(environ)
    sections: list[tuple[str, str, configparser.SectionProxy]] = []
    found = _read(credentials_path)
    if found is not None and found.has_section(profile):
        sections.append((credentials_path, profile, found[profile]))
    config = _read(config_path)
    config_name = profile if profile == "default" else f"profile {profile}"
    if config is not None and config.has_section(config_name):
        sections.append((config_path, config_name, config[config_name]))
    if not sections:
        names = sorted(
            {s for s in (found.sections() if found else [])}
            | {
                s.removeprefix("profile ").strip()
                for s in (config.sections() if config else [])
                if s.startswith("profile ") or s == "default"
            }
        )
        listed = ", ".join(names) if names else "none"
        raise CredentialsError(
            f"--profile {profile}: no such profile in {credentials_path} or {config_path} "
            f"(profiles: {listed})"
        )
    for _path, _section, values in sections:
        key = values.get("aws_access_key_id")
        secret = values.get("aws_secret_access_key")
        if key and secret:
            keys = {"AWS_ACCESS_KEY_ID": key.strip(), "AWS_SECRET_ACCESS_KEY": secret.strip()}
            token = values.get("aws_session_token")
            if token:
                keys["AWS_SESSION_TOKEN"] = token.strip()
            return keys
    path, section, values = sections[0]
    indirect = [name for name in _INDIRECT if values.get(name)]
    how = f" (it uses {', '.join(indirect)})" if indirect else ""
    raise CredentialsError(
        f"--profile {profile}: [{section}] in {path} has no aws_access_key_id and "
        f"aws_secret_access_key{how}. HandlerLens reads static keys only: export them "
        f"(`aws configure export-credentials --profile {profile} --format env`) and pass "
        "them with --inherit-env 'AWS_*'"
    )
