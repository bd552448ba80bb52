/**
 * Which function a command is about: the lens's FunctionRef, the handler under the cursor (from
 * the server's own lenses for that file), or one picked from the server's `listFunctions`.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import { CLIENT_RUN, type FunctionInfo, SERVER_LIST_FUNCTIONS } from "./protocol";
import type { ServerManager } from "./server";

export const NO_FUNCTIONS_MESSAGE =
  "HandlerLens found no functions in this workspace. Declare one in template.yaml (SAM), serverless.yml, " +
  "a Terraform yandex_function / aws_lambda_function, or [tool.handlerlens] in pyproject.toml — " +
  "or define a top-level handler(event, context).";

/** True for FunctionRef / FunctionInfo objects (lens arguments, listFunctions entries). */
export function isFunction(v: unknown): v is FunctionInfo {
  if (typeof v !== "object" || v === null) {
    return false;
  }
  const r = v as Record<string, unknown>;
  return typeof r.name === "string" && typeof r.entry === "string" && typeof r.root === "string";
}

/** Every function the server knows, in its order (empty when it answers nothing). */
export async function listFunctions(server: ServerManager): Promise<FunctionInfo[]> {
  const result = await server.executeCommand<unknown>(SERVER_LIST_FUNCTIONS, {});
  return Array.isArray(result) ? result.filter(isFunction) : [];
}

/** The nearest handler at or above `line` among lens functions of one file, if any. */
export function functionAt(fns: readonly FunctionInfo[], line: number): FunctionInfo | undefined {
  const above = fns
    .filter((f) => (f.line ?? 0) <= line)
    .sort((a, b) => (b.line ?? 0) - (a.line ?? 0));
  return above[0] ?? (fns.length === 1 ? fns[0] : undefined);
}

/** The functions whose Run lenses the server shows in a document (with their lines). */
async function lensFunctions(uri: vscode.Uri): Promise<FunctionInfo[]> {
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[] | undefined>(
    "vscode.executeCodeLensProvider",
    uri,
  );
  const found = new Map<string, FunctionInfo>();
  for (const lens of lenses ?? []) {
    const arg: unknown = lens.command?.arguments?.[0];
    if (lens.command?.command === CLIENT_RUN && isFunction(arg)) {
      found.set(functionKey(arg), arg);
    }
  }
  return [...found.values()];
}

/**
 * The function a Run/Debug command is about: `arg` when a lens passed one; else the handler at
 * the cursor of the active (or given) Python file; else the user's pick. Undefined when the
 * user cancels or there is none (the reason is shown).
 */
export async function chooseFunction(
  server: ServerManager,
  arg: unknown,
  verb: string,
): Promise<FunctionInfo | undefined> {
  if (isFunction(arg)) {
    return arg;
  }
  const editor = vscode.window.activeTextEditor;
  const uri = arg instanceof vscode.Uri ? arg : editor?.document.uri;
  if (uri?.scheme === "file" && uri.fsPath.endsWith(".py")) {
    const line =
      editor && editor.document.uri.toString() === uri.toString()
        ? editor.selection.active.line
        : 0;
    const here = functionAt(await lensFunctions(uri), line);
    if (here) {
      return here;
    }
  }
  const fns = await listFunctions(server);
  if (fns.length === 0) {
    void vscode.window.showInformationMessage(NO_FUNCTIONS_MESSAGE);
    return undefined;
  }
  if (fns.length === 1) {
    return fns[0];
  }
  return pickFunction(fns, `Function to ${verb}`);
}

/** A quick pick over functions. */
export async function pickFunction(
  fns: readonly FunctionInfo[],
  title: string,
): Promise<FunctionInfo | undefined> {
  const items = fns.map((f) => ({
    label: f.name,
    description: `${f.entry} · ${f.platform}${f.trigger ? ` · ${f.trigger}` : ""}`,
    detail: vscode.workspace.asRelativePath(f.declaredIn ?? f.root),
    fn: f,
  }));
  const picked = await vscode.window.showQuickPick(items, { title, matchOnDescription: true });
  return picked?.fn;
}

/** Workspace folder a function belongs to (by its handler file, else its code root). */
export function folderOf(fn: FunctionInfo): vscode.WorkspaceFolder | undefined {
  const byFile = fn.uri ? vscode.workspace.getWorkspaceFolder(vscode.Uri.parse(fn.uri)) : undefined;
  return (
    byFile ??
    vscode.workspace.getWorkspaceFolder(vscode.Uri.file(fn.root)) ??
    vscode.workspace.workspaceFolders?.[0]
  );
}

/** A stable key for per-function state (last event, debug sessions, busy runs). */
export function functionKey(fn: FunctionInfo): string {
  return `${fn.root}${path.sep}${fn.name}`;
}
