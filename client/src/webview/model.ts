/**
 * What the response view shows, worked out from one run's result (pure, no `vscode` import;
 * unit-tested in tests/client): the HTTP response the caller gets when the function is reached
 * over HTTP (the server's mapping of the return value: status line, the function's own
 * headers, the body decoded and formatted by its content type), else the return value; the
 * invocation's figures; a traceback of the user's own frames.
 */
import { STATUS_CODES } from "node:http";
import { pausedNote, readableLogLine, tracebackOf } from "../format";
import type { RunResult } from "../protocol";

export type BodyView =
  | { kind: "json"; text: string }
  | { kind: "text"; text: string }
  | { kind: "image"; mime: string; base64: string; bytes: number }
  | { kind: "binary"; bytes: number; base64: string }
  | { kind: "empty" };

export interface Frame {
  file: string;
  line: number;
  /** The function's name in the frame (`in handler`), when given. */
  where: string;
  /** The source line the traceback quotes, when given. */
  code: string;
}

export interface TracebackView {
  /** `ZeroDivisionError: division by zero` */
  error: string;
  frames: Frame[];
  /** How many frames were left out (not the user's code: the runtime, importlib…). */
  hidden: number;
}

export interface ResponseModel {
  /** "http": the HTTP response the caller gets; "result": the return value (other triggers). */
  kind: "http" | "result";
  /** `201 Created`, or for a plain result `Returned` / `Function error`. */
  statusLine: string;
  status?: number;
  failed: boolean;
  headers: [string, string][];
  body: BodyView;
  /** The body as text to copy (pretty JSON, decoded text; base64 for binary). */
  bodyText: string;
  /** The return value as the invocation answered it (pretty JSON when it is JSON). */
  raw: string;
  figures: [string, string][];
  traceback?: TracebackView;
  logs: string[];
  warning?: string;
  /** Set when the run paused in the debugger: what its figures mean then. */
  pausedNote?: string;
}

/** Builds the view of one result; `isUserFile` says which frames are the user's code. */
export function responseModel(
  r: RunResult,
  isUserFile: (file: string) => boolean = () => true,
  pausedMs = 0,
): ResponseModel {
  const model = viewOf(r, isUserFile);
  if (pausedMs > 0) {
    model.pausedNote = pausedNote(Math.round(pausedMs));
    model.figures.splice(2, 0, ["Paused in the debugger", `${fmt(Math.round(pausedMs))} ms`]);
  }
  return model;
}

function viewOf(r: RunResult, isUserFile: (file: string) => boolean): ResponseModel {
  const value = r.json !== undefined ? r.json : parseJson(r.body);
  const raw = value !== undefined ? JSON.stringify(value, null, 2) : r.body;
  const trace = r.functionError ? tracebackView(value, isUserFile) : undefined;
  const logs = r.logs.map(readableLogLine);
  const figures = figuresOf(r);
  if (r.http) {
    const headers = r.http.headers;
    const body = bodyView(r.http.bodyBase64, headerValue(headers, "content-type"));
    return {
      kind: "http",
      statusLine:
        `${String(r.http.status)} ${r.http.reason || STATUS_CODES[r.http.status] || ""}`.trim(),
      status: r.http.status,
      failed: r.functionError || r.http.status >= 500,
      headers,
      body,
      bodyText: bodyText(body),
      raw,
      figures,
      traceback: trace,
      logs,
      warning: r.http.warning ?? undefined,
    };
  }
  const body: BodyView =
    value !== undefined
      ? { kind: "json", text: raw }
      : r.body === ""
        ? { kind: "empty" }
        : { kind: "text", text: r.body };
  return {
    kind: "result",
    statusLine: r.functionError ? "Function error" : "Returned",
    failed: r.functionError,
    headers: [],
    body,
    bodyText: bodyText(body),
    raw,
    figures,
    traceback: trace,
    logs,
  };
}

/** The body decoded from base64 and shown by its content type (or by what it looks like). */
export function bodyView(base64: string, contentType: string | undefined): BodyView {
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length === 0) {
    return { kind: "empty" };
  }
  const media = (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (media.startsWith("image/")) {
    return { kind: "image", mime: media, base64, bytes: bytes.length };
  }
  const text = utf8(bytes);
  if (text === undefined) {
    return { kind: "binary", bytes: bytes.length, base64 };
  }
  const jsonType = media === "application/json" || media.endsWith("+json");
  if (jsonType || !media) {
    const parsed = parseJson(text);
    if (parsed !== undefined) {
      return { kind: "json", text: JSON.stringify(parsed, null, 2) };
    }
  }
  return { kind: "text", text };
}

/** A readable traceback of a function error: its user frames only (`isUserFile`). */
export function tracebackView(
  body: unknown,
  isUserFile: (file: string) => boolean,
): TracebackView | undefined {
  const text = tracebackOf(body);
  if (text === undefined) {
    return undefined;
  }
  const lines = text.split("\n");
  const error = lines[lines.length - 1] ?? "";
  const frames: Frame[] = [];
  let hidden = 0;
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*File "([^"]+)", line (\d+)(?:, in (.+))?$/.exec(lines[i] ?? "");
    if (!m) {
      continue;
    }
    const next = lines[i + 1] ?? "";
    const code = next && !/^\s*File "/.test(next) && i + 1 < lines.length - 1 ? next.trim() : "";
    const file = m[1] ?? "";
    if (isUserFile(file)) {
      frames.push({ file, line: Number(m[2]), where: m[3] ?? "", code });
    } else {
      hidden++;
    }
  }
  return { error, frames, hidden };
}

/** Duration, billed, init, memory and request id as label/value pairs. */
function figuresOf(r: RunResult): [string, string][] {
  const out: [string, string][] = [
    ["Duration", `${fmt(r.durationMs)} ms`],
    ["Billed", `${fmt(r.billedMs)} ms`],
  ];
  if (typeof r.initMs === "number") {
    out.push(["Init (cold start)", `${fmt(r.initMs)} ms`]);
  }
  out.push(
    ["Memory", `${fmt(r.maxMemoryMb)} MB used of ${fmt(r.memoryMb)} MB`],
    ["Invocation", `${String(r.status)}${r.functionError ? " (function error)" : ""}`],
    ["Request id", r.requestId || "—"],
  );
  return out;
}

export function headerValue(headers: [string, string][], name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

function bodyText(body: BodyView): string {
  switch (body.kind) {
    case "json":
    case "text":
      return body.text;
    case "image":
    case "binary":
      return body.base64;
    default:
      return "";
  }
}

function utf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
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

function fmt(n: number | null | undefined): string {
  if (typeof n !== "number" || !Number.isFinite(n)) {
    return "—";
  }
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}
