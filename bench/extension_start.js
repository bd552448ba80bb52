// One cold start of code-server with examples/, on one clock (issue #21): the page load, the
// workbench, the extension host, HandlerLens' activation, its language server, the first
// diagnostics on screen, greeter/main.py opened and its lenses drawn. Started by
// tests/e2e/run-e2e.sh with E2E_SCRIPT=bench/extension_start.js (env: CS_URL, WS_DIR, RUN_DIR,
// ARTIFACTS, CHROMIUM; E2E_NO_EXTENSION=1: code-server alone, no VSIX installed). Writes
// ARTIFACTS/startup.json: every event in ms from page.goto, and the figures the e2e reports.
// Used by bench/extension_bench.py; run by hand:
//   E2E_SCRIPT=bench/extension_start.js nice -n 5 bash tests/e2e/run-e2e.sh
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

const CS_URL = process.env.CS_URL;
const WS_DIR = process.env.WS_DIR;
const RUN_DIR = process.env.RUN_DIR;
const ART = process.env.ARTIFACTS;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const BARE = process.env.E2E_NO_EXTENSION === "1";
// E2E_START_OPEN=0: open no file (the folder alone: HandlerLens starts on workspaceContains).
const OPEN_FILE = process.env.E2E_START_OPEN !== "0";
// How long to wait for the lenses and the diagnostics (a start expected to fail: shorter).
const WAIT_MS = Number(process.env.E2E_START_WAIT_MS || 120000);
const norm = (s) => (s || "").replace(/\u00a0/g, " ");

// Log lines of code-server and of the extension start with a local time stamp to the ms.
const STAMP = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \[(\w+)\] (.*)$/;
const LOG_EVENTS = [
  // remoteagent.log (code-server's server side) and the extension host's own log
  ["code-server: VS Code server started", "remoteagent.log", /Extension host agent started/],
  [
    "code-server: workbench connected",
    "remoteagent.log",
    /\[ManagementConnection\] New connection/,
  ],
  ["code-server: extension host launched", "remoteagent.log", /Launched Extension Host Process/],
  ["extension host: started", "remoteexthost.log", /Extension host with pid \d+ started/],
  ["extension host: first activation", "remoteexthost.log", /_doActivateExtension /],
  ["extension host: eager extensions activated", "remoteexthost.log", /Eager extensions activated/],
  [
    "extension host: activate HandlerLens",
    "remoteexthost.log",
    /_doActivateExtension handlerlens\.handlerlens/,
  ],
  // the extension's output channels
  ["HandlerLens: activate() returned", "HandlerLens.log", /Activated in/],
  ["HandlerLens: server spawned", "HandlerLens.log", /Starting the language server/],
  ["HandlerLens: server ready (initialized sent)", "HandlerLens.log", /Language server ready/],
  ["trace: initialize sent", "HandlerLens Language Server.log", /Sending request 'initialize/],
  [
    "trace: initialize answered",
    "HandlerLens Language Server.log",
    /Received response 'initialize/,
  ],
  [
    "trace: didOpen sent",
    "HandlerLens Language Server.log",
    /Sending notification 'textDocument\/didOpen/,
  ],
  [
    "trace: first publishDiagnostics received",
    "HandlerLens Language Server.log",
    /Received notification 'textDocument\/publishDiagnostics/,
  ],
  [
    "trace: first codeLens requested",
    "HandlerLens Language Server.log",
    /Sending request 'textDocument\/codeLens/,
  ],
  [
    "trace: first codeLens answered",
    "HandlerLens Language Server.log",
    /Received response 'textDocument\/codeLens/,
  ],
  [
    "trace: first codeLens/refresh received",
    "HandlerLens Language Server.log",
    /Received request 'workspace\/codeLens\/refresh/,
  ],
];

function logFiles(dir, out = []) {
  let entries = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) logFiles(p, out);
    else if (e.name.endsWith(".log")) out.push(p);
  }
  return out;
}

/** The first line of each LOG_EVENTS entry, as epoch ms; every line kept for the artifacts. */
function logTimes() {
  const files = logFiles(path.join(RUN_DIR, "data", "logs"));
  const times = {};
  const lines = {};
  for (const [name, file, re] of LOG_EVENTS) {
    for (const f of files.filter((p) => path.basename(p) === file)) {
      for (const line of fs.readFileSync(f, "utf8").split("\n")) {
        const m = STAMP.exec(line);
        if (m && re.test(m[3])) {
          const t = new Date(m[1].replace(" ", "T")).getTime();
          if (times[name] === undefined || t < times[name]) {
            times[name] = t;
            lines[name] = m[3].slice(0, 160);
          }
          break;
        }
      }
    }
  }
  // Time stamps written into the lines themselves (`timeline: NAME @EPOCH_MS`, an instrumented
  // build's): exact, where a log's own stamp can be late (a log's first lines are stamped when
  // its file is ready).
  for (const f of files.filter((p) => /HandlerLens/.test(path.basename(p)))) {
    for (const line of fs.readFileSync(f, "utf8").split("\n")) {
      const m = /timeline: (.+?) @(\d{13})\s*$/.exec(line);
      if (m && times[`= ${m[1]}`] === undefined) times[`= ${m[1]}`] = Number(m[2]);
    }
  }
  for (const f of files) {
    const rel = path.relative(path.join(RUN_DIR, "data", "logs"), f).replace(/[\\/]/g, "__");
    fs.copyFileSync(f, path.join(ART, `log-${rel}`));
  }
  return { times, lines };
}

