"""A request's AWS Signature Version 4, as far as a local runner can read it (PLATFORMS.md §10.3:
a Function URL with `AuthType: AWS_IAM` takes SigV4-signed requests only).

The signature itself cannot be checked here (that takes the caller's secret key, which only
IAM has); what can be checked is that one is there and well-formed: an `Authorization:
AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header with its `X-Amz-Date`
(or the presigned-URL query: `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
`X-Amz-SignedHeaders`, `X-Amz-Signature`), a credential scope
`<access key>/<yyyymmdd>/<region>/lambda/aws4_request`, `host` among the signed headers, and
every signed header present. And its age, which needs no key (signature_age): AWS refuses a
signature whose `X-Amz-Date` is more than 15 minutes from its clock, either way, and a
presigned URL past its `X-Amz-Expires`. Stdlib only, as all of platforms/ (only the
supervisor and the editor load this one).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import NamedTuple
from urllib.parse import parse_qsl

ALGORITHM = "AWS4-HMAC-SHA256"
# Function URLs are signed for the `lambda` service (urls-auth.md: "lambda" as the service).
SERVICE = "lambda"
_DATE_TIME = re.compile(r"^(\d{8})T\d{6}Z$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_HEADER_NAME = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")
# How far a signature's time may be from AWS's clock, either way (SigV4 "Signature expired").
MAX_SKEW = timedelta(minutes=15)
_STAMP = "%Y%m%dT%H%M%SZ"
_STAMP_PARTS = re.compile(r"^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$")


class Signed(NamedTuple):
    """What a well-formed signature names: the access key and its credential scope."""

    access_key: str
    date: str
    region: str
    service: str


def read_signature(headers: list[tuple[str, str]], query: str) -> Signed | str:
    """The signature `headers` (or the presigned `query`) carry, or why the request is not
    SigV4-signed in a form AWS would go on to check (one sentence, for the log)."""
    present = {name.lower(): value for name, value in headers}
    authorization = present.get("authorization")
    if authorization is not None:
        return _from_header(authorization, present)
    fields = dict(parse_qsl(query, keep_blank_values=True))
    if "X-Amz-Signature" in fields or "X-Amz-Algorithm" in fields:
        return _from_query(fields, present)
    return "the request is not signed (no Authorization header, no X-Amz-Signature in the query)"


def _from_header(authorization: str, present: dict[str, str]) -> Signed | str:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        return f"its Authorization header is not {ALGORITHM} (SigV4) but {algorithm or '(empty)'}"
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, equals, value = item.strip().partition("=")
        if equals:
            parts[name.strip()] = value.strip()
    missing = [n for n in ("Credential", "SignedHeaders", "Signature") if not parts.get(n)]
    if missing:
        return f"its Authorization header has no {', '.join(missing)}"
    stamp = present.get("x-amz-date")
    if stamp is None:
        return "it has no X-Amz-Date header, which SigV4 signs"
    return _checked(parts["Credential"], parts["SignedHeaders"], parts["Signature"], stamp, present)


def _from_query(fields: dict[str, str], present: dict[str, str]) -> Signed | str:
    if fields.get("X-Amz-Algorithm") != ALGORITHM:
        return f"its X-Amz-Algorithm is not {ALGORITHM}"
    names = ("X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Date")
    missing = [name for name in names if not fields.get(name)]
    if missing:
        return f"its presigned query has no {', '.join(missing)}"
    return _checked(
        fields["X-Amz-Credential"],
        fields["X-Amz-SignedHeaders"],
        fields["X-Amz-Signature"],
        fields["X-Amz-Date"],
        present,
    )


def _checked(
    credential: str, signed_headers: str, signature: str, stamp: str, present: dict[str, str]
) -> Signed | str:
    scope = credential.split("/")
    if len(scope) != 5 or not scope[0] or scope[4] != "aws4_request":
        return (
            f"its Credential {credential!r} is not <access key>/<date>/<region>/<service>/"
            "aws4_request"
        )
    access_key, date, region, service, _ = scope
    if not re.fullmatch(r"\d{8}", date) or not region:
        return f"its Credential scope {credential!r} has no yyyymmdd date or no region"
    if service != SERVICE:
        return (
            f"it is signed for the service {service!r}; a Function URL takes signatures for "
            f"{SERVICE!r}"
        )
    when = _DATE_TIME.match(stamp.strip())
    if when is None:
        return f"its X-Amz-Date {stamp!r} is not yyyymmddThhmmssZ"
    if when.group(1) != date:
        return f"its X-Amz-Date {stamp!r} is not of the Credential's date {date}"
    names = signed_headers.split(";")
    if any(not _HEADER_NAME.match(name) for name in names) or names != sorted(names):
        return f"its SignedHeaders {signed_headers!r} is not a sorted list of lower-case names"
    if "host" not in names:
        return "its SignedHeaders does not include host, which SigV4 requires"
    absent = [name for name in names if name not in present]
    if absent:
        return f"it signs the header{'s' if len(absent) > 1 else ''} {', '.join(absent)}, absent"
    if not _SIGNATURE.match(signature):
        return "its Signature is not 64 lower-case hex digits"
    return Signed(access_key, date, region, service)


def signature_age(headers: list[tuple[str, str]], query: str, now: datetime) -> str | None:
    """Why AWS would refuse a signature read_signature() found well-formed for its time at
    `now` (an aware datetime), or None when its time is good. The time is the one the
    signature signs: the `X-Amz-Date` header with an Authorization header, else the
    presigned query's. A header signature is good within 15 minutes of `now`, either way; a
    presigned URL from its `X-Amz-Date` (up to 15 minutes ahead of `now`) until
    `X-Amz-Date` + `X-Amz-Expires` seconds (15 minutes when it gives none)."""
    present = {name.lower(): value for name, value in headers}
    expires: str | None = None
    if "authorization" in present:
        stamp = present.get("x-amz-date", "")
    else:
        fields = dict(parse_qsl(query, keep_blank_values=True))
        stamp = fields.get("X-Amz-Date", "")
        expires = fields.get("X-Amz-Expires")
    stamp = stamp.strip()
    parts = _STAMP_PARTS.match(stamp)
    try:
        if parts is None:
            raise ValueError(stamp)
        year, month, day, hour, minute, second = (int(part) for part in parts.groups())
        signed_at = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:  # (read_signature took its form: a month 13, a 25th hour)
        return f"its X-Amz-Date {stamp!r} is no date and time (yyyymmddThhmmssZ)"
    shown = now.astimezone(timezone.utc).strftime(_STAMP)
    if signed_at - now > MAX_SKEW:
        return (
            f"its signature is not yet valid: its X-Amz-Date {stamp} is more than 15 minutes "
            f"after now ({shown}); AWS takes a signature within 15 minutes of its clock"
        )
    if expires is not None:
        if not expires.isdigit():
            return f"its X-Amz-Expires {expires!r} is not a number of seconds"
        until = signed_at + timedelta(seconds=int(expires))
        if now > until:
            return (
                f"its presigned URL has expired (Signature expired): its X-Amz-Date {stamp} "
                f"+ X-Amz-Expires {expires} s is {until.strftime(_STAMP)}, before now ({shown})"
            )
        return None
    if now - signed_at > MAX_SKEW:
        return (
            f"its signature has expired (Signature expired): its X-Amz-Date {stamp} is more "
            f"than 15 minutes before now ({shown}); AWS takes a signature within 15 minutes "
            "of its clock"
        )
    return None
