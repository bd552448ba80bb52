// End-to-end test of the HandlerLens extension inside code-server, driven by playwright-core in
// Debian's Chromium. Started by run-e2e.sh (env: CS_URL, WS_DIR, ARTIFACTS, CHROMIUM).
// Prints one line per step (PASS/FAIL/SKIP) and finally "N passed, M failed, K skipped".
// Optional parts, switched by env vars:
//   HANDLERLENS_E2E_RUN=0    leave out: Run lens → event pick → response view + REPORT line
//   HANDLERLENS_E2E_DEBUG=0  leave out the Debug lens steps: breakpoint → Debug → paused with
//                            `event` → continue → edit, save → Debug again → paused again
//   HANDLERLENS_E2E_SHIFTED=0  leave out: lines inserted above a breakpoint → paused on its
//                            new line (attach flow)
//   HANDLERLENS_E2E_SHIFTED_REPEAT=N  do that step N times in a row (a stress run)
//   HANDLERLENS_E2E_DEBUGPY_LOG=1  debugpy's logs of the attach flow into the artifacts
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");
const v21 = require("./steps-vscode21");

const CS_URL = process.env.CS_URL || "http://127.0.0.1:8787";
const WS_DIR = process.env.WS_DIR;
const RUN_DIR = process.env.RUN_DIR; // code-server's profile; its extension dir holds our server
const ART = process.env.ARTIFACTS || path.join(process.cwd(), "test-artifacts", "e2e");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const WANT_RUN = process.env.HANDLERLENS_E2E_RUN !== "0";
const WANT_DEBUG = process.env.HANDLERLENS_E2E_DEBUG !== "0";
const SCENARIO = process.env.E2E_SCENARIO || "main";
fs.mkdirSync(ART, { recursive: true });

const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
const timings = {};
let passed = 0;
let failed = 0;
let skipped = 0;
let page;
let shot = 0;

const snap = (name) =>
  page.screenshot({ path: path.join(ART, `${String(++shot).padStart(2, "0")}-${name}.png`) });

async function step(name, fn) {
  const s = Date.now();
  try {
    await fn();
    passed++;
    log(`PASS ${name} (${Date.now() - s} ms)`);
  } catch (e) {
    failed++;
    // Playwright's call log (what it waited for, what was in the way) follows the first line.
    const lines = String(e.message)
      .split("\n")
      .filter((l) => l.trim());
    log(`FAIL ${name}: ${lines.slice(0, 10).join(" | ").slice(0, 2000)}`);
    await page
      .screenshot({ path: path.join(ART, `fail-${name.replace(/\W+/g, "_")}.png`) })
      .catch(() => {});
    throw e;
  }
}

function skip(name, why) {
  skipped++;
  log(`SKIP ${name}: ${why}`);
}

// Monaco renders spaces as U+00A0 and keeps only visible lines in the DOM.
const norm = (s) => (s || "").replace(/\u00a0/g, " ");

async function editorText(editor) {
  const lines = await editor.locator(".view-lines .view-line").allTextContents();
  return norm(lines.join("\n"));
}

