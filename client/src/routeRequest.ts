/**
 * The pure parts of "▶ Send request" on a route (no `vscode` here, so node:test runs them): what
 * to ask for (the method when the route takes ANY, one value per `{param}`, a query, a body for
 * POST/PUT/PATCH), the path those values make, what is remembered per route, and the arguments
 * of the server's `sendRequest` command.
 */
import type { RouteInfo, SendRequestParams } from "./protocol";

/** The methods offered for an `ANY` route, in the gateways' usual order. */
export const ANY_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);
/** The path template of a route that takes every path (HTTP API `$default`, Function URL). */
export const DEFAULT_ROUTE = "$default";

/** What the user gave for one request to a route; remembered per route. */
export interface RequestInput {
  method: string;
  /** Path parameter values by name (for a `$default` route: `path`, the whole path). */
  values: Record<string, string>;
  query: string;
  body: string;
}

/** One input box: a path parameter (`greedy`: `{name+}`, may hold `/`) or the whole path. */
export interface PathPrompt {
  name: string;
  greedy: boolean;
  wholePath: boolean;
}

const PARAMETER = /^\{([^{}]+?)(\+?)\}$/;

/** The key a route's last request is remembered under (its file, API and route). */
export function routeMemoryKey(route: RouteInfo): string {
  return `handlerlens.route:${route.uri}|${route.kind}|${route.api}|${route.method} ${route.path}`;
}

/**
 * The hover of a route: the route table's line, and what Send request does (`appUrl`: the
 * running app's, where the request then goes).
 */
export function hoverMarkdown(route: RouteInfo, appUrl?: string): string {
  const line = `\`${route.description}\``;
  if (route.function === null) {
    return `${line}\n\nNo function of this workspace answers this route, so it cannot be sent.`;
  }
  if (appUrl) {
    return `${line}\n\n▶ Send request sends it to the running app (${appUrl}): the answer is its gateway's.`;
  }
  const payload = route.kind === "yandex" ? ` (payload ${route.payload})` : "";
  return `${line}\n\n▶ Send request invokes ${route.function} with this gateway's event${payload}.`;
}

/** The input boxes of a route's path, in order. */
export function pathPrompts(route: RouteInfo): PathPrompt[] {
  if (route.path === DEFAULT_ROUTE) {
    return [{ name: "path", greedy: true, wholePath: true }];
  }
  const prompts: PathPrompt[] = [];
  for (const segment of route.path.split("/")) {
    const found = PARAMETER.exec(segment);
    if (found?.[1] !== undefined) {
      prompts.push({ name: found[1], greedy: found[2] === "+", wholePath: false });
    }
  }
  return prompts;
}

/** Why a value cannot fill a prompt (shown under the input box), or undefined when it can. */
export function invalidValue(prompt: PathPrompt, value: string): string | undefined {
  if (prompt.wholePath) {
    return value.startsWith("/") ? undefined : "The path starts with /";
  }
  if (value === "") {
    return `{${prompt.name}} cannot be empty: the gateway would not match the route`;
  }
  if (prompt.greedy && value.split("/").some((part) => part === "")) {
    return `{${prompt.name}+} takes segments separated by single slashes, none empty`;
  }
  return undefined;
}

/** The methods to choose from: the route's own, or every method for `ANY`. */
export function methodChoices(route: RouteInfo): string[] {
  return route.method === "ANY" ? [...ANY_METHODS] : [route.method];
}

export function needsBody(method: string): boolean {
  return BODY_METHODS.has(method.toUpperCase());
}

/**
 * The request path for a route's template and values: a `{param}` value is one segment (a `/`
 * in it is sent as %2F), a greedy `{param+}` keeps its slashes; other characters are
 * percent-encoded as a browser would.
 */
export function fillPath(route: RouteInfo, values: Record<string, string>): string {
  if (route.path === DEFAULT_ROUTE) {
    return values.path ?? "/";
  }
  const parts = route.path.split("/").map((segment) => {
    const found = PARAMETER.exec(segment);
    if (found?.[1] === undefined) {
      return segment;
    }
    const value = values[found[1]] ?? "";
    if (found[2] === "+") {
      return value.split("/").map(encodeURIComponent).join("/");
    }
    return encodeURIComponent(value);
  });
  return parts.join("/") || "/";
}

/** The label of one request (the response view's title, the log): `GET /items/1?x=2`. */
export function requestLabel(method: string, path: string, query: string): string {
  const q = query.replace(/^\?/, "");
  return `${method} ${path}${q ? `?${q}` : ""}`;
}

/** The arguments of the server's `sendRequest` for one request. */
export function sendParams(route: RouteInfo, input: RequestInput): SendRequestParams {
  const params: SendRequestParams = {
    route,
    method: input.method,
    path: fillPath(route, input.values),
  };
  const query = input.query.replace(/^\?/, "");
  if (query) {
    params.query = query;
  }
  if (needsBody(input.method) && input.body !== "") {
    params.body = input.body;
    params.headers = { "Content-Type": contentTypeOf(input.body) };
  }
  return params;
}

/** JSON when the body parses as JSON, else plain text. */
export function contentTypeOf(body: string): string {
  try {
    JSON.parse(body);
    return "application/json";
  } catch {
    return "text/plain; charset=utf-8";
  }
}

/** What a box starts with: the last value given for this route, else a neutral default. */
export function initialInput(route: RouteInfo, last: RequestInput | undefined): RequestInput {
  const method = last && methodChoices(route).includes(last.method) ? last.method : undefined;
  return {
    method: method ?? methodChoices(route)[0] ?? "GET",
    values: { ...(route.path === DEFAULT_ROUTE ? { path: "/" } : {}), ...(last?.values ?? {}) },
    query: last?.query ?? "",
    body: last?.body ?? "{}",
  };
}

/** A remembered input, checked (the memento holds whatever an older version wrote). */
export function asRequestInput(value: unknown): RequestInput | undefined {
  if (typeof value !== "object" || value === null) {
    return undefined;
  }
  const v = value as Record<string, unknown>;
  if (
    typeof v.method !== "string" ||
    typeof v.query !== "string" ||
    typeof v.body !== "string" ||
    typeof v.values !== "object" ||
    v.values === null
  ) {
    return undefined;
  }
  const values: Record<string, string> = {};
  for (const [k, item] of Object.entries(v.values as Record<string, unknown>)) {
    if (typeof item === "string") {
      values[k] = item;
    }
  }
  return { method: v.method, values, query: v.query, body: v.body };
}
