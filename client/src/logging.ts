/**
 * The extension's two output channels: "HandlerLens" (function logs and what the extension
 * does) and "HandlerLens Language Server" (the server's stderr and the LSP trace).
 */
import * as vscode from "vscode";
import { readableLogLine } from "./format";
import type { LogParams } from "./protocol";

export class Logs implements vscode.Disposable {
  readonly main: vscode.LogOutputChannel;
  readonly server: vscode.LogOutputChannel;

  /** Also shows a function's log line elsewhere (the Debug Console while it is debugged). */
  echo?: (fn: string, text: string) => void;

  constructor() {
    this.main = vscode.window.createOutputChannel("HandlerLens", { log: true });
    this.server = vscode.window.createOutputChannel("HandlerLens Language Server", { log: true });
  }

  /**
   * Append one function log line (from `handlerlens/log` or a run result), as written by the
   * function: a line with `\r`s in it (an AWS error's traceback) is one entry of several lines.
   */
  functionLine(fn: string | undefined, line: string, stream: LogParams["stream"]): void {
    const readable = readableLogLine(line);
    if (fn) {
      this.echo?.(fn, readable);
    }
    const text = fn ? `[${fn}] ${readable}` : readable;
    if (stream === "stderr") {
      this.main.warn(text);
    } else {
      this.main.info(text);
    }
  }

  dispose(): void {
    this.main.dispose();
    this.server.dispose();
  }
}

/** Readable text of anything thrown (Error, LSP ResponseError, string). */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  if (typeof err === "string") {
    return err;
  }
  return JSON.stringify(err);
}
