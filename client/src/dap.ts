/**
 * Pure helpers for the debug adapter that sits between VS Code and debugpy's adapter (no
 * `vscode` import; unit-tested in tests/client): DAP's wire framing, the one change made to the
 * editor's `initialize`, and the configuration of a worker's child session.
 *
 * Why a go-between at all: debugpy announces each worker process (the runner's worker and its
 * standby) with a `startDebugging` request when the editor says it supports one, and VS Code
 * then starts a child session that is managed on its own: ending a debug run took one
 * Disconnect per session (issue #21 item 6). Told that the editor does not support it, debugpy
 * sends a `debugpyAttach` event instead, and the extension starts the child itself, with
 * `lifecycleManagedByParent` (Stop on a worker stops the run) and in the parent's console.
 */

/** One DAP message as written on the wire: `Content-Length` header, blank line, JSON body. */
export function encodeMessage(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), "utf8");
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "ascii"), body]);
}

/** Splits a byte stream into DAP messages, whatever the chunk boundaries. */
export class MessageReader {
  private buffer: Buffer = Buffer.alloc(0);

  /** The messages completed by `chunk`; a message whose body is not JSON is skipped. */
  push(chunk: Buffer): unknown[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const out: unknown[] = [];
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end < 0) {
        return out;
      }
      const header = this.buffer.subarray(0, end).toString("ascii");
      const match = /(?:^|\r\n)Content-Length:\s*(\d+)/i.exec(header);
      if (!match) {
        // Not a header we can read: drop it rather than stall the stream.
        this.buffer = this.buffer.subarray(end + 4);
        continue;
      }
      const length = Number(match[1]);
      if (this.buffer.length < end + 4 + length) {
        return out;
      }
      const body = this.buffer.subarray(end + 4, end + 4 + length).toString("utf8");
      this.buffer = this.buffer.subarray(end + 4 + length);
      try {
        out.push(JSON.parse(body) as unknown);
      } catch {
        // skipped: one bad message must not end the session
      }
    }
  }
}

interface Request {
  type?: unknown;
  command?: unknown;
  arguments?: Record<string, unknown>;
}

/**
 * A message from the editor as debugpy should get it: `initialize` says the editor does not
 * take `startDebugging`, so workers are announced by a `debugpyAttach` event; every other
 * message is passed as it is.
 */
export function toAdapter(message: unknown): unknown {
  const m = (message ?? {}) as Request;
  if (m.type === "request" && m.command === "initialize") {
    return { ...m, arguments: { ...(m.arguments ?? {}), supportsStartDebuggingRequest: false } };
  }
  return message;
}

/**
 * What may still go to debugpy on one session's connection. debugpy's adapter ends its own
 * process (`os._exit(1)`, "fail fast") when a request's handler cannot answer because the
 * client's connection was closed meanwhile — and a `disconnect` closes it. VS Code sends a
 * `disconnect` to a worker's session when the worker is replaced, and `setBreakpoints` to every
 * session on a save: both come at once when a save reloads the function, and the adapter — the
 * whole debug run, every worker's session with it — was gone (seen in the e2e: the next worker
 * could not connect, the reload waited for ever). After a `disconnect` has gone out, nothing
 * more does: later requests are answered by the go-between.
 */
export class SessionGate {
  private disconnected = false;

  /** True when `message` (from the editor) may be written to debugpy; false: answer it here. */
  admit(message: unknown): boolean {
    if (this.disconnected) {
      return false;
    }
    const m = (message ?? {}) as Request;
    if (m.type === "request" && m.command === "disconnect") {
      this.disconnected = true;
    }
    return true;
  }
}

/**
 * The configuration of a worker's child session from debugpy's `debugpyAttach` body: our
 * debug type, an attach, and a name people read ("Debug greeter · worker 4242" rather than
 * "Subprocess 4242").
 */
export function workerConfiguration(
  body: Record<string, unknown>,
  parentName: string,
  debugType: string,
): Record<string, unknown> & { type: string; request: string; name: string } {
  const pid = body.subProcessId;
  const worker = typeof pid === "number" || typeof pid === "string" ? `worker ${pid}` : "worker";
  return { ...body, type: debugType, request: "attach", name: `${parentName} · ${worker}` };
}

/**
 * The top-level session of Debug App: the server's `attach` configuration for the app's
 * debugpy (it keeps `subProcess`, `justMyCode` and the rules that hide the runner's frames),
 * always of our debug type and connecting to `debugPort` when it names no address, marked
 * with the app's folder under `appKey` so the session is found again (Stop App ends it).
 */
export function appConfiguration(
  server: Record<string, unknown> | undefined,
  debugPort: number,
  root: string,
  names: { debugType: string; appKey: string; folderName: string },
): Record<string, unknown> & { type: string; request: string; name: string } {
  const given = server ?? {};
  const connect = (given.connect ?? {}) as { port?: unknown };
  const config: Record<string, unknown> = {
    name: `Debug app ${names.folderName}`,
    justMyCode: true,
    subProcess: true,
    ...given,
    type: names.debugType,
    request: "attach",
    [names.appKey]: root,
  };
  if (typeof connect.port !== "number") {
    config.connect = { host: "127.0.0.1", port: debugPort };
  }
  return config as Record<string, unknown> & { type: string; request: string; name: string };
}
