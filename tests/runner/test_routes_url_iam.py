"""A Function URL with `AuthType: AWS_IAM` on a real `handlerlens serve` (PLATFORMS.md §10.3).

Deployed, such a URL takes SigV4-signed requests only. The runner cannot check a signature
(only IAM has the secret key), so it checks that one is there and well-formed: a request
signed by a real signer (botocore's SigV4Auth, curl's --aws-sigv4, a presigned URL) reaches
the function with `requestContext.authorizer.iam` naming the signature's access key; any
other is answered 403 as deployed, with a log line saying why and how to sign it.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import botocore.auth
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from handlerlens.platforms.aws_sigv4 import Signed, read_signature, signature_age
from handlerlens.project.routes_reading import all_routes, routes_of_file
from tests.runner.harness import Runner

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    CodeUri: src/
    Timeout: 5
Resources:
  Secure:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.echo
      FunctionUrlConfig:
        AuthType: AWS_IAM
  Open:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.echo
      FunctionUrlConfig:
        AuthType: NONE
"""

APP = """\
import json


def echo(event, context):
    return {"statusCode": 200, "body": json.dumps(event)}
"""

KEY = "AKIDHANDLERLENSTEST1"
CREDENTIALS = Credentials(KEY, "not-checked-locally")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runner]:
    folder = tmp_path_factory.mktemp("url-iam")
    (folder / "src").mkdir()
    (folder / "template.yaml").write_text(TEMPLATE)
    (folder / "src" / "app.py").write_text(APP)
    runner = Runner(["--no-watch"], folder)
    yield runner
    runner.stop()


def _signed(
    runner: Runner, method: str, path: str, body: bytes = b"", skew: timedelta | None = None
) -> dict[str, str]:
    """The headers botocore's SigV4 signer adds for a request to the Secure URL (signed by a
    clock `skew` off when given)."""
    url = f"http://secure.localhost:{runner.port}{path}"
    request = AWSRequest(
        method=method, url=url, data=body, headers={"Content-Type": "application/json"}
    )
    with _SignerClock(skew or timedelta()):
        SigV4Auth(CREDENTIALS, "lambda", "eu-west-1").add_auth(request)
    headers = dict(request.headers.items())
    headers["Host"] = f"secure.localhost:{runner.port}"
    return headers


def test_an_unsigned_request_is_refused_as_deployed_and_the_log_says_why(served: Runner) -> None:
    """(First in this file: no request has reached Secure before.)"""
    mark = len(served.stderr)
    host = {"Host": f"secure.localhost:{served.port}"}
    status, headers, body = served.request("GET", "/orders", headers=host)
    assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})
    assert headers["content-type"] == "application/json"
    line = served.wait_stderr("would fail deployed")
    assert line in served.stderr[mark:]
    assert line.startswith("handlerlens: Secure: $default: would fail deployed: ")
    assert "AuthType is AWS_IAM and the request is not signed" in line
    assert "curl --aws-sigv4 aws:amz:us-east-1:lambda --user KEY:SECRET" in line
    # The function never ran: no REPORT for it, while another's request is reported.
    assert served.request("GET", "/", headers={"Host": f"open.localhost:{served.port}"})[0] == 200
    served.wait_for(lambda e: e["event"] == "report" and e["function"] == "Open")
    assert [e["function"] for e in served.events if e["event"] == "report"] == ["Open"]


def test_a_signed_request_reaches_the_function_with_the_signatures_access_key(
    served: Runner,
) -> None:
    headers = _signed(served, "POST", "/orders?x=1", b'{"item": "tea"}')
    status, _, body = served.request("POST", "/orders?x=1", b'{"item": "tea"}', headers)
    assert status == 200, body
    event = json.loads(body)
    assert (event["rawPath"], event["rawQueryString"], event["body"]) == (
        "/orders",
        "x=1",
        '{"item": "tea"}',
    )
    context = event["requestContext"]
    assert context["authentication"] is None
    iam = context["authorizer"]["iam"]
    # The keys of urls-invocation.md's example; what IAM would add stands in, placeholders.
    assert set(iam) == {
        "accessKey",
        "accountId",
        "callerId",
        "cognitoIdentity",
        "principalOrgId",
        "userArn",
        "userId",
    }
    assert iam["accessKey"] == KEY
    assert iam["cognitoIdentity"] is None and iam["principalOrgId"] is None
    assert iam["userArn"].startswith(f"arn:aws:iam::{iam['accountId']}:user/")
    # The signature's headers reach the function, as any header does.
    assert event["headers"]["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={KEY}/")


