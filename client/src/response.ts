/**
 * The response view: a read-only virtual Markdown document per function
 * (`handlerlens-response:/<function>.response.md`), updated in place on every run, and links
 * from stack frames (in that document and in the HandlerLens output) to the source lines.
 *
 * A document rather than a webview: it is text the user can search, select and copy, it takes
 * the editor's theme and fonts, JSON gets highlighted by Markdown's code fences, and frames
 * become ordinary document links (Ctrl+click) with no message passing.
 */
import * as fs from "node:fs";
import * as vscode from "vscode";
import { findFrames, renderResponse } from "./format";
import { resolveFramePath, safeName } from "./paths";
import type { FunctionInfo, RunResult } from "./protocol";

export const RESPONSE_SCHEME = "handlerlens-response";

export class ResponseView
  implements vscode.TextDocumentContentProvider, vscode.DocumentLinkProvider
{
  private readonly contents = new Map<string, { text: string; root: string }>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly knownRoots = new Set<string>();

  /** Renders a run's result into the function's response document and reveals it. */
  async show(fn: FunctionInfo, result: RunResult, eventLabel: string): Promise<void> {
    const uri = vscode.Uri.from({
      scheme: RESPONSE_SCHEME,
      path: `/${safeName(fn.name)}.response.md`,
    });
    const text = renderResponse(
      { functionName: fn.name, entry: fn.entry, eventLabel, at: new Date() },
      result,
    );
    this.contents.set(uri.toString(), { text, root: fn.root });
    this.knownRoots.add(fn.root);
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, {
      // Where it already is, else beside: repeated runs update one view, never open more.
      viewColumn: columnOf(uri) ?? vscode.ViewColumn.Beside,
      preserveFocus: true,
      preview: false,
    });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString())?.text ?? "No response yet: run a handler.";
  }

  provideDocumentLinks(doc: vscode.TextDocument): vscode.DocumentLink[] {
    const entry = this.contents.get(doc.uri.toString());
    const roots = entry
      ? [entry.root]
      : [...this.knownRoots, ...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath)];
    const text = doc.getText();
    const links: vscode.DocumentLink[] = [];
    for (const frame of findFrames(text)) {
      const file =
        roots.map((r) => resolveFramePath(frame.file, r, fs.existsSync)).find(Boolean) ??
        resolveFramePath(frame.file, undefined, fs.existsSync);
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

  /** Lets frames in the output channel resolve against code roots seen so far. */
  addRoot(root: string): void {
    this.knownRoots.add(root);
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function columnOf(uri: vscode.Uri): vscode.ViewColumn | undefined {
  for (const group of vscode.window.tabGroups.all) {
    for (const tab of group.tabs) {
      if (tab.input instanceof vscode.TabInputText && tab.input.uri.toString() === uri.toString()) {
        return group.viewColumn;
      }
    }
  }
  return undefined;
}

/** Document selector of the output channels' documents (frames in function logs). */
export const OUTPUT_SELECTOR: vscode.DocumentSelector = { scheme: "output" };
