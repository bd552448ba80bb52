/**
 * The "HandlerLens" section of the Explorer: every function the server found, by the file that
 * declares it, with platform, trigger and runner state (stopped / running on its port / error),
 * Run / Debug / Open beside each, and its saved events below it (a click runs one). At the top,
 * the whole app's row: stopped (click: Start App) or running on its port with its route count
 * (click: its routes).
 */
import * as path from "node:path";
import * as vscode from "vscode";
import { APP_ROUTES_COMMAND, type AppTracker, START_APP_COMMAND } from "./app";
import { appViewDescription, routeTableLines } from "./appFormat";
import type { EventFileArgs, EventPicker } from "./events";
import { RUN_WITH_EVENT_FILE } from "./events";
import { listFunctions } from "./functions";
import { isEventFileName } from "./paths";
import type { FunctionInfo } from "./protocol";
import type { RunnerTracker } from "./runner";
import type { ServerManager } from "./server";

export const FUNCTIONS_VIEW = "handlerlens.functions";
export const OPEN_FUNCTION_COMMAND = "handlerlens.openFunction";

type FileNode = { kind: "file"; file: string; fns: FunctionInfo[] };
type FnNode = FunctionInfo & { kind: "fn" };
type EventNode = EventFileArgs & { kind: "event"; label: string };
type AppNode = { kind: "app" };
type Node = AppNode | FileNode | FnNode | EventNode;