@pytest.mark.parametrize(
    ("authorization", "why"),
    [
        ("Bearer abc", "is not AWS4-HMAC-SHA256 (SigV4) but Bearer"),
        (
            f"AWS4-HMAC-SHA256 Credential={KEY}/20260101/us-east-1/execute-api/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
            "it is signed for the service 'execute-api'",
        ),
        (
            f"AWS4-HMAC-SHA256 Credential={KEY}/20260101/us-east-1/lambda/aws4_request, "
            "SignedHeaders=x-amz-date, Signature=" + "0" * 64,
            "does not include host",
        ),
        (
            f"AWS4-HMAC-SHA256 Credential={KEY}/20260101/us-east-1/lambda/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=xyz",
            "Signature is not 64 lower-case hex digits",
        ),
    ],
)
def test_a_malformed_signature_is_refused_with_its_reason(
    served: Runner, authorization: str, why: str
) -> None:
    headers = {
        "Host": f"secure.localhost:{served.port}",
        "Authorization": authorization,
        "X-Amz-Date": "20260101T000000Z",
    }
    mark = len(served.stderr)
    status, _, body = served.request("GET", "/", headers=headers)
    assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})
    assert why in served.wait_stderr(why)
    assert any(why in line for line in served.stderr[mark:])


def test_curl_aws_sigv4_as_the_log_line_says_is_taken(served: Runner) -> None:
    """The command the refusal's log line suggests, run for real."""
    host = f"secure.localhost:{served.port}"
    done = subprocess.run(
        [
            "curl",
            "-sS",
            "--resolve",
            f"{host}:127.0.0.1",
            "--aws-sigv4",
            "aws:amz:us-east-1:lambda",
            "--user",
            f"{KEY}:SECRET",
            f"http://{host}/ping",
        ],
        capture_output=True,
        timeout=30,
        check=True,
    )
    event = json.loads(done.stdout)
    assert event["rawPath"] == "/ping"
    assert event["requestContext"]["authorizer"]["iam"]["accessKey"] == KEY


def test_a_presigned_url_is_taken(served: Runner) -> None:
    url = f"http://secure.localhost:{served.port}/report?day=1"
    request = AWSRequest(method="GET", url=url)
    SigV4QueryAuth(CREDENTIALS, "lambda", "us-east-1", expires=60).add_auth(request)
    path = request.url.split(str(served.port), 1)[1]
    status, _, body = served.request(
        "GET", path, headers={"Host": f"secure.localhost:{served.port}"}
    )
    assert status == 200, body
    event = json.loads(body)
    assert event["queryStringParameters"]["day"] == "1"
    assert event["requestContext"]["authorizer"]["iam"]["accessKey"] == KEY


def test_a_url_with_auth_none_takes_any_request_and_the_table_says_which_is_which(
    served: Runner,
) -> None:
    status, _, body = served.request("GET", "/", headers={"Host": f"open.localhost:{served.port}"})
    assert status == 200
    assert json.loads(body)["requestContext"]["authorizer"] is None
    secure = served.wait_stderr("→ Secure (Function URL")
    assert "AWS_IAM: SigV4-signed requests only" in secure
    opened = served.wait_stderr("→ Open (Function URL")
    assert "AWS_IAM" not in opened
    table = served.wait_for(lambda e: e["event"] == "routes")
    assert {r["served"]: r["auth"] for r in table["routes"]} == {
        "Secure": "AWS_IAM",
        "Open": "NONE",
    }


