/**
 * The pure parts of "Start App" (no `vscode` here, so node:test runs them): the app's state as
 * the client keeps it (from `handlerlens/appState`), the status bar and functions view texts,
 * the route table as the output channel shows it, the route quick pick's rows, and a curl
 * command for one route.
 */
import type { AppProblem, AppRoute, AppStateParams, RunnerState } from "./protocol";

/** What the client knows of one workspace folder's app. */
export interface AppEntry {
  root: string;
  state: RunnerState;
  url?: string;
  port?: number;
  routes: AppRoute[];
  problems: AppProblem[];
  message?: string;
  /** A declaring file stopped parsing: the routes shown are the last good ones. */
  kept: boolean;
}

/**
 * The entry after one notification: where it runs and its routes carry over (a `reloading`
 * event does not repeat them); a message is about the event that sent it only; a stopped app
 * keeps its routes for the next start's pick but not its URL.
 */
export function nextAppEntry(before: AppEntry | undefined, p: AppStateParams): AppEntry {
  const root = p.root ?? before?.root ?? "";
  const state = p.state ?? before?.state ?? "stopped";
  const stopped = state === "stopped" || state === "error";
  return {
    root,
    state,
    url: stopped ? undefined : (p.url ?? before?.url),
    port: stopped ? undefined : (p.port ?? before?.port),
    routes: p.routes ?? before?.routes ?? [],
    problems: p.problems ?? before?.problems ?? [],
    message: p.message,
    kept: p.routes ? (p.kept ?? false) : (before?.kept ?? false),
  };
}

function plural(n: number, word: string): string {
  return `${String(n)} ${word}${n === 1 ? "" : "s"}`;
}

/** The routes a request can reach (a route whose function is unknown is listed, not served). */
export function servedRoutes(entry: AppEntry): AppRoute[] {
  return entry.routes.filter((r) => r.served !== null);
}

/** The status bar text: `$(radio-tower) app :8080 · 3 routes`. */
export function appStatusText(entry: AppEntry): string {
  const routes = plural(servedRoutes(entry).length, "route");
  switch (entry.state) {
    case "starting":
      return "$(sync~spin) app: starting";
    case "reloading":
      return `$(sync~spin) app :${String(entry.port ?? "")} · reloading`;
    case "error":
      return "$(error) app: not running";
    case "stopped":
      return "$(circle-outline) app: stopped";
    default: {
      const mark = entry.problems.some((p) => p.severity === "error") ? " $(warning)" : "";
      return `$(radio-tower) app :${String(entry.port ?? "")} · ${routes}${mark}`;
    }
  }
}

/** The functions view's top row: its description (`running on :8080 · 3 routes`). */
export function appViewDescription(entry: AppEntry | undefined): string {
  if (!entry || entry.state === "stopped") {
    return "stopped";
  }
  if (entry.state === "starting") {
    return "starting…";
  }
  if (entry.state === "error") {
    return `error${entry.message ? `: ${firstLine(entry.message)}` : ""}`;
  }
  const problems = entry.problems.length ? ` · ${plural(entry.problems.length, "problem")}` : "";
  const kept = entry.kept ? " · last good routes" : "";
  const reloading = entry.state === "reloading" ? " · reloading" : "";
  return `running on :${String(entry.port ?? "")} · ${plural(servedRoutes(entry).length, "route")}${problems}${kept}${reloading}`;
}

/** The route table as the output channel shows it, one line per route, then the problems. */
export function routeTableLines(entry: AppEntry): string[] {
  const lines = [`App ${entry.root} on ${entry.url ?? "(not running)"}:`];
  if (entry.routes.length === 0) {
    lines.push("  no routes declared: functions answer at /<name>/… and the Invoke API");
  }
  const width = Math.max(0, ...entry.routes.map((r) => r.routeKey.length));
  for (const r of entry.routes) {
    const who = r.served ?? `${r.function ?? "?"} (not served)`;
    lines.push(`  ${r.routeKey.padEnd(width)} → ${who} (${kindName(r)})  ${r.url}`);
  }
  if (entry.kept) {
    lines.push("  (a declaring file does not parse now: these are the last good routes)");
  }
  for (const p of entry.problems) {
    lines.push(
      `  ${p.severity}: ${p.path}:${String(p.line)}:${String(p.column)}: ${p.message} [${p.code}]`,
    );
  }
  return lines;
}

/** `REST, stage Prod` / `HTTP API` / `Yandex API Gateway` — the kind of a route's gateway. */
export function kindName(r: AppRoute): string {
  const kind =
    {
      rest: "REST",
      http: "HTTP API",
      "function-url": "Function URL",
      yandex: "Yandex API Gateway",
    }[r.kind] ?? r.kind;
  return r.stage && (r.kind === "rest" || r.kind === "http") && r.stage !== "$default"
    ? `${kind}, stage ${r.stage}`
    : kind;
}

/** A route's URL with its parameters shown as placeholders left for the user. */
export function isTemplateUrl(url: string): boolean {
  return /\{[^{}]+\}/.test(url);
}

/** A curl command for a route (`ANY` as GET; a body placeholder for POST/PUT/PATCH). */
export function routeCurl(r: AppRoute): string {
  const method = r.method === "ANY" ? "GET" : r.method;
  const parts = ["curl", "-i"];
  if (method === "HEAD") {
    parts.push("-I");
  } else if (method !== "GET") {
    parts.push("-X", method);
  }
  if (["POST", "PUT", "PATCH"].includes(method)) {
    parts.push("-H", "'Content-Type: application/json'", "-d", "'{}'");
  }
  parts.push(shellQuote(r.url));
  return parts.join(" ");
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** One row of the route quick pick. */
export interface RoutePickRow {
  label: string;
  description: string;
  detail: string;
  route: AppRoute;
}

export function routePickRows(entry: AppEntry): RoutePickRow[] {
  return entry.routes.map((r) => ({
    label: r.routeKey,
    description: `→ ${r.served ?? `${r.function ?? "?"} (not served)`} · ${kindName(r)}`,
    detail: r.url,
    route: r,
  }));
}

/** The port to ask for: the setting's when set, else the one remembered for this folder. */
export function portToAsk(setting: number, remembered: unknown): number {
  if (Number.isInteger(setting) && setting > 0 && setting < 65536) {
    return setting;
  }
  return typeof remembered === "number" && Number.isInteger(remembered) && remembered > 0
    ? remembered
    : 0;
}

/**
 * What one state change is worth a pop-up for (at most one): an app that stopped by itself.
 * A start that failed is the server's own error message already; route problems and failed
 * reloads go to the output channel only.
 */
export function notificationFor(before: AppEntry | undefined, after: AppEntry): string | undefined {
  const wasUp = before?.state === "running" || before?.state === "reloading";
  if (after.state === "error" && wasUp) {
    return `The app stopped: ${firstLine(after.message ?? "see the HandlerLens output")}`;
  }
  return undefined;
}

function firstLine(s: string): string {
  return s.split("\n")[0] ?? "";
}

/** The URL of the running app whose folder holds `file` (the deepest folder), if any. */
export function appUrlFor(entries: AppEntry[], file: string, sep = "/"): string | undefined {
  const holding = entries.filter((e) => {
    const root = e.root.endsWith(sep) ? e.root.slice(0, -1) : e.root;
    return e.url !== undefined && (file === root || file.startsWith(root + sep));
  });
  holding.sort((a, b) => b.root.length - a.root.length);
  return holding[0]?.url;
}
