// One Standard execution: the graph coloured by what happened, the selected state's data,
// a timeline, and the history one server-side page at a time. A running execution is
// polled every second and the page updated in place.

import { api, flowPath, withQuery } from "../api.js";
import { createGraph, legend } from "../graph.js";
import {
  briefJson, fill, formatDuration, formatJson, formatTime, h, route, stateBadge, statusBadge, tabs,
} from "../dom.js";

const POLL_MS = 1000;
const HISTORY_PAGE_SIZES = [50, 100, 200];
const EVENT_TYPES = [
  ["all", "All events"],
  ["failures", "Failures"],
  ["steps", "Steps"],
  ["tasks", "Tasks"],
  ["children", "Branches and iterations"],
  ["execution", "Execution"],
];
const FAILURE_TYPES = new Set(["StepFailed", "TaskFailed", "TaskTimedOut", "ExecutionFailed", "ExecutionTimedOut", "ExecutionStopped"]);

export async function executionPage(main, [flowName, executionName], active) {
  const base = flowPath(flowName, "executions", executionName);
  const [layout, first] = await Promise.all([api("GET", flowPath(flowName, "graph")), api("GET", base)]);
  let data = first;
  let selected = null;
  let current = "graph";
  let timer = null;
  let stopArmed = null;
  let shownNotice = null;
  let shownState = null;

  const head = h("div", { class: "exec-head" });
  // The header's buttons are made once, so a poll never takes away a keyboard user's focus
  // or the "Confirm stop" step; render() only updates their state.
  const title = h("h1", {});
  const meta = h("p", { class: "muted" });
  const stopButton = h("button", { type: "button", class: "danger", onclick: () => stopExecution(stopButton) }, "Stop");
  fill(head, h("div", { class: "page-head" },
    h("div", {}, title, meta),
    h("div", { class: "actions" },
      stopButton,
      h("button", {
        type: "button",
        class: "secondary",
        disabled: true,
        title: "Redrive (re-running a failed execution from where it failed) is not available yet",
      }, "Redrive"))));

  const notices = h("div", { class: "notices" });
  const side = h("aside", { class: "state-panel", "aria-label": "Selected state" });
  const graph = createGraph(layout, { onSelect: (name) => selectState(name) });
  const panels = {
    graph: h("div", { class: "exec-graph" }, h("div", { class: "graph-col" }, graph.el, legend()), side),
    timeline: h("div", { class: "timeline-panel" }),
    history: h("div", { class: "history-panel" }),
    io: h("div", { class: "io-panel" }),
  };
  const panel = h("section", { class: "tab-panel", role: "tabpanel" });
  const bar = tabs([["graph", "Graph"], ["timeline", "Timeline"], ["history", "History"], ["io", "Input and output"]],
    current, (id) => showTab(id));
  const history = historyView(panels.history, base, layout, () => data, (name) => {
    showTab("graph");
    selectState(name);
  });

  fill(main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
      h("a", { href: "#/" }, "Flows"), " / ",
      h("a", { href: route("flows", flowName) }, flowName), " / ",
      h("a", { href: route("flows", flowName, "executions") }, "Executions"), " / ", executionName),
    head, notices, bar.el, panel);
  showTab("graph");
  render();
  graph.fit(false);
  const failed = data.progress.failedState;
  selectState(failed || null);
  schedule();

  function running() {
    return data.execution.status === "Running";
  }

  function schedule() {
    clearTimeout(timer);
    if (running() && active()) timer = setTimeout(refresh, POLL_MS);
  }

  async function refresh() {
    try {
      const wasRunning = running();
      data = await api("GET", base);
      if (!active()) return;
      render();
      if (selected) await loadState(selected);
      if (current === "history") await history.refreshIfAtEnd();
      if (wasRunning && !running() && data.progress.failedState && !selected) selectState(data.progress.failedState);
    } catch (err) {
      fill(notices, h("p", { class: "callout callout-error" }, `Could not refresh: ${err.message}`));
    }
    schedule();
  }

  function showTab(id) {
    current = id;
    bar.select(id);
    panel.setAttribute("aria-labelledby", `tab-${id}`);
    fill(panel, panels[id]);
    if (id === "timeline") renderTimeline(panels.timeline, data, (name) => {
      showTab("graph");
      selectState(name);
    });
    if (id === "history") history.show();
    if (id === "io") renderIo(panels.io, data.execution);
  }

  function render() {
    const e = data.execution;
    const duration = (e.stoppedAt || Date.now() / 1000) - e.startedAt;
    fill(title, e.name, " ", statusBadge(e.status),
      running() ? h("span", { class: "live", title: "Updates every second" }, "live") : "");
    fill(meta,
      `Started ${formatTime(e.startedAt)} · ${running() ? "running for" : "took"} ${formatDuration(duration)}`,
      ` · revision ${e.flowRevision} · ${data.progress.lastEventId.toLocaleString()} events`);
    stopButton.disabled = !running();
    const items = [];
    if (e.flowRevision !== data.flowRevision) {
      items.push(h("p", { class: "callout" },
        `This execution ran revision ${e.flowRevision}; the graph shows the current revision ${data.flowRevision}.`));
    }
    if (e.errorCode) {
      const where = data.progress.failedState;
      items.push(h("div", { class: "callout callout-error failure-summary", role: "alert" },
        h("strong", {}, e.status === "Stopped" ? "Stopped" : "Failed"),
        where ? [" at state ", h("button", { type: "button", class: "link", onclick: () => selectState(where) }, where)] : "",
        ": ", h("code", {}, e.errorCode), e.errorMessage ? ` — ${e.errorMessage}` : ""));
    }
    const notice = JSON.stringify([e.flowRevision, e.errorCode, e.errorMessage, data.progress.failedState]);
    if (notice !== shownNotice) {
      shownNotice = notice;
      fill(notices, items);
    }
    graph.setStatuses(data.progress.states);
    if (current === "timeline") renderTimeline(panels.timeline, data, (name) => {
      showTab("graph");
      selectState(name);
    });
  }

  async function stopExecution(button) {
    if (stopArmed !== button) {
      stopArmed = button;
      button.textContent = "Confirm stop";
      setTimeout(() => {
        if (stopArmed === button) {
          stopArmed = null;
          button.textContent = "Stop";
        }
      }, 4000);
      return;
    }
    stopArmed = null;
    button.textContent = "Stop";
    button.disabled = true;
    try {
      await api("POST", `${base}/stop`, {});
    } catch (err) {
      fill(notices, h("p", { class: "callout callout-error", role: "alert" }, `Could not stop: ${err.message}`));
    }
    await refresh();
  }

  async function selectState(name) {
    selected = name;
    shownState = null;
    graph.select(name);
    if (!name) {
      fill(side, h("h2", {}, "State details"),
        h("p", { class: "muted" }, "Select a state in the graph (click it, or Tab to it and press Enter) to see its input, output, error and retries."));
      return;
    }
    await loadState(name);
  }

  async function loadState(name) {
    try {
      const detail = await api("GET", withQuery(`${base}/state`, { name }));
      // Redrawn only when something changed, so reading or selecting text in the panel is
      // not disturbed by every poll.
      const text = JSON.stringify(detail);
      if (selected !== name || !active() || text === shownState) return;
      shownState = text;
      renderState(side, detail, layout, (state) => {
        showTab("history");
        history.filterState(state);
      });
    } catch (err) {
      fill(side, h("p", { class: "callout callout-error" }, err.message));
    }
  }

  return () => clearTimeout(timer);
}