export class FunctionsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly view: vscode.TreeView<Node>;
  private timer: NodeJS.Timeout | undefined;
  private stale = false;

  constructor(
    private readonly server: ServerManager,
    private readonly tracker: RunnerTracker,
    private readonly events: EventPicker,
    private readonly app: AppTracker,
  ) {
    this.view = vscode.window.createTreeView(FUNCTIONS_VIEW, {
      treeDataProvider: this,
      showCollapseAll: true,
    });
    const watcher = vscode.workspace.createFileSystemWatcher("**/*.{json,py,yaml,yml,tf,toml}");
    const soon = (): void => {
      this.refreshSoon();
    };
    this.subscriptions.push(
      this.view,
      watcher,
      watcher.onDidCreate(soon),
      watcher.onDidDelete(soon),
      server.onDidChangeStatus(soon),
      tracker.onDidChange(soon),
      app.onDidChange(soon),
      // Declarations are re-read by the server, which then re-publishes diagnostics.
      vscode.languages.onDidChangeDiagnostics(soon),
      this.view.onDidChangeVisibility((e) => {
        if (e.visible && this.stale) {
          this.changed.fire(undefined);
        }
      }),
    );
  }

  refreshSoon(): void {
    if (!this.view.visible) {
      this.stale = true; // asked again when it shows
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.stale = false;
      this.changed.fire(undefined);
    }, 300);
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) {
      if (this.server.status.state !== "running") {
        return [];
      }
      const fns = await listFunctions(this.server).catch(() => [] as FunctionInfo[]);
      const n = fns.length;
      this.view.description = `${String(n)} function${n === 1 ? "" : "s"}`;
      this.view.message = n ? undefined : "HandlerLens found no functions in this workspace.";
      const byFile = new Map<string, FunctionInfo[]>();
      for (const fn of fns) {
        const file = fn.declaredIn ?? fn.root;
        byFile.set(file, [...(byFile.get(file) ?? []), fn]);
      }
      const files: Node[] = [...byFile.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([file, list]) => ({ kind: "file", file, fns: list }));
      return n ? [{ kind: "app" }, ...files] : files;
    }
    if (node.kind === "file") {
      return node.fns.map((fn) => ({ ...fn, kind: "fn" }));
    }
    if (node.kind === "fn") {
      return this.savedEvents(node);
    }
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === "app") {
      const entry = this.app.active() ?? this.app.all()[0];
      const up = entry !== undefined && entry.state !== "stopped" && entry.state !== "error";
      const item = new vscode.TreeItem("App", vscode.TreeItemCollapsibleState.None);
      item.description = appViewDescription(entry);
      item.iconPath = new vscode.ThemeIcon(
        entry?.state === "error" ? "error" : up ? "radio-tower" : "circle-outline",
      );
      item.tooltip = up
        ? routeTableLines(entry).join("\n")
        : "Every function behind its gateway routes, on one port: click to start";
      item.contextValue = up ? "handlerlens.appRunning" : "handlerlens.appStopped";
      item.command = up
        ? { title: "Routes", command: APP_ROUTES_COMMAND }
        : { title: "Start App", command: START_APP_COMMAND };
      return item;
    }
    if (node.kind === "file") {
      const item = new vscode.TreeItem(
        vscode.workspace.asRelativePath(node.file),
        vscode.TreeItemCollapsibleState.Expanded,
      );
      item.resourceUri = vscode.Uri.file(node.file);
      item.contextValue = "handlerlens.declaringFile";
      item.command = { title: "Open", command: "vscode.open", arguments: [item.resourceUri] };
      return item;
    }
    if (node.kind === "event") {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon("symbol-event");
      item.description = "saved event";
      item.tooltip = `Run ${node.functionName} with ${vscode.workspace.asRelativePath(node.path)}`;
      item.contextValue = "handlerlens.event";
      const args: EventFileArgs = {
        functionName: node.functionName,
        path: node.path,
        debug: false,
      };
      item.command = { title: "Run", command: RUN_WITH_EVENT_FILE, arguments: [args] };
      return item;
    }
    const runner = this.tracker.get(node.name);
    const state = runner?.state ?? "stopped";
    const where = runner?.url ? new URL(runner.url).host : runner?.port ? `:${runner.port}` : "";
    const shown =
      state === "running" || state === "debugging"
        ? `${state} on ${where}`
        : state === "error"
          ? "error"
          : state;
    const item = new vscode.TreeItem(node.name, vscode.TreeItemCollapsibleState.Collapsed);
    item.description = `${platformName(node.platform)} · ${node.trigger} · ${shown}`;
    item.tooltip = new vscode.MarkdownString(
      `**${node.name}** — \`${node.entry}\`\n\n${platformName(node.platform)}, trigger ` +
        `\`${node.trigger}\`\n\nRunner: ${shown}${runner?.message ? `\n\n${runner.message}` : ""}`,
    );
    item.iconPath = new vscode.ThemeIcon(
      state === "error"
        ? "error"
        : state === "running" || state === "debugging"
          ? "radio-tower"
          : "symbol-function",
    );
    item.contextValue = "handlerlens.function";
    item.command = { title: "Open", command: OPEN_FUNCTION_COMMAND, arguments: [node] };
    return item;
  }

  private async savedEvents(fn: FnNode): Promise<EventNode[]> {
    const dir = this.events.eventsDir(fn);
    if (!dir) {
      return [];
    }
    let names: string[] = [];
    try {
      names = (await vscode.workspace.fs.readDirectory(dir))
        .filter(([n, type]) => type === vscode.FileType.File && isEventFileName(n))
        .map(([n]) => n)
        .sort();
    } catch {
      return [];
    }
    return names.map((n) => ({
      kind: "event",
      label: n.replace(/\.json$/i, ""),
      functionName: fn.name,
      path: path.join(dir.fsPath, n),
      debug: false,
    }));
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.changed.dispose();
    for (const s of this.subscriptions) {
      s.dispose();
    }
  }
}

/** Opens a function's handler module (`main.handler` → `<root>/main.py`), else its declaration. */
export async function openFunction(fn: FunctionInfo): Promise<void> {
  const parts = fn.entry.split(".");
  const candidates = [
    path.join(fn.root, ...parts.slice(0, -1)) + ".py",
    path.join(fn.root, ...parts.slice(0, -1), "__init__.py"),
  ];
  for (const file of candidates) {
    try {
      await vscode.workspace.fs.stat(vscode.Uri.file(file));
      const doc = await vscode.workspace.openTextDocument(file);
      const name = parts[parts.length - 1] ?? "";
      const at = doc.getText().search(new RegExp(`^(async\\s+)?def\\s+${escapeRe(name)}\\b`, "m"));
      const pos = at >= 0 ? doc.positionAt(at) : new vscode.Position(0, 0);
      await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos) });
      return;
    } catch {
      // try the next
    }
  }
  if (fn.declaredIn) {
    await vscode.window.showTextDocument(vscode.Uri.file(fn.declaredIn));
  }
}

function platformName(p: string): string {
  return p === "aws" ? "AWS Lambda" : p === "yandex" ? "Yandex Cloud Functions" : p;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