def test_every_declaring_file_gives_the_auth_type() -> None:
    lambda_url = """\
Resources:
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      Handler: app.handler
      Runtime: python3.11
  FnUrl:
    Type: AWS::Lambda::Url
    Properties:
      TargetFunctionArn: !Ref Fn
      AuthType: AWS_IAM
"""
    routes, _ = routes_of_file("template.yaml", lambda_url)
    assert [(r.kind, r.function, r.auth) for r in routes] == [("function-url", "Fn", "AWS_IAM")]
    serverless = """\
service: shop
provider:
  name: aws
  runtime: python3.11
functions:
  secure:
    handler: app.handler
    url:
      authorizer: aws_iam
  open:
    handler: app.handler
    url: true
"""
    routes, _ = routes_of_file("serverless.yml", serverless)
    assert sorted((r.function, r.auth) for r in routes) == [
        ("open", "NONE"),
        ("secure", "AWS_IAM"),
    ]
    terraform = """\
resource "aws_lambda_function" "secure" {
  function_name = "secure-fn"
  handler       = "app.handler"
  runtime       = "python3.11"
  filename      = "code.zip"
  role          = "arn:aws:iam::123456789012:role/r"
}

resource "aws_lambda_function_url" "secure" {
  function_name      = aws_lambda_function.secure.function_name
  authorization_type = "AWS_IAM"
}

resource "aws_lambda_function_url" "other" {
  function_name      = aws_lambda_function.elsewhere.arn
  authorization_type = "NONE"
}

resource "aws_lambda_function_url" "computed" {
  function_name      = var.name
  authorization_type = "NONE"
}
"""
    routes, _ = routes_of_file("main.tf", terraform)
    assert [(r.kind, r.function, r.auth, r.span.start.line) for r in routes] == [
        ("function-url", "secure-fn", "AWS_IAM", 9),
        ("function-url", "elsewhere", "NONE", 14),
    ]
    # The function declared in another file of the module: known by its function_name too.
    functions, urls = terraform.split('resource "aws_lambda_function_url" "secure"')
    urls = 'resource "aws_lambda_function_url" "secure"' + urls
    routes, _ = all_routes([("infra/lambda.tf", functions), ("infra/urls.tf", urls)])
    assert [(r.declared_in, r.function, r.auth) for r in routes] == [
        ("infra/urls.tf", "secure-fn", "AWS_IAM"),
        ("infra/urls.tf", "elsewhere", "NONE"),
    ]


def test_the_signature_reader_on_its_own() -> None:
    stamp = "20260102T030405Z"
    credential = f"{KEY}/20260102/eu-north-1/lambda/aws4_request"
    good = [
        ("Host", "x.localhost"),
        ("X-Amz-Date", stamp),
        (
            "Authorization",
            f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host;x-amz-date, "
            f"Signature={'a' * 64}",
        ),
    ]
    assert read_signature(good, "") == Signed(KEY, "20260102", "eu-north-1", "lambda")
    assert "no X-Amz-Date" in str(read_signature(good[::2], ""))
    other_day = [good[0], ("X-Amz-Date", "20260103T000000Z"), good[2]]
    assert "not of the Credential's date" in str(read_signature(other_day, ""))
    unsorted = [
        *good[:2],
        ("Authorization", good[2][1].replace("host;x-amz-date", "x-amz-date;host")),
    ]
    assert "sorted list" in str(read_signature(unsorted, ""))
    absent = [
        *good[:2],
        ("Authorization", good[2][1].replace("host;x-amz-date", "host;x-amz-date;x-b")),
    ]
    assert "x-b, absent" in str(read_signature(absent, ""))
    assert "not signed" in str(read_signature([("Host", "x")], "a=1"))
    query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=" + "b" * 64
    assert "has no X-Amz-Credential" in str(read_signature([("Host", "x")], query))


def test_the_editors_send_request_on_an_aws_iam_url_gets_a_placeholder_caller() -> None:
    """The editor's "Send request" invokes the function with the gateway's event directly,
    standing for a signed caller: `authorizer.iam` is there, with placeholders."""
    from handlerlens.lsp.route_events import gateway_event
    from handlerlens.platforms.gateways import IAM_ACCESS_KEY

    routes, _ = routes_of_file("template.yaml", TEMPLATE)
    secure = next(r for r in routes if r.function == "Secure")
    event = gateway_event(secure, "aws", "GET", "/report", {})
    assert event["requestContext"]["authorizer"]["iam"]["accessKey"] == IAM_ACCESS_KEY
    opened = next(r for r in routes if r.function == "Open")
    assert gateway_event(opened, "aws", "GET", "/", {})["requestContext"]["authorizer"] is None


