"""Which platform a guessed function is for, from evidence around it (issue #14 E).

Nothing declares a guessed function, so its platform is read from what its code and its
folders show: imports of a platform's SDKs and libraries, the context attributes only one
platform's context has, the Lambda console's file name, and, in its folder and the folders
above it (up to the workspace root), the files a platform's tools keep there (`cdk.json`,
`samconfig.toml`, Terraform providers, a serverless.yml provider, requirements). The
nearest level that says something decides; boto3 alone is weak (Yandex Object Storage and
Message Queue are used through boto3 too), so a Yandex sign above it wins. With no evidence,
or evidence for both platforms at the same level, the platform stays unknown and only the
checks that hold on both platforms run.
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field
from functools import cache

from handlerlens.core.model import PlatformName

# Top-level module → platform; weak ones are used against both platforms' services.
_AWS_MODULES = frozenset(
    {
        "aws_lambda_powertools",
        "aws_cdk",
        "aws_lambda_typing",
        "mangum",
        "aws_xray_sdk",
        "awslambdaric",
        "aws_durable_execution_sdk_python",
        "awswrangler",
        "chalice",
    }
)
_WEAK_AWS_MODULES = frozenset({"boto3", "botocore", "aioboto3", "aiobotocore"})
_YANDEX_MODULES = frozenset({"yandexcloud", "ydb", "yandex_cloud_ml_sdk", "yandex"})
# Endpoints named in code.
_YANDEX_HOSTS = re.compile(r"yandexcloud\.net|api\.cloud\.yandex\.net|\bcloud\.yandex\.")
_AWS_HOSTS = re.compile(r"\.amazonaws\.com\b")
# Distributions in requirements files (normalised: lowercase, `_` → `-`).
_AWS_REQUIREMENTS = frozenset(
    {
        "aws-lambda-powertools",
        "aws-cdk-lib",
        "aws-lambda-typing",
        "mangum",
        "aws-xray-sdk",
        "awslambdaric",
        "aws-durable-execution-sdk-python",
    }
)
_YANDEX_REQUIREMENTS = frozenset({"yandexcloud", "ydb", "yandex-cloud-ml-sdk"})
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", re.MULTILINE)
_TF_AWS = re.compile(r'provider\s+"aws"|resource\s+"aws_')
_TF_YANDEX = re.compile(r'provider\s+"yandex"|resource\s+"yandex_')
_SLS_AWS = re.compile(r"^\s+name:\s*['\"]?aws\b", re.MULTILINE)
_SLS_YANDEX = re.compile(r"yandex-cloud")
_CI_YANDEX = re.compile(r"\byc\s+serverless\b|x-yc-apigateway")
_CI_AWS = re.compile(r"\bsam\s+deploy\b|\bcdk\s+deploy\b|\baws\s+lambda\b")
_AWS_TOOL_FILES = ("cdk.json", "samconfig.toml", "samconfig.yaml", "samconfig.yml")
_MAX_READ = 256_000
_MAX_FILES_PER_KIND = 20


@dataclass(frozen=True)
class Sign:
    """One piece of evidence: the platform it points to, what it is, and whether it is weak."""

    platform: PlatformName
    what: str
    weak: bool = False


@dataclass(frozen=True)
class PlatformGuess:
    """The platform evidence points to (None: unknown), and the evidence, nearest first."""

    platform: PlatformName | None
    evidence: tuple[str, ...]


@cache
def _context_only() -> dict[str, PlatformName]:
    """Context attributes only one platform's context has → that platform."""
    from handlerlens.platforms.context_model import context_model

    aws, yandex = context_model("aws"), context_model("yandex")
    if aws is None or yandex is None:
        return {}
    a = {m.name for m in aws.members} - aws.hidden
    y = {m.name for m in yandex.members} - yandex.hidden
    out: dict[str, PlatformName] = {name: "aws" for name in a - y}
    out.update({name: "yandex" for name in y - a})
    return out


