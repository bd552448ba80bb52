/**
 * Pure text helpers (no `vscode` import; unit-tested in tests/client): the response document,
 * function log lines as people read them, stack-frame detection and the curl command.
 */
import { STATUS_CODES } from "node:http";
import type { RunResult } from "./protocol";

/** The runner's direct-invocation endpoint (the Lambda Invoke API path; both platforms). */
export const INVOKE_PATH = (name: string): string =>
  `/2015-03-31/functions/${encodeURIComponent(name)}/invocations`;

export interface ResponseMeta {
  functionName: string;
  entry: string;
  eventLabel: string;
  at: Date;
}

/** Markdown text of one invocation: status, measurements, body, traceback, headers, log. */
export function renderResponse(meta: ResponseMeta, r: RunResult): string {
  const reason = STATUS_CODES[r.status] ?? "";
  const verdict = r.functionError ? " — function error" : "";
  const out: string[] = [];
  out.push(`# ${meta.functionName}: ${r.status} ${reason}${verdict}`.trimEnd(), "");
  const init = typeof r.initMs === "number" ? `, init ${fmtNumber(r.initMs)} ms (cold start)` : "";
  out.push(
    `- Function: \`${meta.entry}\` with event "${meta.eventLabel}" at ${meta.at.toLocaleTimeString()}`,
    `- Duration: ${fmtNumber(r.durationMs)} ms, billed ${fmtNumber(r.billedMs)} ms${init}`,
    `- Memory: ${fmtNumber(r.maxMemoryMb)} MB used of ${fmtNumber(r.memoryMb)} MB`,
    `- Request id: ${r.requestId || "—"}`,
    "",
  );

  out.push("## Body", "");
  // `null` is a body too (a handler returning None); only a missing `json` means "not parsed".
  const json = r.json !== undefined ? r.json : parseJson(r.body);
  if (json !== undefined) {
    out.push("```json", JSON.stringify(json, null, 2), "```", "");
  } else {
    out.push("```text", r.body === "" ? "(empty)" : r.body, "```", "");
  }

  const trace = tracebackOf(json);
  if (trace) {
    out.push("## Traceback", "", "```text", trace, "```", "");
  }

  out.push("## Headers", "", "```http");
  const headerNames = Object.keys(r.headers);
  out.push(
    ...(headerNames.length ? headerNames.map((k) => `${k}: ${r.headers[k] ?? ""}`) : ["(none)"]),
  );
  out.push("```", "");

  if (r.logs.length) {
    out.push("## Log", "", "```text", ...r.logs.map(readableLogLine), "```", "");
  }
  return out.join("\n");
}

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

function parseJson(text: string): unknown {
  const t = text.trim();
  if (!t || !'{["'.includes(t.charAt(0))) {
    return undefined;
  }
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return undefined;
  }
}

function fmtNumber(n: number | null | undefined): string {
  if (typeof n !== "number" || !Number.isFinite(n)) {
    return "—";
  }
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
