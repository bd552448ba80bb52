"""Routes from every declaring file, gateway-precedence matching, and route conflicts.

The fixtures under tests/fixtures/routes are shaped as real projects: a SAM app with an explicit
REST API, an HTTP API and a Function URL; a serverless.yml with both event forms; a Terraform
Yandex project whose API Gateway spec is a templatefile().
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlerlens.core.model import FunctionSpec
from handlerlens.core.problems import Severity, Span
from handlerlens.project import parse_config_file
from handlerlens.project.routes import (
    ANY,
    DEFAULT,
    ROUTE_CONFLICT,
    ROUTE_FUNCTION_UNKNOWN,
    ROUTE_INVALID,
    Route,
    conflicts,
    match,
)
from handlerlens.project.routes_openapi import yandex_spec_routes
from handlerlens.project.routes_reading import all_routes, routes_of_file
from handlerlens.project.routes_sam import sam_routes
from handlerlens.project.routes_serverless import serverless_routes
from handlerlens.project.routes_terraform import terraform_gateway_routes

from .conftest import file_text_at, text_at

ROUTES = Path(__file__).resolve().parent.parent / "fixtures" / "routes"
SAM = str(ROUTES / "sam-app" / "template.yaml")
SLS = str(ROUTES / "sls-app" / "serverless.yml")
TF = str(ROUTES / "yandex-app" / "main.tf")
SPEC = str(ROUTES / "yandex-app" / "gateway" / "spec.yaml")
INLINE_TF = str(ROUTES / "yandex-app" / "inline.tf")


def read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def table(routes: list[Route]) -> list[tuple[object, ...]]:
    return [
        (r.kind, r.api, r.route_key, r.function, r.stage, r.payload, r.binary_media_types)
        for r in routes
    ]


def route(path: str, method: str = "GET", kind: str = "http", function: str = "f") -> Route:
    return Route(method, path, kind, "api", function, DEFAULT, "2.0", "t.yaml", Span.of(0, 0))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# SAM


def test_sam_routes_every_gateway_kind_with_its_api_stage_payload_and_binary_types() -> None:
    routes, problems = routes_of_file(SAM, read(SAM))
    # Globals.Api's image~1png and ItemsApi's own list, merged as SAM merges Globals lists.
    binary = ("image/png", "application/octet-stream")
    assert table(routes) == [
        ("rest", "ItemsApi", "GET /items", "ListItems", "v1", "1.0", binary),
        ("rest", "ItemsApi", "GET /items/{id}", "GetItem", "v1", "1.0", binary),
        # No RestApiId: the implicit REST API, whose stage is always Prod.
        ("rest", "ServerlessRestApi", "ANY /hello", "GetItem", "Prod", "1.0", ("image/png",)),
        ("rest", "ItemsApi", "ANY /{proxy+}", "Proxy", "v1", "1.0", binary),
        ("http", "PublicHttpApi", "POST /legacy/{id}", "Proxy", "live", "1.0", ()),
        # Neither Path nor Method: the implicit HTTP API's $default route, payload 2.0.
        ("http", "ServerlessHttpApi", "$default", "Proxy", "$default", "2.0", ()),
        ("function-url", "Proxy", "$default", "Proxy", "$default", "2.0", ()),
        ("rest", "ItemsApi", "GET /items/{itemId}", "Shadow", "v1", "1.0", binary),
    ]
    assert problems == []  # the conflict is `conflicts`'s to find
    spans = [file_text_at(SAM, r.span) for r in routes]
    assert spans[1] == "/items/{id}"
    assert spans[5] == "HttpApi"  # the $default event's Type
    assert spans[6] == "FunctionUrlConfig"
    assert all(r.declared_in == SAM for r in routes)
    assert routes[3].param_names == ("proxy",)


def test_two_functions_on_one_sam_route_is_an_error_at_the_second(tmp_path: Path) -> None:
    routes, _ = sam_routes(SAM, read(SAM))
    found = conflicts(routes)
    assert [p.code for p in found] == [ROUTE_CONFLICT]
    problem = found[0]
    assert problem.severity == Severity.ERROR
    assert file_text_at(SAM, problem.span) == "/items/{itemId}"
    assert "GetItem and Shadow" in problem.message and "deploy rejects" in problem.message
    ((where, span, _),) = problem.related
    assert where == SAM and file_text_at(SAM, span) == "/items/{id}"


SAM_BAD = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      Events:
        Odd:
          Type: Api
          Properties: {Path: /things, Method: fetch}
        MidGreedy:
          Type: Api
          Properties: {Path: "/a/{rest+}/b", Method: get}
        Twice:
          Type: Api
          Properties: {Path: /things/, Method: GET}
        Again:
          Type: Api
          Properties: {Path: /things, Method: get}
        HalfHttp:
          Type: HttpApi
          Properties: {Path: /half}
  FnUrl:
    Type: AWS::Lambda::Url
    Properties:
      AuthType: NONE
      TargetFunctionArn: !GetAtt Fn.Arn
"""


