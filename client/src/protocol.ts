/**
 * Custom protocol between the HandlerLens server and this client.
 *
 * Mirror, name for name, of `server/handlerlens/lsp/protocol.py`; everything else is standard
 * LSP. The result shapes (`RunResult`, `EventItem`, `DebugResult`) and `InitializationOptions`
 * are the contract the server's run/debug/listEvents commands answer with.
 */

/** Client-side command ids used in lenses when the client says `{"clientCommands": true}`. */
export const CLIENT_RUN = "handlerlens.runHandler";
export const CLIENT_DEBUG = "handlerlens.debugHandler";
/** The "▶ Send request" lens on a route (the client's own, from REQUEST_ROUTES). */
export const CLIENT_SEND_REQUEST = "handlerlens.sendRequest";

/** Server commands (workspace/executeCommand). */
export const SERVER_RUN = "handlerlens.server.run";
export const SERVER_DEBUG = "handlerlens.server.debug";
export const SERVER_START_RUNNER = "handlerlens.server.startRunner";
export const SERVER_STOP_RUNNER = "handlerlens.server.stopRunner";
export const SERVER_LIST_EVENTS = "handlerlens.server.listEvents";
export const SERVER_LIST_FUNCTIONS = "handlerlens.server.listFunctions";
export const SERVER_SEND_REQUEST = "handlerlens.server.sendRequest";
/** The whole app of a workspace folder behind its gateway routes (`serve <folder>`). */
export const SERVER_START_APP = "handlerlens.server.startApp";
export const SERVER_STOP_APP = "handlerlens.server.stopApp";

export const SERVER_COMMANDS = [
  SERVER_RUN,
  SERVER_DEBUG,
  SERVER_START_RUNNER,
  SERVER_STOP_RUNNER,
  SERVER_LIST_EVENTS,
  SERVER_LIST_FUNCTIONS,
  SERVER_SEND_REQUEST,
  SERVER_START_APP,
  SERVER_STOP_APP,
] as const;

/** Client → server requests. */
export const REQUEST_ROUTES = "handlerlens/routes";

/** Server → client notifications. */
export const NOTIFY_RUNNER_STATE = "handlerlens/runnerState";
export const NOTIFY_LOG = "handlerlens/log";
export const NOTIFY_APP_STATE = "handlerlens/appState";

export type RunnerState = "stopped" | "starting" | "running" | "reloading" | "debugging" | "error";

/** Identity of one function, as carried by lenses and commands. */
export interface FunctionRef {
  name: string;
  platform: string;
  entry: string;
  root: string;
  uri: string;
  line: number;
  trigger: string;
}

/**
 * One entry of SERVER_LIST_FUNCTIONS: a FunctionRef without the lens position (`uri`, `line`),
 * plus the file that declares it. Commands accept either; the server finds the function by
 * `name` and `root`.
 */
export interface FunctionInfo {
  name: string;
  platform: string;
  entry: string;
  root: string;
  trigger: string;
  declaredIn?: string | null;
  uri?: string;
  line?: number;
}

/** Arguments of SERVER_RUN / SERVER_DEBUG: the function and, optionally, the event. */
export interface RunParams {
  function: FunctionRef | FunctionInfo;
  event?: unknown;
  eventPath?: string;
}

/** Payload of NOTIFY_RUNNER_STATE. */
export interface RunnerStateParams {
  function?: string;
  state?: RunnerState;
  url?: string;
  port?: number;
  debugPort?: number;
  message?: string;
  /** After a reload: the files whose change started it, and how long it took. */
  changed?: string[];
  reloadedMs?: number;
  /** The runner's interpreter: path, source, version, isolated, warning (`serve`'s event). */
  interpreter?: Record<string, unknown>;
}

/**
 * Payload of NOTIFY_LOG: one line of a function's log, as written (a `\r` in it breaks the line
 * within one entry: shown through `readableLogLine`).
 */
export interface LogParams {
  function?: string;
  requestId?: string;
  line?: string;
  stream?: "stdout" | "stderr" | "system";
}

/** Sent as `initializationOptions`; `settings` mirrors the `handlerlens.*` configuration. */
export interface InitializationOptions {
  clientCommands: true;
  settings: ServerSettings;
}

/** The `handlerlens.*` settings as the server receives them (`interpreter`: the one in use). */
export interface ServerSettings {
  platform: "auto" | "yandex" | "aws";
  interpreter: string;
  runner: { port: number; timeout: number | null };
  eventsFolder: string;
  /** runtime-interpreter-mismatch: an info where the local Python is not the runtime's. */
  interpreterMismatch: boolean;
}

