/**
 * Routes in the declaring files (SAM events, serverless.yml events, API Gateway specs, Terraform
 * gateways): a "▶ Send request" lens and a hover on each, from the server's `handlerlens/routes`;
 * the command asks for the method (ANY routes), each path parameter, a query and a body
 * (POST/PUT/PATCH), remembers them per route, and shows the answer in the response view.
 */
import * as vscode from "vscode";
import type { ChosenEvent } from "./events";
import { listFunctions } from "./functions";
import { errorText, type Logs } from "./logging";
import {
  CLIENT_SEND_REQUEST,
  type FunctionInfo,
  REQUEST_ROUTES,
  type RouteInfo,
  type RunResult,
  SERVER_SEND_REQUEST,
} from "./protocol";
import type { ResponseView } from "./response";
import {
  asRequestInput,
  hoverMarkdown,
  initialInput,
  invalidValue,
  methodChoices,
  needsBody,
  pathPrompts,
  type RequestInput,
  requestLabel,
  routeMemoryKey,
  sendParams,
} from "./routeRequest";
import { ensureTrust, type RunnerTracker } from "./runner";
import type { ServerManager } from "./server";
import { lensesEnabled, notifyError } from "./settings";

/** Files that may declare routes (the server answers [] for the others). */
export const ROUTE_FILES_SELECTOR: vscode.DocumentSelector = [
  { scheme: "file", pattern: "**/*.{yaml,yml,json,template,tf}" },
];