def test_a_request_for_no_function_url_gets_awss_not_found(served: Runner) -> None:
    """An app of Function URLs alone is AWS's: a host no URL owns (here 127.0.0.1, as a first
    curl would send) gets the HTTP API's 404, not the Yandex gateway's emulated one."""
    status, _, body = served.request("GET", "/")
    assert (status, json.loads(body)) == (404, {"message": "Not Found"})


class _SignerClock:
    """botocore's signers, for a while, on a clock `skew` off this machine's (a client whose
    clock is wrong, or a request signed a while ago): its own clock function, shifted."""

    def __init__(self, skew: timedelta) -> None:
        self.skew = skew
        self.real = botocore.auth.get_current_datetime

    def __enter__(self) -> None:
        real, skew = self.real, self.skew
        botocore.auth.get_current_datetime = lambda *a, **k: real(*a, **k) + skew

    def __exit__(self, *exc: object) -> None:
        botocore.auth.get_current_datetime = self.real


def _presigned(runner: Runner, path: str, expires: int, skew: timedelta | None = None) -> str:
    """A presigned URL's path and query for the Secure URL, by botocore's SigV4QueryAuth."""
    url = f"http://secure.localhost:{runner.port}{path}"
    request = AWSRequest(method="GET", url=url)
    with _SignerClock(skew or timedelta()):
        SigV4QueryAuth(CREDENTIALS, "lambda", "us-east-1", expires=expires).add_auth(request)
    return request.url.split(str(runner.port), 1)[1]


def _refused(runner: Runner, path: str, headers: dict[str, str], why: str) -> str:
    """The request is answered 403 as deployed and not run; the log line naming `why`."""
    mark = len(runner.stderr)
    reports = len([e for e in runner.events if e["event"] == "report"])
    headers = {**headers, "Host": f"secure.localhost:{runner.port}"}
    status, _, body = runner.request("GET", path, headers=headers)
    assert (status, json.loads(body)) == (403, {"Message": "Forbidden"})
    line = _new_line(runner, mark, why)
    assert line.startswith("handlerlens: Secure: $default: would fail deployed: ")
    assert "AuthType is AWS_IAM and " in line
    # The function never ran: an Open request's report is the only new one.
    seen = len(runner.events)
    assert runner.request("GET", "/", headers={"Host": f"open.localhost:{runner.port}"})[0] == 200
    runner.wait_for(lambda e: e["event"] == "report" and e["function"] == "Open", start=seen)
    new = [e["function"] for e in runner.events if e["event"] == "report"][reports:]
    assert new == ["Open"]
    return line


