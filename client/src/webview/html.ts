/**
 * The response view's page (pure, no `vscode` import; unit-tested in tests/client). Everything
 * is in the page itself: no remote content, one nonce for its style and script (the CSP allows
 * nothing else), images only as `data:` URIs. The script only posts the buttons' and links'
 * clicks to the extension; state lives in the extension, which re-renders the page.
 */
import type { BodyView, ResponseModel } from "./model";

export interface ViewState {
  functionName: string;
  entry: string;
  eventLabel: string;
  /** When the response came (shown as a time of day). */
  at: Date;
  model: ResponseModel;
  /** The invocation's request id (on the page as `data-request-id`: each run has its own). */
  requestId?: string;
  /** Files changed since this response (the code it ran is not the code on disk any more). */
  changedSince?: string[];
  /** A new run is under way. */
  running?: boolean;
}

/** Messages the page posts to the extension. */
export type ViewMessage =
  | { type: "ready" | "rerun" | "copyBody" | "copyCurl" | "saveEvent" | "saveTest" }
  | { type: "open"; file: string; line: number };

/**
 * The whole page. Later runs replace only the content of `#root` (`responseBody`, posted as a
 * `render` message): no page reload per run, and the open/closed state of nothing is lost.
 */
export function responseHtml(s: ViewState, nonce: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${esc(s.functionName)} response</title>
<style nonce="${nonce}">${STYLE}</style>
</head>
<body>
<div id="root">${responseBody(s)}</div>
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
document.addEventListener("click", (e) => {
  const el = e.target instanceof Element ? e.target.closest("[data-cmd],[data-file]") : null;
  if (!el) return;
  e.preventDefault();
  if (el.dataset.file) {
    vscode.postMessage({ type: "open", file: el.dataset.file, line: Number(el.dataset.line) });
  } else {
    vscode.postMessage({ type: el.dataset.cmd });
  }
});
window.addEventListener("message", (e) => {
  if (e.data && e.data.type === "render") {
    document.getElementById("root").innerHTML = e.data.body;
  }
});
vscode.postMessage({ type: "ready" });
</script>
</body>
</html>`;
}

/** The page's content: status line, buttons, marks, headers, body, traceback, details. */
export function responseBody(s: ViewState): string {
  const m = s.model;
  const statusClass = m.failed ? "bad" : m.status !== undefined && m.status >= 400 ? "warn" : "ok";
  const stale = s.changedSince?.length
    ? `<div class="stale" role="status">⚠ The code changed since this response
        (${esc(s.changedSince.join(", "))}): it may answer differently now.
        <button data-cmd="rerun">Run again</button></div>`
    : "";
  const headers = m.kind === "http" ? headersSection(m.headers) : "";
  const trace = m.traceback
    ? `<section class="trace"><h2>Traceback</h2><div class="error">${esc(m.traceback.error)}</div>
        <ol>${m.traceback.frames
          .map(
            (f) => `<li><a href="#" data-file="${esc(f.file)}" data-line="${String(f.line)}"
              title="Open ${esc(f.file)}, line ${String(f.line)}">${esc(baseName(f.file))}:${String(f.line)}</a>${f.where ? ` in <code>${esc(f.where)}</code>` : ""}${f.code ? `<pre>${esc(f.code)}</pre>` : ""}</li>`,
          )
          .join("")}</ol>${
          m.traceback.hidden
            ? `<div class="muted">${String(m.traceback.hidden)} frame(s) of the runtime left out</div>`
            : ""
        }</section>`
    : "";
  const figures = m.figures
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
    .join("");
  const figuresLine = m.figures
    .filter(([k]) => k === "Duration" || k === "Billed")
    .map(([k, v]) => `${k.toLowerCase()} ${esc(v)}`)
    .join(", ");
  const log = m.logs.length
    ? `<details class="log"><summary>Log (${String(m.logs.length)} line${m.logs.length === 1 ? "" : "s"})</summary><pre>${m.logs.map(esc).join("\n")}</pre></details>`
    : "";
  const warning =
    (m.warning ? `<div class="warning">${esc(m.warning)}</div>` : "") +
    (m.pausedNote
      ? `<div class="warning paused">The duration and billed figures include ${esc(m.pausedNote)}.</div>`
      : "");
  const what = m.kind === "http" ? "HTTP response" : "Return value";
  return `<header>
  <div class="status ${statusClass}" id="status" data-request-id="${esc(s.requestId ?? "")}">${esc(m.statusLine)}</div>
  <div class="sub">${esc(s.functionName)} <span class="muted">(${esc(s.entry)})</span> · event “${esc(s.eventLabel)}” · ${esc(s.at.toLocaleTimeString())} · ${figuresLine}${s.running ? ` · <span class="running">running…</span>` : ""}</div>
  <nav>
    <button data-cmd="rerun" title="Run ${esc(s.functionName)} again with the same event">▶ Run again</button>
    <button data-cmd="copyBody">Copy body</button>
    <button data-cmd="copyCurl" title="${m.kind === "http" ? "The HTTP request this event describes, as a curl command to the local runner" : "A curl command that invokes the function with this event"}">Copy as curl</button>
    <button data-cmd="saveEvent" title="Save the event under .handlerlens/events/${esc(s.functionName)}/">Save as event</button>
    <button data-cmd="saveTest" title="Save the event and this response as its expected response (handlerlens test)">Save as test</button>
  </nav>
</header>
${stale}${warning}
<main>
${trace}
${headers}
<section class="body"><h2>${m.kind === "http" ? "Body" : what}</h2>${bodySection(m.body)}</section>
<details class="raw"><summary>Raw return value</summary><pre>${esc(m.raw)}</pre></details>
<details class="figures"><summary>Invocation</summary><table>${figures}</table></details>
${log}
</main>`;
}

function headersSection(headers: [string, string][]): string {
  const rows = headers.length
    ? headers.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")
    : `<tr><td class="muted">(none: the function set no headers)</td></tr>`;
  return `<section class="headers"><h2>Headers</h2><table>${rows}</table></section>`;
}

function bodySection(body: BodyView): string {
  switch (body.kind) {
    case "json":
      return `<pre class="json">${highlightJson(body.text)}</pre>`;
    case "text":
      return `<pre>${esc(body.text)}</pre>`;
    case "image":
      return `<div class="muted">${esc(body.mime)}, ${String(body.bytes)} bytes</div><img alt="response image" src="data:${esc(body.mime)};base64,${esc(body.base64)}">`;
    case "binary":
      return `<div class="muted">${String(body.bytes)} bytes of binary data (Copy body copies it as base64)</div>`;
    default:
      return `<div class="muted">(empty)</div>`;
  }
}

/** Pretty JSON text with keys, strings, numbers and literals in spans (escaped first). */
export function highlightJson(text: string): string {
  return esc(text).replace(
    /(&quot;(?:[^&\\]|\\.|&(?!quot;))*?&quot;)(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g,
    (all, str: string | undefined, colon: string | undefined, lit: string | undefined) => {
      if (str !== undefined) {
        return colon ? `<span class="k">${str}</span>${colon}` : `<span class="s">${str}</span>`;
      }
      return lit !== undefined ? `<span class="l">${all}</span>` : `<span class="n">${all}</span>`;
    },
  );
}

export function esc(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

function baseName(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

const STYLE = `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size);
  color: var(--vscode-foreground); padding: 0 16px 24px; line-height: 1.45; }
