/**
 * The language client's code lens middleware: the server's "▶ Run handler" / "Debug handler"
 * lenses get a "Choose event…" beside them (Run uses the last event in one click; this one asks),
 * and `handlerlens.codeLens.enabled: false` hides them all.
 */
import * as vscode from "vscode";
import type { Middleware } from "vscode-languageclient/node";
import { RUN_WITH_EVENT_COMMAND } from "./commands";
import { CLIENT_RUN } from "./protocol";
import { lensesEnabled } from "./settings";

export function lensMiddleware(): Middleware {
  return {
    provideCodeLenses: async (doc, token, next) => {
      if (!lensesEnabled(doc.uri)) {
        return [];
      }
      const lenses = await next(doc, token);
      if (!lenses) {
        return lenses;
      }
      const out: vscode.CodeLens[] = [];
      for (const lens of lenses) {
        out.push(lens);
        const cmd = lens.command;
        if (cmd?.command === CLIENT_RUN) {
          cmd.tooltip = "Run with the last used event (the first time: choose one)";
          out.push(
            new vscode.CodeLens(lens.range, {
              title: "Choose event…",
              command: RUN_WITH_EVENT_COMMAND,
              arguments: cmd.arguments,
              tooltip: "Choose the event, then run",
            }),
          );
        }
      }
      return out;
    },
  };
}
