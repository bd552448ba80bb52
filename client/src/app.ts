/**
 * "Start App": the whole app of a workspace folder behind its gateway routes, one runner
 * (`handlerlens serve <folder>`) that the language server starts. The tracker keeps each
 * folder's app state from `handlerlens/appState` (route table and problems into the HandlerLens
 * output), the status bar item shows it ("$(radio-tower) app :PORT · N routes", click: the
 * routes), and the actions start it (workspace trust first, on the port it had last time),
 * stop it, and list its routes (copy a curl command, open the URL, show the table).
 *
 * "Debug App" starts it under debugpy (`serve --debug`) and attaches VS Code's debugger through
 * the go-between of Debug Handler (debug.ts): breakpoints in any function stop, across reloads.
 * The status bar item then shows the debugger; Stop App ends the session, and ending the
 * session (the debug toolbar's Stop) stops the app it was started for.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import {
  type AppEntry,
  appStatusText,
  appUrlFor,
  isTemplateUrl,
  nextAppEntry,
  notificationFor,
  portToAsk,
  routeCurl,
  routePickRows,
  routeTableLines,
  servedRoutes,
} from "./appFormat";
import type { DebugSupport } from "./debug";
import { errorText, type Logs } from "./logging";
import {
  type AppParams,
  type AppResult,
  type AppRoute,
  type AppStateParams,
  NOTIFY_APP_STATE,
  SERVER_START_APP,
  SERVER_STOP_APP,
} from "./protocol";
import { ensureTrust } from "./runner";
import type { ServerManager } from "./server";
import { notifyError, notifyInfo } from "./settings";

export const START_APP_COMMAND = "handlerlens.startApp";
export const STOP_APP_COMMAND = "handlerlens.stopApp";
export const DEBUG_APP_COMMAND = "handlerlens.debugApp";
export const APP_ROUTES_COMMAND = "handlerlens.showAppRoutes";
/** Context key: some folder's app is up (the view's title bar shows Stop App then). */
const RUNNING_CONTEXT = "handlerlens.appRunning";
const PORT_MEMORY = "handlerlens.appPort:";

export class AppTracker implements vscode.Disposable {
  private readonly entries = new Map<string, AppEntry>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly logs: Logs) {}

  attach(client: LanguageClient): vscode.Disposable[] {
    return [
      client.onNotification(NOTIFY_APP_STATE, (p: AppStateParams) => {
        this.update(p);
      }),
    ];
  }

  /** The server stopped, and its apps with it. */
  reset(): void {
    for (const [root, entry] of this.entries) {
      this.entries.set(root, { ...entry, state: "stopped", url: undefined, port: undefined });
    }
    this.publish();
  }

  all(): AppEntry[] {
    return [...this.entries.values()];
  }

  /** The app that is up, if any (the first, in a multi-root workspace). */
  active(): AppEntry | undefined {
    return this.all().find((e) => e.state !== "stopped" && e.state !== "error");
  }

  get(root: string): AppEntry | undefined {
    return this.entries.get(root);
  }

  /** The URL of the running app whose folder holds `file` (the deepest), if any. */
  urlFor(file: string): string | undefined {
    return appUrlFor(this.all(), file, path.sep);
  }

  update(p: AppStateParams): void {
    const root = p.root ?? "";
    const before = this.entries.get(root);
    const entry = nextAppEntry(before, p);
    this.entries.set(root, entry);
    const main = this.logs.main;
    if (p.routes) {
      for (const line of routeTableLines(entry)) {
        main.info(line);
      }
    } else if (p.state === "reloading") {
      main.info(
        `App: reloading ${p.function ?? ""}${p.changed?.length ? ` (${p.changed.join(", ")})` : ""}`,
      );
    } else if (p.function && p.reloadedMs !== undefined) {
      main.info(`App: ${p.function} reloaded in ${p.reloadedMs.toFixed(0)} ms`);
    } else if (p.state !== before?.state) {
      main.info(`App: ${entry.state}${entry.url ? ` on ${entry.url}` : ""}`);
    }
    if (p.message) {
      main.warn(`App: ${p.message}`);
    }
    const popup = notificationFor(before, entry);
    if (popup) {
      void notifyError(popup, "Show Logs").then((choice) => {
        if (choice) {
          main.show(true);
        }
      });
    }
    this.publish();
  }

  private publish(): void {
    void vscode.commands.executeCommand("setContext", RUNNING_CONTEXT, this.active() !== undefined);
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}

