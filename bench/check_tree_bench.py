"""`handlerlens check` on a big tree: aws-samples/serverless-patterns, or one shaped like it.

The tree is the serverless-patterns checkout of `make corpus` when it is there
($HANDLERLENS_CACHE/corpus/aws-samples+serverless-patterns, ~19,000 entries, ~430 functions),
else a synthetic one built in a temporary folder (~19,000 entries: 200 SAM patterns and 200
Terraform patterns with one Python function each, 100 Terraform-only patterns whose .tf files
declare no function, and the READMEs, images, events and requirements files around them).
Then runs `python -m handlerlens check` on it as a user would (a fresh process each time),
twice over: with a cold parse cache (an empty $XDG_CACHE_HOME each run: a first run, or CI
without a cache; the Terraform modules are then read by a forked child on the second core)
and a warm one (the run before left it), interleaved, and prints the median and p95 wall
time and CPU time of each (CPU time is the parent's and the child's together; on a busy
machine it is the figure that compares, and the second core is not free for the child).
Issue #14's goal: ≤ 2 s median on serverless-patterns.

    .venv/bin/python -m bench.check_tree_bench [--runs 11] [--compare main] [--tree DIR]
        [--synthetic]

`--compare REF` runs the same check with the server code of git revision REF too (extracted
with `git archive`, first on PYTHONPATH), so a change's before/after shows side by side: the
two are interleaved run by run (REF's cold run right beside this checkout's, in turns which
goes first), and the ratio of each pair is printed with its median, the figure that holds on
a machine busy with other work. Python's bytecode is written on the untimed first run of each
(PYTHONDONTWRITEBYTECODE is dropped), as an installed package has it.
`make bench` reports it through `check_figure`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from bench.stats import Figure, Row, percentile

REPO = Path(__file__).resolve().parent.parent

HANDLER = """import json
import os

TABLE = os.environ.get("TABLE", "items")


def lambda_handler(event, context):
    body = {"table": TABLE, "path": event.get("path")}
    return {"statusCode": 200, "body": json.dumps(body)}
"""

SAM = """AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: pattern {i}
Resources:
  Function{i}:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Handler: app.lambda_handler
      Runtime: python3.12
      Timeout: 10
      Events:
        Api:
          Type: Api
          Properties:
            Path: /items
            Method: get
"""

LAMBDA_TF = """data "archive_file" "code" {{
  type        = "zip"
  source_dir  = "${{path.module}}/src"
  output_path = "${{path.module}}/build/code.zip"
}}

resource "aws_lambda_function" "fn" {{
  function_name    = "pattern-{i}"
  role             = aws_iam_role.lambda.arn
  handler          = "app.lambda_handler"
  runtime          = "python3.12"
  filename         = data.archive_file.code.output_path
  source_code_hash = data.archive_file.code.output_base64sha256
  environment {{
    variables = {{
      TABLE = var.table
    }}
  }}
}}
"""

VARIABLES_TF = """variable "table" {{
  type    = string
  default = "items-{i}"
}}

variable "region" {{
  type    = string
  default = "us-east-1"
}}
"""

POLICY = """resource "aws_iam_role_policy" "p{n}" {{
  name = "policy-{n}"
  role = aws_iam_role.r{n}.id
  policy = <<EOF
{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
      "Resource": ["arn:aws:s3:::bucket-{n}", "arn:aws:s3:::bucket-{n}/*"]
    }}
  ]
}}
EOF
}}

resource "aws_iam_role" "r{n}" {{
  name = "role-{n}"
  assume_role_policy = jsonencode({{
    Version = "2012-10-17"
    Statement = [{{ Action = "sts:AssumeRole", Effect = "Allow",
      Principal = {{ Service = "lambda.amazonaws.com" }} }}]
  }})
}}

resource "aws_s3_bucket" "b{n}" {{
  bucket = "bucket-{n}"
  tags = {{
    Name        = "bucket-{n}"
    Environment = var.region
  }}
}}

resource "aws_sns_topic" "t{n}" {{
  name = "topic-{n}"
}}

resource "aws_api_gateway_rest_api" "api{n}" {{
  name        = "api-{n}"
  description = "pattern API {n}"
}}
"""

PROVIDERS_TF = """terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
  required_version = ">= 1.3"
}

