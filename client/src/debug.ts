/**
 * The `handlerlens` debug type, backed by debugpy's own adapter (bundled debugpy; no
 * marketplace extension): attach configurations connect to the runner's debugpy listener
 * (through `SocketAdapter`, a go-between that reads every message), launch configurations
 * start `<python> -m debugpy.adapter`. Worker processes are announced by debugpy's
 * `debugpyAttach` event (see dap.ts for why not its `startDebugging` request) and started here
 * as child sessions managed by the runner's session: one Stop ends the whole debug run, and
 * their output goes to the one Debug Console. Their configuration carries `connect`, so they
 * take the same path.
 */
import * as net from "node:net";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  appConfiguration,
  encodeMessage,
  MessageReader,
  SessionGate,
  toAdapter,
  workerConfiguration,
} from "./dap";
import { functionKey } from "./functions";
import type { Logs } from "./logging";
import { type AppResult, CLIENT_DEBUG, type DebugResult, type FunctionInfo } from "./protocol";
import type { ServerManager } from "./server";

export const DEBUG_TYPE = "handlerlens";
/** Marks sessions started for a function, so a second Debug click reuses the session. */
const FUNCTION_KEY = "handlerlensFunction";
/** Marks the session of Debug App with the app's folder (one per folder). */
const APP_KEY = "handlerlensApp";

interface Connect {
  host: string;
  port: number;
}

