/**
 * Entry point: wires the modules together and registers every disposable; no logic lives here.
 */
import * as vscode from "vscode";
import {
  APP_ROUTES_COMMAND,
  AppActions,
  AppTracker,
  DEBUG_APP_COMMAND,
  START_APP_COMMAND,
  STOP_APP_COMMAND,
} from "./app";
import { HandlerCommands, RUN_WITH_EVENT_COMMAND } from "./commands";
import { DEBUG_TYPE, DebugSupport } from "./debug";
import { EventFileLenses, EventPicker, RUN_WITH_EVENT_FILE, type EventFileArgs } from "./events";
import { FunctionsView, OPEN_FUNCTION_COMMAND, openFunction } from "./functionsView";
import { lensMiddleware } from "./lenses";
import { Logs } from "./logging";
import { CLIENT_DEBUG, CLIENT_RUN, CLIENT_SEND_REQUEST, type FunctionInfo } from "./protocol";
import { PythonLocator } from "./python";
import { OUTPUT_SELECTOR, ResponseView } from "./response";
import { ROUTE_FILES_SELECTOR, RouteLenses } from "./routes";
import { RunnerActions, RunnerTracker } from "./runner";
import { ServerManager } from "./server";
import { needsRestart } from "./settings";
import { RESTART_COMMAND, RUNNER_ACTIONS_COMMAND, StatusItems } from "./status";
import { ACCEPT_ACTUAL_COMMAND, EventTests } from "./tests";

let server: ServerManager | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const activatedAt = performance.now();
  const logs = new Logs();
  const locator = new PythonLocator(logs.main);
  server = new ServerManager(context, logs, locator);
  server.middleware = lensMiddleware();
  const tracker = new RunnerTracker(logs);
  const events = new EventPicker(server, context.workspaceState, logs.main);
  const response = new ResponseView(events, logs, context.extensionPath);
  const debug = new DebugSupport(server, logs);
  logs.echo = (fn, text) => {
    debug.echo(fn, text);
  };
  const handlers = new HandlerCommands(server, events, response, tracker, debug, logs);
  response.rerun = (fn, chosen) => handlers.runAgain(fn, chosen);
  const runner = new RunnerActions(server, tracker, events, logs);
  const status = new StatusItems(server, tracker);
  const tests = new EventTests(server, debug, logs);
  const appTracker = new AppTracker(logs);
  const app = new AppActions(server, appTracker, context.workspaceState, logs, debug);
  const functionsView = new FunctionsView(server, tracker, events, appTracker);
  const routes = new RouteLenses(server, context.workspaceState, response, tracker, logs);
  routes.appUrlFor = (file) => appTracker.urlFor(file);
  const s = server;

  let clientSubscriptions: vscode.Disposable[] = [];
  context.subscriptions.push(
    logs,
    locator,
    tracker,
    appTracker,
    app,
    response,
    debug,
    status,
    tests,
    functionsView,
    routes,
    s,
    s.onDidStartClient((client) => {
      disposeAll(clientSubscriptions);
      clientSubscriptions = [...tracker.attach(client), ...appTracker.attach(client)];
    }),
    s.onDidChangeStatus((st) => {
      if (st.state !== "running") {
        tracker.reset();
        appTracker.reset();
      }
    }),
    vscode.commands.registerCommand(CLIENT_RUN, (arg?: unknown) => handlers.run(arg)),
    vscode.commands.registerCommand(RUN_WITH_EVENT_COMMAND, (arg?: unknown) =>
      handlers.runWithEvent(arg),
    ),
    vscode.commands.registerCommand(CLIENT_DEBUG, (arg?: unknown) => handlers.debugHandler(arg)),
    vscode.commands.registerCommand(RUN_WITH_EVENT_FILE, (arg: EventFileArgs) =>
      handlers.runWithEventFile(arg),
    ),
    vscode.commands.registerCommand("handlerlens.newEvent", (arg?: unknown) =>
      handlers.newEvent(arg),
    ),
    vscode.commands.registerCommand(CLIENT_SEND_REQUEST, (arg?: unknown) => routes.send(arg)),
    vscode.languages.registerCodeLensProvider(ROUTE_FILES_SELECTOR, routes),
    vscode.languages.registerHoverProvider(ROUTE_FILES_SELECTOR, routes),
    vscode.commands.registerCommand(OPEN_FUNCTION_COMMAND, (fn: FunctionInfo) => openFunction(fn)),
    vscode.commands.registerCommand("handlerlens.refreshFunctions", () => {
      functionsView.refreshSoon();
    }),
    vscode.commands.registerCommand(RUNNER_ACTIONS_COMMAND, () => runner.showActions()),
    vscode.commands.registerCommand(ACCEPT_ACTUAL_COMMAND, (arg?: unknown) =>
      tests.acceptActual(arg),
    ),
    vscode.commands.registerCommand("handlerlens.startRunner", (arg?: unknown) =>
      runner.start(arg),
    ),
    vscode.commands.registerCommand("handlerlens.stopRunner", (arg?: unknown) => runner.stop(arg)),
    vscode.commands.registerCommand(START_APP_COMMAND, () => app.start()),
    vscode.commands.registerCommand(DEBUG_APP_COMMAND, () => app.debugApp()),
    vscode.commands.registerCommand(STOP_APP_COMMAND, () => app.stop()),
    vscode.commands.registerCommand(APP_ROUTES_COMMAND, () => app.showRoutes()),
    vscode.commands.registerCommand("handlerlens.copyInvokeUrl", () => runner.copyUrl()),
    vscode.commands.registerCommand("handlerlens.copyCurl", () => runner.copyCurl()),
    vscode.commands.registerCommand("handlerlens.showLogs", () => {
      logs.main.show(true);
    }),
    vscode.commands.registerCommand(RESTART_COMMAND, () => s.restart("Restart Server command")),
    vscode.languages.registerDocumentLinkProvider(OUTPUT_SELECTOR, response),
    vscode.languages.registerCodeLensProvider(
      { scheme: "file", language: "json" },
      new EventFileLenses(),
    ),
    vscode.debug.registerDebugAdapterDescriptorFactory(DEBUG_TYPE, debug),
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, debug),
    vscode.debug.registerDebugAdapterTrackerFactory(DEBUG_TYPE, debug.trackerFactory()),
    debug.onDidEndFunctionSession((key) => handlers.onDebugSessionEnded(key)),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (needsRestart(e)) {
        s.scheduleRestart("settings changed");
      } else if (e.affectsConfiguration("handlerlens.codeLens.enabled")) {
        // The client asks again for lenses when the server says they changed; a restart does.
        s.scheduleRestart("lenses shown or hidden");
      }
    }),
    locator.onDidChange(() => {
      s.scheduleRestart("the Python extension's interpreter changed");
    }),
    // In Restricted Mode a workspace's own interpreter setting is ignored; once trusted it counts.
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      const set = vscode.workspace.getConfiguration("handlerlens").inspect<string>("interpreter");
      if (set?.workspaceValue !== undefined || set?.workspaceFolderValue !== undefined) {
        s.scheduleRestart("workspace trusted");
      }
    }),
    {
      dispose: () => {
        disposeAll(clientSubscriptions);
      },
    },
  );
  logs.main.info(`Activated in ${(performance.now() - activatedAt).toFixed(1)} ms`);
  void s.start();
}

export async function deactivate(): Promise<void> {
  await server?.stop();
}

function disposeAll(items: readonly vscode.Disposable[]): void {
  for (const d of items) {
    d.dispose();
  }
}
