/**
 * What the client knows of the runners: state per function from `handlerlens/runnerState`, log
 * lines from `handlerlens/log` (into the HandlerLens output), and the runner actions behind the
 * status bar item (Start, Stop, Open logs, Copy invoke URL, Copy curl command).
 */
import * as vscode from "vscode";
import type { LanguageClient } from "vscode-languageclient/node";
import type { EventPicker } from "./events";
import { curlCommand, reloadText } from "./format";
import { chooseFunction, listFunctions, pickFunction } from "./functions";
import { errorText, type Logs } from "./logging";
import {
  type FunctionInfo,
  type LogParams,
  NOTIFY_LOG,
  NOTIFY_RUNNER_STATE,
  type RunnerStateParams,
  SERVER_START_RUNNER,
  SERVER_STOP_RUNNER,
} from "./protocol";
import type { ServerManager } from "./server";
import { notificationLevel, notifyError, notifyInfo } from "./settings";

export interface RunnerEntry extends RunnerStateParams {
  function: string;
  at: number;
}

const SEEN_REQUESTS_LIMIT = 200;

export class RunnerTracker implements vscode.Disposable {
  private readonly entries = new Map<string, RunnerEntry>();
  private readonly seenRequests = new Set<string>();
  private readonly shownErrors = new Set<string>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly logs: Logs) {}

  /** Subscribes to a freshly started client's notifications. */
  attach(client: LanguageClient): vscode.Disposable[] {
    return [
      client.onNotification(NOTIFY_RUNNER_STATE, (p: RunnerStateParams) => {
        this.update(p);
      }),
      client.onNotification(NOTIFY_LOG, (p: LogParams) => {
        this.logLine(p);
      }),
      // The server's own messages (a Run or a runner start that failed) go through the
      // handlerlens.notifications setting like the extension's; always into the output.
      client.onNotification("window/showMessage", (p: { type: number; message: string }) => {
        const text = p.message;
        if (p.type === 1) {
          this.logs.main.error(text);
          void notifyError(text);
        } else if (p.type === 2) {
          this.logs.main.warn(text);
          if (notificationLevel() === "off") {
            vscode.window.setStatusBarMessage(`$(warning) ${text}`, 8000);
          } else {
            void vscode.window.showWarningMessage(text);
          }
        } else {
          this.logs.main.info(text);
          void notifyInfo(text);
        }
      }),
    ];
  }

  /** Forgets every runner (the server stopped, and its runners with it). */
  reset(): void {
    this.entries.clear();
    this.changed.fire();
  }

  /** Runner entries, most recently changed first. */
  all(): RunnerEntry[] {
    return [...this.entries.values()].sort((a, b) => b.at - a.at);
  }

  get(name: string): RunnerEntry | undefined {
    return this.entries.get(name);
  }

  /** True when log lines of this request already arrived as notifications. */
  streamed(requestId: string): boolean {
    return this.seenRequests.has(requestId);
  }

  update(p: RunnerStateParams): void {
    const name = p.function ?? "";
    const before = this.entries.get(name);
    // Where it runs carries over; what was said about the last state (its message, a reload's
    // figures) does not: a fixed error must not linger in the tooltip.
    const entry: RunnerEntry = {
      url: before?.url,
      port: before?.port,
      debugPort: before?.debugPort,
      ...p,
      function: name,
      at: Date.now(),
    };
    this.entries.set(name, entry);
    const where = entry.url ?? (entry.port ? `127.0.0.1:${entry.port}` : "");
    const reloaded = reloadText(entry);
    if (reloaded) {
      this.logs.main.info(`${name}: ${reloaded}`);
    } else {
      this.logs.main.info(
        `Runner ${name || "(all)"}: ${entry.state ?? "?"}${where ? ` ${where}` : ""}${p.message ? ` — ${p.message}` : ""}`,
      );
    }
    if (entry.state === "error" && before?.state !== "error") {
      this.showError(entry, before);
    }
    if (entry.state !== "error") {
      this.shownErrors.clear();
    }
    this.changed.fire();
  }

  private logLine(p: LogParams): void {
    if (p.requestId) {
      this.seenRequests.add(p.requestId);
      if (this.seenRequests.size > SEEN_REQUESTS_LIMIT) {
        const first = this.seenRequests.values().next().value;
        if (first !== undefined) {
          this.seenRequests.delete(first);
        }
      }
    }
    this.logs.functionLine(p.function, p.line ?? "", p.stream);
  }

  /**
   * A runner that failed: in the status bar always (status.ts) and, with a save that broke the
   * code, in Problems too — no pop-up for that, it is a state the next save fixes. A pop-up
   * only for a runner that could not start on a port (the server already reports a Run that
   * failed, with its own message), as that needs the user to act.
   */
  private showError(entry: RunnerEntry, before: RunnerEntry | undefined): void {
    const portProblem = /\bport\b|address already in use/i.test(entry.message ?? "");
    const started = before?.state === "starting" || before === undefined;
    if (!portProblem || !started || notificationLevel() === "off") {
      return;
    }
    const message = `Runner for ${entry.function} failed: ${entry.message ?? "see the HandlerLens output"}`;
    if (this.shownErrors.has(message)) {
      return;
    }
    this.shownErrors.add(message);
    void vscode.window.showErrorMessage(message, "Change Port", "Show Logs").then((choice) => {
      if (choice === "Change Port") {
        void vscode.commands.executeCommand(
          "workbench.action.openSettings",
          "handlerlens.runner.port",
        );
      } else if (choice === "Show Logs") {
        this.logs.main.show(true);
      }
    });
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Start/Stop/Copy actions; the status bar item opens `showActions`. */
export class RunnerActions {
  constructor(
    private readonly server: ServerManager,
    private readonly tracker: RunnerTracker,
    private readonly events: EventPicker,
    private readonly logs: Logs,
  ) {}

  async showActions(): Promise<void> {
    const active = this.tracker.all().filter((e) => e.state && e.state !== "stopped");
    const items: (vscode.QuickPickItem & { run: () => Promise<void> })[] = [
      {
        label: "$(play) Start runner…",
        description: "serve a function on 127.0.0.1 with hot reload",
        run: () => this.start(undefined),
      },
    ];
    if (active.length) {
      items.push(
        {
          label: "$(debug-stop) Stop runner…",
          description: active.map((e) => e.function).join(", "),
          run: () => this.stop(undefined),
        },
        { label: "$(link) Copy invoke URL", run: () => this.copyUrl() },
        {
          label: "$(terminal) Copy curl command",
          description: "invoke with the last used event",
          run: () => this.copyCurl(),
        },
      );
    }
    items.push({
      label: "$(output) Open logs",
      run: () => {
        this.logs.main.show(true);
        return Promise.resolve();
      },
    });
    const picked = await vscode.window.showQuickPick(items, { title: "HandlerLens runner" });
    await picked?.run();
  }

  async start(arg: unknown): Promise<void> {
    if (!(await ensureTrust("Starting the runner"))) {
      return;
    }
    try {
      const fn = await chooseFunction(this.server, arg, "serve");
      if (fn) {
        await this.server.executeCommand(SERVER_START_RUNNER, { function: fn });
      }
    } catch (err) {
      void vscode.window.showErrorMessage(`Could not start the runner: ${errorText(err)}`);
    }
  }

  async stop(arg: unknown): Promise<void> {
    try {
      const fn = await this.pickActive(arg, "Stop which runner?");
      if (fn) {
        await this.server.executeCommand(SERVER_STOP_RUNNER, { function: fn });
      }
    } catch (err) {
      void vscode.window.showErrorMessage(`Could not stop the runner: ${errorText(err)}`);
    }
  }

  async copyUrl(): Promise<void> {
    const entry = await this.pickEntry("Copy the invoke URL of which runner?");
    if (entry?.url) {
      await vscode.env.clipboard.writeText(entry.url);
      vscode.window.setStatusBarMessage(`Copied ${entry.url}`, 3000);
    }
  }

  async copyCurl(): Promise<void> {
    const entry = await this.pickEntry("Copy a curl command for which runner?");
    if (!entry?.url) {
      return;
    }
    const fns = await listFunctions(this.server).catch(() => []);
    const fn = fns.find((f) => f.name === entry.function);
    const last = fn ? this.events.lastUsed(fn) : undefined;
    const cmd = curlCommand(
      entry.url,
      entry.function,
      last?.path ? { file: last.path } : { json: last?.event ?? {} },
    );
    await vscode.env.clipboard.writeText(cmd);
    vscode.window.setStatusBarMessage("Copied the curl command", 3000);
  }

  private async pickEntry(title: string): Promise<RunnerEntry | undefined> {
    const running = this.tracker.all().filter((e) => e.url && e.state !== "stopped");
    if (running.length === 0) {
      void notifyInfo("No runner is running. Start one from the status bar or with Run Handler.");
      return undefined;
    }
    if (running.length === 1) {
      return running[0];
    }
    const picked = await vscode.window.showQuickPick(
      running.map((e) => ({ label: e.function, description: e.url, e })),
      { title },
    );
    return picked?.e;
  }

  private async pickActive(arg: unknown, title: string): Promise<FunctionInfo | undefined> {
    const fns = await listFunctions(this.server);
    const active = new Set(
      this.tracker
        .all()
        .filter((e) => e.state && e.state !== "stopped")
        .map((e) => e.function),
    );
    const candidates = fns.filter((f) => active.has(f.name));
    if (arg !== undefined) {
      return chooseFunction(this.server, arg, "stop");
    }
    if (candidates.length === 0) {
      void notifyInfo("No runner is running.");
      return undefined;
    }
    return candidates.length === 1 ? candidates[0] : pickFunction(candidates, title);
  }
}

/**
 * Run and Debug execute the workspace's code: in Restricted Mode, say so and offer to manage
 * trust (the user runs again once trusted). Analysis never needs this.
 */
export async function ensureTrust(action: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) {
    return true;
  }
  const choice = await vscode.window.showWarningMessage(
    `${action} executes code from this workspace, which is in Restricted Mode. Trust the workspace to continue.`,
    { modal: true },
    "Manage Workspace Trust",
  );
  if (choice) {
    await vscode.commands.executeCommand("workbench.trust.manage");
  }
  return false;
}