export class RouteLenses
  implements vscode.CodeLensProvider, vscode.HoverProvider, vscode.Disposable
{
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  /** The routes last listed per document URI (for hovers). */
  private readonly known = new Map<string, RouteInfo[]>();
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly busy = new Set<string>();
  /** The URL of the running app that serves a file's routes, if any (set by the extension). */
  appUrlFor: (file: string) => string | undefined = () => undefined;

  constructor(
    private readonly server: ServerManager,
    private readonly memory: vscode.Memento,
    private readonly response: ResponseView,
    private readonly tracker: RunnerTracker,
    private readonly logs: Logs,
  ) {
    const refresh = (): void => {
      this.changed.fire();
    };
    this.subscriptions.push(
      // Routes are read again when the server rediscovers, which it follows with diagnostics.
      vscode.languages.onDidChangeDiagnostics(refresh),
      vscode.workspace.onDidSaveTextDocument(refresh),
      server.onDidChangeStatus(refresh),
    );
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (!lensesEnabled(doc.uri)) {
      return [];
    }
    return (await this.routesOf(doc))
      .filter((route) => route.function !== null)
      .map(
        (route) =>
          new vscode.CodeLens(rangeOf(route), {
            title: "▶ Send request",
            command: CLIENT_SEND_REQUEST,
            arguments: [route],
            tooltip: route.description,
          }),
      );
  }

  async provideHover(
    doc: vscode.TextDocument,
    position: vscode.Position,
  ): Promise<vscode.Hover | undefined> {
    const known = this.known.get(doc.uri.toString()) ?? (await this.routesOf(doc));
    const route = known.find((r) => rangeOf(r).contains(position));
    return route
      ? new vscode.Hover(
          new vscode.MarkdownString(hoverMarkdown(route, this.appUrlFor(doc.uri.fsPath))),
        )
      : undefined;
  }

  /** `handlerlens.sendRequest` (arg: the lens's RouteInfo). */
  async send(arg?: unknown): Promise<void> {
    const route = arg as RouteInfo | undefined;
    if (!route || typeof route.path !== "string" || typeof route.uri !== "string") {
      void vscode.window.showInformationMessage(
        'Use the "▶ Send request" lens on a route in a template, serverless.yml or API Gateway spec.',
      );
      return;
    }
    try {
      if (!(await ensureTrust("Send Request"))) {
        return;
      }
      const fn = await this.functionOf(route);
      if (!fn) {
        return;
      }
      const input = await this.ask(route);
      if (!input) {
        return;
      }
      await this.memory.update(routeMemoryKey(route), input);
      await this.sendWith(route, fn, input);
    } catch (err) {
      const text = errorText(err);
      this.logs.main.error(`Send request failed: ${text}`);
      void notifyError(`Send request failed: ${text}`, "Show Logs").then((c) => {
        if (c) {
          this.logs.main.show(true);
        }
      });
    }
  }

  dispose(): void {
    for (const d of this.subscriptions) {
      d.dispose();
    }
    this.changed.dispose();
  }

  /** The routes the server lists for a document ([] while it is not running). */
  private async routesOf(doc: vscode.TextDocument): Promise<RouteInfo[]> {
    if (this.server.status.state !== "running") {
      return [];
    }
    try {
      const routes = await this.server.request<RouteInfo[]>(REQUEST_ROUTES, {
        uri: doc.uri.toString(),
      });
      this.known.set(doc.uri.toString(), routes);
      return routes;
    } catch (err) {
      this.logs.main.warn(`Routes of ${doc.uri.fsPath}: ${errorText(err)}`);
      return [];
    }
  }

  private async functionOf(route: RouteInfo): Promise<FunctionInfo | undefined> {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.parse(route.uri));
    const named = (await listFunctions(this.server)).filter((f) => f.name === route.function);
    const fn =
      named.find((f) => folder && f.root.startsWith(folder.uri.fsPath)) ?? named[0] ?? undefined;
    if (!fn) {
      void vscode.window.showErrorMessage(
        `${route.function ?? "No function"} answers ${route.method} ${route.path}, but it cannot be run here (its code is not on disk, or it is no longer declared).`,
      );
    }
    return fn;
  }

  /** The method, parameters, query and body, each box starting from the last request's. */
  private async ask(route: RouteInfo): Promise<RequestInput | undefined> {
    const start = initialInput(route, asRequestInput(this.memory.get(routeMemoryKey(route))));
    const choices = methodChoices(route);
    let method = choices[0] ?? "GET";
    if (choices.length > 1) {
      const ordered = [start.method, ...choices.filter((m) => m !== start.method)];
      const picked = await vscode.window.showQuickPick(ordered, {
        title: `${route.method} ${route.path}`,
        placeHolder: "The route takes any method: which one to send?",
      });
      if (!picked) {
        return undefined;
      }
      method = picked;
    }
    const values: Record<string, string> = {};
    for (const prompt of pathPrompts(route)) {
      const value = await vscode.window.showInputBox({
        title: `${method} ${route.path}`,
        prompt: prompt.wholePath
          ? "The path to request (every path reaches this function)"
          : `{${prompt.name}${prompt.greedy ? "+" : ""}}${prompt.greedy ? " (may hold /)" : ""}`,
        value: start.values[prompt.name] ?? "",
        validateInput: (v) => invalidValue(prompt, v),
      });
      if (value === undefined) {
        return undefined;
      }
      values[prompt.name] = value;
    }
    const query = await vscode.window.showInputBox({
      title: `${method} ${route.path}`,
      prompt: "Query string (optional), e.g. limit=10&sort=name",
      value: start.query,
    });
    if (query === undefined) {
      return undefined;
    }
    let body = "";
    if (needsBody(method)) {
      const given = await vscode.window.showInputBox({
        title: `${method} ${route.path}`,
        prompt: "Body (JSON is sent as application/json, anything else as text)",
        value: start.body,
      });
      if (given === undefined) {
        return undefined;
      }
      body = given;
    }
    return { method, values, query, body };
  }

  private async sendWith(route: RouteInfo, fn: FunctionInfo, input: RequestInput): Promise<void> {
    const params = sendParams(route, input);
    const label = requestLabel(input.method, params.path, params.query ?? "");
    const key = routeMemoryKey(route);
    if (this.busy.has(key)) {
      return;
    }
    this.busy.add(key);
    this.response.setRunning(fn, true);
    try {
      this.response.addRoot(fn.root);
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Sending ${label} to ${fn.name}` },
        () => this.server.executeCommand<RunResult | null>(SERVER_SEND_REQUEST, params),
      );
      if (!result) {
        // The server answers null after showing its own error message.
        this.logs.main.warn(`${label}: the server reported the failure.`);
        return;
      }
      if (!this.tracker.streamed(result.requestId)) {
        for (const line of result.logs) {
          this.logs.functionLine(fn.name, line, "stdout");
        }
      }
      const status = result.http ? result.http.status : result.status;
      this.logs.main.info(`${fn.name}: ${label} → ${status} (${route.description})`);
      // "Run again" in the view invokes the function with the same gateway event.
      const chosen: ChosenEvent = { label, event: result.event ?? {} };
      this.response.show(fn, result, chosen);
    } finally {
      this.busy.delete(key);
      this.response.setRunning(fn, false);
    }
  }
}

function rangeOf(route: RouteInfo): vscode.Range {
  return new vscode.Range(route.line, route.character, route.endLine, route.endCharacter);
}
