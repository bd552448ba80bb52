/**
 * Which Python runs the server (and, through the runner, the user's handlers): the
 * `handlerlens.interpreter` setting, else the Python extension's active environment when that
 * extension is installed (optional, never required), else `python3` on PATH.
 */
import { execFile } from "node:child_process";
import * as vscode from "vscode";
import { errorText } from "./logging";
import { expandPath } from "./paths";

const PYTHON_EXTENSION_ID = "ms-python.python";
const FALLBACK_PYTHON = "python3";
const PYTHON_API_TIMEOUT_MS = 10_000;
const PROBE_TIMEOUT_MS = 15_000;

export interface Interpreter {
  path: string;
  source: "setting" | "python-extension" | "default";
}

// The Python extension's API, reduced to what is used here; `environments` is the current name
// (@vscode/python-extension), `environment` the older one still found in the wild.
interface EnvironmentPath {
  readonly path: string;
}
interface ResolvedEnvironment {
  readonly executable: { readonly uri: vscode.Uri | undefined };
}
interface EnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri): EnvironmentPath;
  resolveEnvironment(env: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
  readonly onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
}
interface PythonExtensionApi {
  readonly ready?: Promise<void>;
  readonly environments?: EnvironmentsApi;
  readonly environment?: EnvironmentsApi;
}

/** Resolves the interpreter and reports when the Python extension's choice changes. */
export class PythonLocator implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private subscription: vscode.Disposable | undefined;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  /** The interpreter to use for `resource` (or the first workspace folder). */
  async resolve(setting: string, resource?: vscode.Uri): Promise<Interpreter> {
    if (setting) {
      return { path: expandPath(setting, folderPath(resource)), source: "setting" };
    }
    const fromExtension = await this.fromPythonExtension(resource);
    if (fromExtension) {
      return { path: fromExtension, source: "python-extension" };
    }
    return { path: FALLBACK_PYTHON, source: "default" };
  }

  private async fromPythonExtension(resource?: vscode.Uri): Promise<string | undefined> {
    const ext = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
    if (!ext) {
      return undefined;
    }
    try {
      const api = await withTimeout<PythonExtensionApi | undefined>(
        ext.isActive ? Promise.resolve(ext.exports) : ext.activate(),
        PYTHON_API_TIMEOUT_MS,
      );
      const envs = api?.environments ?? api?.environment;
      if (!envs) {
        return undefined;
      }
      this.subscription ??= envs.onDidChangeActiveEnvironmentPath(() => {
        this.changed.fire();
      });
      const active = envs.getActiveEnvironmentPath(
        resource ?? vscode.workspace.workspaceFolders?.[0]?.uri,
      );
      const resolved = await withTimeout(envs.resolveEnvironment(active), PYTHON_API_TIMEOUT_MS);
      return resolved?.executable.uri?.fsPath;
    } catch (err) {
      this.log.warn(`Python extension did not give an interpreter: ${errorText(err)}`);
      return undefined;
    }
  }

  dispose(): void {
    this.subscription?.dispose();
    this.changed.dispose();
  }
}

export interface Probe {
  ok: boolean;
  version?: [number, number];
  executable?: string;
  hasServer?: boolean;
  problem?: string;
}

const PROBE_SCRIPT = [
  "import importlib.util, json, sys",
  "print(json.dumps({'version': list(sys.version_info[:2]), 'executable': sys.executable,",
  "  'hasServer': importlib.util.find_spec('handlerlens') is not None}))",
].join("\n");

/** Runs the interpreter once to learn its version and whether it can import the server. */
export function probe(
  python: string,
  env: NodeJS.ProcessEnv,
  minimum: [number, number],
): Promise<Probe> {
  return new Promise((resolve) => {
    execFile(python, ["-c", PROBE_SCRIPT], { env, timeout: PROBE_TIMEOUT_MS }, (err, stdout) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const problem =
          code === "ENOENT"
            ? `No Python found at "${python}". Set handlerlens.interpreter to a Python ${minimum.join(".")}+ interpreter, or install python3.`
            : `"${python}" did not run: ${err.message.split("\n")[0] ?? ""}`;
        resolve({ ok: false, problem });
        return;
      }
      try {
        const info = JSON.parse(stdout) as {
          version: [number, number];
          executable: string;
          hasServer: boolean;
        };
        const [major, minor] = info.version;
        if (major < minimum[0] || (major === minimum[0] && minor < minimum[1])) {
          resolve({
            ok: false,
            ...info,
            problem: `"${python}" is Python ${major}.${minor}; HandlerLens needs Python ${minimum.join(".")} or newer.`,
          });
          return;
        }
        resolve({ ok: true, ...info });
      } catch {
        resolve({
          ok: false,
          problem: `"${python}" printed something unexpected: ${stdout.slice(0, 200)}`,
        });
      }
    });
  });
}

function folderPath(resource?: vscode.Uri): string | undefined {
  const folder = resource
    ? vscode.workspace.getWorkspaceFolder(resource)
    : vscode.workspace.workspaceFolders?.[0];
  return folder?.uri.fsPath;
}

function withTimeout<T>(p: Thenable<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms} ms`));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
