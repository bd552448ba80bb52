/**
 * The response view: one webview panel per function, reused by every run of it, showing what
 * the caller gets (client/src/webview/: the HTTP status line, the function's headers, the body
 * by its content type; the return value and the invocation's figures one click away), with Run
 * again, Copy body, Copy as curl, Save as event and Save as test, and a mark once the code
 * changed since the response. Also the links from stack frames in the HandlerLens output to
 * the user's source lines (only the user's frames: not the runtime's, not the extension's).
 *
 * A webview rather than a text document: the status line, headers and body are laid out as
 * what they are (a table, formatted JSON, an image), the buttons act on this response, and
 * nothing of it is Markdown source. The page is static HTML with a nonce; no remote content.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { type ChosenEvent, type EventPicker, shortSampleLabel } from "./events";
import { curlCommand, findFrames, httpCurlCommand } from "./format";
import { functionKey } from "./functions";
import { errorText, type Logs } from "./logging";
import { nextEventFileName, resolveFramePath, safeName } from "./paths";
import type { FunctionInfo, RunResult } from "./protocol";
import { notifyError, notifyInfo } from "./settings";
import { type ViewMessage, type ViewState, responseBody, responseHtml } from "./webview/html";
import { responseModel } from "./webview/model";

export const RESPONSE_VIEW_TYPE = "handlerlens.response";

interface Shown {
  panel: vscode.WebviewPanel;
  /** The page is loaded and listening: updates go as a message, not as a new page. */
  ready: boolean;
  /** The page holds an older state than `state` (updated while hidden). */
  outdated: boolean;
  fn: FunctionInfo;
  chosen: ChosenEvent;
  result: RunResult;
  state: ViewState;
}

export class ResponseView implements vscode.DocumentLinkProvider, vscode.Disposable {
  private readonly shown = new Map<string, Shown>();
  private readonly knownRoots = new Set<string>();
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Runs a function again with an event (set by the commands, which own running). */
  rerun: (fn: FunctionInfo, chosen: ChosenEvent) => Promise<void> = () => Promise.resolve();