export class DebugSupport
  implements
    vscode.DebugAdapterDescriptorFactory,
    vscode.DebugConfigurationProvider,
    vscode.Disposable
{
  private readonly sessions = new Map<string, vscode.DebugSession>();
  private readonly live = new Map<string, vscode.DebugSession>(); // by session id
  private readonly endedIds = new Set<string>();
  /** Top-level sessions (not workers') by the debug port they attached to. */
  private readonly topByPort = new Map<number, Set<string>>();
  private readonly ended = new vscode.EventEmitter<string>();
  /** Fires with the function key when a function's top-level debug session ends. */
  readonly onDidEndFunctionSession = this.ended.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  /** The go-between adapter of each attached session, by session id. */
  private readonly adapters = new Map<string, SocketAdapter>();
  /** Sessions stopped in the debugger (at a breakpoint, a step), by session id. */
  private readonly stoppedSessions = new Map<string, string>(); // → function key
  /** Per function key: total ms paused before now, and since when it is paused (if it is). */
  private readonly pauses = new Map<string, { total: number; since?: number }>();
  /** Debug App's top-level session per app folder. */
  private readonly appSessions = new Map<string, vscode.DebugSession>();
  private readonly appChanged = new vscode.EventEmitter<{ root: string; ended: boolean }>();
  /** Fires when an app's debug session starts or ends (the status bar shows it). */
  readonly onDidChangeAppSession = this.appChanged.event;

  constructor(
    private readonly server: ServerManager,
    private readonly logs: Logs,
  ) {
    this.subscriptions.push(
      vscode.debug.onDidStartDebugSession((s) => {
        if (s.type !== DEBUG_TYPE) {
          return;
        }
        if (this.orphaned(s)) {
          // A worker announced just before its runner's session stopped: nothing to debug for.
          void vscode.debug.stopDebugging(s);
          return;
        }
        this.live.set(s.id, s);
        this.logs.main.info(
          `Debug session started: ${s.name}${s.parentSession ? ` (child of ${s.parentSession.name})` : ""}`,
        );
        const key = s.configuration[FUNCTION_KEY] as unknown;
        if (typeof key === "string" && !s.parentSession) {
          this.sessions.set(key, s);
        }
        const app = s.configuration[APP_KEY] as unknown;
        if (typeof app === "string" && !s.parentSession) {
          this.appSessions.set(app, s);
          this.appChanged.fire({ root: app, ended: false });
        }
      }),
      vscode.debug.onDidTerminateDebugSession((s) => {
        this.setStopped(s, false);
        this.live.delete(s.id);
        this.endedIds.add(s.id);
        const port = this.forgetTop(s);
        this.logs.main.info(`Debug session ended: ${s.name}`);
        // Workers' child sessions outlive a stopped runner session in VS Code (each has its
        // own connection to debugpy's adapter): one Stop should end them all.
        for (const child of this.live.values()) {
          if (
            child.parentSession?.id === s.id ||
            (port !== undefined && isWorkerSession(child) && this.orphaned(child))
          ) {
            this.endChild(child);
          }
        }
        this.adapters.delete(s.id);
        for (const [key, session] of this.sessions) {
          if (session.id === s.id) {
            this.sessions.delete(key);
            this.ended.fire(key);
          }
        }
        for (const [root, session] of this.appSessions) {
          if (session.id === s.id) {
            this.appSessions.delete(root);
            this.appChanged.fire({ root, ended: true });
          }
        }
      }),
      vscode.debug.onDidReceiveDebugSessionCustomEvent((e) => {
        if (e.session.type === DEBUG_TYPE && e.event === "debugpyAttach") {
          void this.startWorker(e.session, (e.body ?? {}) as Record<string, unknown>);
        }
      }),
    );
  }

  /**
   * A worker's session, as a child of the session that announced it: managed by it (Stop on
   * the worker stops the run; the toolbar shows one session), folded into it in the Call Stack
   * while it is the only one, its output in the parent's Debug Console.
   */
  private async startWorker(parent: vscode.DebugSession, body: Record<string, unknown>) {
    if (this.endedIds.has(parent.id)) {
      return;
    }
    const config = workerConfiguration(body, parent.name, DEBUG_TYPE);
    const started = await vscode.debug.startDebugging(parent.workspaceFolder, config, {
      parentSession: parent,
      lifecycleManagedByParent: true,
      compact: true,
      consoleMode: vscode.DebugConsoleMode.MergeWithParent,
      suppressSaveBeforeStart: true,
    });
    if (!started) {
      this.logs.main.warn(`Could not attach to ${config.name}`);
    }
  }

  /**
   * Ends a worker's session whose runner session has ended. Stopping it through VS Code would
   * be handed to its (gone) parent, as its lifecycle is the parent's: its adapter says
   * `terminated` instead, and VS Code disconnects it as it does any ended session.
   */
  private endChild(child: vscode.DebugSession): void {
    const adapter = this.adapters.get(child.id);
    if (adapter) {
      adapter.end();
    } else {
      void vscode.debug.stopDebugging(child);
    }
  }

  /**
   * A function's log line in the Debug Console too, while a debug session of that function
   * is on (what `print()` writes shows where the user is looking while debugging).
   */
  echo(fnName: string, text: string): void {
    const on =
      this.appSessions.size > 0 ||
      [...this.sessions.keys()].some((key) => key.endsWith(`${path.sep}${fnName}`));
    if (on) {
      vscode.debug.activeDebugConsole.appendLine(text);
    }
  }

  /**
   * How long the function has been paused in the debugger over the editor session, in ms (a
   * running count: the difference across a run is that run's pause).
   */
  pausedMs(fn: FunctionInfo): number {
    const p = this.pauses.get(functionKey(fn));
    if (!p) {
      return 0;
    }
    return p.total + (p.since !== undefined ? performance.now() - p.since : 0);
  }

  /** A session of a function stopped (a breakpoint, a step's end) or went on. */
  private setStopped(session: vscode.DebugSession, stopped: boolean): void {
    const key = session.configuration[FUNCTION_KEY] as unknown;
    if (typeof key !== "string") {
      return;
    }
    const before = [...this.stoppedSessions.values()].includes(key);
    if (stopped) {
      this.stoppedSessions.set(session.id, key);
    } else {
      this.stoppedSessions.delete(session.id);
    }
    const after = [...this.stoppedSessions.values()].includes(key);
    const p = this.pauses.get(key) ?? { total: 0 };
    this.pauses.set(key, p);
    if (!before && after) {
      p.since = performance.now();
    } else if (before && !after && p.since !== undefined) {
      p.total += performance.now() - p.since;
      p.since = undefined;
    }
  }

  /** The function's running debug session, if one was started and has not ended. */
  sessionFor(fn: FunctionInfo): vscode.DebugSession | undefined {
    return this.sessions.get(functionKey(fn));
  }

  /** Starts a session from the server's `debugConfiguration` for a function. */
  async startFor(
    fn: FunctionInfo,
    folder: vscode.WorkspaceFolder | undefined,
    result: DebugResult,
  ): Promise<boolean> {
    const config: vscode.DebugConfiguration = {
      name: `Debug ${fn.name}`,
      request: "attach",
      justMyCode: true,
      ...result.debugConfiguration,
      // Always our own type: the server may name debugpy's, which needs the Python extension.
      type: DEBUG_TYPE,
      [FUNCTION_KEY]: functionKey(fn),
    };
    if (config.request === "attach" && !connectOf(config)) {
      config.connect = { host: "127.0.0.1", port: result.debugPort };
    }
    return vscode.debug.startDebugging(folder, config, { suppressSaveBeforeStart: true });
  }

  /** Debug App's session of the app in `root`, if one is on. */
  appSessionFor(root: string): vscode.DebugSession | undefined {
    return this.appSessions.get(root);
  }

  /**
   * Attaches to the app the server started under debugpy (Debug App), through the same
   * go-between as Debug Handler: each function's worker joins as a child session when a
   * request first starts it, and again after every reload.
   */
  async startForApp(folder: vscode.WorkspaceFolder, result: AppResult): Promise<boolean> {
    if (!result.debugPort) {
      return false;
    }
    const config = appConfiguration(result.debugConfiguration, result.debugPort, result.root, {
      debugType: DEBUG_TYPE,
      appKey: APP_KEY,
      folderName: folder.name,
    });
    return vscode.debug.startDebugging(folder, config, { suppressSaveBeforeStart: true });
  }

  /** Ends Debug App's session of the app in `root` (Stop App), if one is on. */
  async stopApp(root: string): Promise<void> {
    const session = this.appSessions.get(root);
    if (session) {
      await vscode.debug.stopDebugging(session);
    }
  }

  createDebugAdapterDescriptor(
    session: vscode.DebugSession,
  ): vscode.ProviderResult<vscode.DebugAdapterDescriptor> {
    // Known from here, not only once started: a child still connecting when its parent stops
    // must be stopped with it.
    this.live.set(session.id, session);
    this.rememberTop(session);
    if (this.orphaned(session)) {
      // Announced by debugpy just before its runner's session stopped: end it at once (a
      // session still starting cannot be stopped from outside).
      // DebugAdapter is declared as extending the Disposable class, but VS Code only calls
      // dispose(): the documented way to implement it is a plain class, as here.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
      return new vscode.DebugAdapterInlineImplementation(new EndedAdapter());
    }
    const c = session.configuration;
    const connect = connectOf(c);
    if (c.request === "attach" && connect) {
      this.logs.main.info(
        `Debug adapter: debugpy at ${connect.host}:${connect.port} (${session.name})`,
      );
      const adapter = new SocketAdapter(connect, this.logs.main);
      this.adapters.set(session.id, adapter);
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
      return new vscode.DebugAdapterInlineImplementation(adapter);
    }
    const python = this.server.status.interpreter?.path ?? "python3";
    this.logs.main.info(`Debug adapter: ${python} -m debugpy.adapter (${session.name})`);
    const env = Object.fromEntries(
      Object.entries(this.server.pythonEnv()).filter(
        (kv): kv is [string, string] => typeof kv[1] === "string",
      ),
    );
    return new vscode.DebugAdapterExecutable(python, ["-m", "debugpy.adapter"], { env });
  }

  /** A runner's (top-level) session: known by its port, so its workers can be matched. */
  private rememberTop(session: vscode.DebugSession): void {
    const port = connectOf(session.configuration)?.port;
    if (port === undefined || isWorkerSession(session)) {
      return;
    }
    const ids = this.topByPort.get(port) ?? new Set<string>();
    ids.add(session.id);
    this.topByPort.set(port, ids);
  }

  /** Forgets an ended top-level session; its port, if it was one. */
  private forgetTop(session: vscode.DebugSession): number | undefined {
    const port = connectOf(session.configuration)?.port;
    const ids = port === undefined ? undefined : this.topByPort.get(port);
    if (!ids?.delete(session.id)) {
      return undefined;
    }
    if (!ids.size) {
      this.topByPort.delete(port as number);
    }
    return port;
  }

  /**
   * A worker's session whose runner session has ended. VS Code drops `parentSession` once the
   * parent is gone, so a worker announced just before the Stop arrives with no parent at all:
   * it is matched by the debug port it attaches to, which no live runner session uses then.
   */
  private orphaned(session: vscode.DebugSession): boolean {
    if (session.parentSession) {
      return this.endedIds.has(session.parentSession.id);
    }
    if (!isWorkerSession(session)) {
      return false;
    }
    const port = connectOf(session.configuration)?.port;
    return port !== undefined && !this.topByPort.get(port)?.size;
  }

  /** F5 with no launch.json debugs the handler at the cursor; otherwise fills defaults. */
  resolveDebugConfiguration(
    _folder: vscode.WorkspaceFolder | undefined,
    config: vscode.DebugConfiguration,
  ): vscode.ProviderResult<vscode.DebugConfiguration> {
    if (!config.type && !config.request && !config.name) {
      void vscode.commands.executeCommand(CLIENT_DEBUG);
      return undefined;
    }
    return { justMyCode: true, ...config };
  }

  /** DAP traffic at trace level in the HandlerLens output (set its level to Trace to see it). */
  trackerFactory(): vscode.DebugAdapterTrackerFactory {
    const log = this.logs.main;
    return {
      createDebugAdapterTracker: (session) => ({
        onWillReceiveMessage: (m: { command?: string }) => {
          log.trace(`DAP ${session.name} > ${m.command ?? "?"}`);
          if (m.command && RESUMING.has(m.command)) {
            this.setStopped(session, false);
          }
        },
        onDidSendMessage: (m: { type?: string; command?: string; event?: string }) => {
          log.trace(`DAP ${session.name} < ${m.type ?? "?"} ${m.command ?? m.event ?? ""}`);
          if (m.type === "event" && (m.event === "stopped" || m.event === "continued")) {
            this.setStopped(session, m.event === "stopped");
          }
        },
        onExit: () => {
          this.setStopped(session, false);
        },
        onError: (e) => {
          log.warn(`Debug adapter error (${session.name}): ${e.message}`);
        },
      }),
    };
  }

  dispose(): void {
    for (const s of this.subscriptions) {
      s.dispose();
    }
    this.ended.dispose();
    this.appChanged.dispose();
  }
}

