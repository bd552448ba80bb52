"""A request's AWS Signature Version 4, as far as a local runner can read it (PLATFORMS.md §10.3:
a Function URL with `AuthType: AWS_IAM` takes SigV4-signed requests only).

The signature itself cannot be checked here (that takes the caller's secret key, which only
IAM has); what can be checked is that one is there and well-formed: an `Authorization:
AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header with its `X-Amz-Date`
(or the presigned-URL query: `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
`X-Amz-SignedHeaders`, `X-Amz-Signature`), a credential scope
`<access key>/<yyyymmdd>/<region>/lambda/aws4_request`, `host` among the signed headers, and
every signed header present. Stdlib only, as all of platforms/ (only the supervisor and the
editor load this one).
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import parse_qsl

ALGORITHM = "AWS4-HMAC-SHA256"
# Function URLs are signed for the `lambda` service (urls-auth.md: "lambda" as the service).
SERVICE = "lambda"
_DATE_TIME = re.compile(r"^(\d{8})T\d{6}Z$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")
_HEADER_NAME = re.compile(r"^[a-z0-9!#$%&'*+.^_`|~-]+$")


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
