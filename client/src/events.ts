/**
 * Choosing the event for a run: the last one used, events saved under
 * `<eventsFolder>/<function>/*.json`, the trigger's samples from the server, and "New event…",
 * which saves an editable copy of a sample into the events folder. Also the lenses on saved
 * event files ("Run <function> with this event").
 */
import * as path from "node:path";
import * as vscode from "vscode";
import { errorText } from "./logging";
import { folderOf } from "./functions";
import { eventFileStem, isEventFileName, nextEventFileName, safeName } from "./paths";
import { type EventItem, type FunctionInfo, SERVER_LIST_EVENTS } from "./protocol";
import type { ServerManager } from "./server";
import { readSettings } from "./settings";

/** The event a run uses; `path` when it comes from a file (re-read on every run). */
export interface ChosenEvent {
  label: string;
  event: unknown;
  path?: string;
}

/** Arguments of the `handlerlens.runWithEventFile` lens command. */
export interface EventFileArgs {
  functionName: string;
  path: string;
  debug: boolean;
}

export const RUN_WITH_EVENT_FILE = "handlerlens.runWithEventFile";

type PickItem = vscode.QuickPickItem & { choose?: () => Promise<ChosenEvent | undefined> };

const LAST_EVENT_KEY = "handlerlens.lastEvent:";

