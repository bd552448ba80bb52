/**
 * The language server's lifecycle: pick the interpreter, start `<python> -m handlerlens lsp`
 * over stdio (when it does not start, check that interpreter to say why), restart on demand
 * (debounced) and after crashes (a few times, then one visible message), and expose the
 * server's commands to the rest of the client.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  CloseAction,
  type CloseHandlerResult,
  ErrorAction,
  type ErrorHandlerResult,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type Middleware,
  RevealOutputChannelOn,
  State,
} from "vscode-languageclient/node";
import { errorText, type Logs } from "./logging";
import type { InitializationOptions } from "./protocol";
import { probe, type Interpreter, type PythonLocator } from "./python";
import { readSettings, serverSettings } from "./settings";

const CLIENT_ID = "handlerlens"; // also the prefix of `handlerlens.trace.server`
const RESTART_DEBOUNCE_MS = 600;
const MAX_CRASH_RESTARTS = 3;
const CRASH_WINDOW_MS = 3 * 60_000;
const STDERR_TAIL_LINES = 40;
const KILL_GRACE_MS = 2_000;
/** The server's first stderr line (lsp/main.py, serve_stdio): the Python it runs on. */
const SERVER_PYTHON = /^HandlerLens \S+ on Python (\d+)\.(\d+)\S* \((.+)\)$/;

/**
 * Open documents sent to the server as they are edited: Python files and the declaring files
 * whose name says they declare (`EDITOR_GLOBS` in server/handlerlens/project/walk.py, the one
 * list; tests/lsp/test_declaring_files.py checks these patterns against it).
 */
export const DOCUMENT_SELECTOR = [
  { scheme: "file", language: "python" },
  { scheme: "file", pattern: "**/pyproject.toml" },
  { scheme: "file", pattern: "**/serverless.{yml,yaml}" },
  { scheme: "file", pattern: "**/template.{yml,yaml}" },
  { scheme: "file", pattern: "**/*.tf" },
];

interface SaidPython {
  version: string;
  executable: string;
}

export type ServerState = "starting" | "running" | "stopped" | "failed";

export interface ServerStatus {
  state: ServerState;
  detail: string;
  interpreter?: Interpreter;
  version?: string;
  startedInMs?: number;
}

// The client reports every failure through `ServerManager`, which shows at most one message per
// problem; the base class would add its own notification ("couldn't create connection") on top.
class QuietLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown): void {
    super.error(message, data, false);
  }
}

