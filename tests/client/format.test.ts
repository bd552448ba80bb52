import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  curlCommand,
  findFrames,
  httpCurlCommand,
  readableLogLine,
  reloadText,
  shellQuote,
  tracebackOf,
} from "../../client/src/format";

// awslambdaric's text-format error record: one line, its parts joined by \r, NBSP-indented.
const awsErrorRecord =
  "[ERROR] ValueError: bad input: 2\rTraceback (most recent call last):\r" +
  '\u00a0\u00a0File "/var/task/app.py", line 59, in boom\r' +
  '\u00a0\u00a0\u00a0\u00a0raise ValueError("bad input: " + str(n))\n';

describe("readableLogLine", () => {
  it("puts each \\r-separated part of an error record on its own line, nothing lost", () => {
    assert.equal(
      readableLogLine(awsErrorRecord),
      [
        "[ERROR] ValueError: bad input: 2",
        "Traceback (most recent call last):",
        '\u00a0\u00a0File "/var/task/app.py", line 59, in boom',
        '\u00a0\u00a0\u00a0\u00a0raise ValueError("bad input: " + str(n))',
      ].join("\n"),
    );
  });
  it("leaves lines without \\r as they are, minus the line end", () => {
    assert.equal(readableLogLine("handling {}\n"), "handling {}");
    assert.equal(readableLogLine("crlf\r\n"), "crlf");
    assert.equal(readableLogLine(""), "");
  });
  it("shows a progress bar's redraws as lines, without a leading blank", () => {
    assert.equal(readableLogLine("\r10%\r50%\r100%\n"), "10%\n50%\n100%");
  });
});

describe("tracebackOf", () => {
  it("is undefined for ordinary bodies", () => {
    assert.equal(tracebackOf({ statusCode: 200 }), undefined);
    assert.equal(tracebackOf("x"), undefined);
  });
  it("handles an error without stackTrace (Yandex timeout)", () => {
    assert.equal(
      tracebackOf({
        errorMessage: "Exceeded maximum function execution time",
        errorType: "Timeout",
      }),
      "Timeout: Exceeded maximum function execution time",
    );
  });
});

describe("findFrames", () => {
  it("finds CPython frames, JSON-escaped frames and the AWS syntax-error form", () => {
    const text = [
      '  File "/a/main.py", line 7, in handler',
      '"  File \\"/var/task/app.py\\", line 12, in list_orders\\n"',
      '  File "/function/code/x.py" Line 3',
    ].join("\n");
    const frames = findFrames(text);
    assert.deepEqual(
      frames.map((f) => [f.file, f.line]),
      [
        ["/a/main.py", 7],
        ["/var/task/app.py", 12],
        ["/function/code/x.py", 3],
      ],
    );
    const first = frames[0];
    assert.ok(first);
    assert.equal(text.slice(first.start, first.end), 'File "/a/main.py", line 7');
  });
  it("finds nothing in ordinary text", () => {
    assert.deepEqual(findFrames('the file "x" has lines'), []);
  });
});

describe("curlCommand", () => {
  it("posts the last event to the runner's invoke endpoint", () => {
    assert.equal(
      curlCommand("http://127.0.0.1:8080", "greeter", { json: { name: "O'Brien" } }),
      `curl -sS -X POST http://127.0.0.1:8080/2015-03-31/functions/greeter/invocations -H 'Content-Type: application/json' --data-binary '{"name":"O'\\''Brien"}'`,
    );
  });
  it("posts a saved event file with @path", () => {
    assert.match(
      curlCommand("http://127.0.0.1:8080/", "a b", { file: "/w/e.json" }),
      /functions\/a%20b\/invocations .* --data-binary @\/w\/e\.json$/,
    );
  });
  it("quotes only what needs quoting", () => {
    assert.equal(shellQuote("abc/def.json"), "abc/def.json");
    assert.equal(shellQuote("a b"), "'a b'");
  });
});

describe("reloadText", () => {
  it("names the changed files and the reload's time", () => {
    assert.equal(
      reloadText({ state: "running", changed: ["main.py"], reloadedMs: 40.4 }),
      "reloaded main.py in 40 ms",
    );
    assert.equal(
      reloadText({ state: "running", changed: [], reloadedMs: 7 }),
      "reloaded the code in 7 ms",
    );
  });
  it("says nothing for a state that is no finished reload", () => {
    assert.equal(reloadText({ state: "running" }), undefined);
    assert.equal(reloadText({ state: "error", reloadedMs: 3 }), undefined);
  });
});

describe("httpCurlCommand", () => {
  const base = "http://127.0.0.1:4000";
  it("sends a Yandex HTTP event's method, query, headers and body, not Host or forwarding", () => {
    const cmd = httpCurlCommand(base, {
      httpMethod: "POST",
      url: "",
      queryStringParameters: { name: "Ada", tag: "b" },
      multiValueQueryStringParameters: { name: ["Ada"], tag: ["a", "b"] },
      headers: {
        Host: "functions.yandexcloud.net",
        "Content-Type": "application/json",
        "X-Forwarded-For": "1.2.3.4",
        "X-Request-Id": "r",
      },
      body: '{"hello": "world"}',
      isBase64Encoded: false,
    });
    assert.equal(
      cmd,
      `curl -sS -i -X POST 'http://127.0.0.1:4000/?name=Ada&tag=a&tag=b' -H 'Content-Type: application/json' --data-binary '{"hello": "world"}'`,
    );
  });
  it("reads an HTTP API (2.0) event: rawPath, rawQueryString, cookies", () => {
    const cmd = httpCurlCommand(base, {
      version: "2.0",
      rawPath: "/my/path",
      rawQueryString: "a=1&a=2",
      cookies: ["c1=x", "c2=y"],
      headers: { host: "x.lambda-url.aws", header1: "v" },
      requestContext: { http: { method: "GET" } },
    });
    assert.equal(
      cmd,
      `curl -sS -i -X GET 'http://127.0.0.1:4000/my/path?a=1&a=2' -H 'header1: v' -H 'Cookie: c1=x; c2=y'`,
    );
  });
  it("decodes a base64 body through a pipe", () => {
    const cmd = httpCurlCommand(base, {
      httpMethod: "PUT",
      path: "/f",
      body: "AAE=",
      isBase64Encoded: true,
    });
    assert.equal(
      cmd,
      "printf %s AAE= | base64 -d | curl -sS -i -X PUT http://127.0.0.1:4000/f --data-binary @-",
    );
  });
  it("is undefined for an event that is no HTTP request", () => {
    assert.equal(httpCurlCommand(base, { Records: [] }), undefined);
    assert.equal(httpCurlCommand(base, "x"), undefined);
  });
});