function renderState(side, detail, layout, showEvents) {
  const node = layout.nodes.find((n) => n.state === detail.name);
  const counts = [
    ["Entered", detail.entered], ["Succeeded", detail.succeeded], ["Failed", detail.failed],
    ["Retried", detail.retried], ["Caught", detail.caught], ["Running", detail.running], ["Cancelled", detail.cancelled],
  ].filter(([label, value]) => value || label === "Entered");
  const parts = [
    h("h2", { id: "state-title" }, detail.name),
    h("p", {}, node ? h("span", { class: "muted" }, `${node.type} · `) : "", stateBadge(detail.status)),
    h("dl", { class: "counts" }, counts.map(([label, value]) => h("div", {}, h("dt", {}, label), h("dd", {}, String(value))))),
  ];
  if (detail.error) {
    const e = detail.error;
    const tone = e.caught ? " state-error-caught" : e.retryAfterSeconds !== null && detail.status !== "failed" ? " state-error-retried" : "";
    parts.push(h("section", { class: `state-error${tone}`, "aria-labelledby": "state-error-title" },
      h("h3", { id: "state-error-title" }, e.caught ? "Error (caught)" : e.retryAfterSeconds !== null ? "Error (retried)" : "Error"),
      h("p", { class: "error-code" }, e.error),
      h("pre", { class: "error-cause" }, e.cause || "(no cause given)"),
      e.taskParameters !== null && e.taskParameters !== undefined
        ? [h("p", { class: "muted small" }, "Parameters of the failed task call:"), h("pre", { class: "json" }, formatJson(e.taskParameters))]
        : "",
      h("p", { class: "muted small" }, formatTime(e.time), ` · event #${e.eventId}`)));
  }
  if (detail.attempts.length) {
    parts.push(h("h3", {}, "Failed attempts"),
      h("table", { class: "list compact attempts" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Event"), h("th", { scope: "col" }, "Error"), h("th", { scope: "col" }, "Then"))),
        h("tbody", {}, detail.attempts.map((a) => h("tr", {},
          h("td", {}, `#${a.eventId}`),
          h("td", {}, h("code", {}, a.error), h("div", { class: "muted small" }, a.cause)),
          h("td", {}, a.retryAfterSeconds !== null ? `retried after ${formatDuration(a.retryAfterSeconds)}` : a.caught ? "caught" : "failed"))))));
  }
  const children = detail.children;
  if (children) {
    const noun = children.kind === "iteration" ? "Iterations" : "Branches";
    parts.push(h("h3", {}, noun),
      h("dl", { class: "counts" }, [["Started", children.started], ["Running", children.running], ["Succeeded", children.succeeded],
        ["Failed", children.failed], ["Cancelled", children.cancelled]].map(([label, value]) =>
        h("div", { class: label === "Failed" && value ? "bad" : "" }, h("dt", {}, label), h("dd", {}, String(value))))));
    if (children.failures.length) {
      parts.push(h("table", { class: "list compact failed-children" },
        h("caption", {}, `Failed ${noun.toLowerCase()}`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Index"), h("th", { scope: "col" }, "Error"))),
        h("tbody", {}, children.failures.map((f) => h("tr", {},
          h("td", {}, String(f.index)),
          h("td", {}, h("code", {}, f.error), h("div", { class: "muted small" }, f.cause)))))));
    }
  }
  const latest = detail.entered > 1 ? " (latest)" : "";
  parts.push(
    h("h3", {}, `Input${latest}`), h("pre", { class: "json" }, detail.input === null && !detail.entered ? "—" : formatJson(detail.input)),
    h("h3", {}, `Output${latest}`), h("pre", { class: "json" }, detail.succeeded || detail.caught ? formatJson(detail.output) : "—"),
    h("p", {}, h("button", { type: "button", class: "link", onclick: () => showEvents(detail.name) }, "Show this state's events")));
  fill(side, parts);
}

function renderTimeline(el, data, onSelect) {
  const progress = data.progress;
  const start = progress.startedAt || data.execution.startedAt;
  const end = progress.endedAt || Date.now() / 1000;
  const total = Math.max(end - start, 0.001);
  const rows = Object.entries(progress.states)
    .filter(([, s]) => s.firstEnteredAt !== null)
    .sort((a, b) => a[1].firstEnteredAt - b[1].firstEnteredAt);
  if (!rows.length) {
    fill(el, h("p", { class: "muted" }, "No state has started yet."));
    return;
  }
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => h("span", { class: "tick" }, formatDuration(total * f)));
  fill(el,
    h("p", { class: "muted small" }, "From each state's first entry to its last event. Select a row to see the state."),
    h("div", { class: "timeline" },
      h("div", { class: "timeline-axis", "aria-hidden": "true" }, ticks),
      rows.map(([name, s]) => {
        const from = (s.firstEnteredAt - start) / total;
        const to = ((s.status === "running" ? end : s.lastEventAt || s.firstEnteredAt) - start) / total;
        const track = h("div", { class: "timeline-track" });
        const barEl = h("span", { class: `timeline-bar st-${s.status}` });
        barEl.style.left = `${(from * 100).toFixed(2)}%`;
        barEl.style.width = `${Math.max(0.4, (to - from) * 100).toFixed(2)}%`;
        track.append(barEl);
        const took = (s.status === "running" ? end : s.lastEventAt) - s.firstEnteredAt;
        return h("button", { type: "button", class: "timeline-row", onclick: () => onSelect(name) },
          h("span", { class: "timeline-name" }, name),
          track,
          h("span", { class: "timeline-took" }, `${formatDuration(took)}${s.entered > 1 ? ` · ${s.entered}×` : ""}`));
      })));
}

function renderIo(el, execution) {
  fill(el,
    execution.errorCode
      ? h("div", { class: "callout callout-error" }, h("strong", {}, execution.errorCode), " — ", execution.errorMessage || "")
      : "",
    h("div", { class: "io" },
      h("section", {}, h("h3", {}, "Input"), h("pre", { class: "json" }, formatJson(execution.input))),
      h("section", {}, h("h3", {}, "Output"), h("pre", { class: "json" }, execution.output === null ? "—" : formatJson(execution.output)))));
}

/** The history tab: filters, one page of events, and a pager that keeps earlier tokens. */
function historyView(el, base, layout, getData, onState) {
  const type = h("select", { id: "history-type" }, EVENT_TYPES.map(([value, label]) => h("option", { value }, label)));
  const state = h("select", { id: "history-state" },
    h("option", { value: "" }, "All states"),
    layout.nodes.filter((n) => n.state).map((n) => h("option", { value: n.state }, n.state)));
  const size = h("select", { id: "history-size" }, HISTORY_PAGE_SIZES.map((n) => h("option", { value: n, selected: n === 100 }, String(n))));
  const body = h("tbody");
  const pager = h("div", { class: "pager" });
  const summary = h("span", { class: "muted", "aria-live": "polite" });
  let tokens = [""];
  let index = 0;
  let next = "";
  let shown = false;

  for (const control of [type, state, size]) control.addEventListener("change", () => reset());

  const table = h("table", { class: "list events" },
    h("caption", { class: "visually-hidden" }, "History events"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "#"), h("th", { scope: "col" }, "Time"), h("th", { scope: "col" }, "Type"),
      h("th", { scope: "col" }, "State"), h("th", { scope: "col" }, "Detail"))),
    body);
  fill(el,
    h("div", { class: "filters" },
      h("div", { class: "field" }, h("label", { for: "history-type" }, "Show"), type),
      h("div", { class: "field" }, h("label", { for: "history-state" }, "State"), state),
      h("div", { class: "field" }, h("label", { for: "history-size" }, "Per page"), size)),
    pager, table);

  async function load(at) {
    const page = await api("GET", withQuery(`${base}/events`, {
      page_size: size.value, page_token: tokens[at], type: type.value, state: state.value,
    }));
    index = at;
    next = page.nextPageToken;
    tokens[at + 1] = next;
    const started = getData().execution.startedAt;
    fill(body, page.events.length ? page.events.map((e) => eventRow(e, started, onState))
      : h("tr", {}, h("td", { colspan: 5, class: "empty" }, "No events match.")));
    const total = getData().progress.lastEventId;
    const filtered = type.value !== "all" || state.value;
    const events = page.events;
    fill(summary, events.length && !filtered
      ? `Events ${events[0].id.toLocaleString()}–${events[events.length - 1].id.toLocaleString()} of ${total.toLocaleString()}`
      : `Page ${index + 1}${filtered ? " of matching events" : ""}`);
    fill(pager,
      h("button", { type: "button", disabled: index === 0, onclick: () => load(0) }, "First"),
      h("button", { type: "button", disabled: index === 0, onclick: () => load(index - 1) }, "Previous"),
      summary,
      h("button", { type: "button", disabled: !next, onclick: () => load(index + 1) }, "Next"));
  }

  function reset() {
    tokens = [""];
    return load(0);
  }

  return {
    show() {
      if (!shown) {
        shown = true;
        reset();
      }
    },
    filterState(name) {
      state.value = name;
      type.value = "all";
      shown = true;
      reset();
    },
    async refreshIfAtEnd() {
      if (shown && !next) await load(index);
    },
  };
}

function eventRow(event, started, onState) {
  const failure = FAILURE_TYPES.has(event.type) || (event.detail && event.detail.error !== undefined);
  const detail = event.detail && Object.keys(event.detail).length ? event.detail : null;
  return h("tr", { class: failure ? "event-failure" : "" },
    h("td", {}, String(event.id)),
    h("td", { title: formatTime(event.time) }, `+${formatDuration(Math.max(0, event.time - started))}`),
    h("td", {}, event.type),
    h("td", {}, event.state ? h("button", { type: "button", class: "link", onclick: () => onState(event.state) }, event.state) : ""),
    h("td", { class: "detail" }, detail
      ? h("details", {}, h("summary", {}, h("code", {}, briefJson(detail, 120))), h("pre", { class: "json" }, formatJson(detail)))
      : ""));
}
