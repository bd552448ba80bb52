// Issue #17 item 5, Debug on the app, in VS Code: "HandlerLens: Debug App" serves the
// workspace's whole app under debugpy and attaches VS Code's debugger (the status bar's app item
// shows the debug icon); a breakpoint in the orders example's create_order stops the POST
// /orders sent to the app's port, which is answered once continued; Stop App ends the debug
// session and the app. Called by vscode.test.js after the Start App steps (steps-app17.js).
"use strict";
const { palette, request, appItem } = require("./steps-app17");

/** Clicks the glyph margin of `line` again: the breakpoint set there goes. */
async function removeBreakpoint(page, editor, line) {
  const ln = await editor
    .locator(".margin-view-overlays .line-numbers", { hasText: new RegExp(`^${line}$`) })
    .boundingBox();
  const gm = await editor.locator(".margin .glyph-margin").first().boundingBox();
  await page.mouse.click(gm.x + gm.width / 2, ln.y + ln.height / 2);
  await editor.locator(".codicon-debug-breakpoint").first().waitFor({ state: "detached" });
}

/** Opens folder/file by Quick Open (Ctrl+P): the debug run shows its own view in the side bar,
 * not the Explorer. Returns the active editor. */
async function quickOpen(page, folder, file) {
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+p");
  await page.keyboard.type(`${folder}/${file}`);
  await page
    .locator(".quick-input-widget .monaco-list-row", { hasText: folder })
    .filter({ has: page.getByText(file, { exact: true }) })
    .first()
    .click();
  await page.locator(".tabs-container .tab.active", { hasText: file }).waitFor();
  return page.locator(".editor-group-container.active .monaco-editor").first();
}

async function debugAppSteps(h) {
  const { page, step, log, waitFor, setBreakpoint, pausedAtLine, lineOf } = h;
  let port = 0;
  await step("Debug App: the app runs under the debugger, and the status bar says so", async () => {
    await palette(page, "HandlerLens: Debug App (All Functions Behind Their Routes)");
    const item = appItem(page);
    await item.waitFor({ timeout: 60000 });
    await page.locator(".debug-toolbar").waitFor({ timeout: 60000 });
    await item.locator(".codicon-debug-alt").waitFor({ timeout: 30000 });
    const text = (await item.textContent()) || "";
    const found = /app :(\d+)/.exec(text);
    if (!found) throw new Error(`the app's status bar item reads ${JSON.stringify(text)}`);
    port = Number(found[1]);
    log(`   ${text.trim()} (under the debugger)`);
  });

  await step("a breakpoint in create_order stops POST /orders on the app's port", async () => {
    const orders = await quickOpen(page, "orders", "app.py");
    // The tab is active before its lines are drawn (a fresh-clone run read none): wait for them.
    let line = 0;
    const deadline = Date.now() + 30000;
    for (;;) {
      try {
        line = await lineOf(orders, "order = json.loads");
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await page.waitForTimeout(200);
      }
    }
    await setBreakpoint(orders, line);
    // The function starts on this request (a whole app's functions start when first needed):
    // its worker joins the debug session with the breakpoint before its module is imported.
    const answer = request(port, "POST", "/orders", '{"item": "coffee"}');
    await pausedAtLine(orders, line);
    await page.keyboard.press("F5");
    const [status, body] = await answer;
    if (status !== 201 || !body.includes("coffee")) {
      throw new Error(`POST /orders → ${status} ${body}`);
    }
    log(`   paused at app.py:${line}; POST /orders → ${status} ${body}`);
    await removeBreakpoint(page, orders, line);
  });

  await step("Stop App ends the debug session and the app", async () => {
    await palette(page, "HandlerLens: Stop App");
    await page.locator(".debug-toolbar").waitFor({ state: "hidden", timeout: 30000 });
    await appItem(page).waitFor({ state: "hidden", timeout: 30000 });
    await waitFor(
      "the app's port to close",
      () =>
        request(port, "GET", "/nowhere").then(
          () => false,
          () => true,
        ),
      15000,
    );
  });
}

module.exports = { debugAppSteps };