export class EventPicker {
  constructor(
    private readonly server: ServerManager,
    private readonly state: vscode.Memento,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Asks which event to use; undefined when the user cancels or goes off to write a new one. */
  async pick(fn: FunctionInfo, verb: string): Promise<ChosenEvent | undefined> {
    const [listed, savedHere] = await Promise.all([this.listEvents(fn), this.savedEvents(fn)]);
    const samples = listed.filter((e) => e.source === "sample");
    // Saved events come from both sides: the server lists them, and this side scans the folder
    // too, so they appear even when the server does not; a path seen twice is shown once.
    const saved = new Map<string, EventItem>();
    for (const e of [...listed.filter((x) => x.source === "saved"), ...savedHere]) {
      saved.set(e.path ? path.resolve(e.path) : e.label, e);
    }
    const last = this.lastUsed(fn);
    const items: PickItem[] = [];
    if (last) {
      items.push({ label: "Last used", kind: vscode.QuickPickItemKind.Separator });
      items.push({
        label: `$(history) ${last.label}`,
        description: last.path ? vscode.workspace.asRelativePath(last.path) : "last used",
        choose: () => (last.path ? this.fromFile(last.path, last.label) : Promise.resolve(last)),
      });
    }
    // The function's own events first (saved ones, then its trigger's samples), then the
    // samples of other triggers behind a separator; labels without the samples' long details.
    items.push({
      label: `For ${fn.name} (${fn.trigger})`,
      kind: vscode.QuickPickItemKind.Separator,
    });
    for (const e of saved.values()) {
      const file = e.path;
      items.push({
        label: `$(file) ${e.label}`,
        description: file ? vscode.workspace.asRelativePath(file) : "saved",
        choose: () =>
          file ? this.fromFile(file, e.label) : Promise.resolve({ label: e.label, event: e.event }),
      });
    }
    const bases = samples.length ? samples : [emptySample(fn)];
    const own = bases.filter((e) => !e.trigger || e.trigger === fn.trigger);
    const others = bases.filter((e) => !own.includes(e));
    const sampleItem = (e: EventItem): PickItem => ({
      label: `$(symbol-event) ${shortSampleLabel(e.label)}`,
      description: `sample${e.trigger ? ` · ${e.trigger}` : ""}`,
      choose: () => Promise.resolve({ label: shortSampleLabel(e.label), event: e.event }),
    });
    items.push(...(own.length ? own : others.splice(0, 1)).map(sampleItem));
    if (others.length) {
      items.push({ label: "Other triggers", kind: vscode.QuickPickItemKind.Separator });
      items.push(...others.map(sampleItem));
    }
    items.push({ label: "", kind: vscode.QuickPickItemKind.Separator });
    items.push({
      label: "$(add) New event…",
      description: `save an editable copy of a sample under ${this.relativeEventsDir(fn)}`,
      choose: async () => {
        await this.createEvent(fn, bases);
        return undefined;
      },
    });
    const picked = await vscode.window.showQuickPick(items, {
      title: `${verb} ${fn.name}: choose an event`,
      placeHolder: "Event passed to the handler",
      matchOnDescription: true,
    });
    const chosen = await picked?.choose?.();
    if (chosen) {
      await this.remember(fn, chosen);
    }
    return chosen;
  }

  /** "New event…": pick a sample to start from, name the file, write it, open it. */
  async createEvent(fn: FunctionInfo, samples?: EventItem[]): Promise<vscode.Uri | undefined> {
    const dir = this.eventsDir(fn);
    if (!dir) {
      void vscode.window.showErrorMessage(
        `Cannot save an event for ${fn.name}: it is not inside an open workspace folder.`,
      );
      return undefined;
    }
    const bases = samples ?? (await this.listEvents(fn)).filter((e) => e.source === "sample");
    let base: EventItem = bases[0] ?? emptySample(fn);
    if (bases.length > 1) {
      const picked = await vscode.window.showQuickPick(
        bases.map((e) => ({ label: e.label, description: e.trigger, e })),
        { title: `New event for ${fn.name}: start from which sample?` },
      );
      if (!picked) {
        return undefined;
      }
      base = picked.e;
    }
    const taken = new Set(await this.fileNames(dir));
    const name = await vscode.window.showInputBox({
      title: `New event for ${fn.name}`,
      prompt: `Saved under ${this.relativeEventsDir(fn)}`,
      value: nextEventFileName(eventFileStem(base.label, base.trigger), taken),
      validateInput: (v) => {
        const file = v.trim().endsWith(".json") ? v.trim() : `${v.trim()}.json`;
        if (!v.trim()) {
          return "Give the event a name.";
        }
        if (safeName(file) !== file) {
          return "Use letters, digits, dots, dashes and underscores only.";
        }
        return taken.has(file) ? `${file} exists already.` : undefined;
      },
    });
    if (!name) {
      return undefined;
    }
    const file = name.trim().endsWith(".json") ? name.trim() : `${name.trim()}.json`;
    const uri = vscode.Uri.joinPath(dir, file);
    await vscode.workspace.fs.createDirectory(dir);
    await vscode.workspace.fs.writeFile(
      uri,
      Buffer.from(`${JSON.stringify(base.event, null, 2)}\n`, "utf8"),
    );
    await vscode.window.showTextDocument(uri, { preview: false });
    void vscode.window.showInformationMessage(
      `Saved ${vscode.workspace.asRelativePath(uri)}. Edit it, save, then use "Run ${fn.name} with this event" above it.`,
    );
    return uri;
  }

  /** Reads an event file now (it may have changed since it was listed). */
  async fromFile(file: string, label: string): Promise<ChosenEvent | undefined> {
    const uri = vscode.Uri.file(file);
    let text: string;
    try {
      const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath);
      if (open?.isDirty) {
        await open.save();
      }
      text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString("utf8");
    } catch (err) {
      void vscode.window.showErrorMessage(
        `Cannot read the event ${vscode.workspace.asRelativePath(uri)}: ${errorText(err)}`,
      );
      return undefined;
    }
    try {
      return { label, event: JSON.parse(text) as unknown, path: file };
    } catch (err) {
      const choice = await vscode.window.showErrorMessage(
        `The event ${vscode.workspace.asRelativePath(uri)} is not valid JSON (${errorText(err)}); fix it and run again.`,
        "Open Event",
      );
      if (choice) {
        await vscode.window.showTextDocument(uri);
      }
      return undefined;
    }
  }

  /** The events folder of one function, e.g. `<folder>/.handlerlens/events/hello`. */
  eventsDir(fn: FunctionInfo): vscode.Uri | undefined {
    const folder = folderOf(fn);
    if (!folder) {
      return undefined;
    }
    const base = readSettings(folder).eventsFolder;
    const root = path.isAbsolute(base)
      ? vscode.Uri.file(base)
      : vscode.Uri.joinPath(folder.uri, base);
    return vscode.Uri.joinPath(root, safeName(fn.name));
  }

