/**
 * Pure parts of the Test Explorer (no `vscode` import; unit-tested in tests/client): the CLI's
 * `event list --format json` and `test --format json` answers, read defensively, and the
 * command lines that ask for them.
 */

/** A function as `handlerlens event list --format json` lists it. */
export interface ListedFunction {
  name: string;
  testName: string;
  platform: string;
  entry: string;
  root: string;
  trigger: string;
  declaredIn: string | null;
}

/** A saved event as `handlerlens event list --format json` lists it. */
export interface ListedEvent {
  id: string;
  /** The owning function's `testName`; null when no function of the folder's name exists. */
  function: string | null;
  folder: string;
  event: string;
  path: string;
  expected: string;
  state: string;
}

export interface EventListing {
  root: string;
  functions: ListedFunction[];
  events: ListedEvent[];
  warnings: string[];
}

/** One test of `handlerlens test --format json` (or of `handlerlens.replay.judge`). */
export interface TestVerdict {
  id: string;
  path: string;
  expected: string;
  status: "passed" | "failed" | "error" | "no expectation" | "updated";
  message: string;
  diff: string;
  expectedText: string;
  actualText: string;
  durationMs: number;
}

export interface TestReport {
  tests: TestVerdict[];
  warnings: string[];
}

/** Options shared by the commands: the project root and the events folder setting. */
export interface ProjectArgs {
  root: string;
  eventsFolder: string;
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const strs = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
const record = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** The JSON object in a CLI's stdout, or an Error that says what came instead. */
function parseObject(stdout: string, what: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(stdout);
  } catch {
    const head = stdout.trim().slice(0, 200);
    throw new Error(`${what} did not answer JSON${head ? `: ${head}` : " (no output)"}`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new Error(`${what} answered JSON that is not an object`);
  }
  return data as Record<string, unknown>;
}

export function parseEventListing(stdout: string): EventListing {
  const data = parseObject(stdout, "handlerlens event list");
  const functions = (Array.isArray(data.functions) ? data.functions : [])
    .map(record)
    .filter((f) => typeof f.name === "string")
    .map((f): ListedFunction => ({
      name: str(f.name),
      testName: str(f.testName) || str(f.name),
      platform: str(f.platform),
      entry: str(f.entry),
      root: str(f.root),
      trigger: str(f.trigger),
      declaredIn: typeof f.declaredIn === "string" ? f.declaredIn : null,
    }));
  const events = (Array.isArray(data.events) ? data.events : [])
    .map(record)
    .filter((e) => typeof e.id === "string" && typeof e.path === "string")
    .map((e): ListedEvent => ({
      id: str(e.id),
      function: typeof e.function === "string" ? e.function : null,
      folder: str(e.folder),
      event: str(e.event),
      path: str(e.path),
      expected: str(e.expected),
      state: str(e.state),
    }));
  return { root: str(data.root), functions, events, warnings: strs(data.warnings) };
}

const STATUSES = new Set(["passed", "failed", "error", "no expectation", "updated"]);

export function parseTestReport(stdout: string): TestReport {
  const data = parseObject(stdout, "handlerlens test");
  const tests = (Array.isArray(data.tests) ? data.tests : [])
    .map(record)
    .filter((t) => typeof t.path === "string" && STATUSES.has(str(t.status)))
    .map((t): TestVerdict => ({
      id: str(t.id),
      path: str(t.path),
      expected: str(t.expected),
      status: str(t.status) as TestVerdict["status"],
      message: str(t.message),
      diff: str(t.diff),
      expectedText: str(t.expectedText),
      actualText: str(t.actualText),
      durationMs: typeof t.durationMs === "number" ? t.durationMs : 0,
    }));
  return { tests, warnings: strs(data.warnings) };
}

export function eventListArgs(p: ProjectArgs): string[] {
  return ["-m", "handlerlens", "event", "list", "--format", "json", ...projectArgs(p)];
}

export interface TestRunArgs extends ProjectArgs {
  paths: readonly string[];
  timeout?: number | null;
  update?: boolean;
}

export function testArgs(p: TestRunArgs): string[] {
  const args = ["-m", "handlerlens", "test", ...p.paths, "--format", "json", ...projectArgs(p)];
  if (p.timeout) {
    args.push("--timeout", String(p.timeout));
  }
  if (p.update) {
    // The person looked at the response and accepted it, a function error included.
    args.push("--update", "--update-errors");
  }
  return args;
}

export function judgeArgs(p: ProjectArgs & { path: string }): string[] {
  return ["-m", "handlerlens.replay.judge", p.path, ...projectArgs(p)];
}

function projectArgs(p: ProjectArgs): string[] {
  return ["--root", p.root, "--events-folder", p.eventsFolder];
}

/** What a verdict shows: the summary line of a failure, with the diff text when no sides. */
export function verdictText(v: TestVerdict): string {
  const head =
    v.message || (v.status === "failed" ? "the response differs from the expected file" : v.status);
  return v.expectedText || !v.diff ? head : `${head}\n${v.diff}`;
}
