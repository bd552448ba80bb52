import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  curlCommand,
  findFrames,
  readableLogLine,
  renderResponse,
  shellQuote,
  tracebackOf,
} from "../../client/src/format";
import type { RunResult } from "../../client/src/protocol";

const ok: RunResult = {
  status: 200,
  headers: { "Content-Type": "application/json" },
  body: '{"greeting": "Hello, world!"}',
  functionError: false,
  requestId: "b1946ac9-2f3c",
  durationMs: 3.14159,
  billedMs: 100,
  memoryMb: 128,
  maxMemoryMb: 21,
  initMs: 80.5,
  logs: [
    "START RequestId: b1946ac9-2f3c Version: $LATEST\n",
    "END RequestId: b1946ac9-2f3c",
    "REPORT RequestId: b1946ac9-2f3c Duration: 3.14 ms",
  ],
};
const meta = {
  functionName: "greeter",
  entry: "main.handler",
  eventLabel: "HTTP GET /",
  at: new Date(2026, 0, 1, 12, 0, 0),
};

describe("renderResponse", () => {
  it("shows status, measurements, headers, pretty JSON body and the log", () => {
    const text = renderResponse(meta, ok);
    assert.match(text, /^# greeter: 200 OK$/m);
    assert.match(text, /^- Duration: 3\.14 ms, billed 100 ms, init 80\.50 ms \(cold start\)$/m);
    assert.match(text, /^- Memory: 21 MB used of 128 MB$/m);
    assert.match(text, /^- Request id: b1946ac9-2f3c$/m);
    assert.ok(text.indexOf("## Body") < text.indexOf("## Headers"), "body comes before headers");
    assert.match(text, /^Content-Type: application\/json$/m);
    assert.ok(text.includes('```json\n{\n  "greeting": "Hello, world!"\n}\n```'));
    assert.match(text, /^REPORT RequestId: b1946ac9-2f3c Duration: 3\.14 ms$/m);
    assert.doesNotMatch(text, /Traceback/);
  });

  it("shows a function error as the platform returns it, plus a readable traceback", () => {
    const body = {
      errorMessage: "division by zero",
      errorType: "ZeroDivisionError",
      stackTrace: ['  File "/work/greeter/main.py", line 7, in handler\n    return 1 / 0\n'],
    };
    const text = renderResponse(meta, {
      ...ok,
      status: 502,
      functionError: true,
      body: JSON.stringify(body),
      initMs: undefined,
    });
    assert.match(text, /^# greeter: 502 Bad Gateway — function error$/m);
    assert.ok(text.includes('"errorType": "ZeroDivisionError"'));
    assert.ok(
      text.includes(
        'Traceback (most recent call last):\n  File "/work/greeter/main.py", line 7, in handler\n    return 1 / 0\nZeroDivisionError: division by zero',
      ),
    );
    assert.doesNotMatch(text, /init|cold start/);
  });

  it("keeps a non-JSON body as text and says when it is empty", () => {
    assert.ok(
      renderResponse(meta, { ...ok, body: "plain <b>text</b>" }).includes(
        "```text\nplain <b>text</b>\n```",
      ),
    );
    assert.ok(renderResponse(meta, { ...ok, body: "" }).includes("```text\n(empty)\n```"));
  });

  it("prefers the server's parsed json over re-parsing the body", () => {
    const text = renderResponse(meta, { ...ok, body: "ignored", json: { a: 1 } });
    assert.ok(text.includes('{\n  "a": 1\n}'));
  });
});

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
  it("shows the record as lines in the response document's log", () => {
    const text = renderResponse(meta, { ...ok, logs: [awsErrorRecord] });
    assert.ok(!text.includes("\r"));
    assert.ok(text.includes("bad input: 2\nTraceback (most recent call last):\n\u00a0\u00a0File"));
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