/** Requests after which a stopped session runs again (a step stops it again later). */
const RESUMING = new Set([
  "continue",
  "next",
  "stepIn",
  "stepOut",
  "stepBack",
  "reverseContinue",
  "disconnect",
  "terminate",
]);

/** A session debugpy announced for a worker process (`startDebugging` with `subProcessId`). */
function isWorkerSession(session: vscode.DebugSession): boolean {
  return session.configuration.subProcessId !== undefined;
}

/** `{host, port}` from `connect` (debugpy's form) or top-level `host`/`port`. */
export function connectOf(c: vscode.DebugConfiguration): Connect | undefined {
  const raw = (c.connect ?? { host: c.host as unknown, port: c.port as unknown }) as {
    host?: unknown;
    port?: unknown;
  };
  const port = typeof raw.port === "string" ? Number(raw.port) : raw.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port <= 0) {
    return undefined;
  }
  return { host: typeof raw.host === "string" && raw.host ? raw.host : "127.0.0.1", port };
}

/**
 * debugpy's adapter over its socket, passing every message both ways (`toAdapter` changes the
 * editor's `initialize`). When the connection is gone, or `end()` is called, it tells VS Code
 * the session terminated and answers its last requests itself.
 */
class SocketAdapter implements vscode.DebugAdapter {
  private readonly sent = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.sent.event;
  private readonly reader = new MessageReader();
  private readonly socket: net.Socket;
  private closed = false;
  private terminated = false;
  /** Requests sent to debugpy and not answered yet: seq → command. */
  private readonly pending = new Map<number, string>();
  private readonly gate = new SessionGate();
  private seq = 1_000_000;