async function waitForEditorText(editor, needle, timeout = 30000) {
  const deadline = Date.now() + timeout;
  let text = "";
  while (Date.now() < deadline) {
    text = await editorText(editor).catch(() => "");
    if (needle instanceof RegExp ? needle.test(text) : text.includes(needle)) {
      return text;
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`editor never showed ${needle}; last text: ${text.slice(0, 300)}`);
}

async function openFile(folder, file) {
  const rows = page.locator(".explorer-folders-view .monaco-list-row");
  const folderRow = rows.filter({ hasText: new RegExp(`^\\s*${folder}\\s*$`) }).first();
  if ((await folderRow.getAttribute("aria-expanded")) !== "true") {
    await folderRow.click();
  }
  await rows
    .filter({ hasText: new RegExp(`^\\s*${file.replace(".", "\\.")}\\s*$`) })
    .first()
    .dblclick();
  await page.locator(".tabs-container .tab.active", { hasText: file }).waitFor();
  return page.locator(".editor-group-container.active .monaco-editor").first();
}

/** The line number (1-based) at which an overlay decoration (e.g. the stopped frame) sits. */
async function decoratedLine(editor, selector) {
  return editor.evaluate((ed, sel) => {
    const deco = ed.querySelector(sel);
    if (!deco) return null;
    const top = deco.closest("[style*='top']")?.style.top ?? deco.parentElement.style.top;
    const ln = [...ed.querySelectorAll(".margin-view-overlays > div")].find(
      (d) => d.style.top === top,
    );
    return ln ? Number(ln.textContent.trim()) : null;
  }, selector);
}

async function setBreakpoint(editor, line) {
  const ln = await editor
    .locator(".margin-view-overlays .line-numbers", { hasText: new RegExp(`^${line}$`) })
    .boundingBox();
  const gm = await editor.locator(".margin .glyph-margin").first().boundingBox();
  await page.mouse.move(gm.x + gm.width / 2, ln.y + ln.height / 2);
  await page.mouse.click(gm.x + gm.width / 2, ln.y + ln.height / 2);
  await editor.locator(".codicon-debug-breakpoint").first().waitFor();
}

/** Text of the language status hover of main.py (opened and closed again). */
async function languageStatus(expect, timeout = 60000) {
  // The item shows only while a Python editor is active, and a hover, a toast or a closing
  // quick pick can sit in the way for a moment: retry the whole gesture until the deadline,
  // and say what was on screen if it never worked.
  const deadline = Date.now() + timeout;
  const item = page.locator('.statusbar-item[id="status.languageStatus"]');
  const hover = page.locator(".monaco-hover, .context-view");
  let last = "";
  while (Date.now() < deadline) {
    try {
      await page.keyboard.press("Escape");
      await page
        .locator(".tabs-container .tab", { hasText: "main.py" })
        .first()
        .click({ timeout: 5000 });
      await item.click({ timeout: 5000 });
      await hover.getByText(expect).first().waitFor({ timeout: 5000 });
      const text = norm(await hover.first().textContent());
      await page.keyboard.press("Escape");
      return text;
    } catch (e) {
      last = String(e.message).split("\n").slice(0, 6).join(" | ");
    }
  }
  const tabs = await page.locator(".tabs-container .tab").allTextContents();
  const items = await page
    .locator(".statusbar-item")
    .evaluateAll((els) => els.map((el) => `${el.id}=${(el.textContent || "").trim()}`));
  const hovers = await hover.allTextContents();
  throw new Error(
    `language status never said "${expect}"; last: ${last}; tabs: ${tabs.map(norm).join(", ")}; ` +
      `status bar: ${items.map(norm).join(", ")}; hover: ${hovers.map(norm).join(" / ")}`,
  );
}

/** PIDs of this run's language servers (found by the bundle path in their environment). */
function serverPids() {
  const pids = [];
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (
        cmd.join(" ").includes("-m handlerlens lsp") &&
        fs
          .readFileSync(`/proc/${pid}/environ`, "utf8")
          .includes(`HANDLERLENS_BUNDLED_LIBS=${RUN_DIR}/`)
      ) {
        pids.push(Number(pid));
      }
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** The last `n` lines of the extension's log (code-server's copy, live) that match `re`. */
function extensionLog(re, n) {
  const logs = path.join(path.dirname(WS_DIR), "data", "logs");
  const found = [];
  const walk = (dir) => {
    let entries = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === "HandlerLens.log") found.push(p);
    }
  };
  walk(logs);
  const lines = found.flatMap((f) => fs.readFileSync(f, "utf8").split("\n"));
  return lines
    .filter((l) => re.test(l))
    .slice(-n)
    .join("\n");
}

/** When the extension host activated its first extension and HandlerLens (epoch ms), read
 * from its log (`remoteexthost.log`, local time stamps to the ms). */
function extensionHostActivations() {
  const found = {};
  const walk = (dir) => {
    let entries = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === "remoteexthost.log") {
        for (const line of fs.readFileSync(p, "utf8").split("\n")) {
          const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) .*_doActivateExtension (\S+),/.exec(
            line,
          );
          if (!m) continue;
          const t = new Date(`${m[1]}T${m[2]}`).getTime();
          found.first ??= t;
          if (m[3] === "handlerlens.handlerlens") found.handlerlens ??= t;
        }
      }
    }
  };
  walk(path.join(path.dirname(WS_DIR), "data", "logs"));
  return found;
}

