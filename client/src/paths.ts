/**
 * Pure path helpers (no `vscode` import; unit-tested in tests/client): interpreter paths from
 * settings, stack-frame files, event file names.
 */
import * as os from "node:os";
import * as path from "node:path";

/** `~`, `${workspaceFolder}` and `${userHome}` expanded; a relative path taken from the folder. */
export function expandPath(value: string, folder: string | undefined): string {
  let p = value.replace(/\$\{userHome\}/g, os.homedir());
  if (folder) {
    p = p.replace(/\$\{workspaceFolder\}/g, folder);
  }
  if (p === "~" || p.startsWith("~/")) {
    p = path.join(os.homedir(), p.slice(1));
  }
  // A bare command name ("python3.12") is looked up on PATH, so only paths with a separator
  // are anchored to the workspace folder.
  if (folder && !path.isAbsolute(p) && p.includes("/")) {
    p = path.join(folder, p);
  }
  return p;
}

/**
 * The local file a frame refers to: the path itself when it exists, else the longest tail of it
 * found under the function's code root (frames from a deployed function say `/function/code/…`
 * or `/var/task/…`; locally the same tail lives under the root).
 */
export function resolveFramePath(
  file: string,
  root: string | undefined,
  exists: (p: string) => boolean,
): string | undefined {
  if (path.isAbsolute(file) && exists(file)) {
    return file;
  }
  if (!root) {
    return undefined;
  }
  const parts = file.split(/[\\/]+/).filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const candidate = path.join(root, ...parts.slice(i));
    if (exists(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

/**
 * A file-system-safe folder or file name: the name itself when it is one (so event folders are
 * named exactly like their functions, as the server expects), else with the unsafe runs replaced.
 */
export function safeName(name: string): string {
  if (/^[^\\/:*?"<>|\s]+$/.test(name) && name !== "." && name !== "..") {
    return name;
  }
  const cleaned = name
    .replace(/[\\/:*?"<>|\s]+/g, "_")
    .replace(/^\.+/, "_")
    .replace(/^_+(?=.)|_+$/g, "");
  return cleaned || "_";
}

/**
 * The stem of a new event file made from a sample: short and safe, the trigger's id when the
 * sample has one (`http`, `s3`), else its label in lower case with every run of other
 * characters as one `-` ("HTTP invocation (functions.yandexcloud.net)" → `http-invocation`).
 */
export function eventFileStem(label: string, trigger?: string): string {
  const fromTrigger = trigger ? slug(trigger) : "";
  if (fromTrigger) {
    return fromTrigger;
  }
  const short = label.replace(/\s*\([^)]*\)\s*$/, "");
  return slug(short) || slug(label) || "event";
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9._]+/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 40)
    .replace(/[-.]+$/, "");
}

/**
 * Whether a file in an events folder is a saved event: `*.json`, but not the
 * `<name>.expected.json` beside an event, which says what its response must be
 * (`handlerlens test`).
 */
export function isEventFileName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.endsWith(".json") && !lower.endsWith(".expected.json");
}

/** The first `<base>.json`, then `<base>-N.json`, not in `taken` (a set of file names). */
export function nextEventFileName(base: string, taken: ReadonlySet<string>): string {
  const stem = safeName(base.replace(/\.json$/i, ""));
  if (!taken.has(`${stem}.json`)) {
    return `${stem}.json`;
  }
  for (let n = 2; ; n++) {
    const candidate = `${stem}-${n}.json`;
    if (!taken.has(candidate)) {
      return candidate;
    }
  }
}