def test_sam_unknown_method_misplaced_greedy_same_function_twice_and_lambda_url() -> None:
    routes, problems = sam_routes("/p/template.yaml", SAM_BAD)
    assert [r.route_key for r in routes] == ["GET /things", "GET /things", "$default"]
    assert routes[2].kind == "function-url" and routes[2].function == "Fn"
    assert text_at(SAM_BAD, routes[2].span) == "FnUrl"
    assert [p.code for p in problems] == [ROUTE_INVALID, ROUTE_INVALID, ROUTE_INVALID]
    assert text_at(SAM_BAD, problems[0].span) == "/things"
    assert "Event HalfHttp of Fn has no method" in problems[2].message
    assert "'fetch' is not an HTTP method" in problems[0].message
    assert "greedy parameter {name+} must be its last segment" in problems[1].message
    (twice,) = conflicts(routes)
    assert "declares the same function (Fn) twice" in twice.message
    assert twice.span == routes[1].span


def test_a_template_that_does_not_parse_has_no_routes_and_no_second_error() -> None:
    assert sam_routes("/p/template.yaml", "Resources: [AWS::Serverless::Function\n") == ([], [])


# ---------------------------------------------------------------------------------------------
# serverless.yml


def test_serverless_http_and_httpapi_events_in_both_forms_and_url() -> None:
    routes, problems = serverless_routes(SLS, read(SLS))
    assert table(routes) == [
        ("rest", "shop", "GET /orders", "listOrders", "staging", "1.0", ("image/*",)),
        ("http", "shop", "GET /orders", "listOrders", "$default", "2.0", ()),
        ("rest", "shop", "GET /orders/{id}", "getOrder", "staging", "1.0", ("image/*",)),
        # method '*' is ANY; the function's `httpApi.payload` beats the provider's.
        ("http", "shop", "ANY /orders/{id}", "getOrder", "$default", "1.0", ()),
        ("http", "shop", "$default", "fallback", "$default", "2.0", ()),
        # `GET orders/`: the trailing slash is not part of the route.
        ("rest", "shop", "GET /orders", "fallback", "staging", "1.0", ("image/*",)),
        ("function-url", "fallback", "$default", "fallback", "$default", "2.0", ()),
    ]
    assert file_text_at(SLS, routes[0].span) == "GET orders"
    assert file_text_at(SLS, routes[2].span) == "orders/{id}"
    assert file_text_at(SLS, routes[4].span) == "*"
    (invalid,) = problems
    assert invalid.code == ROUTE_INVALID
    assert file_text_at(SLS, invalid.span) == "FETCH orders/{id}"
    (conflict,) = conflicts(routes)
    assert file_text_at(SLS, conflict.span) == "GET orders/"
    assert "listOrders and fallback" in conflict.message


SLS_YANDEX = """\
service: yc-shop
provider:
  name: yandex-cloud
  runtime: python312
  httpApi:
    payload: "1.0"
functions:
  hello:
    handler: index.hello
    events:
      - http:
          method: get
          path: /hello/{name}
      - http:
          method: post
          path: /hello
          eventFormat: "0.1"
"""


def test_serverless_yandex_plugin_http_events_are_a_yandex_gateway() -> None:
    routes, problems = serverless_routes("/p/serverless.yml", SLS_YANDEX)
    assert problems == []
    assert [(r.kind, r.route_key, r.function, r.payload, r.stage) for r in routes] == [
        ("yandex", "GET /hello/{name}", "hello", "1.0", None),
        ("yandex", "POST /hello", "hello", "0.1", None),
    ]
    assert text_at(SLS_YANDEX, routes[0].span) == "/hello/{name}"