async function waitFor(what, cond, timeout = 30000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const v = await cond();
    if (v) return v;
    await page.waitForTimeout(200);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Sets a user setting through the Settings editor, as a user would. */
async function setUserSetting(id, value) {
  await page.keyboard.press("F1");
  await page.keyboard.type("Preferences: Open User Settings");
  await page
    .locator(".quick-input-widget .monaco-list-row", {
      hasText: "Open User Settings",
      hasNotText: "JSON",
    })
    .first()
    .click();
  const editor = page.locator(".settings-editor");
  await editor.waitFor();
  await editor.locator(".settings-header .monaco-editor").first().click();
  await page.keyboard.press("Control+A");
  await page.keyboard.type(id);
  const input = editor
    .locator(
      `.setting-item[data-key="${id}"] input, .setting-item-contents:has-text("${id.split(".").pop()}") input`,
    )
    .first();
  await input.waitFor();
  await input.fill(value);
  await input.press("Enter");
  await page.waitForTimeout(2500); // the editor writes settings after a short delay
  await snap(`setting-${value ? "set" : "cleared"}`);
  // VS Code 1.139 shows the Settings editor as a modal over the workbench: close it.
  for (let i = 0; i < 3 && (await editor.isVisible()); i++) {
    await page.keyboard.press("Escape");
    await page.waitForTimeout(300);
  }
  if (await editor.isVisible()) {
    await page.locator(".codicon-close:visible, .codicon-chrome-close:visible").first().click();
  }
  await editor.waitFor({ state: "hidden" });
}

/** Waits until the debugger is paused on `line` (1-based) of `editor`. */
async function pausedAtLine(editor, line) {
  await page.locator(".debug-toolbar").waitFor({ timeout: 60000 });
  await editor.locator(".debug-top-stack-frame-line").first().waitFor({ timeout: 60000 });
  const at = await decoratedLine(editor, ".debug-top-stack-frame-line");
  if (at !== line) throw new Error(`expected to stop at line ${line}, stopped at ${at}`);
  await page.getByText("Paused on breakpoint", { exact: true }).first().waitFor();
}

async function expectEventInVariables() {
  const locals = page.locator(".debug-variables .monaco-list-row", { hasText: "Locals" }).first();
  if ((await locals.getAttribute("aria-expanded")) !== "true") await locals.click();
  await page
    .locator(".debug-variables .monaco-list-row", { hasText: /^\s*event\b/ })
    .first()
    .waitFor();
  return norm(
    (await page.locator(".debug-variables .monaco-list-row").allTextContents()).join(" | "),
  ).slice(0, 300);
}

/** 1-based line of the first line of `editor` containing `needle` (the file must fit on screen). */
async function lineOf(editor, needle) {
  const lines = (await editorText(editor)).split("\n");
  const i = lines.findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`no line with ${needle}`);
  return i + 1;
}