  constructor(
    connect: Connect,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.socket = net.connect(connect.port, connect.host);
    this.socket.on("data", (chunk: Buffer) => {
      for (const m of this.reader.push(chunk)) {
        const answered = (m as { request_seq?: unknown }).request_seq;
        if (typeof answered === "number") {
          this.pending.delete(answered);
        }
        this.sent.fire(m as vscode.DebugProtocolMessage);
      }
    });
    this.socket.on("error", (err) => {
      this.log.warn(`debugpy at ${connect.host}:${connect.port}: ${err.message}`);
      this.say(`Cannot talk to debugpy at ${connect.host}:${connect.port}: ${err.message}\n`);
    });
    this.socket.on("close", () => {
      this.closed = true;
      // Requests debugpy will not answer now: answered here, so nothing waits for them.
      for (const [seq, command] of this.pending) {
        this.answer(seq, command, "the debugger's connection is closed");
      }
      this.pending.clear();
      this.end();
    });
  }

  handleMessage(message: vscode.DebugProtocolMessage): void {
    const m = message as { type?: string; seq?: number; command?: string };
    if (this.closed) {
      if (m.type === "request") {
        this.answer(m.seq, m.command, "the debugger's connection is closed");
      }
    } else if (!this.gate.admit(message)) {
      // After the session's disconnect: debugpy must hear nothing more on it (see SessionGate).
      if (m.type === "request") {
        this.answer(m.seq, m.command, "the debug session is ending");
      }
    } else {
      if (m.type === "request" && typeof m.seq === "number") {
        this.pending.set(m.seq, String(m.command));
      }
      this.socket.write(encodeMessage(toAdapter(message)));
    }
  }

