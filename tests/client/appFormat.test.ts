import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AppEntry,
  appStatusText,
  appUrlFor,
  appViewDescription,
  isTemplateUrl,
  kindName,
  nextAppEntry,
  notificationFor,
  portToAsk,
  routeCurl,
  routePickRows,
  routeTableLines,
  servedRoutes,
} from "../../client/src/appFormat";
import type { AppRoute } from "../../client/src/protocol";

function route(over: Partial<AppRoute> = {}): AppRoute {
  return {
    method: "GET",
    path: "/items/{id}",
    routeKey: "GET /items/{id}",
    function: "GetItem",
    served: "GetItem",
    kind: "rest",
    api: "ServerlessRestApi",
    stage: "Prod",
    payload: "1.0",
    url: "http://127.0.0.1:8080/items/{id}",
    declaredIn: "/w/template.yaml",
    line: 12,
    ...over,
  };
}

const ROUTES = [
  route(),
  route({
    method: "POST",
    path: "/orders",
    routeKey: "POST /orders",
    function: "CreateOrder",
    served: "CreateOrder",
    kind: "http",
    stage: "$default",
    payload: "2.0",
    url: "http://127.0.0.1:8080/orders",
  }),
  route({
    path: "/ghost",
    routeKey: "GET /ghost",
    function: "d4e0c0ffee",
    served: null,
    kind: "yandex",
    stage: null,
    url: "http://127.0.0.1:8080/ghost",
  }),
];

function running(over: Partial<AppEntry> = {}): AppEntry {
  return nextAppEntry(undefined, {
    root: "/w",
    state: "running",
    url: "http://127.0.0.1:8080",
    port: 8080,
    routes: ROUTES,
    problems: [],
    ...over,
  });
}

describe("the app's state", () => {
  it("keeps its port and routes across a reloading event that repeats neither", () => {
    const before = running();
    const reloading = nextAppEntry(before, { root: "/w", state: "reloading", function: "GetItem" });
    assert.equal(reloading.port, 8080);
    assert.equal(reloading.routes.length, 3);
    assert.equal(appStatusText(reloading), "$(sync~spin) app :8080 · reloading");
  });

  it("forgets where it ran once stopped, and a message belongs to its event only", () => {
    const failed = nextAppEntry(running(), { root: "/w", state: "running", message: "boom" });
    assert.equal(failed.message, "boom");
    const next = nextAppEntry(failed, { root: "/w", state: "running" });
    assert.equal(next.message, undefined);
    const stopped = nextAppEntry(next, { root: "/w", state: "stopped" });
    assert.equal(stopped.port, undefined);
    assert.equal(stopped.url, undefined);
    assert.equal(appStatusText(stopped), "$(circle-outline) app: stopped");
  });

  it("marks routes kept from the last good read until a new table arrives", () => {
    const kept = nextAppEntry(running(), { root: "/w", routes: ROUTES, kept: true });
    assert.equal(kept.kept, true);
    assert.equal(nextAppEntry(kept, { root: "/w", state: "reloading" }).kept, true);
    assert.equal(nextAppEntry(kept, { root: "/w", routes: ROUTES }).kept, false);
    assert.match(appViewDescription(kept), /last good routes/);
  });
});

describe("texts", () => {
  it("counts only the routes a function answers", () => {
    assert.equal(servedRoutes(running()).length, 2);
    assert.equal(appStatusText(running()), "$(radio-tower) app :8080 · 2 routes");
    assert.equal(
      appStatusText(running({ routes: [route()] })),
      "$(radio-tower) app :8080 · 1 route",
    );
  });

  it("flags route errors in the status bar and counts problems in the view", () => {
    const entry = running({
      problems: [
        {
          path: "/w/template.yaml",
          line: 3,
          column: 7,
          severity: "error",
          code: "route-conflict",
          message: "two functions on GET /items",
        },
      ],
    });
    assert.equal(appStatusText(entry), "$(radio-tower) app :8080 · 2 routes $(warning)");
    assert.equal(appViewDescription(entry), "running on :8080 · 2 routes · 1 problem");
    assert.deepEqual(routeTableLines(entry).slice(-1), [
      "  error: /w/template.yaml:3:7: two functions on GET /items [route-conflict]",
    ]);
  });

  it("describes the view's row when nothing runs, while it starts and after an error", () => {
    assert.equal(appViewDescription(undefined), "stopped");
    assert.equal(appViewDescription(running({ state: "starting" })), "starting…");
    const failed = nextAppEntry(undefined, {
      root: "/w",
      state: "error",
      message: "the runner did not start\nTraceback …",
    });
    assert.equal(appViewDescription(failed), "error: the runner did not start");
  });

  it("prints the route table aligned, with who answers and the gateway", () => {
    assert.deepEqual(routeTableLines(running()), [
      "App /w on http://127.0.0.1:8080:",
      "  GET /items/{id} → GetItem (REST, stage Prod)  http://127.0.0.1:8080/items/{id}",
      "  POST /orders    → CreateOrder (HTTP API)  http://127.0.0.1:8080/orders",
      "  GET /ghost      → d4e0c0ffee (not served) (Yandex API Gateway)  http://127.0.0.1:8080/ghost",
    ]);
    assert.match(routeTableLines(running({ routes: [] }))[1] ?? "", /no routes declared/);
  });

  it("names a gateway with its stage only where an AWS API has one", () => {
    assert.equal(kindName(route()), "REST, stage Prod");
    assert.equal(kindName(route({ kind: "http", stage: "$default" })), "HTTP API");
    assert.equal(kindName(route({ kind: "http", stage: "v1" })), "HTTP API, stage v1");
    assert.equal(kindName(route({ kind: "function-url", stage: null })), "Function URL");
  });

  it("lists quick pick rows in table order", () => {
    const rows = routePickRows(running());
    assert.deepEqual(
      rows.map((r) => [r.label, r.description, r.detail]),
      [
        ["GET /items/{id}", "→ GetItem · REST, stage Prod", "http://127.0.0.1:8080/items/{id}"],
        ["POST /orders", "→ CreateOrder · HTTP API", "http://127.0.0.1:8080/orders"],
        [
          "GET /ghost",
          "→ d4e0c0ffee (not served) · Yandex API Gateway",
          "http://127.0.0.1:8080/ghost",
        ],
      ],
    );
  });
});

