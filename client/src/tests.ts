/**
 * Saved events in VS Code's Test Explorer: one item per function with saved events, one child
 * per event (`handlerlens event list --format json`, per workspace folder).
 *
 * Run runs the chosen events through `handlerlens test … --format json`, the very command CI
 * runs: the same runner start, the same comparison, `[tool.handlerlens.test]` applied, and
 * nothing to keep in step between two implementations. A failure carries the two sides as
 * compared, so the diff view opens. Debug goes through the Run lens's debug flow (the language
 * server's debug and run commands, `DebugSupport`), so breakpoints in the handler stop, and
 * the response it got is judged by `python -m handlerlens.replay.judge`, the same comparison.
 * "Accept Actual as Expected" runs `handlerlens test EVENT --update` and then the event again.
 * The items follow the events folders on disk (a file watcher) and the declaring files.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import type { DebugSupport } from "./debug";
import { listFunctions } from "./functions";
import { errorText, type Logs } from "./logging";
import {
  type DebugResult,
  type FunctionInfo,
  type RunResult,
  SERVER_DEBUG,
  SERVER_RUN,
} from "./protocol";
import { ensureTrust } from "./runner";
import type { ServerManager } from "./server";
import { readSettings } from "./settings";
import {
  eventListArgs,
  judgeArgs,
  type ListedEvent,
  type ListedFunction,
  parseEventListing,
  parseTestReport,
  testArgs,
  type TestReport,
  type TestVerdict,
  verdictText,
} from "./testReport";

export const CONTROLLER_ID = "handlerlens";
export const ACCEPT_ACTUAL_COMMAND = "handlerlens.acceptActual";
/** `TestMessage.contextValue` of a failure that "Accept Actual as Expected" can fix. */
const ACCEPTABLE = "handlerlens.acceptable";
const REFRESH_DEBOUNCE_MS = 400;
// The listing at the server's first start waits this long: it is a Python process of its own
// (~0.3 s of CPU), which competed with the server's first read of the workspace for a 2-core
// machine (issue #21, bench/STARTUP.md). The Testing view, when opened, asks at once.
const FIRST_LISTING_DELAY_MS = 3000;
const DECLARING_FILE = /(^|[\\/])(pyproject\.toml|(template|serverless)\.ya?ml|[^\\/]+\.tf)$/i;

interface EventData {
  kind: "event";
  folder: vscode.WorkspaceFolder;
  event: ListedEvent;
  fn: ListedFunction | undefined;
}

