/**
 * Run Handler and Debug Handler (lens, palette, editor title, event-file lenses): trust, the
 * function, the event, then the server's run/debug commands, the response view and the logs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import type { DebugSupport } from "./debug";
import { pausedNote } from "./format";
import { type ChosenEvent, type EventFileArgs, type EventPicker } from "./events";
import { chooseFunction, folderOf, functionKey, listFunctions } from "./functions";
import { errorText, type Logs } from "./logging";
import { safeName } from "./paths";
import {
  type DebugResult,
  type FunctionInfo,
  type RunResult,
  SERVER_DEBUG,
  SERVER_RUN,
  SERVER_STOP_RUNNER,
} from "./protocol";
import type { ResponseView } from "./response";
import { ensureTrust, type RunnerTracker } from "./runner";
import type { ServerManager } from "./server";
import { notifyError, notifyInfo } from "./settings";

export const RUN_WITH_EVENT_COMMAND = "handlerlens.runHandlerWithEvent";

export class HandlerCommands {
  private readonly busy = new Set<string>();
  /** Run → response shown, of the last run (ms; for the e2e's timings). */
  lastRunMs: number | undefined;

  constructor(
    private readonly server: ServerManager,
    private readonly events: EventPicker,
    private readonly response: ResponseView,
    private readonly tracker: RunnerTracker,
    private readonly debug: DebugSupport,
    private readonly logs: Logs,
  ) {}

  /**
   * `handlerlens.runHandler` (arg: FunctionInfo from a lens, a Uri from a menu, or nothing): one
   * click runs the function with the event it was last run with; the first time (no last event
   * yet) it asks which event.
   */
  async run(arg?: unknown): Promise<void> {
    await this.guard("Run", async () => {
      if (!(await ensureTrust("Run Handler"))) {
        return;
      }
      const fn = await chooseFunction(this.server, arg, "run");
      if (!fn) {
        return;
      }
      // A last event whose file is gone (deleted, renamed) is no last event: ask.
      const remembered = this.events.lastUsed(fn);
      const last = remembered?.path && !fs.existsSync(remembered.path) ? undefined : remembered;
      const chosen = last
        ? last.path
          ? await this.events.fromFile(last.path, last.label)
          : last
        : await this.events.pick(fn, "Run");
      if (chosen) {
        await this.invoke(fn, chosen);
      }
    });
  }

  /** `handlerlens.runHandlerWithEvent`: choose the event, then run. */
  async runWithEvent(arg?: unknown): Promise<void> {
    await this.guard("Run", async () => {
      if (!(await ensureTrust("Run Handler"))) {
        return;
      }
      const fn = await chooseFunction(this.server, arg, "run");
      const chosen = fn && (await this.events.pick(fn, "Run"));
      if (fn && chosen) {
        await this.invoke(fn, chosen);
      }
    });
  }

  /** The response view's "Run again": the same function and event (a file is re-read). */
  async runAgain(fn: FunctionInfo, chosen: ChosenEvent): Promise<void> {
    await this.guard("Run", async () => {
      const event = chosen.path ? await this.events.fromFile(chosen.path, chosen.label) : chosen;
      if (event) {
        await this.invoke(fn, event);
      }
    });
  }

  /** `handlerlens.debugHandler`: start (or reuse) a debug session, then invoke. */
  async debugHandler(arg?: unknown): Promise<void> {
    await this.guard("Debug", async () => {
      if (!(await ensureTrust("Debug Handler"))) {
        return;
      }
      const fn = await chooseFunction(this.server, arg, "debug");
      const chosen = fn && (await this.events.pick(fn, "Debug"));
      if (fn && chosen) {
        await this.debugWith(fn, chosen);
      }
    });
  }

  /** `handlerlens.runWithEventFile`: the lenses on a saved event file. */
  async runWithEventFile(args: EventFileArgs): Promise<void> {
    await this.guard(args.debug ? "Debug" : "Run", async () => {
      if (!(await ensureTrust(args.debug ? "Debug Handler" : "Run Handler"))) {
        return;
      }
      const fns = await listFunctions(this.server);
      const fn = fns.find((f) => safeName(f.name) === args.functionName);
      if (!fn) {
        void vscode.window.showErrorMessage(
          `No function named "${args.functionName}" in this workspace: the event folder's name must be the function's name.`,
        );
        return;
      }
      const label = path.basename(args.path).replace(/\.json$/i, "");
      const chosen = await this.events.fromFile(args.path, label);
      if (!chosen) {
        return;
      }
      await this.events.remember(fn, chosen);
      await (args.debug ? this.debugWith(fn, chosen) : this.invoke(fn, chosen));
    });
  }

  /** `handlerlens.newEvent`: save an editable copy of a sample event. */
  async newEvent(arg?: unknown): Promise<void> {
    await this.guard("New event", async () => {
      const fn = await chooseFunction(this.server, arg, "write an event for");
      if (fn) {
        await this.events.createEvent(fn);
      }
    });
  }

  /** Stops a function's runner when the debug session started for it ends. */
  async onDebugSessionEnded(key: string): Promise<void> {
    const fns = await listFunctions(this.server).catch(() => [] as FunctionInfo[]);
    const fn = fns.find((f) => functionKey(f) === key);
    if (fn) {
      await this.server
        .executeCommand(SERVER_STOP_RUNNER, { function: fn })
        .catch((err: unknown) => {
          this.logs.main.warn(`Stopping the debug runner of ${fn.name}: ${errorText(err)}`);
        });
    }
  }

  private async debugWith(fn: FunctionInfo, chosen: ChosenEvent): Promise<void> {
    if (!this.debug.sessionFor(fn)) {
      const t0 = Date.now();
      const result = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Window,
          title: `Starting ${fn.name} under the debugger`,
        },
        () =>
          this.server.executeCommand<DebugResult | null>(SERVER_DEBUG, {
            function: fn,
            event: chosen.event,
          }),
      );
      if (!result) {
        // The server answers null after showing its own error message.
        this.logs.main.warn(`Debug ${fn.name}: the server reported the failure.`);
        return;
      }
      const started = await this.debug.startFor(fn, folderOf(fn), result);
      if (!started) {
        void vscode.window.showErrorMessage(
          `The debug session for ${fn.name} did not start; see the HandlerLens output.`,
        );
        return;
      }
      this.logs.main.info(
        `Debug session for ${fn.name} started in ${Date.now() - t0} ms (debugpy on port ${result.debugPort})`,
      );
    }
    await this.invoke(fn, chosen);
  }

  private async invoke(fn: FunctionInfo, chosen: ChosenEvent): Promise<void> {
    const key = functionKey(fn);
    if (this.busy.has(key)) {
      void notifyInfo(`${fn.name} is still running; its response opens when it finishes.`);
      return;
    }
    const t0 = performance.now();
    this.busy.add(key);
    this.response.setRunning(fn, true);
    try {
      this.response.addRoot(fn.root);
      // The event travels as content, read just now (a dirty event editor is saved first).
      const params = { function: fn, event: chosen.event };
      const pausedBefore = this.debug.pausedMs(fn);
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Running ${fn.name}` },
        () => this.server.executeCommand<RunResult | null>(SERVER_RUN, params),
      );
      if (!result) {
        // The server answers null after showing its own error message.
        this.logs.main.warn(`Run ${fn.name}: the server reported the failure.`);
        return;
      }
      if (!this.tracker.streamed(result.requestId)) {
        for (const line of result.logs) {
          this.logs.functionLine(fn.name, line, "stdout");
        }
      }
      // The runner's figures count a pause at a breakpoint (its timeout does not): say so.
      const pausedMs = Math.round(this.debug.pausedMs(fn) - pausedBefore);
      this.logs.main.info(
        `${fn.name}: ${result.status}${result.functionError ? " (function error)" : ""} in ${String(result.durationMs)} ms, billed ${String(result.billedMs)} ms${pausedMs > 0 ? ` (including ${pausedNote(pausedMs)})` : ""}`,
      );
      this.response.show(fn, result, chosen, pausedMs);
      this.lastRunMs = performance.now() - t0;
      this.logs.main.info(
        `${fn.name}: response handed to the view ${this.lastRunMs.toFixed(0)} ms after Run`,
      );
    } finally {
      this.busy.delete(key);
      this.response.setRunning(fn, false);
    }
  }

  private async guard(what: string, job: () => Promise<void>): Promise<void> {
    try {
      await job();
    } catch (err) {
      const text = errorText(err);
      this.logs.main.error(`${what} failed: ${text}`);
      void notifyError(`${what} failed: ${text}`, "Show Logs").then((c) => {
        if (c) {
          this.logs.main.show(true);
        }
      });
    }
  }
}
