// Issue #17 item 5 in VS Code: "HandlerLens: Start App" serves the workspace's whole app behind
// its gateway routes; the status bar says "app :PORT · N routes"; the app's port answers as the
// gateway (REST's 403 for a path no route takes, the orders example's POST /orders); Stop App
// takes the item away. Called by vscode.test.js after the attach steps (the folder is trusted).
"use strict";
const http = require("http");

/** Runs a palette command by its title. */
async function palette(page, title) {
  await page.keyboard.press("Escape");
  await page.keyboard.press("F1");
  await page.keyboard.type(title);
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: title }).first().click();
}

/** One request to 127.0.0.1:port: [status, body]. */
function request(port, method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path, headers: { "Content-Type": "application/json" } },
      (res) => {
        let data = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (data += chunk));
        res.on("end", () => resolve([res.statusCode, data]));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const appItem = (page) => page.locator(".statusbar-item", { hasText: /app :\d+/ }).first();

async function appSteps(h) {
  const { page, step, log, waitFor } = h;
  let port = 0;
  await step("Start App: the status bar shows the app's port and route count", async () => {
    await palette(page, "HandlerLens: Start App (All Functions Behind Their Routes)");
    const item = appItem(page);
    await item.waitFor({ timeout: 60000 });
    const text = (await item.textContent()) || "";
    const found = /app :(\d+) · (\d+) routes?/.exec(text);
    if (!found) {
      throw new Error(`the app's status bar item reads ${JSON.stringify(text)}`);
    }
    port = Number(found[1]);
    if (Number(found[2]) < 2) {
      throw new Error(`expected the orders example's routes, the item says ${text}`);
    }
    log(`   ${text.trim()}`);
  });

  await step("the app's port answers as the gateway", async () => {
    const [unknown, unknownBody] = await request(port, "GET", "/nowhere");
    if (unknown !== 403 || !unknownBody.includes("Missing Authentication Token")) {
      throw new Error(`GET /nowhere → ${unknown} ${unknownBody}`);
    }
    const [created, createdBody] = await request(port, "POST", "/orders", '{"item": "tea"}');
    if (created !== 200 && created !== 201) {
      throw new Error(`POST /orders → ${created} ${createdBody}`);
    }
    log(`   POST /orders → ${created} ${createdBody}`);
  });

  await step("Stop App: the item goes and the port closes", async () => {
    await palette(page, "HandlerLens: Stop App");
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

module.exports = { appSteps, palette, request, appItem };
