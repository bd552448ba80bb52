"""A generated monorepo of N functions for the deploy checks' figures (`bench/deploy_bench.py`).

    python -m bench.monorepo DIR [--functions 500]

One SAM template declares every function (python3.9, so the older-grammar check runs too);
each has its own code root with a handler importing stdlib, boto3, a requirement and two helper
modules of its own (one importing a shared package copied into it), a requirements.txt, and
environment reads (declared and not). Every 10th function imports a package it does not list.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HANDLER = """import json
import os
import boto3
import requests
from lib import store, format_row
from common.util import helper

TABLE = os.environ["TABLE_NAME"]


def handler(event, context):
    rows = store.load(TABLE, event.get("id"))
    return {{"statusCode": 200, "body": json.dumps([format_row(r) for r in rows])}}


def other_{i}(event, context):
    return helper(os.environ.get("STAGE", "dev"))
"""
LIB_INIT = "from lib.format import format_row\n"
LIB_STORE = """import boto3
{extra}

def load(table, key):
    return boto3.resource("dynamodb").Table(table).get_item(Key={{"id": key}})
"""
LIB_FORMAT = """import datetime
import decimal


def format_row(row):
    return {k: str(v) if isinstance(v, decimal.Decimal) else v for k, v in row.items()}
"""
COMMON = """import logging
import os

log = logging.getLogger(__name__)


def helper(stage):
    return f"{stage}-{os.environ['SERVICE']}"
"""


def generate(root: Path, functions: int = 500) -> Path:
    """Write the monorepo under `root`; returns the template's path."""
    root.mkdir(parents=True, exist_ok=True)
    resources = []
    for i in range(functions):
        code = root / "functions" / f"fn{i:03d}"
        (code / "lib").mkdir(parents=True, exist_ok=True)
        (code / "common").mkdir(exist_ok=True)
        (code / "app.py").write_text(HANDLER.format(i=i))
        (code / "lib" / "__init__.py").write_text(LIB_INIT)
        extra = "import pandas" if i % 10 == 0 else ""
        (code / "lib" / "store.py").write_text(LIB_STORE.format(extra=extra))
        (code / "lib" / "format.py").write_text(LIB_FORMAT)
        (code / "common" / "__init__.py").write_text("")
        (code / "common" / "util.py").write_text(COMMON)
        (code / "requirements.txt").write_text("requests==2.31.0\n")
        resources.append(
            f"""  Fn{i:03d}:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/fn{i:03d}/
      Handler: app.handler
      Environment:
        Variables:
          TABLE_NAME: table-{i}
"""
        )
    template = root / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Globals:\n  Function:\n    Runtime: python3.9\n    Timeout: 10\n"
        "Resources:\n" + "".join(resources)
    )
    return template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--functions", type=int, default=500)
    args = parser.parse_args()
    print(generate(args.dir, args.functions))


if __name__ == "__main__":
    main()