def test_serverless_default_stage_is_dev_and_other_providers_have_no_routes() -> None:
    text = "service: s\nprovider: aws\nfunctions:\n  f:\n    handler: a.b\n    events:\n"
    text += "      - http: POST /x\n"
    routes, _ = serverless_routes("/p/serverless.yml", text)
    assert [(r.route_key, r.stage) for r in routes] == [("POST /x", "dev")]
    assert serverless_routes("/p/serverless.yml", text.replace("aws", "azure")) == ([], [])


# ---------------------------------------------------------------------------------------------
# Yandex API Gateway specs


def terraform_functions() -> list[FunctionSpec]:
    functions, problems = parse_config_file(TF, read(TF))
    assert problems == [] and [f.name for f in functions] == ["items", "files"]
    return functions


def test_yandex_spec_routes_resolve_function_ids_to_declared_functions() -> None:
    routes, problems = yandex_spec_routes(
        SPEC, read(SPEC), terraform_functions(), {"ITEMS_ID": "items"}
    )
    assert [(r.kind, r.route_key, r.function, r.payload, r.stage) for r in routes] == [
        ("yandex", "GET /items", "items", "0.1", None),  # the templatefile() variable, mapped
        ("yandex", "GET /items/{id}", "items", "0.1", None),
        ("yandex", "ANY /items/{id}", None, "0.1", None),  # a literal id declared nowhere
        # A shared integration ($ref) naming ${yandex_function.files.id}; payload 1.0.
        ("yandex", "GET /files/{path+}/meta", "files", "1.0", None),
        # /static/{file+} is an object_storage integration: no function, no route.
    ]
    assert routes[3].api == SPEC
    assert file_text_at(SPEC, routes[0].span) == "${ITEMS_ID}"
    assert file_text_at(SPEC, routes[3].span) == "#/components/x-yc-apigateway-integrations/Files"
    (unknown,) = problems
    assert unknown.code == ROUTE_FUNCTION_UNKNOWN and unknown.severity == Severity.WARNING
    assert file_text_at(SPEC, unknown.span) == "d4e6qqlbbhd2mm0ptjl6"
    assert "ANY /items/{id}: function_id d4e6qqlbbhd2mm0ptjl6" in unknown.message


def test_yandex_spec_without_mapping_reports_each_unresolved_id_once() -> None:
    routes, problems = yandex_spec_routes(SPEC, read(SPEC), terraform_functions())
    assert [r.function for r in routes] == [None, None, None, "files"]
    assert [file_text_at(SPEC, p.span) for p in problems] == [
        "${ITEMS_ID}",
        "${ITEMS_ID}",
        "d4e6qqlbbhd2mm0ptjl6",
    ]
    assert {p.code for p in problems} == {ROUTE_FUNCTION_UNKNOWN}


def test_yandex_literal_id_of_a_yc_cli_function_and_alias_of_a_terraform_label() -> None:
    spec = """\
openapi: "3.0.0"
paths:
  /a:
    post:
      x-yc-apigateway-integration: {type: cloud_functions, function_id: d4eabc}
  /b:
    get:
      x-yc-apigateway-integration:
        type: cloud_functions
        function_id: ${yandex_function.renamed.id}
"""
    yc = FunctionSpec("d4eabc", "yandex", "a.handler", "/p", "yc-cli")
    tf = FunctionSpec("billing", "yandex", "b.handler", "/p", "terraform")
    aliases = {"yandex_function.renamed": "billing"}
    routes, problems = yandex_spec_routes("/p/api.yaml", spec, [yc, tf], aliases)
    assert problems == []
    assert [(r.route_key, r.function) for r in routes] == [
        ("POST /a", "d4eabc"),
        ("GET /b", "billing"),
    ]


def test_a_spec_that_is_not_openapi_is_an_error_and_a_broken_one_a_parse_error() -> None:
    routes, problems = yandex_spec_routes("/p/api.yaml", "swagger: '2.0'\nx-yc-apigateway: {}\n")
    assert routes == [] and [p.code for p in problems] == [ROUTE_INVALID]
    assert "not an OpenAPI 3 document" in problems[0].message
    routes, problems = yandex_spec_routes("/p/api.yaml", "openapi: 3.0.0\npaths: [\n")
    assert routes == [] and [p.code for p in problems] == ["config-parse-error"]