  /** The last event used with a function (workspace state). */
  lastUsed(fn: FunctionInfo): ChosenEvent | undefined {
    return this.state.get<ChosenEvent>(LAST_EVENT_KEY + fn.root + "#" + fn.name);
  }

  async remember(fn: FunctionInfo, chosen: ChosenEvent): Promise<void> {
    // A file-backed event is stored by path only: the file stays the truth.
    const stored: ChosenEvent = chosen.path
      ? { label: chosen.label, event: null, path: chosen.path }
      : chosen;
    await this.state.update(LAST_EVENT_KEY + fn.root + "#" + fn.name, stored);
  }

  private async listEvents(fn: FunctionInfo): Promise<EventItem[]> {
    try {
      const result = await this.server.executeCommand<unknown>(SERVER_LIST_EVENTS, {
        function: fn,
      });
      return Array.isArray(result)
        ? (result as EventItem[]).filter((e) => typeof e.label === "string")
        : [];
    } catch (err) {
      this.log.warn(`Sample events for ${fn.name} unavailable: ${errorText(err)}`);
      return [];
    }
  }

  private async savedEvents(fn: FunctionInfo): Promise<EventItem[]> {
    const dir = this.eventsDir(fn);
    if (!dir) {
      return [];
    }
    const names = await this.fileNames(dir);
    return names
      .filter(isEventFileName)
      .sort()
      .map((n) => ({
        label: n.replace(/\.json$/i, ""),
        source: "saved",
        path: vscode.Uri.joinPath(dir, n).fsPath,
        event: null,
      }));
  }

  private async fileNames(dir: vscode.Uri): Promise<string[]> {
    try {
      const entries = await vscode.workspace.fs.readDirectory(dir);
      return entries.filter(([, type]) => type === vscode.FileType.File).map(([n]) => n);
    } catch {
      return [];
    }
  }

  private relativeEventsDir(fn: FunctionInfo): string {
    const dir = this.eventsDir(fn);
    return dir
      ? vscode.workspace.asRelativePath(dir)
      : `${readSettings().eventsFolder}/${safeName(fn.name)}`;
  }
}

/** Lenses on saved event files: run or debug the function that owns the folder with this event. */
export class EventFileLenses implements vscode.CodeLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const owner = eventFileOwner(doc.uri);
    if (!owner) {
      return [];
    }
    const range = new vscode.Range(0, 0, 0, 0);
    const args = (debug: boolean): EventFileArgs => ({
      functionName: owner,
      path: doc.uri.fsPath,
      debug,
    });
    return [
      new vscode.CodeLens(range, {
        title: `▶ Run ${owner} with this event`,
        command: RUN_WITH_EVENT_FILE,
        arguments: [args(false)],
      }),
      new vscode.CodeLens(range, {
        title: "Debug with this event",
        command: RUN_WITH_EVENT_FILE,
        arguments: [args(true)],
      }),
    ];
  }
}

/** The function folder name when `uri` is `<folder>/<eventsFolder>/<function>/<event>.json`. */
export function eventFileOwner(uri: vscode.Uri): string | undefined {
  const folder = vscode.workspace.getWorkspaceFolder(uri);
  if (!folder || !isEventFileName(path.basename(uri.fsPath))) {
    return undefined;
  }
  const base = readSettings(folder).eventsFolder;
  const eventsRoot = path.isAbsolute(base) ? base : path.join(folder.uri.fsPath, base);
  const rel = path.relative(eventsRoot, uri.fsPath);
  const parts = rel.split(path.sep);
  return parts.length === 2 && !rel.startsWith("..") ? parts[0] : undefined;
}

/** A sample's title without its parenthesised detail: "HTTP invocation (…)" → "HTTP invocation". */
export function shortSampleLabel(label: string): string {
  return label.replace(/\s*\([^)]*\)\s*$/, "").trim() || label;
}

function emptySample(fn: FunctionInfo): EventItem {
  return { label: "empty event {}", source: "sample", trigger: fn.trigger, event: {} };
}
