import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pausedNote } from "../../client/src/format";
import type { RunResult } from "../../client/src/protocol";
import { esc, highlightJson, responseBody, responseHtml } from "../../client/src/webview/html";
import { bodyView, responseModel, tracebackView } from "../../client/src/webview/model";

const b64 = (s: string | Buffer): string => Buffer.from(s).toString("base64");

// What the server answers for `return {"statusCode": 201, "headers": {…}, "body": "{…}"}` on
// Yandex: the invocation is 200, the caller gets 201 with the function's headers.
const created: RunResult = {
  status: 200,
  headers: { "Content-Type": "application/json", "x-amzn-requestid": "r-1", connection: "close" },
  body: '{"statusCode": 201, "headers": {"Content-Type": "application/json", "Location": "/users/7"}, "body": "{\\"id\\": 7, \\"name\\": \\"Ada\\"}"}',
  json: {
    statusCode: 201,
    headers: { "Content-Type": "application/json", Location: "/users/7" },
    body: '{"id": 7, "name": "Ada"}',
  },
  functionError: false,
  requestId: "r-1",
  durationMs: 3.14159,
  billedMs: 100,
  memoryMb: 128,
  maxMemoryMb: 21,
  initMs: 80.5,
  logs: ["START RequestID: r-1\n", "END RequestID: r-1", "REPORT RequestID: r-1 Duration: 3.14 ms"],
  url: "http://127.0.0.1:4000",
  http: {
    status: 201,
    reason: "Created",
    headers: [
      ["Content-Type", "application/json"],
      ["Location", "/users/7"],
    ],
    bodyBase64: b64('{"id": 7, "name": "Ada"}'),
    trigger: "http",
    warning: null,
  },
};

describe("responseModel: an HTTP function", () => {
  it("shows the caller's status line, the function's headers and the body pretty-printed", () => {
    const m = responseModel(created);
    assert.equal(m.kind, "http");
    assert.equal(m.statusLine, "201 Created");
    assert.equal(m.failed, false);
    assert.deepEqual(m.headers, [
      ["Content-Type", "application/json"],
      ["Location", "/users/7"],
    ]);
    assert.deepEqual(m.body, { kind: "json", text: '{\n  "id": 7,\n  "name": "Ada"\n}' });
    assert.equal(m.bodyText, '{\n  "id": 7,\n  "name": "Ada"\n}');
    // the raw return value, one click away, is the dict the handler returned
    assert.match(m.raw, /"statusCode": 201/);
    assert.deepEqual(m.figures.slice(0, 3), [
      ["Duration", "3.14 ms"],
      ["Billed", "100 ms"],
      ["Init (cold start)", "80.50 ms"],
    ]);
    assert.ok(m.figures.some(([k, v]) => k === "Memory" && v === "21 MB used of 128 MB"));
    assert.equal(m.logs[0], "START RequestID: r-1");
  });

  it("marks a 5xx as failed and carries the mapping's warning", () => {
    const http = created.http;
    assert.ok(http);
    const m = responseModel({
      ...created,
      http: {
        ...http,
        status: 502,
        reason: "Bad Gateway",
        warning: "`body` must be a string",
      },
    });
    assert.equal(m.statusLine, "502 Bad Gateway");
    assert.equal(m.failed, true);
    assert.equal(m.warning, "`body` must be a string");
  });
});

describe("responseModel: any other trigger", () => {
  it("shows the return value as pretty JSON, no headers", () => {
    const m = responseModel({ ...created, http: null, json: { ok: true } });
    assert.equal(m.kind, "result");
    assert.equal(m.statusLine, "Returned");
    assert.deepEqual(m.headers, []);
    assert.deepEqual(m.body, { kind: "json", text: '{\n  "ok": true\n}' });
  });
  it("keeps a non-JSON body as text and says when it is empty", () => {
    const plain = { ...created, http: undefined, json: undefined };
    assert.deepEqual(responseModel({ ...plain, body: "plain <b>text</b>" }).body, {
      kind: "text",
      text: "plain <b>text</b>",
    });
    assert.deepEqual(responseModel({ ...plain, body: "" }).body, { kind: "empty" });
  });
});

describe("bodyView", () => {
  it("decodes base64 and formats by content type", () => {
    assert.deepEqual(bodyView(b64("<p>hi</p>"), "text/html; charset=utf-8"), {
      kind: "text",
      text: "<p>hi</p>",
    });
    assert.deepEqual(bodyView(b64('{"a":1}'), "application/problem+json"), {
      kind: "json",
      text: '{\n  "a": 1\n}',
    });
    // no content type: JSON when it parses
    assert.equal(bodyView(b64("[1,2]"), undefined).kind, "json");
    // a text/plain body that looks like JSON stays as written
    assert.deepEqual(bodyView(b64("[1,2]"), "text/plain"), { kind: "text", text: "[1,2]" });
    assert.deepEqual(bodyView("", "application/json"), { kind: "empty" });
  });
  it("shows images, and says how big binary data is", () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff]);
    assert.deepEqual(bodyView(png.toString("base64"), "image/png"), {
      kind: "image",
      mime: "image/png",
      base64: png.toString("base64"),
      bytes: 9,
    });
    assert.equal(bodyView(png.toString("base64"), "application/octet-stream").kind, "binary");
  });
});