export class AppActions implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly server: ServerManager,
    private readonly tracker: AppTracker,
    private readonly memory: vscode.Memento,
    private readonly logs: Logs,
    private readonly debug: DebugSupport,
  ) {
    this.item = vscode.window.createStatusBarItem(
      "handlerlens.app",
      vscode.StatusBarAlignment.Left,
      49,
    );
    this.item.name = "HandlerLens App";
    this.item.command = APP_ROUTES_COMMAND;
    this.subscriptions.push(
      tracker.onDidChange(() => {
        this.render();
      }),
      debug.onDidChangeAppSession(({ root, ended }) => {
        this.render();
        if (ended) {
          void this.debugEnded(root);
        }
      }),
    );
    this.render();
  }

  /**
   * Debug App's session ended: the app it started under debugpy stops with it, as a debugged
   * function's runner does (Stop App came first, or the app exited: nothing left to stop).
   */
  private async debugEnded(root: string): Promise<void> {
    const entry = this.tracker.get(root);
    if (!entry || entry.state === "stopped" || entry.state === "error") {
      return;
    }
    this.logs.main.info(`App: the debug session ended; stopping the app of ${root}`);
    try {
      await this.server.executeCommand<boolean>(SERVER_STOP_APP, { root });
    } catch (err) {
      this.logs.main.warn(`Stopping the debugged app: ${errorText(err)}`);
    }
  }

  private render(): void {
    const entry = this.tracker.active() ?? this.tracker.all().find((e) => e.state === "error");
    if (!entry) {
      this.item.hide();
      return;
    }
    const debugged = entry.state !== "error" && this.debug.appSessionFor(entry.root) !== undefined;
    this.item.text = `${debugged ? "$(debug-alt) " : ""}${appStatusText(entry)}`;
    const routes = servedRoutes(entry).length;
    const under = debugged
      ? "\n\nUnder the debugger: breakpoints in any of its functions stop (Stop App ends the session)."
      : "";
    this.item.tooltip = new vscode.MarkdownString(
      `HandlerLens app: ${entry.root}\n\n${entry.url ?? entry.state}, ${String(routes)} route${routes === 1 ? "" : "s"}` +
        `${under}${entry.message ? `\n\n${entry.message}` : ""}\n\n_Click for its routes._`,
    );
    this.item.backgroundColor =
      entry.state === "error" || entry.problems.some((p) => p.severity === "error")
        ? new vscode.ThemeColor("statusBarItem.warningBackground")
        : undefined;
    this.item.show();
  }

  async start(): Promise<void> {
    if (!(await ensureTrust("Starting the app"))) {
      return;
    }
    const folder = await pickFolder("Start the app of which folder?");
    if (folder) {
      await this.launch(folder, false);
    }
  }

  /**
   * "Debug App": the app under debugpy (a plain one running is started again so, on its
   * port), and VS Code's debugger attached to it; once attached, again a no-op.
   */
  async debugApp(): Promise<void> {
    if (!(await ensureTrust("Debugging the app"))) {
      return;
    }
    const folder = await pickFolder("Debug the app of which folder?");
    if (!folder) {
      return;
    }
    if (this.debug.appSessionFor(folder.uri.fsPath)) {
      void notifyInfo("The app is already under the debugger.");
      return;
    }
    const result = await this.launch(folder, true);
    if (!result) {
      return;
    }
    if (!result.debugPort) {
      void notifyError("The app did not start under the debugger (no debug port).");
      return;
    }
    this.logs.main.info(
      `App: attaching the debugger (debugpy on port ${String(result.debugPort)})`,
    );
    if (!(await this.debug.startForApp(folder, result))) {
      void notifyError("Could not attach the debugger to the app.");
    }
  }

  private async launch(folder: vscode.WorkspaceFolder, debug: boolean): Promise<AppResult | null> {
    const root = folder.uri.fsPath;
    const setting = vscode.workspace
      .getConfiguration("handlerlens", folder.uri)
      .get<number>("app.port", 0);
    const params: AppParams = {
      root,
      port: portToAsk(setting, this.memory.get(PORT_MEMORY + root)),
      ...(debug ? { debug: true } : {}),
    };
    try {
      const result = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Window,
          title: debug ? "Starting the app under the debugger" : "Starting the app",
        },
        () => this.server.executeCommand<AppResult | null>(SERVER_START_APP, params),
      );
      if (result) {
        await this.memory.update(PORT_MEMORY + root, result.port);
      }
      return result;
    } catch (err) {
      this.logs.main.error(`Could not start the app: ${errorText(err)}`);
      void notifyError(`Could not start the app: ${errorText(err)}`);
      return null;
    }
  }

  async stop(): Promise<void> {
    const up = this.tracker.all().filter((e) => e.state !== "stopped" && e.state !== "error");
    if (up.length === 0) {
      void notifyInfo("The app is not running.");
      return;
    }
    const entry =
      up.length === 1
        ? up[0]
        : (
            await vscode.window.showQuickPick(
              up.map((e) => ({ label: e.root, description: e.url, e })),
              { title: "Stop which app?" },
            )
          )?.e;
    if (!entry) {
      return;
    }
    try {
      await this.server.executeCommand<boolean>(SERVER_STOP_APP, { root: entry.root });
    } catch (err) {
      void notifyError(`Could not stop the app: ${errorText(err)}`);
    }
    // Its debug session, if any, ends with it (the app's exit closes debugpy's connection;
    // this makes sure of it).
    await this.debug.stopApp(entry.root);
  }

  /** The status bar item's click: the routes; pick one to copy its curl or open its URL. */
  async showRoutes(): Promise<void> {
    const entry = this.tracker.active();
    if (!entry) {
      const choice = await vscode.window.showQuickPick(["Start App"], {
        title: "The app is not running",
      });
      if (choice) {
        await this.start();
      }
      return;
    }
    for (const line of routeTableLines(entry)) {
      this.logs.main.info(line);
    }
    type Row = vscode.QuickPickItem & { run: () => Promise<void> };
    const rows: Row[] = routePickRows(entry).map((row) => ({
      label: row.label,
      description: row.description,
      detail: row.detail,
      run: () => this.routeAction(row.route),
    }));
    rows.push(
      { label: "", kind: vscode.QuickPickItemKind.Separator, run: () => Promise.resolve() },
      {
        label: "$(output) Show the route table",
        run: () => {
          this.logs.main.show(true);
          return Promise.resolve();
        },
      },
      { label: "$(debug-stop) Stop App", run: () => this.stop() },
    );
    const picked = await vscode.window.showQuickPick(rows, {
      title: `App on ${entry.url ?? ""}: pick a route`,
      matchOnDescription: true,
      matchOnDetail: true,
    });
    await picked?.run();
  }

  private async routeAction(route: AppRoute): Promise<void> {
    const curl = routeCurl(route);
    const choices = ["Copy curl command"];
    if (!isTemplateUrl(route.url) && (route.method === "GET" || route.method === "ANY")) {
      choices.push("Open URL");
    }
    const choice =
      choices.length === 1
        ? choices[0]
        : await vscode.window.showQuickPick(choices, { title: route.routeKey });
    if (choice === "Open URL") {
      await vscode.env.openExternal(vscode.Uri.parse(route.url));
    } else if (choice) {
      await vscode.env.clipboard.writeText(curl);
      vscode.window.setStatusBarMessage(`Copied: ${curl}`, 4000);
    }
  }

  dispose(): void {
    this.item.dispose();
    for (const s of this.subscriptions) {
      s.dispose();
    }
  }
}

async function pickFolder(title: string): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) {
    void notifyInfo("Open a folder first: the app is the functions its declaring files declare.");
    return undefined;
  }
  if (folders.length === 1) {
    return folders[0];
  }
  return vscode.window.showWorkspaceFolderPick({ placeHolder: title });
}
