// The console's shell: routes (in the URL's #fragment) to pages, and cleans up after them.
// Each page is `async (main, params) => cleanup | undefined`; cleanup stops its timers.

import { h, fill } from "./dom.js";
import { ApiError } from "./api.js";
import { flowsPage, editorPage } from "./pages/flows.js";
import { flowPage } from "./pages/flow.js";
import { executionPage } from "./pages/execution.js";

const ROUTES = [
  [/^\/?$/, () => flowsPage],
  [/^\/new$/, () => editorPage],
  [/^\/flows\/([^/]+)\/edit$/, () => editorPage],
  [/^\/flows\/([^/]+)\/executions\/([^/]+)$/, () => executionPage],
  [/^\/flows\/([^/]+)(?:\/(graph|definition|executions|start))?$/, () => flowPage],
];

let cleanup = null;
let generation = 0;

async function show() {
  const main = document.getElementById("main");
  if (cleanup) cleanup();
  cleanup = null;
  generation += 1;
  const mine = generation;
  const path = location.hash.replace(/^#/, "") || "/";
  for (const [pattern, page] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    const params = match.slice(1).map((p) => (p === undefined ? undefined : decodeURIComponent(p)));
    try {
      const done = await page()(main, params, () => mine === generation);
      if (mine === generation) cleanup = done || null;
      else if (done) done();
    } catch (err) {
      if (mine === generation) showError(main, err);
    }
    return;
  }
  fill(main, h("h1", {}, "Not found"), h("p", {}, "There is no such page. ", h("a", { href: "#/" }, "Go to the flows.")));
}

export function showError(main, err) {
  const message = err instanceof ApiError ? err.message : String(err && err.message ? err.message : err);
  fill(main,
    h("h1", {}, "Something went wrong"),
    h("p", { class: "callout callout-error", role: "alert" }, message),
    h("p", {}, h("a", { href: "#/" }, "Back to the flows")));
}

window.addEventListener("hashchange", show);
window.addEventListener("DOMContentLoaded", show);