def _new_line(runner: Runner, mark: int, text: str, timeout: float = 10) -> str:
    """The first stderr line from index `mark` on holding `text`, waiting for it (an earlier
    request's line may hold the same text)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in runner.stderr[mark:]:
            if text in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"{text!r} not in stderr:\n" + "\n".join(runner.stderr[mark:]))


def _taken(runner: Runner, path: str, headers: dict[str, str] | None = None) -> None:
    headers = {**(headers or {}), "Host": f"secure.localhost:{runner.port}"}
    seen = len(runner.events)
    status, _, body = runner.request("GET", path, headers=headers)
    assert status == 200, body
    assert json.loads(body)["requestContext"]["authorizer"]["iam"]["accessKey"] == KEY
    # (Its report is out before the next request counts reports.)
    runner.wait_for(lambda e: e["event"] == "report" and e["function"] == "Secure", start=seen)


@pytest.mark.parametrize(
    ("minutes", "why"),
    [
        (-20, "its signature has expired (Signature expired): its X-Amz-Date "),
        (20, "its signature is not yet valid: its X-Amz-Date "),
    ],
)
def test_a_header_signature_more_than_15_minutes_from_now_is_refused(
    served: Runner, minutes: int, why: str
) -> None:
    headers = _signed(served, "GET", "/late", skew=timedelta(minutes=minutes))
    stamp = headers["X-Amz-Date"]
    line = _refused(served, "/late", headers, why)
    assert f"X-Amz-Date {stamp} is more than 15 minutes" in line
    assert "within 15 minutes of its clock" in line
    assert "Sign it again when sending it" in line and "curl --aws-sigv4" not in line


@pytest.mark.parametrize("minutes", [-14, 14])
def test_a_header_signature_within_15_minutes_of_now_is_taken(served: Runner, minutes: int) -> None:
    _taken(served, "/near", _signed(served, "GET", "/near", skew=timedelta(minutes=minutes)))


def test_a_presigned_url_is_refused_once_its_expiry_has_passed(served: Runner) -> None:
    path = _presigned(served, "/report?day=2", expires=1)
    time.sleep(2.2)  # X-Amz-Date is in whole seconds: 2 s later it is surely past
    line = _refused(served, path, {}, "its presigned URL has expired (Signature expired)")
    assert "+ X-Amz-Expires 1 s is " in line


def test_a_presigned_url_signed_long_ago_is_taken_while_its_expiry_lasts(served: Runner) -> None:
    """Not the header's 15 minutes: a presigned URL is good until X-Amz-Expires."""
    _taken(served, _presigned(served, "/report", expires=3600, skew=timedelta(minutes=-50)))
    path = _presigned(served, "/report", expires=600, skew=timedelta(minutes=-20))
    _refused(served, path, {}, "X-Amz-Expires 600 s is ")


def test_a_presigned_url_from_more_than_15_minutes_ahead_is_refused(served: Runner) -> None:
    path = _presigned(served, "/report", expires=3600, skew=timedelta(minutes=20))
    _refused(served, path, {}, "its signature is not yet valid")
    _taken(served, _presigned(served, "/report", expires=60, skew=timedelta(minutes=10)))


def test_a_presigned_url_whose_expiry_is_no_number_is_refused(served: Runner) -> None:
    path = _presigned(served, "/report", expires=60).replace("X-Amz-Expires=60", "X-Amz-Expires=1h")
    _refused(served, path, {}, "its X-Amz-Expires '1h' is not a number of seconds")


def test_the_signature_age_on_its_own() -> None:
    now = datetime(2026, 12, 7, 23, 50, 0, tzinfo=timezone.utc)
    signed = "20261207T233500Z"  # 15 minutes before now, to the second: still good
    headers = [("Authorization", "AWS4-HMAC-SHA256 …"), ("X-Amz-Date", signed)]
    assert signature_age(headers, "", now) is None
    assert signature_age(headers, "", now + timedelta(seconds=1)) == (
        "its signature has expired (Signature expired): its X-Amz-Date 20261207T233500Z is "
        "more than 15 minutes before now (20261207T235001Z); AWS takes a signature within "
        "15 minutes of its clock"
    )
    assert signature_age(headers, "", now - timedelta(minutes=30)) is None
    assert "not yet valid" in str(signature_age(headers, "", now - timedelta(minutes=31)))
    # With an Authorization header, its X-Amz-Date counts, not a query's.
    assert signature_age(headers, "X-Amz-Date=20200101T000000Z&X-Amz-Expires=1", now) is None
    # The presigned query: good from X-Amz-Date until X-Amz-Date + X-Amz-Expires.
    query = "X-Amz-Date=20261207T234000Z&X-Amz-Expires=600"
    assert signature_age([], query, now) is None
    assert "has expired" in str(signature_age([], query, now + timedelta(seconds=1)))
    # Without X-Amz-Expires, as a header's: 15 minutes either way.
    assert signature_age([], "X-Amz-Date=20261207T233500Z", now) is None
    late = signature_age([], "X-Amz-Date=20261207T233459Z", now)
    assert "its signature has expired" in str(late)
    # A stamp of the right form that is no date (month 13): no time to compare.
    assert signature_age([], "X-Amz-Date=20261307T000000Z", now) == (
        "its X-Amz-Date '20261307T000000Z' is no date and time (yyyymmddThhmmssZ)"
    )
