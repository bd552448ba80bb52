/**
 * Which function a command is about: the lens's FunctionRef, the handler under the cursor, or
 * one picked from the server's `listFunctions`.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import { type FunctionRef, SERVER_LIST_FUNCTIONS } from "./protocol";
import type { ServerManager } from "./server";

export const NO_FUNCTIONS_MESSAGE =
  "HandlerLens found no functions in this workspace. Declare one in template.yaml (SAM), serverless.yml, " +
  "a Terraform yandex_function / aws_lambda_function, or [tool.handlerlens] in pyproject.toml — " +
  "or define a top-level handler(event, context).";

/** True for the FunctionRef objects lenses carry. */
export function isFunctionRef(v: unknown): v is FunctionRef {
  if (typeof v !== "object" || v === null) {
    return false;
  }
  const r = v as Record<string, unknown>;
  return typeof r.name === "string" && typeof r.entry === "string" && typeof r.uri === "string";
}

/** Every function the server knows, in its order. */
export async function listFunctions(server: ServerManager): Promise<FunctionRef[]> {
  const result = await server.executeCommand<unknown>(SERVER_LIST_FUNCTIONS, {});
  const list: unknown = Array.isArray(result)
    ? result
    : (result as { functions?: unknown } | null | undefined)?.functions;
  return Array.isArray(list) ? list.filter(isFunctionRef) : [];
}

/** The function whose handler is in `uri` at or above `line` (the nearest one), if any. */
export function functionAt(
  fns: readonly FunctionRef[],
  uri: vscode.Uri,
  line: number,
): FunctionRef | undefined {
  const inFile = fns.filter((f) => sameFile(f.uri, uri));
  const above = inFile.filter((f) => f.line <= line).sort((a, b) => b.line - a.line);
  return above[0] ?? (inFile.length === 1 ? inFile[0] : undefined);
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
): Promise<FunctionRef | undefined> {
  if (isFunctionRef(arg)) {
    return arg;
  }
  const fns = await listFunctions(server);
  if (fns.length === 0) {
    void vscode.window.showInformationMessage(NO_FUNCTIONS_MESSAGE);
    return undefined;
  }
  const editor = vscode.window.activeTextEditor;
  const uri = arg instanceof vscode.Uri ? arg : editor?.document.uri;
  if (uri) {
    const line =
      editor && editor.document.uri.toString() === uri.toString()
        ? editor.selection.active.line
        : 0;
    const here = functionAt(fns, uri, line);
    if (here) {
      return here;
    }
  }
  if (fns.length === 1) {
    return fns[0];
  }
  return pickFunction(fns, `Function to ${verb}`);
}

/** A quick pick over functions. */
export async function pickFunction(
  fns: readonly FunctionRef[],
  title: string,
): Promise<FunctionRef | undefined> {
  const items = fns.map((f) => ({
    label: f.name,
    description: `${f.entry} · ${f.platform}${f.trigger ? ` · ${f.trigger}` : ""}`,
    detail: vscode.workspace.asRelativePath(vscode.Uri.parse(f.uri)),
    fn: f,
  }));
  const picked = await vscode.window.showQuickPick(items, { title, matchOnDescription: true });
  return picked?.fn;
}

/** Workspace folder (or the code root's folder) a function belongs to. */
export function folderOf(fn: FunctionRef): vscode.WorkspaceFolder | undefined {
  return (
    vscode.workspace.getWorkspaceFolder(vscode.Uri.parse(fn.uri)) ??
    vscode.workspace.getWorkspaceFolder(vscode.Uri.file(fn.root)) ??
    vscode.workspace.workspaceFolders?.[0]
  );
}

/** A stable key for per-function state (last event, debug sessions). */
export function functionKey(fn: FunctionRef): string {
  return `${fn.root}${path.sep}${fn.name}`;
}

function sameFile(a: string, b: vscode.Uri): boolean {
  try {
    return vscode.Uri.parse(a).fsPath === b.fsPath;
  } catch {
    return false;
  }
}
