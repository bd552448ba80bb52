/**
 * Pure text helpers (no `vscode` import; unit-tested in tests/client): function log lines as
 * people read them, tracebacks, stack-frame detection, the curl command, the reload line.
 */
import type { RunnerStateParams } from "./protocol";

/** The runner's direct-invocation endpoint (the Lambda Invoke API path; both platforms). */
export const INVOKE_PATH = (name: string): string =>
  `/2015-03-31/functions/${encodeURIComponent(name)}/invocations`;

/**
 * One line of a function's log as people read it, its `\r`-separated parts on lines of their
 * own (the runner's `readable_lines`, the same rule): both platforms keep a `\r` as a line break
 * inside one log entry (the AWS runtime joins an error's traceback with it), and the runner
 * passes lines on as written. A trailing line end (`\n`, `\r\n`) goes, and so do empty parts
 * before the first text (a progress bar's leading `\r`).
 */
export function readableLogLine(line: string): string {
  const text = line.replace(/\n$/, "").replace(/\r+$/, "");
  if (!text.includes("\r")) {
    return text;
  }
  const parts = text.split("\r");
  while (parts.length > 1 && parts[0] === "") {
    parts.shift();
  }
  return parts.join("\n");
}

/**
 * A readable Python traceback from a platform error body (`{errorMessage, errorType,
 * stackTrace}`), or undefined when the body is not one.
 */
export function tracebackOf(body: unknown): string | undefined {
  if (!isRecord(body) || typeof body.errorType !== "string") {
    return undefined;
  }
  const frames = Array.isArray(body.stackTrace)
    ? body.stackTrace.filter((f): f is string => typeof f === "string")
    : [];
  const message = typeof body.errorMessage === "string" ? body.errorMessage : "";
  const lines = frames.length ? ["Traceback (most recent call last):"] : [];
  for (const frame of frames) {
    lines.push(...frame.replace(/\n$/, "").split("\n"));
  }
  lines.push(message ? `${body.errorType}: ${message}` : body.errorType);
  return lines.join("\n");
}

export interface FrameMatch {
  /** Offsets in the text of the clickable part (`File "…", line N`). */
  start: number;
  end: number;
  file: string;
  line: number;
}

// `File "/x/main.py", line 3` (CPython tracebacks, both platforms' stackTrace entries), also the
// escaped form inside JSON strings (`File \"/x/main.py\", line 3`) and the AWS syntax-error form
// (`File "/x/main.py" Line 3`).
const FRAME_RE = /File \\?"([^"\\\n]+)\\?",? [Ll]ine (\d+)/g;

/** Every stack-frame reference in a text. */
export function findFrames(text: string): FrameMatch[] {
  const found: FrameMatch[] = [];
  for (const m of text.matchAll(FRAME_RE)) {
    const file = m[1];
    const line = Number(m[2]);
    if (file === undefined || !Number.isFinite(line)) {
      continue;
    }
    found.push({ start: m.index, end: m.index + m[0].length, file, line });
  }
  return found;
}

/** A POSIX-shell curl command invoking the function with an event (inline, or from a file). */
export function curlCommand(
  baseUrl: string,
  functionName: string,
  event: { json?: unknown; file?: string },
): string {
  const url = new URL(INVOKE_PATH(functionName), baseUrl).toString();
  const data = event.file !== undefined ? `@${event.file}` : JSON.stringify(event.json ?? {});
  return `curl -sS -X POST ${shellQuote(url)} -H 'Content-Type: application/json' --data-binary ${shellQuote(data)}`;
}

/** Single-quotes a word for a POSIX shell. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** "reloaded main.py in 40 ms" for an entry that just settled after a reload, else undefined. */
export function reloadText(e: RunnerStateParams): string | undefined {
  if (typeof e.reloadedMs !== "number" || e.state === "error") {
    return undefined;
  }
  const files = e.changed?.length ? e.changed.join(", ") : "the code";
  return `reloaded ${files} in ${e.reloadedMs.toFixed(0)} ms`;
}

// Headers a caller's curl does not send by hand: curl sets them, or the platform's front end
// adds them (and the runner refuses a Host that is not localhost).
const NOT_SENT = new Set([
  "host",
  "content-length",
  "connection",
  "transfer-encoding",
  "accept-encoding",
  "user-agent",
  "x-real-remote-address",
  "x-real-ip",
  "x-request-id",
  "x-trace-id",
  "x-amzn-trace-id",
  "x-envoy-external-address",
]);

/**
 * The curl command of the HTTP request an HTTP event describes, sent to the runner (which
 * serves one function at every path): what the function's caller does, answered with the
 * mapped HTTP response (`-i` shows its status line and headers). Reads the Yandex HTTP / API
 * Gateway event and API Gateway's REST (1.0) and HTTP API / function URL (2.0) events;
 * undefined for an event that names no HTTP method.
 */
export function httpCurlCommand(baseUrl: string, event: unknown): string | undefined {
  if (!isRecord(event)) {
    return undefined;
  }
  const ctx = isRecord(event.requestContext) ? event.requestContext : {};
  const http2 = isRecord(ctx.http) ? ctx.http : {};
  const method = [event.httpMethod, http2.method, ctx.httpMethod].find(
    (m): m is string => typeof m === "string" && /^[A-Za-z]+$/.test(m),
  );
  if (!method) {
    return undefined;
  }
  const rawPath = [event.rawPath, event.path, event.url].find(
    (p): p is string => typeof p === "string" && p.startsWith("/"),
  );
  const url = new URL(rawPath ?? "/", baseUrl);
  if (typeof event.rawQueryString === "string" && event.rawQueryString) {
    url.search = event.rawQueryString;
  } else {
    const multi = isRecord(event.multiValueQueryStringParameters)
      ? event.multiValueQueryStringParameters
      : {};
    const single = isRecord(event.queryStringParameters) ? event.queryStringParameters : {};
    for (const [k, v] of Object.entries(single)) {
      const values = Array.isArray(multi[k]) ? (multi[k] as unknown[]) : [v];
      for (const value of values) {
        url.searchParams.append(k, String(value));
      }
    }
  }
  const parts = ["curl", "-sS", "-i", "-X", method.toUpperCase(), shellQuote(url.toString())];
  const headers = isRecord(event.headers) ? event.headers : {};
  for (const [name, value] of Object.entries(headers)) {
    if (!NOT_SENT.has(name.toLowerCase()) && !name.toLowerCase().startsWith("x-forwarded-")) {
      parts.push("-H", shellQuote(`${name}: ${String(value)}`));
    }
  }
  if (Array.isArray(event.cookies) && event.cookies.length) {
    parts.push("-H", shellQuote(`Cookie: ${event.cookies.map(String).join("; ")}`));
  }
  const body = typeof event.body === "string" ? event.body : "";
  if (body && event.isBase64Encoded === true) {
    return `printf %s ${shellQuote(body)} | base64 -d | ${parts.join(" ")} --data-binary @-`;
  }
  if (body) {
    parts.push("--data-binary", shellQuote(body));
  }
  return parts.join(" ");
}

/**
 * What a run's figures mean when it paused in the debugger: the runner's duration and billed
 * figures count the pause, its timeout does not (the clock stands still at a breakpoint).
 */
export function pausedNote(pausedMs: number): string {
  const took = pausedMs >= 1000 ? `${(pausedMs / 1000).toFixed(1)} s` : `${String(pausedMs)} ms`;
  return `${took} paused in the debugger, which the timeout did not count`;
}
