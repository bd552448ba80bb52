import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RouteInfo } from "../../client/src/protocol";
import {
  ANY_METHODS,
  asRequestInput,
  contentTypeOf,
  fillPath,
  hoverMarkdown,
  initialInput,
  invalidValue,
  methodChoices,
  needsBody,
  pathPrompts,
  requestLabel,
  routeMemoryKey,
  sendParams,
} from "../../client/src/routeRequest";

function route(over: Partial<RouteInfo> = {}): RouteInfo {
  return {
    method: "GET",
    path: "/items/{id}",
    kind: "rest",
    api: "ServerlessRestApi",
    function: "GetItem",
    stage: "Prod",
    payload: "1.0",
    params: ["id"],
    description: "GET /items/{id} → GetItem (REST, stage Prod)",
    uri: "file:///w/template.yaml",
    line: 10,
    character: 18,
    endLine: 10,
    endCharacter: 29,
    ...over,
  };
}

describe("pathPrompts", () => {
  it("asks one box per parameter, greedy ones marked", () => {
    assert.deepEqual(pathPrompts(route({ path: "/a/{x}/b/{rest+}" })), [
      { name: "x", greedy: false, wholePath: false },
      { name: "rest", greedy: true, wholePath: false },
    ]);
    assert.deepEqual(pathPrompts(route({ path: "/items" })), []);
  });
  it("asks the whole path of a $default route", () => {
    assert.deepEqual(pathPrompts(route({ path: "$default", method: "ANY" })), [
      { name: "path", greedy: true, wholePath: true },
    ]);
  });
});

describe("invalidValue", () => {
  const [one] = pathPrompts(route());
  const [greedy] = pathPrompts(route({ path: "/{proxy+}" }));
  const [whole] = pathPrompts(route({ path: "$default" }));
  it("refuses what the gateway would not match", () => {
    assert.ok(one && greedy && whole);
    assert.match(invalidValue(one, "") ?? "", /cannot be empty/);
    assert.equal(invalidValue(one, "a/b"), undefined); // sent as a%2Fb
    assert.match(invalidValue(greedy, "a//b") ?? "", /none empty/);
    assert.equal(invalidValue(greedy, "a/b"), undefined);
    assert.match(invalidValue(whole, "items") ?? "", /starts with/);
    assert.equal(invalidValue(whole, "/items"), undefined);
  });
});

describe("fillPath", () => {
  it("encodes a parameter as one segment and keeps a greedy one's slashes", () => {
    assert.equal(fillPath(route(), { id: "a/b c" }), "/items/a%2Fb%20c");
    assert.equal(
      fillPath(route({ path: "/files/{p+}/meta" }), { p: "x y/z" }),
      "/files/x%20y/z/meta",
    );
    assert.equal(fillPath(route({ path: "/" }), {}), "/");
    assert.equal(fillPath(route({ path: "$default" }), { path: "/any/where" }), "/any/where");
  });
});

describe("methods and bodies", () => {
  it("offers every method for ANY, the route's own otherwise", () => {
    assert.deepEqual(methodChoices(route({ method: "ANY" })), [...ANY_METHODS]);
    assert.deepEqual(methodChoices(route()), ["GET"]);
  });
  it("asks a body for POST, PUT and PATCH only", () => {
    assert.deepEqual(
      ANY_METHODS.filter((m) => needsBody(m)),
      ["POST", "PUT", "PATCH"],
    );
    assert.equal(needsBody("patch"), true);
  });
});

describe("sendParams", () => {
  it("sends the filled path, the query without '?', and a typed body", () => {
    const r = route({ method: "ANY" });
    assert.deepEqual(
      sendParams(r, { method: "POST", values: { id: "7" }, query: "?a=1", body: '{"n": 1}' }),
      {
        route: r,
        method: "POST",
        path: "/items/7",
        query: "a=1",
        body: '{"n": 1}',
        headers: { "Content-Type": "application/json" },
      },
    );
    assert.deepEqual(sendParams(r, { method: "GET", values: { id: "7" }, query: "", body: "x" }), {
      route: r,
      method: "GET",
      path: "/items/7",
    });
    assert.equal(contentTypeOf("hello"), "text/plain; charset=utf-8");
  });
});

describe("memory per route", () => {
  it("keys by file, API and route", () => {
    assert.notEqual(routeMemoryKey(route()), routeMemoryKey(route({ api: "Other" })));
    assert.notEqual(routeMemoryKey(route()), routeMemoryKey(route({ uri: "file:///x.yaml" })));
    assert.equal(routeMemoryKey(route()), routeMemoryKey(route({ line: 99 })));
  });
  it("starts from the last request, and drops what no longer fits the route", () => {
    const last = { method: "DELETE", values: { id: "3" }, query: "q=1", body: "{}" };
    assert.deepEqual(initialInput(route({ method: "ANY" }), last), last);
    assert.equal(initialInput(route(), last).method, "GET"); // the route is GET now
    assert.deepEqual(initialInput(route(), undefined), {
      method: "GET",
      values: {},
      query: "",
      body: "{}",
    });
    assert.deepEqual(initialInput(route({ path: "$default" }), undefined).values, { path: "/" });
  });
  it("reads back only well-formed memories", () => {
    assert.equal(asRequestInput(undefined), undefined);
    assert.equal(asRequestInput({ method: "GET" }), undefined);
    assert.deepEqual(
      asRequestInput({ method: "GET", values: { id: "1", n: 2 }, query: "", body: "" }),
      { method: "GET", values: { id: "1" }, query: "", body: "" },
    );
  });
});

describe("labels", () => {
  it("shows the request and the route table's line", () => {
    assert.equal(requestLabel("GET", "/items/1", "?x=2"), "GET /items/1?x=2");
    assert.equal(requestLabel("GET", "/items/1", ""), "GET /items/1");
    assert.match(hoverMarkdown(route()), /^`GET \/items\/\{id\} → GetItem \(REST, stage Prod\)`/);
    assert.match(hoverMarkdown(route({ function: null })), /cannot be sent/);
    assert.match(hoverMarkdown(route({ kind: "yandex", payload: "0.1" })), /payload 0\.1/);
    assert.match(
      hoverMarkdown(route(), "http://127.0.0.1:8080"),
      /sends it to the running app \(http:\/\/127\.0\.0\.1:8080\): the answer is its gateway's/,
    );
    assert.match(
      hoverMarkdown(route({ function: null }), "http://127.0.0.1:8080"),
      /cannot be sent/,
    );
  });
});
