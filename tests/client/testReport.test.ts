import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  eventListArgs,
  judgeArgs,
  parseEventListing,
  parseTestReport,
  testArgs,
  verdictText,
} from "../../client/src/testReport";

const project = { root: "/p", eventsFolder: ".handlerlens/events" };

describe("parseEventListing", () => {
  it("reads functions and events, an orphan's function as null", () => {
    const listing = parseEventListing(
      JSON.stringify({
        root: "/p",
        functions: [
          {
            name: "api",
            testName: "api",
            platform: "aws",
            entry: "app.api",
            root: "/p",
            trigger: "http-api",
            declaredIn: "/p/pyproject.toml",
          },
        ],
        events: [
          {
            id: "api::ada",
            function: "api",
            folder: "api",
            event: "ada",
            path: "/p/.handlerlens/events/api/ada.json",
            expected: "/p/.handlerlens/events/api/ada.expected.json",
            state: "expected",
          },
          { id: "old::x", function: null, folder: "old", event: "x", path: "/p/x.json" },
          { id: 3, path: "/p/bad.json" },
        ],
        warnings: ["w", 1],
      }),
    );
    assert.equal(listing.functions[0]?.declaredIn, "/p/pyproject.toml");
    assert.deepEqual(
      listing.events.map((e) => [e.id, e.function, e.state]),
      [
        ["api::ada", "api", "expected"],
        ["old::x", null, ""],
      ],
    );
    assert.deepEqual(listing.warnings, ["w"]);
  });

  it("says what came instead of JSON", () => {
    assert.throws(
      () => parseEventListing("Traceback (most recent call last):\n  boom"),
      /handlerlens event list did not answer JSON: Traceback/,
    );
    assert.throws(() => parseEventListing(""), /did not answer JSON \(no output\)/);
    assert.throws(() => parseEventListing("[1]"), /not an object/);
  });
});

describe("parseTestReport", () => {
  it("keeps known statuses with both sides of the comparison", () => {
    const report = parseTestReport(
      JSON.stringify({
        tests: [
          {
            id: "api::ada",
            path: "/p/a.json",
            expected: "/p/a.expected.json",
            status: "failed",
            message: "",
            diff: "--- expected\n+++ actual",
            expectedText: '{"status": 404}',
            actualText: '{"status": 200}',
            durationMs: 12.5,
          },
          { id: "x", path: "/p/x.json", status: "weird" },
        ],
        warnings: [],
      }),
    );
    assert.equal(report.tests.length, 1);
    const [v] = report.tests;
    assert.ok(v);
    assert.equal(v.expectedText, '{"status": 404}');
    assert.equal(v.durationMs, 12.5);
    assert.equal(verdictText(v), "the response differs from the expected file");
    assert.equal(
      verdictText({ ...v, expectedText: "", message: "the function failed: E: x" }),
      "the function failed: E: x\n--- expected\n+++ actual",
    );
  });
});

describe("command lines", () => {
  it("names the root and the events folder; --update accepts errors too", () => {
    assert.deepEqual(eventListArgs(project), [
      "-m",
      "handlerlens",
      "event",
      "list",
      "--format",
      "json",
      "--root",
      "/p",
      "--events-folder",
      ".handlerlens/events",
    ]);
    assert.deepEqual(testArgs({ ...project, paths: ["/p/a.json"], timeout: 2, update: true }), [
      "-m",
      "handlerlens",
      "test",
      "/p/a.json",
      "--format",
      "json",
      "--root",
      "/p",
      "--events-folder",
      ".handlerlens/events",
      "--timeout",
      "2",
      "--update",
      "--update-errors",
    ]);
    assert.deepEqual(judgeArgs({ ...project, path: "/p/a.json" }).slice(0, 3), [
      "-m",
      "handlerlens.replay.judge",
      "/p/a.json",
    ]);
  });
});