def file_signs(path: str, text: str, tree: ast.Module, context_names: set[str]) -> list[Sign]:
    """Evidence in one Python file: imports, endpoints, platform-only context attributes."""
    signs: list[Sign] = []
    seen: set[str] = set()
    if os.path.basename(path) == "lambda_function.py":
        signs.append(Sign("aws", "the file is named lambda_function.py (the Lambda console's)"))
    only = _context_only()
    # One walk: imports, `hasattr(context, 'x')` guards (an attribute that may be missing is
    # no evidence) and the platform-only context attributes read, kept in walk order.
    guarded: set[str] = set()
    found: list[Sign | str] = []  # a module's sign, or a context attribute read
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.module and node.level == 0:
                names = [node.module.split(".")[0]]
        elif isinstance(node, ast.Attribute):
            if (
                isinstance(node.value, ast.Name)
                and node.value.id in context_names
                and node.attr in only
            ):
                found.append(node.attr)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "hasattr"
            and len(node.args) == 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            guarded.add(node.args[1].value)
        for name in names:
            if name in _AWS_MODULES:
                found.append(Sign("aws", f"imports {name}"))
            elif name in _WEAK_AWS_MODULES:
                found.append(Sign("aws", f"imports {name}", weak=True))
            elif name in _YANDEX_MODULES:
                found.append(Sign("yandex", f"imports {name}"))
    for item in found:
        if isinstance(item, str):
            if item in guarded:
                continue
            item = Sign(only[item], f"reads context.{item} ({_title(only[item])} only)")
        if item.what not in seen:
            seen.add(item.what)
            signs.append(item)
    # ("yandex" is in each host: a plain find rules out most files far faster than the
    # pattern, whose alternatives leave sre no literal to skip ahead to)
    if "yandex" in text and _YANDEX_HOSTS.search(text):
        signs.append(Sign("yandex", "names a Yandex Cloud endpoint"))
    if _AWS_HOSTS.search(text):
        signs.append(Sign("aws", "names an amazonaws.com endpoint"))
    return signs


def _title(platform: str) -> str:
    return "AWS Lambda" if platform == "aws" else "Yandex Cloud Functions"


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(_MAX_READ)
    except OSError:
        return ""


@dataclass
class FolderEvidence:
    """Evidence per folder, read once per discovery (folders are shared by many files)."""

    cache: dict[str, tuple[Sign, ...]] = field(default_factory=dict)

    def signs(self, directory: str, root: str) -> tuple[Sign, ...]:
        """Evidence the files directly in `directory` give."""
        hit = self.cache.get(directory)
        if hit is None:
            hit = self.cache[directory] = tuple(_folder_signs(directory, root))
        return hit