def test_terraform_templatefile_gateway_binds_its_variables_to_declared_functions() -> None:
    routes, problems, specs = terraform_gateway_routes(TF, read(TF), terraform_functions())
    assert specs == [SPEC]
    assert [(r.api, r.route_key, r.function, r.declared_in) for r in routes] == [
        ("yandex_api_gateway.shop", "GET /items", "items", SPEC),  # ITEMS_ID = …items.id
        ("yandex_api_gateway.shop", "GET /items/{id}", "items", SPEC),
        ("yandex_api_gateway.shop", "ANY /items/{id}", None, SPEC),
        ("yandex_api_gateway.shop", "GET /files/{path+}/meta", "files", SPEC),
    ]
    assert [(p.code, file_text_at(p.path, p.span)) for p in problems] == [
        (ROUTE_FUNCTION_UNKNOWN, "d4e6qqlbbhd2mm0ptjl6")
    ]


def test_terraform_inline_heredoc_gateway_routes_are_placed_in_the_tf_file() -> None:
    functions, _ = parse_config_file(INLINE_TF, read(INLINE_TF))
    assert [f.name for f in functions] == ["reports"]  # label reports_fn, name "reports"
    routes, problems, specs = terraform_gateway_routes(INLINE_TF, read(INLINE_TF), functions)
    assert specs == []
    assert [(r.api, r.route_key, r.function, r.declared_in) for r in routes] == [
        ("yandex_api_gateway.reports", "GET /reports/{year}", "reports", INLINE_TF),
        ("yandex_api_gateway.reports", "POST /ghost", None, INLINE_TF),
    ]
    # Spans inside a `<<-EOT` heredoc land on the .tf file's own text.
    assert file_text_at(INLINE_TF, routes[0].span) == "${yandex_function.reports_fn.id}"
    assert [(p.code, file_text_at(INLINE_TF, p.span)) for p in problems] == [
        (ROUTE_FUNCTION_UNKNOWN, "${yandex_function.ghost.id}"),
        (ROUTE_INVALID, "${path.module}/gateway/absent.yaml"),
    ]
    assert "which is not there" in problems[1].message
    assert terraform_gateway_routes(INLINE_TF, "resource {", functions) == ([], [], [])


def test_routes_of_file_dispatches_by_file_and_all_routes_adds_conflicts() -> None:
    functions = terraform_functions() + parse_config_file(INLINE_TF, read(INLINE_TF))[0]
    assert routes_of_file("/p/notes.yaml", "a: 1\n") == ([], [])
    assert routes_of_file("/p/app.py", "openapi = 'x-yc-apigateway'\n") == ([], [])
    files = [(SAM, read(SAM)), (SLS, read(SLS)), (SPEC, read(SPEC))]
    files += [(TF, read(TF)), (INLINE_TF, read(INLINE_TF))]
    routes, problems = all_routes(files, functions)
    # The spec is read once, through main.tf's templatefile() and its variables.
    assert len(routes) == 8 + 7 + 4 + 2
    assert sum(1 for r in routes if r.declared_in == SPEC) == 4
    assert sorted(p.code for p in problems) == sorted(
        [ROUTE_CONFLICT, ROUTE_CONFLICT, ROUTE_INVALID, ROUTE_INVALID]
        + [ROUTE_FUNCTION_UNKNOWN, ROUTE_FUNCTION_UNKNOWN]
    )


# ---------------------------------------------------------------------------------------------
# Matching


def picked(routes: list[Route], method: str, path: str) -> tuple[str, dict[str, str]] | None:
    found = match(routes, method, path)
    return None if found is None else (found[0].route_key, found[1])


def test_exact_before_parameter_before_greedy_and_method_before_any() -> None:
    routes = [
        route("/{proxy+}", ANY),
        route("/items/{id}", ANY),
        route("/items/{id}", "GET"),
        route("/items/special", "GET"),
        route("/items", "POST"),
    ]
    assert picked(routes, "GET", "/items/special") == ("GET /items/special", {})
    assert picked(routes, "GET", "/items/42") == ("GET /items/{id}", {"id": "42"})
    assert picked(routes, "delete", "/items/42") == ("ANY /items/{id}", {"id": "42"})
    assert picked(routes, "POST", "/items/special") == ("ANY /items/{id}", {"id": "special"})
    assert picked(routes, "GET", "/items") == ("ANY /{proxy+}", {"proxy": "items"})
    assert picked(routes, "GET", "/a/b/c") == ("ANY /{proxy+}", {"proxy": "a/b/c"})
    # Precedence is per segment from the left: a literal first segment wins over a parameter.
    assert picked([route("/{a}/x"), route("/items/{b}")], "GET", "/items/x") == (
        "GET /items/{b}",
        {"b": "x"},
    )