/** Owns the LanguageClient; one instance per extension activation. */
export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private process: ChildProcess | undefined;
  private expectedStop = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private crashes: number[] = [];
  private stderrTail: string[] = [];
  private shownProblems = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private current: ServerStatus = { state: "stopped", detail: "Not started" };
  /** A client being started: its connection closing is that start failing, not a crash. */
  private starting: LanguageClient | undefined;
  /** The Python the running server said it runs on (its first stderr line). */
  private serverPython: SaidPython | undefined;

  private readonly statusChanged = new vscode.EventEmitter<ServerStatus>();
  /** Fires on every state change (for the language status item). */
  readonly onDidChangeStatus = this.statusChanged.event;
  private readonly clientStarted = new vscode.EventEmitter<LanguageClient>();
  /** Fires with each freshly started client (to subscribe to its notifications). */
  readonly onDidStartClient = this.clientStarted.event;
  /** The language client's middleware (lenses: lenses.ts), set before the first start. */
  middleware: Middleware | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly logs: Logs,
    private readonly locator: PythonLocator,
  ) {}

  get status(): ServerStatus {
    return this.current;
  }

  /** The folder with the server's bundled Python packages, when running from a VSIX. */
  get bundledLibs(): string | undefined {
    const libs = path.join(this.context.extensionPath, "bundled", "libs");
    return fs.existsSync(libs) ? libs : undefined;
  }

  /** Environment for processes that must import the bundled packages (server, debug adapter). */
  pythonEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUTF8: "1" };
    const libs = this.bundledLibs;
    if (libs) {
      env.PYTHONPATH = [libs, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
      // Lets the runner take the bundle off PYTHONPATH for the user's workers, so a handler
      // imports the user's packages, never ours (debugpy starts workers by its own path).
      env.HANDLERLENS_BUNDLED_LIBS = libs;
    }
    return env;
  }

  /** Starts the server (serialised with other start/stop calls). */
  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  /** Stops the server and its runners. */
  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  /** Restarts now (command, trust granted); resets the crash budget. */
  restart(reason: string): Promise<void> {
    this.crashes = [];
    this.shownProblems.clear();
    this.logs.main.info(`Restarting the language server: ${reason}`);
    return this.enqueue(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  /** Restarts after a quiet period, so a burst of setting changes restarts once. */
  scheduleRestart(reason: string): void {
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
    }
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.restart(reason);
    }, RESTART_DEBOUNCE_MS);
  }

  /** Runs a server command (workspace/executeCommand) with one argument object. */
  async executeCommand<T>(command: string, arg?: unknown): Promise<T> {
    const client = this.client;
    if (!client || this.current.state !== "running") {
      throw new ServerUnavailable(this.current);
    }
    const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
      command,
      arguments: arg === undefined ? [] : [arg],
    });
    return result as T;
  }

  /** Sends one of the server's own requests (protocol.ts, `REQUEST_*`) and returns its answer. */
  async request<T>(method: string, params: unknown): Promise<T> {
    const client = this.client;
    if (!client || this.current.state !== "running") {
      throw new ServerUnavailable(this.current);
    }
    const result: unknown = await client.sendRequest(method, params);
    return result as T;
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(job, job);
    return this.queue;
  }

  private setStatus(status: ServerStatus): void {
    this.current = status;
    void vscode.commands.executeCommand(
      "setContext",
      "handlerlens.serverRunning",
      status.state === "running",
    );
    this.statusChanged.fire(status);
  }

  private async doStart(): Promise<void> {
    const t0 = Date.now();
    const settings = readSettings();
    const interpreter = await this.locator.resolve(settings.interpreter);
    this.setStatus({ state: "starting", detail: `Starting with ${interpreter.path}`, interpreter });
    const env = this.pythonEnv();
    const python = interpreter.path;
    // No Python process runs before the server (it delayed a first start by 0.1 s, ~0.9 s on a
    // loaded 2-core machine: issue #21, bench/STARTUP.md): the server says which Python it
    // runs on, refuses one too old, and `probe` says why when it did not start.
    this.serverPython = undefined;
    this.logs.main.info(
      `Starting the language server: ${python} -m handlerlens lsp (${interpreter.source})`,
    );

    const options: InitializationOptions = {
      clientCommands: true,
      settings: serverSettings(settings, python),
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.logs.server,
      traceOutputChannel: this.logs.server,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: options,
      middleware: this.middleware,
      // No message of the client's own ("Pending response rejected…"): doStart says why.
      initializationFailedHandler: () => false,
      errorHandler: {
        error: (_e, _m, count): ErrorHandlerResult =>
          count !== undefined && count <= 3
            ? { action: ErrorAction.Continue, handled: true }
            : { action: ErrorAction.Shutdown, handled: true },
        closed: (): CloseHandlerResult => this.onClosed(client),
      },
    };
    this.stderrTail = [];
    this.expectedStop = false;
    const client = new QuietLanguageClient(
      CLIENT_ID,
      "HandlerLens Language Server",
      () => this.spawnServer(python, env),
      clientOptions,
    );
    this.client = client;
    this.starting = client;
    let failed: unknown;
    try {
      await client.start();
      // A server gone before it answered ends the start without an error when the closing
      // is handled first (onClosed): the client is then not running.
      if (!client.isRunning()) {
        failed = "the server stopped before it answered";
      }
    } catch (err) {
      failed = err ?? "no reason given";
    } finally {
      this.starting = undefined;
    }
    if (failed !== undefined) {
      // What the interpreter check finds says it best (no Python there, too old, no server to
      // import); else the server's own last words.
      const checked = await probe(python, env, minimumPython(this.context));
      const problem =
        !checked.ok || !checked.hasServer
          ? (checked.problem ?? this.missingServerProblem(python))
          : this.crashText(`The HandlerLens language server did not start: ${errorText(failed)}`);
      await this.doStop(); // a server process still there, if any
      this.setStatus({ state: "failed", detail: problem, interpreter });
      this.showProblem(problem, interpreter);
      return;
    }
    const startedInMs = Date.now() - t0;
    // Set by the stderr reader meanwhile (TypeScript narrowed it to undefined above).
    const said = this.serverPython as SaidPython | undefined;
    this.logs.main.info(
      `Language server ready in ${startedInMs} ms` +
        (said ? ` (Python ${said.version}, ${said.executable})` : ""),
    );
    this.shownProblems.clear();
    this.setStatus({
      state: "running",
      detail: said ? `Python ${said.version}` : "Running",
      interpreter,
      version: said?.version,
      startedInMs,
    });
    this.clientStarted.fire(client);
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    const child = this.process;
    this.client = undefined;
    this.process = undefined;
    // A client that never started (its start failed) has nothing to stop.
    if (client && client.state !== State.Stopped) {
      this.expectedStop = true;
      try {
        await client.stop(KILL_GRACE_MS);
      } catch (err) {
        this.logs.main.warn(`Language server did not stop cleanly: ${errorText(err)}`);
      }
    }
    // The client only kills processes it spawned itself; this one was spawned here.
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      setTimeout(() => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGKILL");
        }
      }, KILL_GRACE_MS).unref();
    }
    this.setStatus({ state: "stopped", detail: "Stopped" });
  }

  private spawnServer(python: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
    // `python -m` puts the working directory first on sys.path: started in the workspace, a
    // file there named like a standard module (logging.py, typing.py…) would run as soon as
    // the server imports it — opening a folder must never run its code. The server learns
    // the workspace from `initialize`, so it starts in the extension's own directory, and
    // PYTHONSAFEPATH (Python 3.11+) keeps even that off sys.path.
    const cwd = this.context.extensionPath;
    const child = spawn(python, ["-m", "handlerlens", "lsp"], {
      cwd,
      env: { ...env, PYTHONSAFEPATH: "1" },
      stdio: "pipe",
    });
    if (child.pid === undefined) {
      // Not started (no such file, not executable): the error event says why, at once.
      return new Promise((_, reject) => {
        child.on("error", (err) => {
          reject(err);
        });
        setImmediate(() => {
          reject(new Error(`${python} did not start`));
        });
      });
    }
    this.process = child;
    child.stderr.on("data", (data: Buffer) => {
      for (const line of data.toString("utf8").split(/\r?\n/)) {
        if (line.trim()) {
          this.stderrTail.push(line);
        }
        const said = SERVER_PYTHON.exec(line.trim());
        if (said && this.process === child) {
          this.saidPython(`${said[1]}.${said[2]}`, said[3] ?? "");
        }
      }
      this.stderrTail.splice(0, Math.max(0, this.stderrTail.length - STDERR_TAIL_LINES));
    });
    child.on("exit", (code, signal) => {
      if (!this.expectedStop) {
        this.logs.main.warn(
          `Language server exited (code ${String(code)}, signal ${String(signal)})`,
        );
      }
    });
    return Promise.resolve(child);
  }

  /** The server said its Python: shown in the status once it runs (it may say so later). */
  private saidPython(version: string, executable: string): void {
    this.serverPython = { version, executable };
    if (this.current.state === "running" && this.current.version === undefined) {
      this.setStatus({ ...this.current, detail: `Python ${version}`, version });
    }
  }

  private onClosed(client: LanguageClient): CloseHandlerResult {
    if (this.expectedStop || this.starting === client) {
      // A client being started: doStart says why it did not start.
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < CRASH_WINDOW_MS);
    this.crashes.push(now);
    const interpreter = this.current.interpreter;
    const reason = this.crashText("The HandlerLens language server stopped unexpectedly");
    this.client = undefined;
    if (this.crashes.length <= MAX_CRASH_RESTARTS) {
      this.logs.main.warn(`${reason}; restarting (${this.crashes.length}/${MAX_CRASH_RESTARTS}).`);
      this.setStatus({
        state: "starting",
        detail: `Restarting after a crash (${this.crashes.length}/${MAX_CRASH_RESTARTS})`,
        interpreter,
      });
      void this.enqueue(() => this.doStart());
    } else {
      const problem = `${reason}, ${this.crashes.length} times in 3 minutes; it was not restarted again.`;
      this.setStatus({ state: "failed", detail: problem, interpreter });
      this.showProblem(problem, interpreter);
    }
    // Restarts are done here with fresh settings, never by the client itself.
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  private crashText(prefix: string): string {
    const missing = this.stderrTail.map((l) => /No module named '([^']+)'/.exec(l)).find(Boolean);
    if (missing) {
      return `${prefix}: its Python cannot import "${missing[1]}". Point handlerlens.interpreter at an environment with HandlerLens installed (pip install handlerlens), or use the packaged extension, which bundles it.`;
    }
    // The stderr tail is mostly the server's own logging; only an exception line says why.
    const error = [...this.stderrTail]
      .reverse()
      .find((l) =>
        /^\w+(\.\w+)*(Error|Exception|Exit)\b|^Traceback|Killed|Segmentation fault/.test(l.trim()),
      );
    return error
      ? `${prefix}: ${error.trim()}`
      : `${prefix} (see the "HandlerLens Language Server" output)`;
  }

  private missingServerProblem(python: string): string {
    return this.bundledLibs
      ? `"${python}" cannot import the bundled HandlerLens server; reinstall the extension.`
      : `"${python}" cannot import handlerlens. Install it there (pip install -e <repo>) or set handlerlens.interpreter to an environment that has it.`;
  }

  private showProblem(problem: string, interpreter: Interpreter | undefined): void {
    this.logs.main.error(problem);
    if (this.shownProblems.has(problem)) {
      return;
    }
    this.shownProblems.add(problem);
    const actions =
      interpreter?.source === "setting" || !interpreter
        ? ["Open Settings", "Show Logs"]
        : ["Set Interpreter", "Show Logs"];
    void vscode.window.showErrorMessage(problem, ...actions, "Restart").then((choice) => {
      if (choice === "Open Settings" || choice === "Set Interpreter") {
        void vscode.commands.executeCommand(
          "workbench.action.openSettings",
          "handlerlens.interpreter",
        );
      } else if (choice === "Show Logs") {
        this.logs.main.show(true);
      } else if (choice === "Restart") {
        void this.restart("requested from the error message");
      }
    });
  }

  dispose(): void {
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
    }
    void this.stop();
    this.statusChanged.dispose();
    this.clientStarted.dispose();
  }
}

/** Raised by `executeCommand` while the server is not running; its message says why. */
export class ServerUnavailable extends Error {
  constructor(status: ServerStatus) {
    super(
      status.state === "failed"
        ? status.detail
        : `The HandlerLens language server is ${status.state === "starting" ? "still starting" : "not running"}; try again in a moment.`,
    );
  }
}

function minimumPython(context: vscode.ExtensionContext): [number, number] {
  const pkg = context.extension.packageJSON as { serverInfo?: { minimumPython?: string } };
  const [major, minor] = (pkg.serverInfo?.minimumPython ?? "3.10").split(".").map(Number);
  return [major ?? 3, minor ?? 10];
}