def _folder_signs(directory: str, root: str) -> list[Sign]:
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    where = os.path.relpath(directory, root) if root else directory
    where = "the workspace root" if where == "." else where.replace(os.sep, "/") + "/"
    signs: list[Sign] = []
    present = set(names)
    for tool in _AWS_TOOL_FILES:
        if tool in present:
            signs.append(Sign("aws", f"{tool} in {where}"))
    tf = [n for n in names if n.endswith(".tf")][:_MAX_FILES_PER_KIND]
    tf_text = "\n".join(_read(os.path.join(directory, n)) for n in tf)
    if _TF_AWS.search(tf_text):
        signs.append(Sign("aws", f"Terraform AWS resources in {where}"))
    if _TF_YANDEX.search(tf_text):
        signs.append(Sign("yandex", f"Terraform Yandex Cloud resources in {where}"))
    for name in ("serverless.yml", "serverless.yaml"):
        if name in present:
            text = _read(os.path.join(directory, name))
            if _SLS_YANDEX.search(text):
                signs.append(Sign("yandex", f"{name} with provider yandex-cloud in {where}"))
            elif _SLS_AWS.search(text):
                signs.append(Sign("aws", f"{name} with provider aws in {where}"))
    for name in names:
        lower = name.lower()
        if lower.endswith((".yaml", ".yml", ".json", ".template")) and lower.startswith("template"):
            if "AWS::" in _read(os.path.join(directory, name)):
                signs.append(Sign("aws", f"CloudFormation {name} in {where}"))
                break
    # requirements.txt, requirements-dev.txt, requirements_lambda.txt, and the files of a
    # `requirements/` folder (base.txt, prod.txt, lambda.in).
    requirements = [n for n in names if _is_requirements(n)]
    if "requirements" in present and os.path.isdir(os.path.join(directory, "requirements")):
        try:
            inside = sorted(os.listdir(os.path.join(directory, "requirements")))
        except OSError:
            inside = []
        requirements += [f"requirements/{n}" for n in inside if n.endswith((".txt", ".in"))]
    for name in requirements[:_MAX_FILES_PER_KIND]:
        wanted = {
            m.group(1).lower().replace("_", "-")
            for m in _REQUIREMENT_NAME.finditer(_read(os.path.join(directory, name)))
        }
        for dist in sorted(wanted & _AWS_REQUIREMENTS):
            signs.append(Sign("aws", f"{name} in {where} requires {dist}"))
        for dist in sorted(wanted & {"boto3", "botocore"}):
            signs.append(Sign("aws", f"{name} in {where} requires {dist}", weak=True))
        for dist in sorted(wanted & _YANDEX_REQUIREMENTS):
            signs.append(Sign("yandex", f"{name} in {where} requires {dist}"))
    if "Dockerfile" in present:
        text = _read(os.path.join(directory, "Dockerfile"))
        if "public.ecr.aws/lambda" in text:
            signs.append(Sign("aws", f"Dockerfile in {where} builds on a Lambda base image"))
    scripts = [
        n
        for n in names
        if n.endswith((".sh", ".yaml", ".yml")) or n in ("Makefile", "Justfile", "Taskfile.yml")
    ][:_MAX_FILES_PER_KIND]
    text = "\n".join(_read(os.path.join(directory, n)) for n in scripts)
    if _CI_YANDEX.search(text):
        signs.append(Sign("yandex", f"a script or spec in {where} uses yc serverless"))
    if _CI_AWS.search(text):
        signs.append(Sign("aws", f"a script or spec in {where} deploys to AWS Lambda"))
    workflows = os.path.join(directory, ".github", "workflows")
    if os.path.isdir(workflows):
        try:
            flows = sorted(os.listdir(workflows))[:_MAX_FILES_PER_KIND]
        except OSError:
            flows = []
        text = "\n".join(_read(os.path.join(workflows, n)) for n in flows)
        if _CI_YANDEX.search(text):
            signs.append(Sign("yandex", f"a CI workflow in {where} deploys with yc serverless"))
        if _CI_AWS.search(text):
            signs.append(Sign("aws", f"a CI workflow in {where} deploys to AWS Lambda"))
    return signs


def _is_requirements(name: str) -> bool:
    """`requirements.txt`, `requirements-dev.txt`, `requirements_aws.txt`, `requirements.in`."""
    lower = name.lower()
    return lower.startswith("requirements") and lower.endswith((".txt", ".in"))


def guess_platform(
    file_level: list[Sign], directory: str, root: str, folders: FolderEvidence | None
) -> PlatformGuess:
    """The platform the nearest decisive evidence names: the file, then its folder and each
    folder above it up to `root`. Weak evidence (boto3) holds unless a Yandex sign follows."""
    folders = folders if folders is not None else FolderEvidence()
    levels: list[tuple[Sign, ...]] = [tuple(file_level)]
    root = os.path.abspath(root) if root else ""
    current = os.path.abspath(directory)
    while True:
        levels.append(folders.signs(current, root))
        if not root or current == root or not current.startswith(root.rstrip(os.sep) + os.sep):
            break
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    weak: list[Sign] = []
    for signs in levels:
        strong = [s for s in signs if not s.weak]
        weak += [s for s in signs if s.weak]
        platforms = {s.platform for s in strong}
        if len(platforms) > 1:
            return PlatformGuess(None, tuple(s.what for s in strong))
        if platforms:
            (platform,) = platforms
            if platform == "aws":
                strong += weak
            return PlatformGuess(platform, tuple(s.what for s in strong))
    if weak:
        return PlatformGuess("aws", tuple(s.what for s in weak))
    return PlatformGuess(None, ())