def test_root_is_not_matched_by_a_greedy_parameter_and_default_comes_last() -> None:
    greedy = [route("/{proxy+}", ANY)]
    assert picked(greedy, "GET", "/") is None
    with_default = [*greedy, route(DEFAULT, ANY)]
    assert picked(with_default, "GET", "/") == ("$default", {})
    assert picked(with_default, "GET", "/x") == ("ANY /{proxy+}", {"proxy": "x"})
    assert picked([route("/", "GET")], "GET", "/") == ("GET /", {})
    assert picked([route("/items", "GET")], "PUT", "/items") is None


def test_slash_inside_a_parameter_only_percent_encoded() -> None:
    one = [route("/files/{name}")]
    assert picked(one, "GET", "/files/a/b") is None
    assert picked(one, "GET", "/files/a%2Fb") == ("GET /files/{name}", {"name": "a/b"})
    assert picked(one, "GET", "/files/caf%C3%A9%20au%20lait") == (
        "GET /files/{name}",
        {"name": "café au lait"},
    )
    assert picked([route("/caf\u00e9")], "GET", "/caf%C3%A9") == ("GET /café", {})
    assert picked(one, "GET", "/files//") is None  # an empty segment is no value


def test_trailing_slash_and_query_string_do_not_change_the_route() -> None:
    routes = [route("/items"), route("/items/{id}")]
    assert picked(routes, "GET", "/items/") == ("GET /items", {})
    assert picked(routes, "GET", "/items/7/?q=1") == ("GET /items/{id}", {"id": "7"})
    assert picked(routes, "GET", "items") == ("GET /items", {})


def test_yandex_greedy_parameter_in_the_middle_of_a_path() -> None:
    routes = [route("/files/{path+}/meta", kind="yandex"), route("/files/{name}", kind="yandex")]
    assert picked(routes, "GET", "/files/a/b/c/meta") == (
        "GET /files/{path+}/meta",
        {"path": "a/b/c"},
    )
    assert picked(routes, "GET", "/files/meta") == ("GET /files/{name}", {"name": "meta"})
    assert picked(routes, "GET", "/files/x/meta") == ("GET /files/{path+}/meta", {"path": "x"})
    assert picked(routes, "GET", "/files/x/y") is None


def test_matching_the_declared_sam_table() -> None:
    routes, _ = sam_routes(SAM, read(SAM))
    items_api = [r for r in routes if r.api == "ItemsApi"]
    found = match(items_api, "GET", "/items/42")
    assert found is not None and found[0].function == "GetItem" and found[1] == {"id": "42"}
    # REST: /items/{id} is the resource and has no PATCH, so the gateway answers 403 there
    # rather than handing the request to /{proxy+}.
    assert match(items_api, "PATCH", "/items/42") is None
    found = match(items_api, "PATCH", "/orders/42")
    assert found is not None and found[0].function == "Proxy"
    assert found[1] == {"proxy": "orders/42"}


def test_rest_picks_the_resource_first_http_api_the_route_key() -> None:
    for kind, expected in (("rest", None), ("yandex", None), ("http", "ANY /{proxy+}")):
        routes = [route("/{proxy+}", ANY, kind), route("/parent", "GET", kind)]
        assert picked(routes, "GET", "/parent") == ("GET /parent", {})
        found = picked(routes, "POST", "/parent")
        assert (found[0] if found else None) == expected, kind
    http = [route(DEFAULT, ANY), route("/parent", "GET")]
    assert picked(http, "POST", "/parent") == ("$default", {})


SEGMENT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="?#"),
    min_size=1,
    max_size=8,
)


@given(st.lists(SEGMENT, min_size=1, max_size=5))
def test_parameters_round_trip_any_segment_text(segments: list[str]) -> None:
    """Whatever the segment text (`/`, `%`, spaces, non-ASCII), sent percent-encoded it comes
    back as the parameter value; the greedy parameter gets the whole path."""
    path = "/" + "/".join(quote(s, safe="") for s in segments)
    template = "/" + "/".join(f"{{p{i}}}" for i in range(len(segments)))
    expected = {f"p{i}": s for i, s in enumerate(segments)}
    assert picked([route(template)], "GET", path) == (f"GET {template}", expected)
    assert picked([route("/{rest+}")], "GET", path) == (
        "GET /{rest+}",
        {"rest": "/".join(segments)},
    )


