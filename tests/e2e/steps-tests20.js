// Issue #20 in VS Code's Test Explorer: examples' saved events are listed, one runs and passes,
// an edit of the handler fails it with the expected/actual diff, "Accept Actual as Expected"
// makes it pass, and a Debug run of it stops at a breakpoint in the handler.
// Called from vscode.test.js with its helpers (`h`); every step goes through h.step.
"use strict";
const fs = require("fs");
const path = require("path");

/** Rows of the Testing view (`.test-explorer`, a tree in the side bar). */
const rows = (page) => page.locator(".test-explorer .monaco-list-row");

/**
 * The row labelled `label`: its `.label` starts with the label's own text node, then the
 * description's span (so the element's text reads "greetermain.handler · yandex").
 */
function row(page, label) {
  return rows(page)
    .filter({
      has: page.locator(
        `xpath=.//div[contains(concat(' ', @class, ' '), ' label ')][normalize-space(text()[1])='${label}']`,
      ),
    })
    .first();
}

async function showTesting(h) {
  const { page } = h;
  await page.keyboard.press("Escape");
  await page.keyboard.press("F1");
  await page.keyboard.type("Testing: Focus on Test Explorer View");
  await page
    .locator(".quick-input-widget .monaco-list-row", { hasText: "Focus on Test Explorer View" })
    .first()
    .click();
}

async function expand(h, label) {
  const r = row(h.page, label);
  await r.waitFor({ timeout: 90000 });
  if ((await r.getAttribute("aria-expanded")) === "false") {
    await r.locator(".monaco-tl-twistie").click();
  }
}

/** Right-click the row `label`, then the context menu's `action`. */
async function contextAction(h, label, action) {
  const { page } = h;
  await row(page, label).click({ button: "right" });
  const item = page
    .locator(".context-view .action-label", { hasText: new RegExp(`^\\s*${action}\\s*$`) })
    .first();
  await item.waitFor({ timeout: 10000 });
  await item.hover();
  await page.waitForTimeout(150); // a click right as the menu opens can be taken as its own
  await item.click();
  // The menu closes when it took the click; if it is still open (seen once in a CI run: the
  // item highlighted, the menu still up), its highlighted item is chosen with Enter.
  const menu = page.locator(".context-view .monaco-menu");
  try {
    await menu.first().waitFor({ state: "hidden", timeout: 2000 });
  } catch {
    await page.keyboard.press("Enter");
    await menu.first().waitFor({ state: "hidden", timeout: 5000 });
  }
}

/** Waits for the row `label` to show `state` (passed / failed / errored / skipped). */
async function rowState(h, label, state, timeout = 90000) {
  await row(h.page, label).locator(`.codicon-testing-${state}-icon`).first().waitFor({ timeout });
}

async function quickOpen(h, file) {
  const { page } = h;
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+p");
  await page.keyboard.type(file);
  await page
    .locator(".quick-input-widget .monaco-list-row")
    .filter({ has: page.getByText(file, { exact: true }) })
    .first()
    .click();
  await page.locator(".tabs-container .tab.active", { hasText: file }).waitFor();
}

/**
 * `h`: { page, step, snap, log, norm, WS_DIR, main (greeter/main.py's editor), lineOf,
 * setBreakpoint, pausedAtLine, stopSession }.
 */
async function testExplorerSteps(h) {
  const { page, step, snap, log, norm, WS_DIR } = h;
  const handler = path.join(WS_DIR, "greeter", "main.py");
  const expected = path.join(
    WS_DIR,
    "greeter",
    ".handlerlens",
    "events",
    "greeter",
    "ada.expected.json",
  );

  await step("Test Explorer lists the examples' functions and their saved events", async () => {
    await showTesting(h);
    await expand(h, "greeter");
    await expand(h, "thumbnail");
    await row(page, "ada").waitFor();
    await row(page, "cat").waitFor();
    // The listing refreshes by itself after the steps before saved events and added a
    // function: acting while it redraws right-clicks a row that then moves (seen once, the
    // menu's "Run Test" went to the row that took ada's place). Wait until it stays the same.
    let shown = "";
    for (let still = 0, waited = 0; still < 1500 && waited < 20000; waited += 250) {
      await page.waitForTimeout(250);
      const now = norm((await rows(page).allTextContents()).join(" | "));
      still = now === shown ? still + 250 : 0;
      shown = now;
    }
    log("   tests:", shown.slice(0, 300));
  });
  await snap("tests20-explorer");

  await step("Run on greeter::ada → passed", async () => {
    await contextAction(h, "ada", "Run Test");
    await rowState(h, "ada", "passed");
  });
  await snap("tests20-passed");

  await step("an edit of the handler fails it, expected vs actual in the diff view", async () => {
    const before = fs.readFileSync(handler, "utf8");
    if (!before.includes('f"Hello, {name}!"')) throw new Error("greeter/main.py has no greeting");
    fs.writeFileSync(handler, before.replace('f"Hello, {name}!"', 'f"Howdy, {name}!"'));
    // The failure's peek opens by itself in the event file's editor only as the setting
    // testing.automaticallyOpenPeekView says (it did not in code-server 4.139.1): else a user
    // opens the failed item, which shows the same peek.
    await quickOpen(h, "ada.json");
    await showTesting(h);
    await contextAction(h, "ada", "Run Test");
    await rowState(h, "ada", "failed");
    const diff = page.locator(".monaco-diff-editor", { hasText: "Howdy, Ada!" }).first();
    try {
      await diff.waitFor({ timeout: 15000 });
    } catch {
      log("   the peek did not open by itself: opening the failed item");
      await row(page, "ada").dblclick();
      await diff.waitFor({ timeout: 15000 });
    }
    const text = norm(await diff.textContent());
    if (!text.includes("Hello, Ada!")) throw new Error(`no expected side in the diff: ${text}`);
    log("   diff:", text.slice(0, 240));
  });
  await snap("tests20-failed-diff");

  await step('"Accept Actual as Expected" writes the response and the event passes', async () => {
    await showTesting(h);
    await contextAction(h, "ada", "Accept Actual as Expected");
    await rowState(h, "ada", "passed");
    const written = JSON.parse(fs.readFileSync(expected, "utf8"));
    if (written.body?.greeting !== "Howdy, Ada!")
      throw new Error(`expected file not updated: ${JSON.stringify(written)}`);
    if (!(written.ignore || []).includes("body.requestId"))
      throw new Error(`the file's ignore list was lost: ${JSON.stringify(written)}`);
  });
  await snap("tests20-accepted");

  await step(
    "Debug on greeter::ada stops at a breakpoint in the handler, then passes",
    async () => {
      await page.locator(".tabs-container .tab", { hasText: "main.py" }).first().click();
      const bp = await h.lineOf(h.main, "name = (event.get(");
      if (!(await h.main.locator(".codicon-debug-breakpoint").count()))
        await h.setBreakpoint(h.main, bp);
      await showTesting(h);
      await contextAction(h, "ada", "Debug Test");
      await h.pausedAtLine(h.main, bp);
      await snap("tests20-debug-paused");
      await page.keyboard.press("F5");
      await page.waitForTimeout(2000); // the response, then its verdict
      await h.stopSession("Debug greeter"); // from the Run and Debug view, still on screen
      await showTesting(h);
      await rowState(h, "ada", "passed");
    },
  );
}

module.exports = { testExplorerSteps };
