/**
 * What the user sees without opening anything: the language status item (server state, with
 * Restart) and the runner's status bar item (stopped / starting / running on 127.0.0.1:PORT /
 * reloading / debugging / error; click for the runner actions).
 */
import * as vscode from "vscode";
import { reloadText } from "./format";
import type { RunnerEntry, RunnerTracker } from "./runner";
import { DOCUMENT_SELECTOR, type ServerManager, type ServerStatus } from "./server";

export const RESTART_COMMAND = "handlerlens.restartServer";
export const RUNNER_ACTIONS_COMMAND = "handlerlens.runnerActions";
/** How long "reloaded main.py in 40 ms" stays in the status bar. */
const RELOADED_SHOWN_MS = 4000;

export class StatusItems implements vscode.Disposable {
  private readonly language: vscode.LanguageStatusItem;
  private readonly runner: vscode.StatusBarItem;
  private readonly subscriptions: vscode.Disposable[] = [];
  private flashTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly server: ServerManager,
    private readonly tracker: RunnerTracker,
  ) {
    this.language = vscode.languages.createLanguageStatusItem(
      "handlerlens.server",
      DOCUMENT_SELECTOR,
    );
    this.language.name = "HandlerLens";
    this.runner = vscode.window.createStatusBarItem(
      "handlerlens.runner",
      vscode.StatusBarAlignment.Left,
      50,
    );
    this.runner.name = "HandlerLens Runner";
    this.runner.command = RUNNER_ACTIONS_COMMAND;
    this.subscriptions.push(
      server.onDidChangeStatus((s) => {
        this.renderServer(s);
        this.renderRunner();
      }),
      tracker.onDidChange(() => {
        this.renderRunner();
      }),
    );
    this.renderServer(server.status);
    this.renderRunner();
  }

  private renderServer(s: ServerStatus): void {
    const item = this.language;
    item.busy = s.state === "starting";
    item.severity =
      s.state === "failed"
        ? vscode.LanguageStatusSeverity.Error
        : s.state === "stopped"
          ? vscode.LanguageStatusSeverity.Warning
          : vscode.LanguageStatusSeverity.Information;
    const label = {
      starting: "starting…",
      running: "ready",
      stopped: "stopped",
      failed: "not running",
    }[s.state];
    item.text = `HandlerLens: ${label}`;
    item.detail = s.detail;
    const python = s.interpreter ? `${s.interpreter.path} (${s.interpreter.source})` : "";
    const started = s.startedInMs !== undefined ? `, started in ${s.startedInMs} ms` : "";
    item.command = {
      title: "Restart",
      command: RESTART_COMMAND,
      tooltip: `Restart the HandlerLens language server${python ? `\n${python}${started}` : ""}`,
    };
  }

  private renderRunner(): void {
    const item = this.runner;
    if (this.server.status.state !== "running" && this.tracker.all().length === 0) {
      item.hide();
      return;
    }
    const entries = this.tracker.all().filter((e) => e.state && e.state !== "stopped");
    const shown = entries.find((e) => e.state === "error") ?? entries[0];
    const { text, tooltip, error } = describe(shown, entries.length);
    // "reloaded main.py in 40 ms" for a moment after a reload, then the usual text.
    const reloaded = shown && Date.now() - shown.at < RELOADED_SHOWN_MS ? reloadText(shown) : "";
    item.text = reloaded ? `$(check) ${shown?.function ?? ""}: ${reloaded}` : text;
    item.tooltip = new vscode.MarkdownString(`${tooltip}\n\n_Click for runner actions._`);
    // A save that broke the code is a passing state (Problems has the details, the next good
    // save clears it): the warning colour, not the alarm of a failed start (which pops up).
    item.backgroundColor = error
      ? new vscode.ThemeColor("statusBarItem.warningBackground")
      : undefined;
    item.show();
    if (reloaded) {
      clearTimeout(this.flashTimer);
      this.flashTimer = setTimeout(() => {
        this.renderRunner();
      }, RELOADED_SHOWN_MS);
    }
  }

  dispose(): void {
    clearTimeout(this.flashTimer);
    this.language.dispose();
    this.runner.dispose();
    for (const s of this.subscriptions) {
      s.dispose();
    }
  }
}

function describe(
  e: RunnerEntry | undefined,
  count: number,
): { text: string; tooltip: string; error: boolean } {
  if (!e) {
    return {
      text: "$(circle-outline) Runner: stopped",
      tooltip: "HandlerLens runner: stopped",
      error: false,
    };
  }
  const where = e.url ? hostPort(e.url) : e.port ? `127.0.0.1:${e.port}` : "";
  const more = count > 1 ? ` +${count - 1}` : "";
  const msg = e.message ? `\n\n${e.message}` : "";
  switch (e.state) {
    case "starting":
      return {
        text: `$(sync~spin) ${e.function}: starting${more}`,
        tooltip: `Starting the runner for ${e.function}${msg}`,
        error: false,
      };
    case "reloading":
      return {
        text: `$(sync~spin) ${e.function}: reloading${e.changed?.length ? ` ${e.changed.join(", ")}` : ""}${more}`,
        tooltip: `Reloading ${e.function} after a change${msg}`,
        error: false,
      };
    case "debugging":
      return {
        text: `$(debug-alt) ${e.function} on ${where} (debug)${more}`,
        tooltip: `Debugging ${e.function}: ${e.url ?? where}${e.debugPort ? `, debugpy on 127.0.0.1:${e.debugPort}` : ""}${msg}`,
        error: false,
      };
    case "error":
      return {
        text: `$(error) ${e.function}: ${shorten(e.message ?? "error", 40)}${more}`,
        tooltip: `${e.function} cannot load its code now${msg}\n\nProblems lists where; the next good save clears this.`,
        error: true,
      };
    default:
      return {
        text: `$(radio-tower) ${e.function} on ${where}${more}`,
        tooltip: `Serving ${e.function} at ${e.url ?? where}${msg}`,
        error: false,
      };
  }
}

function hostPort(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function shorten(s: string, n: number): string {
  const line = s.split("\n")[0] ?? "";
  return line.length > n ? `${line.slice(0, n - 1)}…` : line;
}
