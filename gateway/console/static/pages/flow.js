// One flow: its graph, its definition, its executions (Standard), and a form to start one.

import { api, ApiError, flowPath, withQuery } from "../api.js";
import { createEditor } from "../editor.js";
import { createGraph } from "../graph.js";
import { fill, formatDuration, formatJson, formatTime, h, route, statusBadge, tabs } from "../dom.js";

const EXECUTIONS_PAGE = 25;
const STATUSES = ["Running", "Succeeded", "Failed", "TimedOut", "Stopped"];

export async function flowPage(main, [name, tab = "graph"], active) {
  const [flow, layout] = await Promise.all([api("GET", flowPath(name)), api("GET", flowPath(name, "graph"))]);
  const standard = flow.mode === "Standard";
  const items = [["graph", "Graph"], ["definition", "Definition"]];
  if (standard) items.push(["executions", "Executions"]);
  items.push(["start", "Start execution"]);
  const panel = h("section", { class: "tab-panel", role: "tabpanel" });
  const bar = tabs(items, tab, (id) => {
    location.hash = route("flows", name, id);
  });
  panel.setAttribute("aria-labelledby", `tab-${tab}`);

  fill(main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/" }, "Flows"), " / ", flow.name),
    h("div", { class: "page-head" },
      h("div", {},
        h("h1", {}, flow.name, " ", h("span", { class: `mode mode-${flow.mode.toLowerCase()}` }, flow.mode)),
        h("p", { class: "muted" }, `Revision ${flow.revision} · modified ${formatTime(flow.modifiedAt)}`,
          flow.description ? ` · ${flow.description}` : "")),
      h("div", { class: "actions" },
        h("a", { class: "button secondary", href: route("flows", name, "edit") }, "Edit definition"),
        h("a", { class: "button primary", href: route("flows", name, "start") }, "Start execution"))),
    bar.el,
    panel);

  if (tab === "graph") {
    const graph = createGraph(layout, {});
    fill(panel, graph.el, h("p", { class: "muted small" },
      `${layout.nodes.filter((n) => n.state).length} states. Drag to move, scroll to pan, Ctrl + scroll to zoom.`));
    graph.fit(false);
  } else if (tab === "definition") {
    const editor = createEditor({ value: flow.definition, readOnly: true, label: "Flow definition (read only)" });
    fill(panel, editor.el);
  } else if (tab === "executions" && standard) {
    await executionsList(panel, flow, active);
  } else {
    startForm(panel, flow);
  }
}

async function executionsList(panel, flow, active) {
  const tokens = [""];
  const status = h("select", { id: "filter-status" },
    h("option", { value: "" }, "Any status"), STATUSES.map((s) => h("option", { value: s }, s)));
  const prefix = h("input", { id: "filter-prefix", type: "search", autocomplete: "off", placeholder: "e.g. order-" });
  const after = h("input", { id: "filter-after", type: "datetime-local", step: "1" });
  const before = h("input", { id: "filter-before", type: "datetime-local", step: "1" });
  const body = h("tbody");
  const pager = h("div", { class: "pager" });
  const seconds = (input) => (input.value ? new Date(input.value).getTime() / 1000 : "");

  async function load(index) {
    const page = await api("GET", withQuery(flowPath(flow.name, "executions"), {
      status: status.value,
      name_prefix: prefix.value.trim(),
      started_after: seconds(after),
      started_before: seconds(before),
      page_size: EXECUTIONS_PAGE,
      page_token: tokens[index],
    }));
    if (!active()) return;
    tokens[index + 1] = page.nextPageToken;
    if (!page.executions.length) {
      fill(body, h("tr", {}, h("td", { colspan: 4, class: "empty" },
        index === 0 ? "No executions match." : "No more executions.")));
    } else {
      fill(body, page.executions.map((e) => h("tr", {},
        h("td", {}, h("a", { href: route("flows", flow.name, "executions", e.name) }, e.name)),
        h("td", {}, statusBadge(e.status)),
        h("td", {}, formatTime(e.startedAt)),
        h("td", {}, e.stoppedAt ? formatDuration(e.stoppedAt - e.startedAt) : "running…"))));
    }
    fill(pager,
      h("button", { type: "button", disabled: index === 0, onclick: () => load(index - 1) }, "Previous"),
      h("span", { class: "muted" }, `Page ${index + 1}`),
      h("button", { type: "button", disabled: !page.nextPageToken, onclick: () => load(index + 1) }, "Next"));
  }

  const filters = h("form", {
    class: "filters",
    onsubmit: (event) => {
      event.preventDefault();
      tokens.length = 1;
      load(0);
    },
  },
  h("div", { class: "field" }, h("label", { for: "filter-status" }, "Status"), status),
  h("div", { class: "field" }, h("label", { for: "filter-prefix" }, "Name starts with"), prefix),
  h("div", { class: "field" }, h("label", { for: "filter-after" }, "Started after"), after),
  h("div", { class: "field" }, h("label", { for: "filter-before" }, "Started before"), before),
  h("button", { type: "submit", class: "secondary" }, "Apply"));
  fill(panel, filters,
    h("table", { class: "list" },
      h("caption", { class: "visually-hidden" }, "Executions"),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Execution"),
        h("th", { scope: "col" }, "Status"),
        h("th", { scope: "col" }, "Started"),
        h("th", { scope: "col" }, "Duration"))),
      body),
    pager);
  await load(0);
}

function startForm(panel, flow) {
  const nameInput = h("input", { id: "execution-name", autocomplete: "off", placeholder: "generated when empty" });
  const input = h("textarea", { id: "execution-input", class: "json-input", rows: 8, spellcheck: "false" });
  input.value = "{}";
  const result = h("div", { class: "start-result", "aria-live": "polite" });

  async function start(event) {
    event.preventDefault();
    fill(result);
    let parsed;
    try {
      parsed = JSON.parse(input.value || "{}");
    } catch (err) {
      fill(result, h("p", { class: "callout callout-error", role: "alert" }, `The input is not valid JSON: ${err.message}`));
      return;
    }
    try {
      const started = await api("POST", flowPath(flow.name, "executions"), { name: nameInput.value.trim(), input: parsed });
      if (started.mode === "Standard") {
        location.hash = route("flows", flow.name, "executions", started.execution.name);
        return;
      }
      const r = started.result;
      fill(result,
        h("h2", {}, "Result ", statusBadge(r.Status)),
        h("p", { class: "muted" }, r.Name),
        r.ErrorCode ? h("p", { class: "callout callout-error" }, h("strong", {}, r.ErrorCode), " — ", r.ErrorMessage || "") : "",
        h("h3", {}, "Output"),
        h("pre", { class: "json" }, formatJson(r.Output)));
    } catch (err) {
      const detail = err instanceof ApiError && err.code ? `${err.code}: ${err.message}` : err.message;
      fill(result, h("p", { class: "callout callout-error", role: "alert" }, detail));
    }
  }

  fill(panel,
    h("form", { class: "start-form", onsubmit: start },
      h("p", { class: "muted" }, flow.mode === "Express"
        ? "An Express execution runs to its end before this page shows its result; it keeps no history."
        : "A Standard execution runs durably; you will see it step by step."),
      h("div", { class: "field" }, h("label", { for: "execution-name" }, "Execution name (optional)"), nameInput),
      h("div", { class: "field" }, h("label", { for: "execution-input" }, "Input (a JSON object)"), input),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Start"))),
    result);
}