  /** A request answered here: a disconnect succeeds (there is nothing left), others fail. */
  private answer(seq: number | undefined, command: string | undefined, why: string): void {
    const ok = command === "disconnect" || command === "terminate";
    this.fire({
      type: "response",
      request_seq: seq,
      command,
      success: ok,
      ...(ok ? {} : { message: why }),
    });
  }

  /** Tells VS Code the session is over (it then disconnects, which debugpy still hears). */
  end(): void {
    if (!this.terminated) {
      this.terminated = true;
      this.fire({ type: "event", event: "terminated" });
    }
  }

  private say(output: string): void {
    this.fire({ type: "event", event: "output", body: { category: "stderr", output } });
  }

  private fire(message: Record<string, unknown>): void {
    this.sent.fire({ seq: this.seq++, ...message });
  }

  dispose(): void {
    this.socket.destroy();
    this.sent.dispose();
  }
}

/** A debug adapter that answers `initialize` and ends the session straight away. */
class EndedAdapter implements vscode.DebugAdapter {
  private readonly sent = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.sent.event;
  private seq = 1;

  handleMessage(message: vscode.DebugProtocolMessage): void {
    const m = message as { type?: string; seq?: number; command?: string };
    if (m.type !== "request") {
      return;
    }
    const response = {
      type: "response",
      seq: this.seq++,
      request_seq: m.seq,
      command: m.command,
      success: true,
    };
    this.sent.fire(response);
    if (m.command === "initialize") {
      this.sent.fire({
        type: "event",
        seq: this.seq++,
        event: "terminated",
      });
    }
  }

  dispose(): void {
    this.sent.dispose();
  }
}