/**
 * Result of SERVER_RUN: the platform's response to one invocation, plus its measurements
 * (null where the runner reported none). Commands answer `null` after showing their own error.
 */
export interface RunResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  json?: unknown;
  functionError: boolean;
  requestId: string;
  durationMs: number | null;
  billedMs: number | null;
  memoryMb: number | null;
  maxMemoryMb: number | null;
  initMs?: number | null;
  logs: string[];
  url?: string;
  /** What the caller gets over HTTP (the platform's mapping); null for other triggers. */
  http?: HttpResponse | null;
  /** The response as `<name>.expected.json` holds it (`handlerlens test`'s format). */
  expected?: Record<string, unknown>;
  /** SERVER_SEND_REQUEST: the event the route's gateway sent (the view's "Run again" resends it). */
  event?: unknown;
  /**
   * SERVER_SEND_REQUEST while the app runs: the request went to the app's port, so `http` is the
   * gateway's real answer and `body`/`json` its body (the function's return value is not seen).
   */
  viaApp?: boolean;
}

/** The mapped HTTP response of an HTTP-triggered function (headers: the function's own). */
export interface HttpResponse {
  status: number;
  reason: string;
  headers: [string, string][];
  bodyBase64: string;
  trigger?: string;
  warning?: string | null;
}

/** One entry of SERVER_LIST_EVENTS. */
export interface EventItem {
  label: string;
  source: "saved" | "sample";
  trigger?: string;
  path?: string;
  event: unknown;
}

/** Result of SERVER_DEBUG: the runner is up in debug mode; start this configuration. */
export interface DebugResult {
  debugConfiguration: Record<string, unknown>;
  url: string;
  port: number;
  debugPort: number;
}

/** Arguments of SERVER_START_RUNNER / SERVER_STOP_RUNNER. */
export interface RunnerParams {
  function: FunctionRef | FunctionInfo;
}

/** Arguments of REQUEST_ROUTES: the routes declared in one file (`uri`), else all. */
export interface RoutesParams {
  uri?: string;
}

/**
 * One HTTP route of a declaring file: `method` upper case or `ANY`, `path` a template
 * (`/items/{id}`) or `$default`, `function` the declared function that answers it (null: the
 * declaration names none of this workspace's), `params` the path parameters in order,
 * `description` the route table's line; the position of its declaration (0-based).
 */
export interface RouteInfo {
  method: string;
  path: string;
  kind: string;
  api: string;
  function: string | null;
  stage: string | null;
  payload: string;
  params: string[];
  description: string;
  uri: string;
  line: number;
  character: number;
  endLine: number;
  endCharacter: number;
}

/**
 * Arguments of SERVER_SEND_REQUEST: one request to a route (`path` with its parameters filled,
 * `method` when the route's is ANY), as the route's gateway would send it.
 */
export interface SendRequestParams {
  route: RouteInfo;
  path: string;
  method?: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Arguments of SERVER_START_APP / SERVER_STOP_APP: the workspace folder, and the port to ask for
 * (0 or absent: the one the app had this session, else a free one).
 */
export interface AppParams {
  root: string;
  port?: number;
  /** Debug App: serve the app under debugpy (`serve --debug`). */
  debug?: boolean;
}

/**
 * Payload of NOTIFY_APP_STATE: the app of one workspace folder (`root`). `routes` and `problems`
 * are the runner's `routes` event's, sent when they change; `function`, `changed`,
 * `reloadedMs`, `message` say what a reload did; `kept`: a declaring file stopped parsing, the
 * last good routes are kept.
 */
export interface AppStateParams {
  root?: string;
  state?: RunnerState;
  url?: string;
  port?: number;
  message?: string;
  routes?: AppRoute[];
  problems?: AppProblem[];
  kept?: boolean;
  function?: string;
  changed?: string[];
  reloadedMs?: number;
  /** Under Debug App: the debugger's port. */
  debugPort?: number;
}

/** Result of SERVER_START_APP; under Debug App also the debugger's port and attach config. */
export interface AppResult {
  root: string;
  url: string;
  port: number;
  routes: AppRoute[];
  debugPort?: number;
  debugConfiguration?: Record<string, unknown>;
}

/** One row of the app's route table (the runner's `routes` event; not checked against Python). */
export type AppRoute = {
  method: string;
  path: string;
  routeKey: string;
  function: string | null;
  served: string | null;
  kind: string;
  api: string;
  stage: string | null;
  payload: string;
  url: string;
  declaredIn: string;
  line: number;
};

/** One route problem of the app (the runner's `routes` event). */
export type AppProblem = {
  path: string;
  line: number;
  column: number;
  severity: "error" | "warning";
  code: string;
  message: string;
};