provider "aws" {
  region = var.region
}
"""


def _write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


def build_tree(root: Path, sam: int = 200, terraform: int = 200, infra_only: int = 100) -> int:
    """Write the synthetic repository; returns how many files and folders it holds."""
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)

    def common(folder: Path, i: int) -> None:
        _write(folder / "README.md", f"# Pattern {i}\n\nDeploy with the usual tool.\n")
        _write(folder / "example-pattern.json", json.dumps({"title": f"pattern {i}"}))
        for k in range(10):
            _write(folder / "images" / f"diagram-{k}.png", png)
        for k in range(9):
            _write(folder / "docs" / f"step-{k}.md", f"Step {k}\n")

    for i in range(sam):
        folder = root / f"sam-pattern-{i}"
        common(folder, i)
        _write(folder / "template.yaml", SAM.format(i=i))
        _write(folder / "src" / "app.py", HANDLER)
        _write(folder / "src" / "requirements.txt", "boto3\n")
        for k in range(4):
            _write(folder / "events" / f"event-{k}.json", '{"Records": []}')
        for k in range(4):
            _write(folder / "tests" / f"test_{k}.txt", "x\n")
    for i in range(terraform):
        folder = root / f"terraform-pattern-{i}"
        common(folder, i)
        _write(folder / "main.tf", LAMBDA_TF.format(i=i))
        _write(folder / "variables.tf", VARIABLES_TF.format(i=i))
        _write(folder / "providers.tf", PROVIDERS_TF)
        _write(folder / "iam.tf", "".join(POLICY.format(n=f"{i}_{k}") for k in range(3)))
        _write(folder / "outputs.tf", 'output "arn" {\n  value = aws_lambda_function.fn.arn\n}\n')
        _write(folder / "src" / "app.py", HANDLER)
        for k in range(4):
            _write(folder / "events" / f"event-{k}.json", '{"Records": []}')
    for i in range(infra_only):
        folder = root / f"infra-pattern-{i}"
        common(folder, i)
        _write(folder / "providers.tf", PROVIDERS_TF)
        _write(folder / "variables.tf", VARIABLES_TF.format(i=i))
        for part in range(5):
            text = "".join(POLICY.format(n=f"{i}_{part}_{k}") for k in range(3))
            _write(folder / f"part{part}.tf", text)
        for k in range(8):
            _write(folder / "scripts" / f"step-{k}.txt", "echo\n")
    return sum(len(dirs) + len(files) for _, dirs, files in os.walk(root))


def _extract(ref: str, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    archive = into / "server.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "archive", ref, "server"], cwd=REPO, stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "server"


def corpus_tree() -> Path | None:
    """The serverless-patterns checkout of `make corpus`, if it is there."""
    cache = os.environ.get("HANDLERLENS_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "handlerlens"
    )
    tree = Path(cache) / "corpus" / "aws-samples+serverless-patterns"
    return tree if tree.is_dir() else None


COLD, WARM = "cold cache", "warm cache"


def _run_check(tree: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall and CPU (user + system) seconds of one run, and the functions it found."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "handlerlens", "check", str(tree), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
        timeout=300,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode == 2:
        raise RuntimeError(done.stderr.strip()[-500:])
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, json.loads(done.stdout)["functions"]


Timed = dict[str, tuple[list[float], list[float], int]]


def time_check(tree: Path, runs: int, pythonpath: Path | None) -> Timed:
    """Per cache state (cold, warm): wall and CPU seconds of each run, and the functions
    found. Runs alternate cold and warm; a first untimed run warms the page cache."""
    return time_subjects(tree, runs, [pythonpath])[0]


def time_subjects(tree: Path, runs: int, pythonpaths: list[Path | None]) -> list[Timed]:
    """`time_check` of several server codes (each first on PYTHONPATH; None: this checkout's),
    interleaved: each run times every subject cold, then every subject warm, the subjects in
    turns in a different order, so a change of load on the machine falls on them alike."""
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    envs = [base if path is None else {**base, "PYTHONPATH": str(path)} for path in pythonpaths]
    found: list[Timed] = [{COLD: ([], [], 0), WARM: ([], [], 0)} for _ in envs]
    with tempfile.TemporaryDirectory(prefix="hl-check-cache-") as caches:
        warm_envs = [
            {**env, "XDG_CACHE_HOME": os.path.join(caches, f"warm-{n}")}
            for n, env in enumerate(envs)
        ]
        for warm_env in warm_envs:
            _run_check(tree, warm_env)  # leaves the warm cache (and the bytecode)
        for i in range(runs):
            order = list(range(len(envs)))
            if i % 2:
                order.reverse()
            for state in (COLD, WARM):
                for n in order:
                    cold_home = os.path.join(caches, f"cold-{n}-{i}")
                    run_env = (
                        {**envs[n], "XDG_CACHE_HOME": cold_home} if state == COLD else warm_envs[n]
                    )
                    wall, cpu, functions = _run_check(tree, run_env)
                    walls, cpus, _ = found[n][state]
                    walls.append(wall)
                    cpus.append(cpu)
                    found[n][state] = (walls, cpus, functions)
                    shutil.rmtree(cold_home, ignore_errors=True)
    return found


def _ratios(timed: list[Timed], state: str) -> str:
    """The first subject's times over the second's, run by run (pairs timed side by side)."""
    (walls, cpus, _), (base_walls, base_cpus, _) = timed[0][state], timed[1][state]
    wall = [a / b for a, b in zip(walls, base_walls, strict=True)]
    cpu = [a / b for a, b in zip(cpus, base_cpus, strict=True)]
    return (
        f"wall ×{percentile(wall, 50):.2f} (pairs from ×{min(wall):.2f} to ×{max(wall):.2f}), "
        f"CPU ×{percentile(cpu, 50):.2f} (from ×{min(cpu):.2f} to ×{max(cpu):.2f}), "
        "median of the pairs' ratios"
    )


def check_figure(runs: int) -> Figure:
    """`make bench`'s figure: check on serverless-patterns, cold and warm parse cache."""
    tree = corpus_tree()
    rows = [Row(f"HandlerLens, {COLD}"), Row(f"HandlerLens, {WARM}")]
    notes = []
    if tree is None:
        for row in rows:
            row.missing = "not measured: no serverless-patterns checkout (run `make corpus`)"
    else:
        entries = sum(len(d) + len(f) for _, d, f in os.walk(tree))
        try:
            timed = time_check(tree, runs, None)
        except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
            for row in rows:
                row.missing = f"not measured: {exc}"
        else:
            for row, state in zip(rows, (COLD, WARM), strict=True):
                walls, cpus, functions = timed[state]
                row.samples = [1000 * w for w in walls]
                row.note = (
                    f"CPU median {1000 * percentile(cpus, 50):,.0f} ms, {functions} functions"
                )
        notes.append(
            f"`handlerlens check --format json` on {tree} ({entries:,} entries), a fresh "
            "process each run, cold (an empty parse cache: a first run, or CI without one) "
            "and warm (the run before left it) interleaved; `python -m "
            "bench.check_tree_bench` prints the same with CPU time."
        )
    return Figure(
        "check-tree",
        "`handlerlens check` on aws-samples/serverless-patterns, wall time",
        "ms",
        rows,
        reference=f"HandlerLens, {COLD}",
        notes=notes,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--compare", metavar="REF", help="also time git revision REF's server")
    parser.add_argument("--tree", type=Path, help="check this folder instead")
    parser.add_argument(
        "--synthetic", action="store_true", help="the synthetic tree even if the corpus has one"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hl-check-tree-") as tmp:
        given = args.tree or (None if args.synthetic else corpus_tree())
        if given is not None:
            tree = given.resolve()
            entries = sum(len(d) + len(f) for _, d, f in os.walk(tree))
        else:
            tree = Path(tmp) / "repo"
            entries = build_tree(tree)
        print(f"tree: {entries} entries under {tree}")
        subjects: list[tuple[str, Path | None]] = [("this checkout", None)]
        if args.compare:
            subjects.append((args.compare, _extract(args.compare, Path(tmp) / "baseline")))
        timed = time_subjects(tree, args.runs, [path for _, path in subjects])
        for (label, _), result in zip(subjects, timed, strict=True):
            for state, (samples, cpu, functions) in result.items():
                print(
                    f"{label:>14}, {state}: median {percentile(samples, 50):.2f} s, "
                    f"p95 {percentile(samples, 95):.2f} s over {len(samples)} runs "
                    f"(CPU median {percentile(cpu, 50):.2f} s, p95 {percentile(cpu, 95):.2f} s), "
                    f"{functions} functions"
                )
        if args.compare:
            for state in (COLD, WARM):
                print(f"this checkout / {args.compare}, {state}: {_ratios(timed, state)}")


if __name__ == "__main__":
    main()