interface FunctionData {
  kind: "function";
  folder: vscode.WorkspaceFolder;
  fn: ListedFunction | undefined;
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class EventTests implements vscode.Disposable {
  private readonly controller: vscode.TestController;
  private readonly data = new WeakMap<vscode.TestItem, EventData | FunctionData>();
  private readonly subscriptions: { dispose(): unknown }[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private listed = false;
  private watchers: vscode.Disposable[] = [];

  constructor(
    private readonly server: ServerManager,
    private readonly debug: DebugSupport,
    private readonly logs: Logs,
  ) {
    const c = vscode.tests.createTestController(CONTROLLER_ID, "HandlerLens saved events");
    this.controller = c;
    c.resolveHandler = async (item) => {
      if (!item) {
        await this.refresh();
      }
    };
    c.refreshHandler = () => this.refresh();
    c.createRunProfile(
      "Run saved events",
      vscode.TestRunProfileKind.Run,
      (request, token) => this.run(request, token),
      true,
    );
    c.createRunProfile(
      "Debug saved events",
      vscode.TestRunProfileKind.Debug,
      (request, token) => this.debugRun(request, token),
      true,
    );
    this.watch();
    this.subscriptions.push(
      c,
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        this.watch();
        this.scheduleRefresh();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration("handlerlens.eventsFolder")) {
          this.watch();
          this.scheduleRefresh();
        }
      }),
      // A renamed function (or one added) changes which folder is whose.
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (DECLARING_FILE.test(doc.uri.fsPath)) {
          this.scheduleRefresh();
        }
      }),
      server.onDidChangeStatus((st) => {
        if (st.state === "running") {
          this.scheduleRefresh(this.listed ? REFRESH_DEBOUNCE_MS : FIRST_LISTING_DELAY_MS);
        }
      }),
    );
  }

  /** `handlerlens.acceptActual`: from the item's context menu or the failure's peek view. */
  async acceptActual(arg: unknown): Promise<void> {
    const item = testItemOf(arg);
    const data = item && this.data.get(item);
    if (!item || !data) {
      void vscode.window.showErrorMessage(
        "Accept Actual as Expected: choose a failed saved event in the Testing view.",
      );
      return;
    }
    if (!(await ensureTrust("Accepting the actual response"))) {
      return;
    }
    const events = this.leaves([item]);
    const project = this.projectArgs(data.folder);
    try {
      const out = await this.cli(
        data.folder,
        testArgs({ ...project, paths: events.map((e) => e.event.path), update: true }),
      );
      const report = this.report(out);
      const written = report.tests.filter((t) => t.status === "updated").length;
      const notWritten = report.tests.filter(
        (t) => t.status !== "updated" && t.status !== "passed",
      );
      this.logs.main.info(`Accept actual: wrote ${written} expected file(s) for ${item.label}`);
      if (notWritten.length) {
        void vscode.window.showWarningMessage(
          `Not accepted: ${notWritten.map((t) => `${t.id}: ${verdictText(t)}`).join("; ")}`,
        );
      }
    } catch (err) {
      void vscode.window.showErrorMessage(`Accept Actual as Expected failed: ${errorText(err)}`);
      return;
    }
    // Run it again: the item shows what the event now gives against the file just written.
    const source = new vscode.CancellationTokenSource();
    try {
      await this.run(new vscode.TestRunRequest([item]), source.token);
    } finally {
      source.dispose();
    }
  }

  /** Lists the functions and their saved events again (every workspace folder). */
  refresh(): Promise<void> {
    this.listed = true;
    if (this.refreshing) {
      // One at a time; a request during one is answered by one more afterwards.
      const next = this.refreshing.then(() => this.doRefresh());
      this.refreshing = next;
      return next;
    }
    const now = this.doRefresh().finally(() => {
      if (this.refreshing === now) {
        this.refreshing = undefined;
      }
    });
    this.refreshing = now;
    return now;
  }

  private scheduleRefresh(delay = REFRESH_DEBOUNCE_MS): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => void this.refresh(), delay);
  }

  private watch(): void {
    disposeAll(this.watchers);
    this.watchers = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const base = readSettings(folder).eventsFolder.replace(/\\/g, "/").replace(/\/+$/, "");
      const pattern = path.isAbsolute(base)
        ? new vscode.RelativePattern(vscode.Uri.file(base), "**")
        : new vscode.RelativePattern(folder, `{${base},**/${base}}/**`);
      const w = vscode.workspace.createFileSystemWatcher(pattern);
      const changed = (): void => {
        this.scheduleRefresh();
      };
      this.watchers.push(w, w.onDidCreate(changed), w.onDidChange(changed), w.onDidDelete(changed));
    }
  }

  private async doRefresh(): Promise<void> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (!this.server.status.interpreter) {
      return; // listed once the server (and so the interpreter) is up
    }
    const multi = folders.length > 1;
    const top: vscode.TestItem[] = [];
    for (const folder of folders) {
      let listing;
      try {
        const out = await this.cli(folder, eventListArgs(this.projectArgs(folder)));
        if (out.code !== 0) {
          throw new Error(out.stderr.trim() || `exit status ${String(out.code)}`);
        }
        listing = parseEventListing(out.stdout);
      } catch (err) {
        this.logs.main.warn(`Saved events of ${folder.name} not listed: ${errorText(err)}`);
        continue;
      }
      for (const w of listing.warnings) {
        this.logs.main.warn(`Saved events (${folder.name}): ${w}`);
      }
      const existing = this.controller.items.get(folder.uri.toString());
      const within = multi ? existing?.children : this.controller.items;
      const items = this.functionItems(folder, listing.functions, listing.events, within);
      if (multi && items.length) {
        const holder = this.reuse(existing, folder.uri.toString(), folder.name, undefined);
        holder.children.replace(items);
        this.data.set(holder, { kind: "function", folder, fn: undefined });
        top.push(holder);
      } else {
        top.push(...items);
      }
    }
    this.controller.items.replace(top);
  }

  /**
   * The item `found` (listed before) kept, when it still stands for the same file, else a new
   * one: a listing refreshed while a run goes on (an event saved meanwhile) must not swap the
   * items the run reports on for new ones.
   */
  private reuse(
    found: vscode.TestItem | undefined,
    id: string,
    label: string,
    uri: vscode.Uri | undefined,
  ): vscode.TestItem {
    if (found && found.uri?.toString() === uri?.toString()) {
      found.label = label;
      return found;
    }
    return this.controller.createTestItem(id, label, uri);
  }

  private functionItems(
    folder: vscode.WorkspaceFolder,
    functions: ListedFunction[],
    events: ListedEvent[],
    listed: vscode.TestItemCollection | undefined,
  ): vscode.TestItem[] {
    const byFunction = new Map<string, ListedEvent[]>();
    for (const e of events) {
      const owner = e.function ?? e.folder;
      byFunction.set(owner, [...(byFunction.get(owner) ?? []), e]);
    }
    const items: vscode.TestItem[] = [];
    for (const [owner, mine] of byFunction) {
      const fn = functions.find((f) => f.testName === owner);
      const id = `${folder.uri.toString()}::${owner}`;
      const item = this.reuse(
        listed?.get(id),
        id,
        owner,
        fn?.declaredIn ? vscode.Uri.file(fn.declaredIn) : undefined,
      );
      item.description = fn ? `${fn.entry} · ${fn.platform}` : "no such function";
      item.children.replace(
        mine.map((e) => {
          const childId = `${folder.uri.toString()}::${e.id}`;
          const child = this.reuse(
            item.children.get(childId),
            childId,
            e.event,
            vscode.Uri.file(e.path),
          );
          child.range = new vscode.Range(0, 0, 0, 0);
          child.description = e.state === "expected" ? undefined : e.state;
          this.data.set(child, { kind: "event", folder, event: e, fn });
          return child;
        }),
      );
      this.data.set(item, { kind: "function", folder, fn });
      items.push(item);
    }
    return items;
  }

  /** The saved events a request names (an item stands for all of its events). */
  private requested(request: vscode.TestRunRequest): { item: vscode.TestItem; d: EventData }[] {
    const roots: vscode.TestItem[] = [];
    if (request.include) {
      roots.push(...request.include);
    } else {
      this.controller.items.forEach((i) => roots.push(i));
    }
    const excluded = new Set(request.exclude ?? []);
    const found: { item: vscode.TestItem; d: EventData }[] = [];
    const seen = new Set<string>();
    const visit = (item: vscode.TestItem): void => {
      if (excluded.has(item) || seen.has(item.id)) {
        return;
      }
      seen.add(item.id);
      const d = this.data.get(item);
      if (d?.kind === "event") {
        found.push({ item, d });
      }
      item.children.forEach(visit);
    };
    roots.forEach(visit);
    return found;
  }

  private leaves(items: vscode.TestItem[]): EventData[] {
    return this.requested(new vscode.TestRunRequest(items)).map((x) => x.d);
  }

  private async run(request: vscode.TestRunRequest, token: vscode.CancellationToken) {
    const chosen = this.requested(request);
    const run = this.controller.createTestRun(request);
    try {
      if (!(await ensureTrust("Running saved events"))) {
        for (const { item } of chosen) {
          run.skipped(item);
        }
        return;
      }
      const byFolder = new Map<vscode.WorkspaceFolder, typeof chosen>();
      for (const x of chosen) {
        byFolder.set(x.d.folder, [...(byFolder.get(x.d.folder) ?? []), x]);
        run.enqueued(x.item);
      }
      for (const [folder, mine] of byFolder) {
        if (token.isCancellationRequested) {
          mine.forEach((x) => {
            run.skipped(x.item);
          });
          continue;
        }
        mine.forEach((x) => {
          run.started(x.item);
        });
        const settings = readSettings(folder);
        let report: TestReport;
        try {
          const out = await this.cli(
            folder,
            testArgs({
              ...this.projectArgs(folder),
              paths: mine.map((x) => x.d.event.path),
              timeout: settings.runnerTimeout,
            }),
            token,
          );
          run.appendOutput(crlf(out.stderr));
          report = this.report(out);
        } catch (err) {
          const message = new vscode.TestMessage(`handlerlens test did not run: ${errorText(err)}`);
          mine.forEach((x) => {
            run.errored(x.item, message);
          });
          continue;
        }
        const byPath = new Map(report.tests.map((t) => [real(t.path), t]));
        for (const x of mine) {
          const verdict = byPath.get(real(x.d.event.path));
          if (!verdict) {
            run.errored(x.item, new vscode.TestMessage("handlerlens test did not report it"));
          } else {
            this.show(run, x.item, verdict);
          }
        }
      }
    } finally {
      run.end();
    }
  }

  /** Debug: each event through the Run lens's debug flow, one after the other. */
  private async debugRun(request: vscode.TestRunRequest, token: vscode.CancellationToken) {
    const chosen = this.requested(request);
    const run = this.controller.createTestRun(request);
    try {
      if (!(await ensureTrust("Debugging saved events"))) {
        chosen.forEach((x) => {
          run.skipped(x.item);
        });
        return;
      }
      chosen.forEach((x) => {
        run.enqueued(x.item);
      });
      const fns = await listFunctions(this.server);
      for (const { item, d } of chosen) {
        if (token.isCancellationRequested) {
          run.skipped(item);
          continue;
        }
        run.started(item);
        const started = Date.now();
        try {
          const verdict = await this.debugOne(d, fns, token);
          if (verdict) {
            verdict.durationMs = Date.now() - started;
            this.show(run, item, verdict);
          } else {
            run.skipped(item);
          }
        } catch (err) {
          run.errored(item, new vscode.TestMessage(errorText(err)));
        }
      }
    } finally {
      run.end();
    }
  }

  private async debugOne(
    d: EventData,
    fns: FunctionInfo[],
    token: vscode.CancellationToken,
  ): Promise<TestVerdict | undefined> {
    const fn = fns.find((f) => d.fn && f.name === d.fn.name && samePath(f.root, d.fn.root));
    if (!fn) {
      throw new Error(
        `the language server does not know ${d.event.function ?? d.event.folder}: ${d.event.state}`,
      );
    }
    const open = vscode.workspace.textDocuments.find((doc) =>
      samePath(doc.uri.fsPath, d.event.path),
    );
    if (open?.isDirty) {
      await open.save();
    }
    const event = JSON.parse(await fs.promises.readFile(d.event.path, "utf8")) as unknown;
    if (!this.debug.sessionFor(fn)) {
      const result = await this.server.executeCommand<DebugResult | null>(SERVER_DEBUG, {
        function: fn,
        event,
      });
      if (!result) {
        throw new Error(
          `the debug runner of ${fn.name} did not start (see the HandlerLens output)`,
        );
      }
      if (!(await this.debug.startFor(fn, d.folder, result))) {
        throw new Error(`the debug session for ${fn.name} did not start`);
      }
    }
    if (token.isCancellationRequested) {
      return undefined;
    }
    const result = await this.server.executeCommand<RunResult | null>(SERVER_RUN, {
      function: fn,
      event,
      eventPath: d.event.path,
    });
    if (!result) {
      throw new Error(`the run of ${fn.name} failed (see the HandlerLens output)`);
    }
    for (const line of result.logs) {
      this.logs.functionLine(fn.name, line, "stdout");
    }
    const out = await this.cli(
      d.folder,
      judgeArgs({ ...this.projectArgs(d.folder), path: d.event.path }),
      undefined,
      JSON.stringify({ json: result.json ?? null, functionError: result.functionError }),
    );
    const verdict = this.report(out).tests[0];
    if (!verdict) {
      throw new Error("no verdict on the response");
    }
    return verdict;
  }

  private show(run: vscode.TestRun, item: vscode.TestItem, v: TestVerdict): void {
    const duration = v.durationMs;
    if (v.status === "passed" || v.status === "updated") {
      run.passed(item, duration);
      return;
    }
    const text = verdictText(v);
    // At the event file (the item's own): VS Code opens the failure's peek, with the diff, in
    // an editor of it that is on screen.
    const location = new vscode.Location(vscode.Uri.file(v.path), new vscode.Position(0, 0));
    if (v.status === "no expectation") {
      // Not a failure (CI passes it too, unless --strict): skipped, with the reason in the
      // output; "Accept Actual as Expected" on it writes its first expected file.
      run.appendOutput(crlf(`${v.id}: ${text}\n`), undefined, item);
      run.skipped(item);
      return;
    }
    const message = v.expectedText
      ? vscode.TestMessage.diff(text, v.expectedText, v.actualText)
      : new vscode.TestMessage(text);
    message.location = location;
    if (v.status === "failed") {
      message.contextValue = ACCEPTABLE;
      run.failed(item, message, duration);
    } else {
      run.errored(item, message, duration);
    }
  }

  private report(out: Outcome): TestReport {
    if (out.code === 2 || (out.code !== 0 && out.code !== 1)) {
      throw new Error(out.stderr.trim() || `exit status ${String(out.code)}`);
    }
    const report = parseTestReport(out.stdout);
    for (const w of report.warnings) {
      this.logs.main.warn(`handlerlens test: ${w}`);
    }
    return report;
  }

  private projectArgs(folder: vscode.WorkspaceFolder): { root: string; eventsFolder: string } {
    return { root: folder.uri.fsPath, eventsFolder: readSettings(folder).eventsFolder };
  }

  /** `<interpreter> ARGS` in the folder, with the server's environment (bundled packages). */
  private cli(
    folder: vscode.WorkspaceFolder,
    args: string[],
    token?: vscode.CancellationToken,
    input?: string,
  ): Promise<Outcome> {
    const python = this.server.status.interpreter?.path;
    if (!python) {
      return Promise.reject(new Error("the HandlerLens server is not running (no interpreter)"));
    }
    this.logs.main.info(`Tests: ${python} ${args.join(" ")}`);
    return new Promise((resolve, reject) => {
      const child = spawn(python, args, {
        cwd: folder.uri.fsPath,
        env: this.server.pythonEnv(),
        stdio: ["pipe", "pipe", "pipe"],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (b: Buffer) => out.push(b));
      child.stderr.on("data", (b: Buffer) => err.push(b));
      const cancel = token?.onCancellationRequested(() => child.kill("SIGINT"));
      child.on("error", (e) => {
        cancel?.dispose();
        reject(e);
      });
      child.on("close", (code) => {
        cancel?.dispose();
        resolve({
          code,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
        });
      });
      child.stdin.end(input ?? "");
    });
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    disposeAll(this.watchers);
    disposeAll(this.subscriptions);
  }
}

/** The TestItem of a menu command's argument: the item itself, or `{test, message}`. */
function testItemOf(arg: unknown): vscode.TestItem | undefined {
  const r = arg as { id?: unknown; test?: unknown } | undefined;
  if (r && typeof r.id === "string" && "children" in r) {
    return arg as vscode.TestItem;
  }
  return r?.test ? testItemOf(r.test) : undefined;
}

function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function samePath(a: string, b: string): boolean {
  return real(a) === real(b);
}

/** Test output is a terminal: lines end in CR LF. */
function crlf(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}

function disposeAll(items: readonly { dispose(): unknown }[]): void {
  for (const d of items) {
    d.dispose();
  }
}
