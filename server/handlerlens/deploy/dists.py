"""Which distribution provides an import name, and what a distribution installs with it.

Read from the function's own environment (environment.py: the site-packages of the interpreter
the runner will run it on) for every distribution installed there; for the others, from the
metadata of the interpreter HandlerLens runs on (`importlib.metadata`: the installed
distributions' RECORD / top_level.txt and Requires-Dist; nothing is imported) — what it knows of
a distribution the function's environment lacks (a requirement not installed in the venv) is
still about that distribution — plus a small table of the usual mismatches between import and
distribution names for packages installed in neither.

Reading that metadata is slow (every distribution's RECORD for the import map, an email parse
of METADATA per Requires-Dist): in `check`, what was read is kept in the parse cache with the
modification stamps of the folders on sys.path (which change when a distribution is installed
or removed: importlib.metadata's own cache goes by them too), and `importlib.metadata` and
`packaging` are imported only when something must be read.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable
from functools import cache
from typing import Protocol, TypeVar

_T = TypeVar("_T")


class Environment(Protocol):
    """The distributions installed where the function runs (environment.py's)."""

    dists: dict[str, str]  # canonical name → its metadata folder

    def provides(self, top: str) -> frozenset[str]: ...

    def requires(self, dist: str) -> frozenset[str] | None: ...

    def spelled(self, dist: str) -> str: ...


# Import name → distribution, where they differ (PyPI project pages).
KNOWN_MISMATCHES: dict[str, str] = {
    "yaml": "pyyaml",
    "PIL": "pillow",
    "jwt": "pyjwt",
    "dateutil": "python-dateutil",
    "bs4": "beautifulsoup4",
    "cv2": "opencv-python",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "dotenv": "python-dotenv",
    "jose": "python-jose",
    "magic": "python-magic",
    "Crypto": "pycryptodome",
    "Cryptodome": "pycryptodomex",
    "OpenSSL": "pyopenssl",
    "MySQLdb": "mysqlclient",
    "telegram": "python-telegram-bot",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "attr": "attrs",
    "git": "gitpython",
    "serial": "pyserial",
    "fitz": "pymupdf",
    "multipart": "python-multipart",
    "socks": "pysocks",
    "slugify": "python-slugify",
    "nacl": "pynacl",
    "websocket": "websocket-client",
    "zmq": "pyzmq",
    "pkg_resources": "setuptools",
    "_cffi_backend": "cffi",
    "grpc": "grpcio",
    "kafka": "kafka-python",
    "github": "pygithub",
    "googleapiclient": "google-api-python-client",
    "psycopg2": "psycopg2-binary",
    "mpl_toolkits": "matplotlib",
    "aws_xray_sdk": "aws-xray-sdk",
    "pythonjsonlogger": "python-json-logger",
    "lambda_decorators": "lambda-decorators",
    "pymysql": "pymysql",
    "stripe": "stripe",
    "ldap": "python-ldap",
    "Levenshtein": "python-levenshtein",
    "markdown": "markdown",
}
# Distributions some distributions are commonly installed under instead (either provides it).
ALTERNATIVES: dict[str, frozenset[str]] = {
    "psycopg2-binary": frozenset({"psycopg2", "psycopg2-binary"}),
    "opencv-python": frozenset(
        {
            "opencv-python",
            "opencv-python-headless",
            "opencv-contrib-python",
            "opencv-contrib-python-headless",
        }
    ),
    "pycryptodome": frozenset({"pycryptodome", "pycrypto"}),
    "python-jose": frozenset({"python-jose", "python-jose-cryptodome"}),
    "pyyaml": frozenset({"pyyaml", "ruamel-yaml-pyyaml"}),
}
# What a few common distributions install with them (their Requires-Dist), for when they are
# not installed here to be read.
KNOWN_REQUIRES: dict[str, frozenset[str]] = {
    "boto3": frozenset({"botocore", "s3transfer", "jmespath"}),
    "botocore": frozenset({"jmespath", "python-dateutil", "urllib3"}),
    "python-dateutil": frozenset({"six"}),
    "requests": frozenset({"urllib3", "idna", "certifi", "charset-normalizer"}),
    "aws-lambda-powertools": frozenset({"jmespath", "typing-extensions"}),
    "pydantic": frozenset({"pydantic-core", "typing-extensions", "annotated-types"}),
    "fastapi": frozenset({"starlette", "pydantic", "typing-extensions"}),
    "mangum": frozenset({"typing-extensions"}),
    "flask": frozenset({"werkzeug", "jinja2", "itsdangerous", "click", "blinker"}),
    "jinja2": frozenset({"markupsafe"}),
    "httpx": frozenset({"httpcore", "anyio", "idna", "certifi", "sniffio"}),
    "ydb": frozenset({"grpcio", "protobuf", "aiohttp"}),
    "yandexcloud": frozenset({"grpcio", "protobuf", "requests", "pyjwt", "cryptography", "six"}),
    "aws-xray-sdk": frozenset({"botocore", "wrapt"}),
    "aiohttp": frozenset({"multidict", "yarl", "aiosignal", "frozenlist", "attrs"}),
    "yarl": frozenset({"multidict", "idna", "propcache"}),
    "aiosignal": frozenset({"frozenlist"}),
}

# Distributions that require nothing (their Requires-Dist is empty).
KNOWN_LEAVES = frozenset(
    {
        "six",
        "urllib3",
        "jmespath",
        "idna",
        "certifi",
        "charset-normalizer",
        "pyyaml",
        "typing-extensions",
        "markupsafe",
        "itsdangerous",
        "blinker",
        "sniffio",
        "wrapt",
        "annotated-types",
        "multidict",
        "frozenlist",
        "attrs",
        "pytz",
        "simplejson",
        "ujson",
        "orjson",
        "python-dotenv",
        "pyjwt",
        "pymysql",
        "click",
        "h11",
        "protobuf",
        "setuptools",
        "grpcio",
        "propcache",
    }
)


_SEPARATORS = re.compile(r"[-_.]+")


def canonical(name: str) -> str:
    """A distribution name normalized as PEP 503 defines it (`packaging.utils.canonicalize_name`
    without importing `packaging`, which costs more than the name: it is used on every judged
    import, also in a `check` whose manifests all come from the parse cache)."""
    return _SEPARATORS.sub("-", name).lower()


def normalize_import(name: str) -> str:
    """An import name as a distribution name would be spelled (PEP 503)."""
    return canonical(name)


def _from_environment(what: str, compute: Callable[[], _T]) -> _T:
    """`compute()` (a reading of the installed distributions' metadata), from `check`'s parse
    cache while the folders on sys.path keep their modification stamps."""
    from handlerlens.project import parse_cache, probes

    store = parse_cache.active()
    if store is None:
        return compute()

    def stamped() -> _T:
        for entry in sys.path:
            probes.stamp(os.path.abspath(entry or "."))
        return compute()

    return store.memo(parse_cache.key("dists", what, *sys.path), stamped)


@cache
def local_import_map() -> dict[str, frozenset[str]]:
    """Top-level import name → canonical names of the local distributions providing it."""
    return _from_environment("import-map", _read_import_map)


def _read_import_map() -> dict[str, frozenset[str]]:
    import importlib.metadata as md

    try:
        raw = md.packages_distributions()
    except Exception:  # broken metadata of some installed package: no map, not a crash
        return {}
    return {k: frozenset(canonical(d) for d in v) for k, v in raw.items()}


@cache
def _local_requires(dist: str) -> frozenset[str] | None:
    return _from_environment(f"requires {dist}", lambda: _read_requires(dist))


def _read_requires(dist: str) -> frozenset[str] | None:
    import importlib.metadata as md

    try:
        requires = md.requires(dist)
    except md.PackageNotFoundError:
        return None
    return required(requires or ())


def required(requires: Iterable[str]) -> frozenset[str]:
    """The distributions `Requires-Dist` lines name, but for those only an extra installs
    (canonical names)."""
    from packaging.requirements import InvalidRequirement, Requirement

    out: set[str] = set()
    for text in requires:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.marker is not None and re.search(r"\bextra\b", str(req.marker)):
            continue  # only with an extra
        out.add(canonical(req.name))
    return frozenset(out)


def known_dists_for_import(top: str) -> frozenset[str]:
    """Distributions that may provide the import `top` by its name or the table of mismatches
    (canonical names): `dists_for_import` without reading what is installed here."""
    names = {normalize_import(top)}
    if top in KNOWN_MISMATCHES:
        base = KNOWN_MISMATCHES[top]
        names |= ALTERNATIVES.get(base, frozenset({base}))
    return frozenset(names)


def dists_for_import(top: str, env: Environment | None = None) -> frozenset[str]:
    """Distributions that may provide the top-level import `top` (canonical names): those of
    the function's environment `env` that install it, and those installed where HandlerLens
    runs and not in `env` that do."""
    local = local_import_map().get(top, frozenset())
    if env is None:
        return known_dists_for_import(top) | local
    return (
        known_dists_for_import(top)
        | env.provides(top)
        | frozenset(d for d in local if d not in env.dists)
    )


def _tokens(name: str) -> frozenset[str]:
    return frozenset(t for t in re.split(r"[-_.]+", name.lower()) if t)


def may_provide(top: str, dist: str) -> bool:
    """Whether distribution `dist` may install the import `top` by its name alone, for a
    distribution not installed here to be read: `strands` / `strands_tools` from
    `strands-agents` / `strands-agents-tools`, `opensearchpy` from `opensearch-py`, `mysql`
    from `mysql-connector-python`. Used only to avoid a claim, never to make one."""
    wanted = _tokens(top)
    if wanted and wanted <= _tokens(dist):
        return True
    squashed = dist.replace("-", "")
    plain = top.lower().replace("_", "")
    return len(plain) >= 3 and (squashed.startswith(plain) or squashed.endswith(plain))


def closure(dists: set[str], env: Environment | None = None) -> tuple[set[str], set[str]]:
    """Every distribution installing `dists` brings (themselves included), and those of them
    whose dependencies are unknown (installed neither in the function's environment `env` nor
    here, not in the table)."""
    seen: set[str] = set()
    unknown: set[str] = set()
    todo = list(dists)
    while todo:
        dist = todo.pop()
        if dist in seen:
            continue
        seen.add(dist)
        requires = env.requires(dist) if env is not None else None
        if requires is None:
            requires = _local_requires(dist)
        if requires is None:
            requires = frozenset() if dist in KNOWN_LEAVES else KNOWN_REQUIRES.get(dist)
        if requires is None:
            unknown.add(dist)
            continue
        todo.extend(requires - seen)
    return seen, unknown


def suggested_requirement(top: str, env: Environment | None = None) -> str:
    """The distribution name to add to a manifest for import `top`: the one of the function's
    environment that installs it, else the one installed here, else the table's."""
    if env is not None:
        installed = sorted(env.provides(top))
        if len(installed) == 1:
            return env.spelled(installed[0])
    return _suggested_here(top)


@cache
def _suggested_here(top: str) -> str:
    local = sorted(local_import_map().get(top, frozenset()))
    if len(local) == 1:
        return _from_environment(f"name {local[0]}", lambda: _read_name(local[0]))
    return KNOWN_MISMATCHES.get(top, top.replace("_", "-"))


def _read_name(dist: str) -> str:
    """The distribution's name as its metadata spells it."""
    import importlib.metadata as md

    try:
        return md.metadata(dist)["Name"] or dist
    except md.PackageNotFoundError:
        return dist