/** Changes the default name on line `line` (`.get("name", "world")`) to a new word; returns it. */
async function renameDefault(editor, line) {
  const text = (await editorText(editor)).split("\n")[line - 1];
  const m = /"(\w+)"\)\s*$/.exec(text);
  if (!m) throw new Error(`line ${line} has no default name: ${text}`);
  const name = `${m[1]}x`;
  await editor.locator(".view-lines").click();
  await page.keyboard.press("Control+g");
  await page.keyboard.type(String(line));
  await page.keyboard.press("Enter");
  await page.keyboard.press("End");
  for (let i = 0; i < m[0].trimEnd().length; i++) await page.keyboard.press("Backspace");
  await page.keyboard.type(`"${name}")`);
  return name;
}

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve) => {
    const srv = require("net").createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** `handlerlens serve --debug` for greeter, from the installed extension's bundle. */
function startDebugRunner(debugPort) {
  const ext = path.join(RUN_DIR, "ext");
  const dir = fs.readdirSync(ext).find((d) => d.startsWith("handlerlens.handlerlens-"));
  const libs = path.join(ext, dir, "bundled", "libs");
  const root = path.join(WS_DIR, "greeter");
  const child = require("child_process").spawn(
    "python3",
    [
      "-m",
      "handlerlens.runner",
      "serve",
      "greeter=main.handler",
      "--root",
      root,
      "--platform",
      "yandex",
      "--port",
      "0",
      "--debug-port",
      String(debugPort),
      "--status-json",
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        PYTHONPATH: libs,
        // debugpy's own logs (every DAP message, timed) for a run that needs them
        ...(process.env.HANDLERLENS_E2E_DEBUGPY_LOG === "1"
          ? { DEBUGPY_LOG_DIR: path.join(ART, "debugpy") }
          : {}),
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  // --status-json: one JSON event per stdout line (listening, reloading, reloaded, …)
  const events = [];
  let buf = "";
  child.stdout.on("data", (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        events.push(JSON.parse(line));
      } catch {
        // not a status line
      }
    }
  });
  child.stderr.on("data", (d) => fs.appendFileSync(path.join(ART, "debug-runner.log"), d));
  const next = (name, from = 0) =>
    waitFor(
      `the runner's "${name}" event`,
      () => events.slice(from).find((e) => e.event === name),
      60000,
    );
  const url = next("listening").then((e) => e.url);
  return { child, url, events, next };
}

/**
 * Ends a debug session with its own Disconnect/Stop action in the Call Stack view (what a user
 * clicks; unlike Shift+F5 it does not depend on which session has the focus), then waits for
 * debugging to be over — every worker's child session included.
 */
async function stopSession(name) {
  const action = ".action-label.codicon-debug-disconnect, .action-label.codicon-debug-stop";
  const toolbar = page.locator(".debug-toolbar");
  const deadline = Date.now() + 60000;
  let attempt = 0;
  let lastError;
  // A row's inline actions show only while it is hovered or focused, and the Call Stack view
  // re-renders whenever a worker's session comes or goes (which can drop the hover): focus the
  // row (a click on its label, clear of the actions on the right), hover it, click its action,
  // and try again if any of that lost a race with a re-render.
  while (Date.now() < deadline) {
    attempt += 1;
    const row = page.locator(".debug-call-stack .monaco-list-row", { hasText: name }).first();
    try {
      if (await row.count()) {
        await row.click({ position: { x: 40, y: 10 }, timeout: 5000 });
        await row.hover({ position: { x: 40, y: 10 }, timeout: 5000 });
        await row.locator(action).first().click({ timeout: 5000 });
      }
      await toolbar.waitFor({ state: "hidden", timeout: 15000 });
      if (attempt > 1) log(`   debugging ended on attempt ${attempt}`);
      return;
    } catch (e) {
      lastError = e;
      if (!(await toolbar.count()) || !(await toolbar.isVisible())) return;
    }
  }
  const rows = await page.locator(".debug-call-stack .monaco-list-row").allTextContents();
  throw new Error(
    `debugging did not end after ${attempt} attempts; call stack: ${rows.map(norm).join(" / ")}; ` +
      `last error: ${String(lastError).slice(0, 400)}`,
  );
}

/** Click a lens, accept the first entry of the event quick pick (last used, else first sample). */
async function lensWithEvent(editor, title, expectItem) {
  await editor.locator(".codelens-decoration a", { hasText: title }).first().click();
  const pick = page.locator(".quick-input-widget");
  await pick.waitFor({ state: "visible" });
  await pick.locator(".monaco-list-row", { hasText: expectItem }).first().waitFor();
  await snap(`event-pick-${title.replace(/\W+/g, "")}`);
  await page.keyboard.press("Enter");
  await pick.waitFor({ state: "hidden" });
}

/** Workspace trust on, folder left untrusted: analysis works, Run asks for trust and runs nothing. */
async function restricted() {
  let main;
  await step("untrusted folder opens in Restricted Mode", async () => {
    await page.goto(`${CS_URL}/?folder=${encodeURIComponent(WS_DIR)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
    // code-server opens an unknown folder untrusted, without a startup prompt
    await page
      .locator(".statusbar-item", { hasText: "Restricted Mode" })
      .first()
      .waitFor({ timeout: 60000 });
  });
  await step("lenses and Problems work in Restricted Mode", async () => {
    main = await openFile("greeter", "main.py");
    await main
      .locator(".codelens-decoration a", { hasText: "▶ Run handler" })
      .waitFor({ timeout: 60000 });
    await page.locator('.statusbar-item[id="status.problems"]').click();
    await page
      .locator(".markers-panel .monaco-list-row", { hasText: "list_order" })
      .first()
      .waitFor();
  });
  await snap("restricted-lenses");
  await step("Run asks for workspace trust and runs nothing", async () => {
    await main.locator(".codelens-decoration a", { hasText: "▶ Run handler" }).click();
    const dialog = page.locator(".monaco-dialog-box", { hasText: "Restricted Mode" });
    await dialog.getByText("Run Handler executes code from this workspace").waitFor();
    await dialog.getByRole("button", { name: "Manage Workspace Trust" }).waitFor();
    await snap("trust-asked");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.waitForTimeout(1500);
    if (await page.locator(".tabs-container .tab", { hasText: / response$/ }).count()) {
      throw new Error("a response view opened although the workspace is untrusted");
    }
    if (await page.locator(".quick-input-widget:visible").count()) {
      throw new Error("the event picker opened although the workspace is untrusted");
    }
  });
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
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(30000);
  page.on("pageerror", (e) => log("pageerror:", e.message.slice(0, 200)));
  let main;
  const ATTACH_PORT = await freePort();
  try {
    if (SCENARIO === "restricted") {
      await restricted();
      return;
    }
    fs.mkdirSync(path.join(WS_DIR, ".vscode"), { recursive: true });
    fs.writeFileSync(
      path.join(WS_DIR, ".vscode", "launch.json"),
      JSON.stringify(
        {
          version: "0.2.0",
          configurations: [
            {
              type: "handlerlens",
              request: "attach",
              name: "Attach to greeter's runner",
              connect: { host: "127.0.0.1", port: ATTACH_PORT },
              justMyCode: true,
              subProcess: true,
            },
          ],
        },
        null,
        2,
      ),
    );
    v21.prepare(WS_DIR);
    // Issue #21's numbers: folder opened → first HandlerLens diagnostics on screen (the status
    // bar's problem count leaves 0), and file opened (its tab shown) → lenses drawn.
    let firstDiagnostics;
    let opened;
    await step("workbench loads with examples/", async () => {
      opened = Date.now();
      firstDiagnostics = waitFor(
        "the first diagnostics in the status bar",
        async () => {
          const text = norm(
            await page
              .locator('.statusbar-item[id="status.problems"]')
              .textContent({ timeout: 1000 })
              .catch(() => ""),
          );
          return /[1-9]/.test(text) ? Date.now() - opened : null;
        },
        120000,
      );
      firstDiagnostics.catch(() => {}); // awaited (and reported) by the Problems step
      await page.goto(`${CS_URL}/?folder=${encodeURIComponent(WS_DIR)}`);
      await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
      await page
        .locator(".explorer-folders-view .monaco-list-row", { hasText: "greeter" })
        .waitFor({ timeout: 60000 });
    });

    await step('lenses "▶ Run handler" and "Debug handler" on greeter/main.py', async () => {
      const s = Date.now();
      main = await openFile("greeter", "main.py");
      const shown = Date.now();
      await main
        .locator(".codelens-decoration a", { hasText: "▶ Run handler" })
        .waitFor({ timeout: 60000 });
      await main.locator(".codelens-decoration a", { hasText: "Debug handler" }).waitFor();
      timings.openToLensMs = Date.now() - s;
      timings.fileShownToLensMs = Date.now() - shown;
    });
    await snap("lenses");

    await step("language status says the server is ready", async () => {
      const text = await languageStatus("HandlerLens: ready");
      log("   language status:", text.slice(0, 200));
    });

    await step("Problems lists the misspelt entry point of orders", async () => {
      timings.folderToDiagnosticsMs = await firstDiagnostics;
      log(`   folder opened → first diagnostics: ${timings.folderToDiagnosticsMs} ms`);
      // Its split (bench/STARTUP.md): code-server's start until its extension host activates
      // a first extension, and HandlerLens' share from its own activation, from the host's log.
      const host = extensionHostActivations();
      if (host.first !== undefined && host.handlerlens !== undefined) {
        timings.folderToExtensionHostMs = host.first - opened;
        timings.activationToDiagnosticsMs =
          opened + timings.folderToDiagnosticsMs - host.handlerlens;
        log(
          `   of which code-server until its extension host activates: ${timings.folderToExtensionHostMs} ms, ` +
            `HandlerLens' activation → diagnostics: ${timings.activationToDiagnosticsMs} ms`,
        );
      }
      await page.locator('.statusbar-item[id="status.problems"]').click();
      const row = page.locator(".markers-panel .monaco-list-row", { hasText: "list_order" });
      await row.first().waitFor();
      log("   problem:", norm(await row.first().textContent()).slice(0, 240));
      const text = norm(await page.locator(".markers-panel").textContent());
      if (!text.includes("entry-point-function-missing"))
        throw new Error("no entry-point-function-missing code in Problems");
      if (!/Did you mean 'list_orders'/.test(text))
        throw new Error("no did-you-mean in the message");
    });
    await snap("problems");

    // Issue #21's "file opened → lenses ≤ 500 ms" as a daily user meets it: a window that is
    // already running (the server up, the workspace read), a handler file not opened yet.
    // The figure above starts at a tab shown before the extension host has started (it is the
    // cold start's); these two start at the double click in the Explorer.
    await step("a file opened in the running window shows its lenses", async () => {
      const runs = [];
      const fromTab = [];
      for (const [folder, file, lens] of [
        ["thumbnails", "handler.py", "▶ Run handler"],
        ["orders", "app.py", "▶ Run handler"],
      ]) {
        const s = Date.now();
        const editor = await openFile(folder, file);
        const shown = Date.now();
        await editor.locator(".codelens-decoration a", { hasText: lens }).first().waitFor();
        runs.push(Date.now() - s);
        fromTab.push(Date.now() - shown);
      }
      timings.runningFileToLensMs = runs;
      timings.runningFileShownToLensMs = fromTab;
      log(
        `   file opened in a running window → lenses: ${runs.join(", ")} ms ` +
          `(from its tab shown: ${fromTab.join(", ")} ms)`,
      );
      main = await openFile("greeter", "main.py"); // the steps below work in it
    });

    await step("no error notifications", async () => {
      const errors = page.locator(".notifications-toasts .notification-toast .codicon-error");
      const n = await errors.count();
      if (n)
        throw new Error(
          `${n} error notification(s): ${norm(await page.locator(".notifications-toasts").textContent())}`,
        );
    });

    if (!WANT_RUN) {
      skip(
        "Run → response view with status, body and REPORT line",
        "left out by HANDLERLENS_E2E_RUN=0",
      );
    } else {
      await step("Run lens → event pick → response view with 200 and the REPORT line", async () => {
        await page.keyboard.press("Escape");
        const s = Date.now();
        await lensWithEvent(main, "▶ Run handler", "sample");
        const text = await v21.waitForResponseText(page, "greeter", "Hello, world!");
        timings.runClickToResponseMs = Date.now() - s;
        if (!/200 OK/.test(text)) throw new Error(`no "200 OK" status line: ${text.slice(0, 200)}`);
        log("   response:", text.replace(/\s+/g, " ").slice(0, 200));
        await snap("run-response");
        // The log is one click away in the response view.
        const frame = await v21.responseFrame(page, "greeter");
        await frame.locator("details.log summary").click();
        const end = norm(await frame.locator("details.log pre").innerText());
        if (!/REPORT Request[Ii][Dd]/.test(end)) throw new Error(`no REPORT line: ${end}`);
        log(
          "   log:",
          end
            .split("\n")
            .filter((l) => /START|END|REPORT/.test(l))
            .join(" | ")
            .slice(0, 300),
        );
      });
      await snap("run-response-log");

      await step(
        '"New event…" saves an editable copy; the lens on it runs the handler with it',
        async () => {
          await page.locator(".tabs-container .tab", { hasText: "main.py" }).first().click();
          // "▶ Run handler" re-runs the last event in one click; "Choose event…" asks.
          await main
            .locator(".codelens-decoration a", { hasText: "Choose event…" })
            .first()
            .click();
          const pick = page.locator(".quick-input-widget");
          await pick.locator(".monaco-list-row", { hasText: "New event…" }).click();
          await pick.getByText("start from which sample?").waitFor();
          await page.keyboard.press("Enter"); // the function's own trigger comes first
          await pick.getByText("New event for greeter").waitFor();
          // fill() on the box itself: keystrokes could land in the editor while focus moves
          const name = pick.locator(".quick-input-box input");
          await name.fill("hello-alice");
          await name.press("Enter");
          const tab = page.locator(".tabs-container .tab", { hasText: "hello-alice.json" });
          await tab.waitFor();
          const json = page
            .locator(".editor-group-container", { has: tab })
            .locator(".monaco-editor")
            .first();
          await waitForEditorText(json, "httpMethod"); // the sample, pre-filled
          await json.locator(".view-lines").click();
          await page.keyboard.press("Control+A");
          // settings.json turns auto-closing and suggestions off, so typing is literal
          await page.keyboard.type(
            '{"httpMethod": "GET", "queryStringParameters": {"name": "Alice"}}',
          );
          await page.keyboard.press("Control+s");
          await snap("new-event");
          await json
            .locator(".codelens-decoration a", { hasText: "▶ Run greeter with this event" })
            .click();
          await v21.waitForResponseText(page, "greeter", "Hello, Alice!");
          const saved = path.join(WS_DIR, ".handlerlens", "events", "greeter", "hello-alice.json");
          if (!fs.readFileSync(saved, "utf8").includes("Alice"))
            throw new Error(`${saved} was not saved`);
        },
      );
      await snap("new-event-response");
      await v21.run({ page, step, snap, openFile, waitFor, timings, log, WS_DIR });
      await v21.functionsView({ page, step, snap, log });
    }

    if (!WANT_DEBUG) {
      skip(
        "Debug lens → paused with event → continue → edit/save → paused again",
        "left out by HANDLERLENS_E2E_DEBUG=0",
      );
    } else {
      let bp;
      await step(
        "breakpoint in the handler, Debug lens → paused there with `event` in Variables",
        async () => {
          await page.locator(".tabs-container .tab", { hasText: "main.py" }).first().click();
          bp = await lineOf(main, "name = (event.get(");
          await setBreakpoint(main, bp);
          const s = Date.now();
          await lensWithEvent(main, "Debug handler", WANT_RUN ? "Last used" : "sample");
          await pausedAtLine(main, bp);
          timings.debugClickToPausedMs = Date.now() - s;
          log("   variables:", await expectEventInVariables());
        },
      );
      await snap("debug-paused");
      await step("continue → response 200", async () => {
        await page.keyboard.press("F5");
        await v21.waitForResponseText(page, "greeter", "200 OK");
      });
      await step(
        "edit + save, Debug again → paused again without re-attaching, new code runs",
        async () => {
          await page.locator(".tabs-container .tab", { hasText: "main.py" }).first().click();
          const name = await renameDefault(main, bp);
          await page.keyboard.press("Control+s");
          const s = Date.now();
          await lensWithEvent(main, "Debug handler", "Last used");
          await pausedAtLine(main, bp);
          timings.saveToPausedAgainViaLensMs = Date.now() - s;
          await snap("debug-paused-again");
          await page.keyboard.press("F5");
          await v21.waitForResponseText(page, "greeter", WANT_RUN ? "200 OK" : `Hello, ${name}!`);
        },
      );
      await step(
        "one Stop (Shift+F5, once) ends the whole debug run, workers included",
        async () => {
          // Issue #21 item 6: the workers' sessions are managed by the runner's, so one Stop
          // on whichever session has the focus ends them all (it took one per session before).
          await page.locator(".tabs-container .tab", { hasText: "main.py" }).first().click();
          await main.locator(".view-lines").click();
          const rows = await page.locator(".debug-call-stack .monaco-list-row").allTextContents();
          log("   call stack before Stop:", rows.map(norm).join(" / "));
          await page.keyboard.press("Shift+F5");
          await page.locator(".debug-toolbar").waitFor({ state: "hidden", timeout: 20000 });
        },
      );
    }

    // Attaching through launch.json to a runner started by hand (`handlerlens serve --debug`):
    // the extension's own debug type and debugpy's adapter, child sessions for every worker.
    let runner;
    try {
      let bp;
      let invocation;
      const invoke = async () => {
        const res = await fetch(`${await runner.url}/2015-03-31/functions/greeter/invocations`, {
          method: "POST",
          body: "{}",
        });
        return { status: res.status, body: await res.text() };
      };
      await step(
        "launch.json attach to `handlerlens serve --debug` → an invocation stops at the breakpoint",
        async () => {
          runner = startDebugRunner(ATTACH_PORT);
          await runner.url;
          await page.locator(".tabs-container .tab", { hasText: "main.py" }).first().click();
          bp = await lineOf(main, "name = (event.get(");
          if (!(await main.locator(".codicon-debug-breakpoint").count()))
            await setBreakpoint(main, bp);
          await main.locator(".view-lines").click();
          const s = Date.now();
          await page.keyboard.press("F5");
          await page.locator(".debug-toolbar").waitFor({ timeout: 60000 });
          invocation = invoke();
          await pausedAtLine(main, bp);
          timings.attachAndInvokeToPausedMs = Date.now() - s;
          log("   variables:", await expectEventInVariables());
        },
      );
      await snap("attach-paused");
      await step("continue → the invocation answers 200", async () => {
        await page.keyboard.press("F5");
        const r = await invocation;
        if (r.status !== 200 || !r.body.includes("Hello, "))
          throw new Error(`got ${r.status} ${r.body.slice(0, 200)}`);
      });
      const saveAndReload = async () => {
        const seen = runner.events.length;
        await page.keyboard.press("Control+s");
        const s = Date.now();
        let reloaded;
        try {
          reloaded = await runner.next("reloaded", seen);
        } catch (e) {
          // Say what the runner did see, and what the editor holds, so a failure explains itself.
          const since = runner.events.slice(seen).map((ev) => JSON.stringify(ev));
          const dirty = await page.locator(".tabs-container .tab.dirty").allTextContents();
          const onDisk = fs.readFileSync(path.join(WS_DIR, "greeter", "main.py"), "utf8");
          let stderr = "";
          try {
            stderr = fs.readFileSync(path.join(ART, "debug-runner.log"), "utf8").slice(-1500);
          } catch {
            // no log yet
          }
          throw new Error(
            `${e.message}; runner events since the save: [${since.join(", ")}]; dirty tabs: ` +
              `${JSON.stringify(dirty.map(norm))}; main.py on disk starts ` +
              `${JSON.stringify(onDisk.slice(0, 60))}; runner's stderr ends:\n${stderr}\n` +
              `the extension's debug sessions:\n${extensionLog(/[Dd]ebug session|attach/, 12)}`,
          );
        }
        if (!reloaded.ok) throw new Error(`reload failed: ${JSON.stringify(reloaded)}`);
        return s;
      };
      await step(
        "edit + save → the next invocation stops again, no re-attach, and runs the new code",
        async () => {
          await main.locator(".view-lines").click();
          const name = await renameDefault(main, bp);
          const s = await saveAndReload();
          timings.saveToReloadedMs = Date.now() - s;
          invocation = invoke();
          await pausedAtLine(main, bp);
          timings.saveToPausedAgainMs = Date.now() - s;
          await snap("attach-paused-again");
          await page.keyboard.press("F5");
          const r = await invocation;
          if (r.status !== 200 || !r.body.includes(`Hello, ${name}!`))
            throw new Error(`got ${r.status} ${r.body.slice(0, 200)}`);
        },
      );
      if (process.env.HANDLERLENS_E2E_SHIFTED !== "0") {
        // VS Code sends the moved lines only after the save, racing the reload: the runner
        // holds the import for them.
        await step("lines inserted above the breakpoint → paused on its new line", async () => {
          // HANDLERLENS_E2E_SHIFTED_REPEAT=N does it N times in a row (a stress run for the race).
          const times = Number(process.env.HANDLERLENS_E2E_SHIFTED_REPEAT || 1);
          for (let k = 1; k <= times; k++) {
            await main.locator(".view-lines").click();
            await page.keyboard.press("Control+Home");
            await page.keyboard.type("# edited while attached\n");
            await saveAndReload();
            // ..._FAST=1: the next save comes at once, while the new standby still attaches
            if (process.env.HANDLERLENS_E2E_SHIFTED_FAST === "1" && k < times) continue;
            invocation = invoke();
            await pausedAtLine(main, bp + k);
            await page.keyboard.press("F5");
            await invocation;
          }
        });
      } else {
        skip(
          "lines inserted above the breakpoint → paused on its new line",
          "left out by HANDLERLENS_E2E_SHIFTED=0",
        );
      }
      await step("stop debugging", async () => {
        // The runner's (parent) session; the extension ends the workers' child sessions with it.
        await stopSession("Attach to greeter");
      });
    } finally {
      if (runner) {
        try {
          process.kill(-runner.child.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
    }

    await require("./steps-app17").appSteps({ page, step, log, waitFor });
    if (WANT_DEBUG) await require("./steps-debugapp17").debugAppSteps({ page, step, log, waitFor, openFile, setBreakpoint, pausedAtLine, lineOf }); // prettier-ignore

    await require("./steps-tests20").testExplorerSteps({ page, step, snap, log, norm, WS_DIR, main, lineOf, setBreakpoint, pausedAtLine, stopSession }); // prettier-ignore

    await step("a crashed server restarts by itself, silently", async () => {
      const before = await waitFor("the language server process", () => serverPids()[0]);
      process.kill(before, "SIGKILL");
      const after = await waitFor(
        "a restarted server",
        () => serverPids().find((p) => p !== before),
        60000,
      );
      log(`   server pid ${before} killed, restarted as ${after}`);
      await languageStatus("HandlerLens: ready");
      const toasts = page.locator(".notifications-toasts .notification-toast", {
        hasText: /HandlerLens|language server/,
      });
      if (await toasts.count())
        throw new Error(`unexpected notification: ${norm(await toasts.first().textContent())}`);
      await main.locator(".codelens-decoration a", { hasText: "▶ Run handler" }).waitFor();
    });

    await step(
      "a missing interpreter gives one clear message; fixing the setting recovers",
      async () => {
        await setUserSetting("handlerlens.interpreter", "/nonexistent/python3");
        const toast = page.locator(".notifications-toasts .notification-toast", {
          hasText: 'No Python found at "/nonexistent/python3"',
        });
        await toast.first().waitFor({ timeout: 60000 });
        await page.waitForTimeout(3000); // a storm would show more toasts by now
        await snap("no-python");
        const n = await page
          .locator(".notifications-toasts .notification-toast", { hasText: /HandlerLens|Python/ })
          .count();
        if (n !== 1) throw new Error(`expected one message, saw ${n}`);
        await languageStatus("HandlerLens: not running");
        await setUserSetting("handlerlens.interpreter", "");
        await languageStatus("HandlerLens: ready");
      },
    );
  } catch {
    // already reported by step()
  } finally {
    await page.screenshot({ path: path.join(ART, "zz-final.png") }).catch(() => {});
    await ctx.close();
    fs.rmSync(udd, { recursive: true, force: true });
    timings.totalMs = Date.now() - t0;
    fs.writeFileSync(path.join(ART, "timings.json"), JSON.stringify(timings, null, 2) + "\n");
    log("timings:", JSON.stringify(timings));
    console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
    process.exit(failed || passed === 0 ? 1 : 0);
  }
})();