async function waitUntil(page, cond, timeout) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const v = await cond();
    if (v) return v;
    await page.waitForTimeout(50);
  }
  return null;
}

(async () => {
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), "pw-chromium-"));
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    env: {
      ...process.env,
      XDG_CONFIG_HOME: path.join(udd, "xdg-config"),
      XDG_CACHE_HOME: path.join(udd, "xdg-cache"),
    },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(60000);
  const ev = {};
  const mark = (name) => {
    ev[name] ??= Date.now();
  };
  let failure = "";
  let toasts = [];
  try {
    const problems = page.locator('.statusbar-item[id="status.problems"]');
    let diagnostics = Promise.resolve(null);
    if (!BARE) {
      diagnostics = waitUntil(
        page,
        async () => {
          const text = norm(await problems.textContent({ timeout: 1000 }).catch(() => ""));
          return /[1-9]/.test(text) ? (mark("diagnostics drawn (problem count > 0)"), true) : null;
        },
        WAIT_MS,
      );
    }
    mark("page.goto");
    await page.goto(`${CS_URL}/?folder=${encodeURIComponent(WS_DIR)}`);
    mark("page loaded");
    await page.locator(".monaco-workbench").waitFor();
    mark("workbench DOM");
    const rows = page.locator(".explorer-folders-view .monaco-list-row");
    await rows
      .filter({ hasText: /^\s*greeter\s*$/ })
      .first()
      .waitFor();
    mark("explorer shows the folder");
    if (OPEN_FILE) {
      // As the e2e does: open greeter/main.py as soon as the Explorer shows it.
      await rows
        .filter({ hasText: /^\s*greeter\s*$/ })
        .first()
        .click();
      await rows
        .filter({ hasText: /^\s*main\.py\s*$/ })
        .first()
        .dblclick();
      await page.locator(".tabs-container .tab.active", { hasText: "main.py" }).waitFor();
      mark("main.py tab shown");
      const editor = page.locator(".editor-group-container.active .monaco-editor").first();
      await editor.locator(".view-lines .view-line").first().waitFor();
      mark("main.py text drawn");
      if (!BARE) {
        await editor
          .locator(".codelens-decoration a", { hasText: "▶ Run handler" })
          .waitFor({ timeout: WAIT_MS });
        mark("lenses drawn");
      }
    }
    if (!BARE) {
      if (!(await diagnostics)) failure = `no diagnostics on screen within ${WAIT_MS / 1000} s`;
    } else {
      // Let the extension host log its start before the logs are read.
      await page.waitForTimeout(3000);
    }
    await page.screenshot({ path: path.join(ART, "startup.png") });
  } catch (e) {
    failure = String(e.message).split("\n").slice(0, 4).join(" | ");
    await page.screenshot({ path: path.join(ART, "startup-fail.png") }).catch(() => {});
  } finally {
    toasts = (
      await page
        .locator(".notification-toast")
        .allTextContents()
        .catch(() => [])
    ).map(norm);
    await ctx.close();
    fs.rmSync(udd, { recursive: true, force: true });
  }
  const { times, lines } = logTimes();
  const t0 = ev["page.goto"];
  const all = { ...ev, ...times };
  const timeline = Object.entries(all)
    .map(([name, t]) => ({ name, ms: t - t0, line: lines[name] }))
    .sort((a, b) => a.ms - b.ms);
  const rel = (name) => (all[name] === undefined ? null : all[name] - t0);
  const result = {
    extension: !BARE,
    loadavg: os.loadavg(),
    failure: failure || undefined,
    toasts,
    timeline,
    folderToWorkbenchMs: rel("workbench DOM"),
    folderToExtensionHostMs: rel("extension host: first activation"),
    folderToDiagnosticsMs: rel("diagnostics drawn (problem count > 0)"),
    fileShownToLensMs:
      all["lenses drawn"] === undefined ? null : all["lenses drawn"] - all["main.py tab shown"],
  };
  fs.writeFileSync(path.join(ART, "startup.json"), JSON.stringify(result, null, 2) + "\n");
  for (const e of timeline) {
    console.log(`${String(e.ms).padStart(7)} ms  ${e.name}${e.line ? `  — ${e.line}` : ""}`);
  }
  console.log(`load average: ${result.loadavg.map((x) => x.toFixed(2)).join(" ")}`);
  for (const t of toasts) console.log(`toast: ${t}`);
  if (failure) console.log(`FAIL ${failure}`);
  process.exit(failure ? 1 : 0);
})();