@given(st.lists(st.sampled_from(["items", "{id}", "{x+}"]), min_size=1, max_size=3))
def test_a_literal_path_is_always_taken_by_its_literal_route(shape: list[str]) -> None:
    literal = "/" + "/".join("items" for _ in shape)
    template = "/" + "/".join(shape)
    routes = [route(template, ANY), route(literal, "GET")]
    assert picked(routes, "GET", literal) == (f"GET {literal}", {})


@pytest.mark.parametrize("method", ["get", "GET", "Get"])
def test_request_method_case_does_not_matter(method: str) -> None:
    assert picked([route("/a", "GET")], method, "/a") == ("GET /a", {})


SAM_COMPUTED = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Api:
    BinaryMediaTypes: ["*~1*"]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      Events:
        Computed:
          Type: Api
          Properties: {Path: !Sub "/${Prefix}/items", Method: get}
        NoPath:
          Type: Api
          Properties: {Method: get}
        Fine:
          Type: Api
          Properties: {Path: /fine, Method: get}
        HttpComputed:
          Type: HttpApi
          Properties: {Path: !Ref RoutePath}
"""


def test_sam_computed_path_is_an_info_missing_path_an_error_globals_binary_types() -> None:
    routes, problems = sam_routes("/p/template.yaml", SAM_COMPUTED)
    assert [(r.route_key, r.api, r.stage, r.binary_media_types) for r in routes] == [
        ("GET /fine", "ServerlessRestApi", "Prod", ("*/*",))
    ]
    assert [(p.code, p.severity) for p in problems] == [
        ("config-value-unresolved", Severity.INFO),
        (ROUTE_INVALID, Severity.ERROR),
        ("config-value-unresolved", Severity.INFO),
    ]
    assert text_at(SAM_COMPUTED, problems[2].span) == "RoutePath"
    assert text_at(SAM_COMPUTED, problems[0].span) == "/${Prefix}/items"
    assert "computed at deploy time" in problems[0].message
    assert "Event NoPath of Fn has no path" in problems[1].message


def test_yandex_spec_ref_to_nothing_or_to_another_file_is_an_error_at_the_ref() -> None:
    spec = """\
openapi: 3.0.0
paths:
  /a:
    get:
      x-yc-apigateway-integration:
        $ref: '#/components/x-yc-apigateway-integrations/Missing'
  /b:
    get:
      x-yc-apigateway-integration:
        $ref: 'shared.yaml#/Fn'
