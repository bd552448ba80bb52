import assert from "node:assert/strict";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import {
  eventFileStem,
  expandPath,
  isEventFileName,
  nextEventFileName,
  resolveFramePath,
  safeName,
} from "../../client/src/paths";

describe("expandPath", () => {
  it("expands ~, ${userHome} and ${workspaceFolder}", () => {
    assert.equal(expandPath("~/venv/bin/python", "/w"), path.join(os.homedir(), "venv/bin/python"));
    assert.equal(expandPath("${userHome}/py", undefined), `${os.homedir()}/py`);
    assert.equal(expandPath("${workspaceFolder}/.venv/bin/python", "/w"), "/w/.venv/bin/python");
  });
  it("anchors relative paths to the folder but leaves bare commands for PATH", () => {
    assert.equal(expandPath(".venv/bin/python", "/w"), "/w/.venv/bin/python");
    assert.equal(expandPath("python3.12", "/w"), "python3.12");
    assert.equal(expandPath("/usr/bin/python3", "/w"), "/usr/bin/python3");
  });
});

describe("resolveFramePath", () => {
  const files = new Set(["/w/greeter/main.py", "/w/orders/lib/db.py"]);
  const exists = (p: string): boolean => files.has(p);
  it("takes an existing absolute path as is", () => {
    assert.equal(
      resolveFramePath("/w/greeter/main.py", "/elsewhere", exists),
      "/w/greeter/main.py",
    );
  });
  it("maps a deployed path onto the code root by its longest existing tail", () => {
    assert.equal(
      resolveFramePath("/function/code/main.py", "/w/greeter", exists),
      "/w/greeter/main.py",
    );
    assert.equal(
      resolveFramePath("/var/task/lib/db.py", "/w/orders", exists),
      "/w/orders/lib/db.py",
    );
  });
  it("gives up on files that are nowhere", () => {
    assert.equal(
      resolveFramePath("/usr/lib/python3.11/json/__init__.py", "/w/greeter", exists),
      undefined,
    );
    assert.equal(resolveFramePath("main.py", undefined, exists), undefined);
  });
});

describe("event file names", () => {
  it("makes function names safe for folders", () => {
    assert.equal(safeName("greeter"), "greeter");
    assert.equal(safeName("api/v1:create order"), "api_v1_create_order");
    assert.equal(safeName("my_func_"), "my_func_");
    assert.equal(safeName(".."), "_");
    assert.equal(safeName("///"), "_");
  });
  it("tells saved events from their expected responses", () => {
    assert.equal(isEventFileName("ada.json"), true);
    assert.equal(isEventFileName("Ada.JSON"), true);
    assert.equal(isEventFileName("ada.expected.json"), false);
    assert.equal(isEventFileName("ada.Expected.json"), false);
    assert.equal(isEventFileName("notes.txt"), false);
  });
  it("names a new event file after its trigger, short and safe (issue #21 item 11)", () => {
    assert.equal(
      nextEventFileName(
        eventFileStem("HTTP invocation (functions.yandexcloud.net)", "http"),
        new Set(),
      ),
      "http.json",
    );
    assert.equal(
      nextEventFileName(eventFileStem("Amazon S3 notification", "s3"), new Set()),
      "s3.json",
    );
    assert.equal(
      nextEventFileName(eventFileStem("anything", "http"), new Set(["http.json"])),
      "http-2.json",
    );
    // No trigger: the label without its parenthesised detail, lower case, one dash per gap.
    assert.equal(eventFileStem("HTTP invocation (functions.yandexcloud.net)"), "http-invocation");
    assert.equal(eventFileStem("API Gateway, payload 0.1"), "api-gateway-payload-0.1");
    assert.equal(eventFileStem("(…)"), "event");
    assert.equal(eventFileStem("x".repeat(80)).length, 40);
    for (const stem of [eventFileStem("a/b\\c:d*e", ""), eventFileStem("..")]) {
      assert.equal(safeName(stem), stem);
    }
  });
  it("numbers new events after the taken ones", () => {
    assert.equal(nextEventFileName("HTTP GET /", new Set()), "HTTP_GET.json");
    assert.equal(
      nextEventFileName("event", new Set(["event.json", "event-2.json"])),
      "event-3.json",
    );
  });
});