describe("curl and URLs", () => {
  it("quotes a templated URL and adds a JSON body for POST", () => {
    assert.equal(routeCurl(route()), "curl -i 'http://127.0.0.1:8080/items/{id}'");
    assert.equal(
      routeCurl(ROUTES[1] as AppRoute),
      "curl -i -X POST -H 'Content-Type: application/json' -d '{}' http://127.0.0.1:8080/orders",
    );
    assert.equal(
      routeCurl(route({ method: "ANY", url: "http://getitem.localhost:8080/" })),
      "curl -i http://getitem.localhost:8080/",
    );
    assert.equal(routeCurl(route({ method: "HEAD", url: "http://h/x" })), "curl -i -I http://h/x");
  });

  it("tells a URL with parameters left to fill", () => {
    assert.equal(isTemplateUrl("http://127.0.0.1:8080/items/{id}"), true);
    assert.equal(isTemplateUrl("http://127.0.0.1:8080/items/{proxy+}"), true);
    assert.equal(isTemplateUrl("http://127.0.0.1:8080/orders"), false);
  });
});

describe("port and notifications", () => {
  it("asks for the setting's port, else the remembered one, else any", () => {
    assert.equal(portToAsk(9000, 8080), 9000);
    assert.equal(portToAsk(0, 8080), 8080);
    assert.equal(portToAsk(0, undefined), 0);
    assert.equal(portToAsk(0, "8080"), 0); // whatever an older version wrote
    assert.equal(portToAsk(70000, 8080), 8080);
  });

  it("pops up only for an app that stopped by itself", () => {
    const up = running();
    const died = nextAppEntry(up, { root: "/w", state: "error", message: "the app exited (-9)" });
    assert.equal(notificationFor(up, died), "The app stopped: the app exited (-9)");
    // A failed start is the server's own error message already; a stop is asked for.
    const starting = nextAppEntry(undefined, { root: "/w", state: "starting" });
    const failed = nextAppEntry(starting, { root: "/w", state: "error", message: "port taken" });
    assert.equal(notificationFor(starting, failed), undefined);
    assert.equal(
      notificationFor(up, nextAppEntry(up, { root: "/w", state: "stopped" })),
      undefined,
    );
    // A route problem or a failed reload goes to the output channel only.
    assert.equal(
      notificationFor(up, nextAppEntry(up, { root: "/w", message: "GetItem: x" })),
      undefined,
    );
  });
});

describe("which app serves a file", () => {
  it("is the running app of the deepest folder holding it", () => {
    const outer = running({ root: "/w", url: "http://127.0.0.1:8080" });
    const inner = running({ root: "/w/svc", url: "http://127.0.0.1:9090" });
    const stopped = nextAppEntry(running({ root: "/x" }), { root: "/x", state: "stopped" });
    const all = [outer, inner, stopped];
    assert.equal(appUrlFor(all, "/w/svc/template.yaml"), "http://127.0.0.1:9090");
    assert.equal(appUrlFor(all, "/w/api.yaml"), "http://127.0.0.1:8080");
    assert.equal(appUrlFor(all, "/wx/api.yaml"), undefined);
    assert.equal(appUrlFor(all, "/x/api.yaml"), undefined);
    assert.equal(
      appUrlFor([running({ root: "C:\\w\\" })], "C:\\w\\t.yaml", "\\"),
      "http://127.0.0.1:8080",
    );
  });
});