describe("tracebackView", () => {
  const error = {
    errorMessage: "division by zero",
    errorType: "ZeroDivisionError",
    stackTrace: [
      '  File "/ext/bundled/libs/handlerlens/worker/loader.py", line 88, in call\n    return handler(event, context)\n',
      '  File "/work/greeter/main.py", line 7, in handler\n    return 1 / 0\n',
    ],
  };
  it("keeps only the user's frames, each with its file, line and code, and counts the rest", () => {
    const t = tracebackView(error, (f) => f.startsWith("/work/"));
    assert.deepEqual(t, {
      error: "ZeroDivisionError: division by zero",
      frames: [{ file: "/work/greeter/main.py", line: 7, where: "handler", code: "return 1 / 0" }],
      hidden: 1,
    });
  });
  it("is undefined for a body that is no error", () => {
    assert.equal(
      tracebackView({ statusCode: 200 }, () => true),
      undefined,
    );
  });
  it("comes with a function error in the model", () => {
    const m = responseModel({ ...created, functionError: true, json: error, http: null }, (f) =>
      f.startsWith("/work/"),
    );
    assert.equal(m.statusLine, "Function error");
    assert.equal(m.traceback?.frames.length, 1);
  });
});

describe("responseModel: a run paused in the debugger (issue #21 item 7)", () => {
  it("says the figures count the pause and the timeout did not", () => {
    const m = responseModel(created, () => true, 5430.4);
    assert.deepEqual(m.figures.slice(0, 3), [
      ["Duration", "3.14 ms"],
      ["Billed", "100 ms"],
      ["Paused in the debugger", "5430 ms"],
    ]);
    assert.equal(m.pausedNote, "5.4 s paused in the debugger, which the timeout did not count");
    const html = responseBody({
      functionName: "greeter",
      entry: "main.handler",
      eventLabel: "e",
      at: new Date(2026, 0, 1),
      model: m,
    });
    assert.match(
      html,
      /<div class="warning paused">The duration and billed figures include 5\.4 s paused in the debugger, which the timeout did not count\.<\/div>/,
    );
  });
  it("says nothing of a run that did not pause", () => {
    const m = responseModel(created);
    assert.equal(m.pausedNote, undefined);
    assert.ok(!m.figures.some(([k]) => k.startsWith("Paused")));
    assert.equal(pausedNote(250), "250 ms paused in the debugger, which the timeout did not count");
  });
});

describe("responseHtml", () => {
  const state = {
    functionName: "greeter",
    entry: "main.handler",
    eventLabel: "HTTP <GET>",
    at: new Date(2026, 0, 1, 12, 0, 0),
    model: responseModel(created),
  };
  it("allows nothing but its own nonce'd style and script, and data: images", () => {
    const html = responseHtml(state, "N0nce");
    assert.match(
      html,
      /content="default-src 'none'; img-src data:; style-src 'nonce-N0nce'; script-src 'nonce-N0nce';"/,
    );
    assert.doesNotMatch(html, /https?:\/\//);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.match(html, /<script nonce="N0nce">/);
  });
  it("shows the status line, the headers, the body and the buttons; escapes what it shows", () => {
    const html = responseHtml(state, "n");
    assert.match(html, /<div class="status ok" id="status" data-request-id="">201 Created<\/div>/);
    assert.match(html, /<th>Location<\/th><td>\/users\/7<\/td>/);
    assert.match(
      html,
      /<span class="k">&quot;name&quot;<\/span>: <span class="s">&quot;Ada&quot;<\/span>/,
    );
    for (const cmd of ["rerun", "copyBody", "copyCurl", "saveEvent", "saveTest"]) {
      assert.match(html, new RegExp(`data-cmd="${cmd}"`));
    }
    assert.match(html, /event “HTTP &lt;GET&gt;”/);
    assert.doesNotMatch(html, /class="stale"/);
  });
  it("puts the content in #root, which a `render` message replaces (no reload per run)", () => {
    const html = responseHtml(state, "n");
    assert.ok(html.includes(`<div id="root">${responseBody(state)}</div>`));
    assert.match(html, /e\.data\.type === "render"/);
    assert.match(html, /vscode\.postMessage\(\{ type: "ready" \}\)/);
    assert.doesNotMatch(responseBody(state), /<script|<style/);
  });
  it("marks a response the code changed since", () => {
    const html = responseHtml({ ...state, changedSince: ["main.py"] }, "n");
    assert.match(html, /class="stale"[^>]*>⚠ The code changed since this response\s+\(main\.py\)/);
  });
  it("links each user frame to its file and line", () => {
    const html = responseHtml(
      {
        ...state,
        model: {
          ...state.model,
          traceback: {
            error: "ZeroDivisionError: division by zero",
            frames: [{ file: "/w/main.py", line: 7, where: "handler", code: "return 1 / 0" }],
            hidden: 3,
          },
        },
      },
      "n",
    );
    assert.match(html, /<a href="#" data-file="\/w\/main\.py" data-line="7"/);
    assert.match(html, />main\.py:7<\/a> in <code>handler<\/code>/);
    assert.match(html, /3 frame\(s\) of the runtime left out/);
    // a function error reads from the error down: the traceback comes before headers and body
    assert.ok(html.indexOf('class="trace"') < html.indexOf('class="headers"'));
  });
});

describe("highlightJson / esc", () => {
  it("escapes before highlighting", () => {
    assert.equal(
      highlightJson('{"a": "<b>", "n": -1.5, "t": true}'),
      '{<span class="k">&quot;a&quot;</span>: <span class="s">&quot;&lt;b&gt;&quot;</span>, <span class="k">&quot;n&quot;</span>: <span class="n">-1.5</span>, <span class="k">&quot;t&quot;</span>: <span class="l">true</span>}',
    );
    assert.equal(
      esc(`<a href="x">'&'</a>`),
      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
    );
  });
});