  constructor(
    private readonly events: EventPicker,
    private readonly logs: Logs,
    private readonly extensionPath: string,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidSaveTextDocument((doc) => {
        this.codeChanged(doc.uri.fsPath);
      }),
    );
  }

  /** Renders a run's result into the function's panel (created or reused) and reveals it. */
  /** `pausedMs`: how long the run was paused in the debugger (0: not at all). */
  show(fn: FunctionInfo, result: RunResult, chosen: ChosenEvent, pausedMs = 0): void {
    const key = functionKey(fn);
    this.knownRoots.add(fn.root);
    const state: ViewState = {
      functionName: fn.name,
      entry: fn.entry,
      eventLabel: chosen.label,
      at: new Date(),
      requestId: result.requestId,
      model: responseModel(result, (file) => this.isUserFile(file, fn.root), pausedMs),
    };
    let entry = this.shown.get(key);
    if (!entry) {
      const panel = vscode.window.createWebviewPanel(
        RESPONSE_VIEW_TYPE,
        `${fn.name} response`,
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { enableScripts: true, enableFindWidget: true, localResourceRoots: [] },
      );
      const created: Shown = { panel, fn, chosen, result, state, ready: false, outdated: true };
      entry = created;
      this.shown.set(key, created);
      panel.onDidDispose(() => {
        if (this.shown.get(key) === created) {
          this.shown.delete(key);
        }
      });
      panel.webview.onDidReceiveMessage((msg: ViewMessage) => {
        void this.onMessage(created, msg);
      });
      // Without retainContextWhenHidden a hidden page is reloaded from the html last set:
      // bring it up to date when it shows again.
      panel.onDidChangeViewState(() => {
        if (!panel.visible) {
          created.ready = false; // its page goes; a new one says "ready" again
        } else if (created.outdated) {
          this.reload(created);
        }
      });
    } else {
      Object.assign(entry, { fn, chosen, result, state });
      if (!entry.panel.visible) {
        entry.panel.reveal(undefined, true);
      }
    }
    this.render(entry);
  }

  /** Marks a function's panel as waiting for a new run (or done with it). */
  setRunning(fn: FunctionInfo, running: boolean): void {
    const entry = this.shown.get(functionKey(fn));
    if (entry && Boolean(entry.state.running) !== running) {
      entry.state.running = running;
      this.render(entry);
    }
  }

  /** Lets frames in the output channel resolve against code roots seen so far. */
  addRoot(root: string): void {
    this.knownRoots.add(root);
  }

  /** Links in the HandlerLens output: each frame of the user's code, to its file and line. */
  provideDocumentLinks(doc: vscode.TextDocument): vscode.DocumentLink[] {
    const roots = [
      ...this.knownRoots,
      ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
    ];
    const text = doc.getText();
    const links: vscode.DocumentLink[] = [];
    for (const frame of findFrames(text)) {
      const file = roots
        .map((r) => (this.isUserFile(frame.file, r) ? this.resolve(frame.file, r) : undefined))
        .find(Boolean);
      if (!file) {
        continue;
      }
      const range = new vscode.Range(doc.positionAt(frame.start), doc.positionAt(frame.end));
      const link = new vscode.DocumentLink(
        range,
        vscode.Uri.file(file).with({ fragment: `L${frame.line}` }),
      );
      link.tooltip = `Open ${vscode.workspace.asRelativePath(file)}, line ${frame.line}`;
      links.push(link);
    }
    return links;
  }

  dispose(): void {
    for (const entry of this.shown.values()) {
      entry.panel.dispose();
    }
    for (const s of this.subscriptions) {
      s.dispose();
    }
  }

  private render(entry: Shown): void {
    entry.panel.title = `${entry.fn.name} response`;
    if (entry.ready && entry.panel.visible) {
      // The page swaps its content in place: much quicker than loading a new page. The html
      // set last is then behind: a page re-created later is loaded anew.
      entry.outdated = true;
      void entry.panel.webview
        .postMessage({ type: "render", body: responseBody(entry.state) })
        .then((delivered) => {
          if (!delivered) {
            this.reload(entry);
          }
        });
      return;
    }
    this.reload(entry);
  }

  private reload(entry: Shown): void {
    entry.ready = false;
    entry.outdated = false;
    entry.panel.webview.html = responseHtml(entry.state, randomBytes(16).toString("base64"));
  }

  /** A saved file under a shown function's code root makes its response out of date. */
  private codeChanged(file: string): void {
    const eventsDir = (fn: FunctionInfo): string | undefined => this.events.eventsDir(fn)?.fsPath;
    for (const entry of this.shown.values()) {
      const rel = path.relative(entry.fn.root, file);
      const events = eventsDir(entry.fn);
      if (
        rel.startsWith("..") ||
        path.isAbsolute(rel) ||
        (events && !path.relative(events, file).startsWith(".."))
      ) {
        continue;
      }
      const changed = new Set(entry.state.changedSince ?? []);
      if (!changed.has(rel)) {
        changed.add(rel);
        entry.state.changedSince = [...changed];
        this.render(entry);
      }
    }
  }

  private async onMessage(entry: Shown, msg: ViewMessage): Promise<void> {
    try {
      switch (msg.type) {
        case "ready":
          entry.ready = true;
          return;
        case "rerun":
          await this.rerun(entry.fn, entry.chosen);
          return;
        case "copyBody":
          await vscode.env.clipboard.writeText(entry.state.model.bodyText);
          vscode.window.setStatusBarMessage(`Copied the body of ${entry.fn.name}'s response`, 3000);
          return;
        case "copyCurl":
          await this.copyCurl(entry);
          return;
        case "saveEvent":
          await this.save(entry, false);
          return;
        case "saveTest":
          await this.save(entry, true);
          return;
        case "open":
          await this.openFrame(entry.fn, msg.file, msg.line);
          return;
      }
    } catch (err) {
      const text = errorText(err);
      this.logs.main.error(`Response view (${msg.type}): ${text}`);
      void notifyError(text);
    }
  }

  private async copyCurl(entry: Shown): Promise<void> {
    const url = entry.result.url;
    if (!url) {
      void notifyInfo(`${entry.fn.name}'s runner has no URL any more; run it again first.`);
      return;
    }
    // An HTTP function: the request its caller sends (answered with this HTTP response);
    // any other: the Invoke API call with the event.
    const http =
      entry.state.model.kind === "http" ? httpCurlCommand(url, entry.chosen.event) : undefined;
    const cmd =
      http ??
      curlCommand(
        url,
        entry.fn.name,
        entry.chosen.path ? { file: entry.chosen.path } : { json: entry.chosen.event },
      );
    await vscode.env.clipboard.writeText(cmd);
    vscode.window.setStatusBarMessage("Copied the curl command", 3000);
  }

  /** Save as event (the event) / Save as test (the event and `<name>.expected.json`). */
  private async save(entry: Shown, withExpected: boolean): Promise<void> {
    const { fn, chosen } = entry;
    const dir = this.events.eventsDir(fn);
    if (!dir) {
      throw new Error(`Cannot save an event for ${fn.name}: it is not inside a workspace folder.`);
    }
    const event = chosen.path
      ? (await this.events.fromFile(chosen.path, chosen.label))?.event
      : chosen.event;
    if (event === undefined) {
      return;
    }
    if (withExpected && !entry.result.expected && entry.result.viaApp) {
      // Its body is the gateway's answer, not the function's return value that a test expects.
      throw new Error(
        "This response came through the running app's gateway, which hides the function's own return value: Run the function with this event (Run again) to save it as a test, or save it as an event.",
      );
    }
    let taken = new Set<string>();
    try {
      taken = new Set((await vscode.workspace.fs.readDirectory(dir)).map(([n]) => n));
    } catch {
      // no events folder yet
    }
    const sameFile = chosen.path && path.dirname(chosen.path) === dir.fsPath;
    const suggested =
      withExpected && sameFile
        ? path.basename(chosen.path ?? "")
        : nextEventFileName(slug(shortSampleLabel(chosen.label)), taken);
    const name = await vscode.window.showInputBox({
      title: withExpected ? `Save as test: ${fn.name}` : `Save as event: ${fn.name}`,
      prompt: withExpected
        ? `The event and this response as its expected one, under ${vscode.workspace.asRelativePath(dir)} (handlerlens test compares later runs with it)`
        : `Saved under ${vscode.workspace.asRelativePath(dir)}`,
      value: suggested,
      validateInput: (v) => {
        const file = jsonName(v);
        if (!v.trim()) {
          return "Give the event a name.";
        }
        if (safeName(file) !== file || file.toLowerCase().endsWith(".expected.json")) {
          return "Use letters, digits, dots, dashes and underscores only (not .expected.json).";
        }
        if (taken.has(file) && !(withExpected && sameFile && file === suggested)) {
          return `${file} exists already.`;
        }
        return undefined;
      },
    });
    if (!name) {
      return;
    }
    const file = jsonName(name);
    const uri = vscode.Uri.joinPath(dir, file);
    await vscode.workspace.fs.createDirectory(dir);
    if (!(withExpected && sameFile && file === suggested)) {
      await vscode.workspace.fs.writeFile(uri, json(event));
    }
    const written = [vscode.workspace.asRelativePath(uri)];
    if (withExpected) {
      const expected = entry.result.expected;
      if (!expected) {
        throw new Error("The server sent no expected response for this run; update HandlerLens.");
      }
      const expUri = vscode.Uri.joinPath(dir, file.replace(/\.json$/i, ".expected.json"));
      await vscode.workspace.fs.writeFile(expUri, json(expected));
      written.push(vscode.workspace.asRelativePath(expUri));
    }
    this.logs.main.info(`Saved ${written.join(" and ")}`);
    entry.chosen = { label: file.replace(/\.json$/i, ""), event, path: uri.fsPath };
    await this.events.remember(fn, entry.chosen);
    const choice = await notifyInfo(`Saved ${written.join(" and ")}.`, "Open");
    if (choice) {
      await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.One });
    }
  }

  private async openFrame(fn: FunctionInfo, file: string, line: number): Promise<void> {
    const found = this.resolve(file, fn.root);
    if (!found) {
      throw new Error(`${file} is not in this workspace.`);
    }
    const uri = vscode.Uri.file(found);
    const visible = vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === found);
    const at = new vscode.Position(Math.max(0, line - 1), 0);
    await vscode.window.showTextDocument(uri, {
      viewColumn: visible?.viewColumn ?? vscode.ViewColumn.One,
      selection: new vscode.Range(at, at),
    });
  }

  private resolve(file: string, root: string): string | undefined {
    return resolveFramePath(file, root, fs.existsSync);
  }

  /**
   * A frame of the user's code: its file is (or, for a deployed path like /var/task/x.py, ends
   * like) a file under the function's code root, and is not one of the extension's own files
   * (the bundled runtime) or an installed package's.
   */
  private isUserFile(file: string, root: string): boolean {
    if (file.startsWith("<") || /[\\/](site-packages|dist-packages)[\\/]/.test(file)) {
      return false;
    }
    if (path.isAbsolute(file) && fs.existsSync(file)) {
      return isInside(file, root) && !isInside(file, this.extensionPath);
    }
    const found = this.resolve(file, root);
    return found !== undefined && !isInside(found, this.extensionPath);
  }
}

function isInside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
}

/** A file-name-friendly form of a label: "HTTP invocation" → "http-invocation". */
function slug(label: string): string {
  return (
    label
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "event"
  );
}

function jsonName(v: string): string {
  const t = v.trim();
  return t.toLowerCase().endsWith(".json") ? t : `${t}.json`;
}

function json(value: unknown): Uint8Array {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, "utf8");
}

/** Document selector of the output channels' documents (frames in function logs). */
export const OUTPUT_SELECTOR: vscode.DocumentSelector = { scheme: "output" };