header { position: sticky; top: 0; background: var(--vscode-editor-background);
  padding: 12px 0 8px; border-bottom: 1px solid var(--vscode-panel-border); z-index: 1; }
.status { font-size: 1.6em; font-weight: 600; }
.status.ok { color: var(--vscode-testing-iconPassed, #3fb950); }
.status.warn { color: var(--vscode-editorWarning-foreground, #d29922); }
.status.bad { color: var(--vscode-errorForeground, #f85149); }
.sub, .muted { color: var(--vscode-descriptionForeground); }
.running { font-style: italic; }
nav { margin-top: 8px; display: flex; flex-wrap: wrap; gap: 6px; }
button { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground);
  border: none; padding: 4px 10px; border-radius: 2px; cursor: pointer; font: inherit; }
button:hover { background: var(--vscode-button-secondaryHoverBackground); }
nav button:first-child { background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
h2 { font-size: 1em; text-transform: uppercase; letter-spacing: .04em; margin: 18px 0 6px;
  color: var(--vscode-descriptionForeground); }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 2px 16px 2px 0; vertical-align: top;
  font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); }
th { font-weight: 600; white-space: nowrap; }
pre { font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size);
  background: var(--vscode-textCodeBlock-background); padding: 8px; margin: 0;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.json .k { color: var(--vscode-symbolIcon-propertyForeground, #9cdcfe); }
.json .s { color: var(--vscode-debugTokenExpression-string, #ce9178); }
.json .n { color: var(--vscode-debugTokenExpression-number, #b5cea8); }
.json .l { color: var(--vscode-debugTokenExpression-boolean, #569cd6); }
img { max-width: 100%; margin-top: 6px; background: repeating-conic-gradient(#8884 0 25%, transparent 0 50%) 0 0 / 16px 16px; }
.stale, .warning { margin-top: 10px; padding: 6px 10px; border-left: 3px solid var(--vscode-editorWarning-foreground, #d29922);
  background: var(--vscode-inputValidation-warningBackground); }
.trace .error { font-weight: 600; color: var(--vscode-errorForeground); margin-bottom: 4px; }
.trace ol { margin: 0; padding-left: 20px; }
.trace pre { margin: 2px 0 6px; }
a { color: var(--vscode-textLink-foreground); }
details { margin-top: 14px; }
summary { cursor: pointer; color: var(--vscode-descriptionForeground); }
details pre, details table { margin-top: 6px; }
`;