"""
    routes, problems = yandex_spec_routes("/p/api.yaml", spec)
    assert routes == []
    assert [text_at(spec, p.span) for p in problems] == [
        "#/components/x-yc-apigateway-integrations/Missing",
        "shared.yaml#/Fn",
    ]
    assert "points at nothing in this spec" in problems[0].message
    assert "follows only references inside it" in problems[1].message
    assert {p.code for p in problems} == {ROUTE_INVALID}


@given(st.data())
def test_reading_routes_never_raises_on_damaged_declaring_files(data: st.DataObject) -> None:
    """A declaring file cut anywhere (as while typing) gives routes and problems, never an
    exception: the editor re-reads routes on every save."""
    path = data.draw(st.sampled_from([SAM, SLS, SPEC, INLINE_TF]))
    text = read(path)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 40)))
    routes, problems = routes_of_file(path, text[:start] + text[end:], terraform_functions())
    assert all(r.declared_in == path for r in routes)
    assert all(p.path == path for p in problems)


def test_a_gateway_reaches_a_function_declared_in_a_sibling_tf_file(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return {}\n")
    functions_tf = tmp_path / "functions.tf"
    functions_tf.write_text(
        'resource "yandex_function" "api_fn" {\n'
        '  name       = "public-api"\n'
        '  runtime    = "python312"\n'
        '  entrypoint = "app.handler"\n'
        "  memory     = 128\n"
        '  user_hash  = "1"\n'
        "}\n"
    )
    gateway_tf = tmp_path / "gateway.tf"
    gateway_tf.write_text(
        'resource "yandex_api_gateway" "api" {\n'
        '  name = "api"\n'
        "  spec = <<EOT\n"
        "openapi: 3.0.0\n"
        "paths:\n"
        "  /ping:\n"
        "    get:\n"
        "      x-yc-apigateway-integration:\n"
        "        type: cloud_functions\n"
        "        function_id: ${yandex_function.api_fn.id}\n"
        "EOT\n"
        "}\n"
    )
    functions, _ = parse_config_file(str(functions_tf), functions_tf.read_text())
    assert [f.name for f in functions] == ["public-api"]
    files = [(str(p), p.read_text()) for p in (gateway_tf, functions_tf)]
    routes, problems = all_routes(files, functions)
    assert problems == []
    assert [(r.route_key, r.function, r.api) for r in routes] == [
        ("GET /ping", "public-api", "yandex_api_gateway.api")
    ]
    assert file_text_at(str(gateway_tf), routes[0].span) == "${yandex_function.api_fn.id}"
    # Read alone, the gateway's file cannot know the label: a warning, not a wrong function.
    alone, warnings = routes_of_file(str(gateway_tf), files[0][1], functions)
    assert alone[0].function is None and [w.code for w in warnings] == [ROUTE_FUNCTION_UNKNOWN]


def test_route_table_lines() -> None:
    routes, _ = sam_routes(SAM, read(SAM))
    assert [r.describe() for r in routes[1:7]] == [
        "GET /items/{id} → GetItem (REST, stage v1)",
        "ANY /hello → GetItem (REST, stage Prod)",
        "ANY /{proxy+} → Proxy (REST, stage v1)",
        "POST /legacy/{id} → Proxy (HTTP API, payload 1.0, stage live)",
        "$default → Proxy (HTTP API, stage $default)",
        "$default → Proxy (Function URL)",
    ]
    spec_routes, _ = yandex_spec_routes(SPEC, read(SPEC), terraform_functions())
    assert spec_routes[0].describe() == "GET /items → (no function declared here) (API Gateway)"
    assert spec_routes[3].describe() == "GET /files/{path+}/meta → files (API Gateway, payload 1.0)"


# ---------------------------------------------------------------------------------------------
# What the served gateway needs beyond the route: stage variables, timeouts, Yandex parameters


def test_sam_routes_carry_stage_variables_and_the_declared_integration_timeout() -> None:
    text = (
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Api:\n"
        "    Type: AWS::Serverless::Api\n"
        "    Properties:\n"
        "      StageName: live\n"
        "      Variables:\n"
        "        color: blue\n"
        "        size: 3\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Handler: app.handler\n"
        "      Events:\n"
        "        A:\n"
        "          Type: Api\n"
        "          Properties: {Path: /a, Method: get, RestApiId: !Ref Api, TimeoutInMillis: 900}\n"
        "        B:\n"
        "          Type: HttpApi\n"
        "          Properties: {Path: /b, Method: get, TimeoutInMillis: !Ref T}\n"
    )
    routes, problems = sam_routes("template.yaml", text)
    assert problems == []
    assert [(r.route_key, r.stage_variables, r.timeout_ms) for r in routes] == [
        ("GET /a", (("color", "blue"), ("size", "3")), 900),
        ("GET /b", (), None),  # computed: the gateway's default applies
    ]


def test_yandex_routes_carry_the_operation_id_and_the_declared_parameters() -> None:
    spec = (
        "openapi: 3.0.0\n"
        "components:\n"
        "  parameters:\n"
        "    Trace: {name: X-Trace, in: header}\n"
        "paths:\n"
        "  /items/{id}:\n"
        "    parameters:\n"
        "      - {name: id, in: path, required: true}\n"
        "    get:\n"
        "      operationId: getItem\n"
        "      parameters:\n"
        "        - {name: q, in: query}\n"
        "        - $ref: '#/components/parameters/Trace'\n"
        "      x-yc-apigateway-integration: {type: cloud_functions, function_id: f}\n"
    )
    functions = [FunctionSpec("f", "yandex", "a.b", "/p", "yc-cli")]
    routes, _ = yandex_spec_routes("spec.yaml", spec, functions)
    assert [(r.operation_id, r.parameters) for r in routes] == [
        ("getItem", (("id", "path"), ("q", "query"), ("X-Trace", "header"))),
    ]
