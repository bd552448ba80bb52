import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  appConfiguration,
  encodeMessage,
  MessageReader,
  SessionGate,
  toAdapter,
  workerConfiguration,
} from "../../client/src/dap";

describe("DAP framing", () => {
  it("reads back what it writes, across any chunk boundaries", () => {
    const messages = [
      { seq: 1, type: "request", command: "initialize", arguments: { adapterID: "x" } },
      { seq: 2, type: "event", event: "output", body: { output: "héllo ✓\n" } },
      { seq: 3, type: "response", request_seq: 1, success: true, command: "initialize" },
    ];
    const wire = Buffer.concat(messages.map(encodeMessage));
    for (const size of [1, 2, 7, 64, wire.length]) {
      const reader = new MessageReader();
      const got: unknown[] = [];
      for (let i = 0; i < wire.length; i += size) {
        got.push(...reader.push(wire.subarray(i, i + size)));
      }
      assert.deepEqual(got, messages, `chunks of ${size}`);
    }
  });
  it("counts the body in bytes, not characters", () => {
    const wire = encodeMessage({ text: "ü" });
    assert.match(wire.toString("utf8"), /^Content-Length: 13\r\n\r\n/);
  });
  it("skips a body that is not JSON and goes on", () => {
    const bad = Buffer.from("Content-Length: 3\r\n\r\n{x}", "ascii");
    const reader = new MessageReader();
    assert.deepEqual(reader.push(Buffer.concat([bad, encodeMessage({ ok: 1 })])), [{ ok: 1 }]);
  });
});

describe("toAdapter", () => {
  it("tells debugpy the editor takes no startDebugging request (workers come as events)", () => {
    const init = {
      seq: 1,
      type: "request",
      command: "initialize",
      arguments: { adapterID: "handlerlens", supportsStartDebuggingRequest: true },
    };
    assert.deepEqual(toAdapter(init), {
      ...init,
      arguments: { adapterID: "handlerlens", supportsStartDebuggingRequest: false },
    });
    assert.equal(init.arguments.supportsStartDebuggingRequest, true); // the original is kept
    const other = { seq: 2, type: "request", command: "attach", arguments: {} };
    assert.equal(toAdapter(other), other);
  });
});

describe("workerConfiguration", () => {
  it("attaches with our type and a readable name, keeping debugpy's connection", () => {
    const body = {
      type: "debugpy",
      request: "attach",
      name: "Subprocess 4242",
      subProcessId: 4242,
      connect: { host: "127.0.0.1", port: 5678 },
      handlerlensFunction: "/w::greeter",
    };
    assert.deepEqual(workerConfiguration(body, "Debug greeter", "handlerlens"), {
      ...body,
      type: "handlerlens",
      request: "attach",
      name: "Debug greeter · worker 4242",
    });
    assert.equal(workerConfiguration({}, "Debug x", "handlerlens").name, "Debug x · worker");
  });
});

describe("SessionGate", () => {
  it("lets everything through until the session's disconnect, then nothing more", () => {
    // A save reloads the function: VS Code disconnects the replaced worker's session and sends
    // setBreakpoints to every session at once; debugpy's adapter exits if it handles the
    // setBreakpoints after the disconnect closed that connection.
    const gate = new SessionGate();
    const request = (seq: number, command: string) => ({ seq, type: "request", command });
    assert.equal(gate.admit(request(1, "setBreakpoints")), true);
    assert.equal(gate.admit({ seq: 2, type: "response", request_seq: 7, success: true }), true);
    assert.equal(gate.admit(request(3, "threads")), true);
    assert.equal(gate.admit(request(4, "disconnect")), true);
    assert.equal(gate.admit(request(5, "setBreakpoints")), false);
    assert.equal(gate.admit(request(6, "disconnect")), false);
    assert.equal(gate.admit({ seq: 7, type: "response", request_seq: 8, success: true }), false);
  });
  it("does not end at a terminate (debugpy keeps the connection until the disconnect)", () => {
    const gate = new SessionGate();
    assert.equal(gate.admit({ seq: 1, type: "request", command: "terminate" }), true);
    assert.equal(gate.admit({ seq: 2, type: "request", command: "setBreakpoints" }), true);
    assert.equal(gate.admit({ seq: 3, type: "request", command: "disconnect" }), true);
  });
});

describe("appConfiguration", () => {
  const names = { debugType: "handlerlens", appKey: "handlerlensApp", folderName: "shop" };
  it("keeps the server's attach configuration, as our type, marked with the app's folder", () => {
    const server = {
      type: "handlerlens",
      request: "attach",
      name: "Debug app shop",
      connect: { host: "127.0.0.1", port: 5678 },
      justMyCode: true,
      subProcess: true,
      rules: [{ module: "handlerlens", include: false }],
    };
    assert.deepEqual(appConfiguration(server, 5678, "/w/shop", names), {
      ...server,
      handlerlensApp: "/w/shop",
    });
  });
  it("connects to the debug port, a child-process attach, when the server sent no config", () => {
    const config = appConfiguration(undefined, 6000, "/w/shop", names);
    assert.deepEqual(config, {
      name: "Debug app shop",
      justMyCode: true,
      subProcess: true,
      type: "handlerlens",
      request: "attach",
      handlerlensApp: "/w/shop",
      connect: { host: "127.0.0.1", port: 6000 },
    });
  });
  it("is always an attach of our own type (debugpy's type needs the Python extension)", () => {
    const config = appConfiguration(
      { type: "debugpy", request: "launch", connect: { port: 1 } },
      2,
      "/w",
      names,
    );
    assert.equal(config.type, "handlerlens");
    assert.equal(config.request, "attach");
    assert.deepEqual(config.connect, { port: 1 });
  });
});
