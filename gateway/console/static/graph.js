// Paints a flow's layout (computed by the server, see gateway/console/graph.py) as SVG,
// with pan and zoom, keyboard-selectable states, and colours for what happened to each.

import { h, s, STATUS_ICONS, STATUS_LABELS } from "./dom.js";

const CHAR_WIDTH = 7.2;
const MIN_SCALE = 0.02;
const MAX_SCALE = 2.5;
const READABLE_SCALE = 0.75;
const EDGE_KINDS = ["next", "choice", "default", "catch", "start", "end"];

function shorten(text, width) {
  const fits = Math.max(4, Math.floor(width / CHAR_WIDTH));
  return text.length > fits ? `${text.slice(0, fits - 1)}…` : text;
}

function curve(points, back) {
  const [x0, y0] = points[0];
  if (points.length === 4 && points[0][0] === points[3][0] && points[1][0] === points[2][0]) {
    // A self-loop: four points out to the right and back.
    const [[x1, y1], [x2, y2], [x3, y3]] = points.slice(1);
    return `M${x0},${y0} C${x1 + 8},${y1 - 10} ${x2 + 8},${y2 + 10} ${x3},${y3}`;
  }
  if (back && points.length === 2) {
    // An upward edge between neighbouring rows: bow it out to the right of the arrow down.
    const [x1, y1] = points[1];
    return `M${x0},${y0} C${x0 + 46},${y0 - 10} ${x1 + 46},${y1 + 10} ${x1},${y1}`;
  }
  let d = `M${x0},${y0}`;
  for (let i = 1; i < points.length; i += 1) {
    const [xa, ya] = points[i - 1];
    const [xb, yb] = points[i];
    if (Math.abs(xa - xb) < 0.5) {
      d += ` L${xb},${yb}`;
    } else {
      const middle = (ya + yb) / 2;
      d += ` C${xa},${middle} ${xb},${middle} ${xb},${yb}`;
    }
  }
  return d;
}

function markers() {
  return s("defs", {}, EDGE_KINDS.map((kind) =>
    s("marker", {
      id: `arrow-${kind}`,
      viewBox: "0 0 10 10",
      refX: "9",
      refY: "5",
      markerWidth: "7",
      markerHeight: "7",
      orient: "auto-start-reverse",
      class: `arrow arrow-${kind}`,
    }, s("path", { d: "M0,0 L10,5 L0,10 z" }))));
}

function drawEdge(edge) {
  const group = s("g", { class: `edge edge-${edge.kind}${edge.back ? " edge-back" : ""}` });
  group.append(s("path", { d: curve(edge.points, edge.back), "marker-end": `url(#arrow-${edge.kind})` }));
  if (edge.label && edge.kind !== "next") {
    const [[x0, y0], [x1, y1]] = edge.points;
    const bow = edge.back && edge.points.length === 2 ? 36 : 0;
    const text = s("text", {
      x: (x0 + x1) / 2 + 4 + bow,
      y: (y0 + y1) / 2 + 4,
      class: "edge-label",
    }, shorten(edge.label, 170));
    text.append(s("title", {}, edge.label));
    group.append(text);
  }
  return group;
}

function stateNode(node) {
  const g = s("g", {
    class: `node node-${node.kind} st-not_reached`,
    tabindex: "0",
    role: "button",
    "data-state": node.state,
    "aria-label": `State ${node.label}, ${node.type}`,
  });
  g.append(
    s("title", {}, `${node.label} (${node.type})`),
    s("rect", { x: node.x, y: node.y, width: node.width, height: node.height, rx: 8 }),
    s("text", { x: node.x + 12, y: node.y + 20, class: "node-name" }, shorten(node.label, node.width - 40)),
    s("text", { x: node.x + 12, y: node.y + 37, class: "node-type" }, node.type),
    s("text", { x: node.x + node.width - 12, y: node.y + 21, class: "node-icon", "text-anchor": "end" }, ""),
  );
  return g;
}

function groupNode(node) {
  const g = s("g", {
    class: `node node-group st-not_reached`,
    tabindex: "0",
    role: "button",
    "data-state": node.state,
    "aria-label": `State ${node.label}, ${node.type}`,
  });
  g.append(
    s("title", {}, `${node.label} (${node.type})`),
    s("rect", { x: node.x, y: node.y, width: node.width, height: node.height, rx: 10 }),
    s("text", { x: node.x + 12, y: node.y + 21, class: "node-name" },
      shorten(node.label, node.width - 140), s("tspan", { class: "node-type", dx: 8 }, node.type)),
    s("text", { x: node.x + node.width - 12, y: node.y + 21, class: "node-counts", "text-anchor": "end" }, ""),
  );
  return g;
}

function scopeNode(node) {
  return s("g", { class: "scope" },
    s("rect", { x: node.x, y: node.y, width: node.width, height: node.height, rx: 6 }),
    s("text", { x: node.x + 10, y: node.y + 16, class: "scope-label" }, node.label));
}

function terminalNode(node) {
  const cx = node.x + node.width / 2;
  const cy = node.y + node.height / 2;
  const g = s("g", { class: `terminal terminal-${node.kind}`, "aria-hidden": "true" },
    s("circle", { cx, cy, r: node.width / 2 }),
    s("text", { x: cx, y: cy + 4, "text-anchor": "middle" }, node.label));
  if (node.kind === "end") g.prepend(s("circle", { cx, cy, r: node.width / 2 + 3, class: "outer" }));
  return g;
}

function childCounts(children) {
  if (!children) return "";
  const parts = [`${children.succeeded} ✓`];
  if (children.running) parts.push(`${children.running} ◔`);
  if (children.failed) parts.push(`${children.failed} ✕`);
  if (children.cancelled) parts.push(`${children.cancelled} ⊘`);
  return parts.join("  ");
}

/**
 * The graph of `layout` in a pannable, zoomable viewport.
 * `onSelect(stateName)` is called when a state is clicked or chosen with Enter/Space.
 */
export function createGraph(layout, { onSelect } = {}) {
  const view = s("g", { class: "view" });
  const svg = s("svg", { class: "graph-svg", role: "group", "aria-label": "Flow graph" }, markers(), view);
  const back = s("g", {});
  const lines = s("g", {});
  const front = s("g", {});
  view.append(back, lines, front);
  const byState = new Map();
  for (const node of layout.nodes) {
    if (node.kind === "scope") back.append(scopeNode(node));
    else if (node.kind === "group") back.append(byState.set(node.state, groupNode(node)).get(node.state));
    else if (node.kind === "state") front.append(byState.set(node.state, stateNode(node)).get(node.state));
    else front.append(terminalNode(node));
  }
  for (const edge of layout.edges) lines.append(drawEdge(edge));

  const zoomLabel = h("span", { class: "zoom-level", "aria-live": "polite" }, "100%");
  const toolbar = h("div", { class: "graph-tools" },
    h("button", { type: "button", "aria-label": "Zoom out", onclick: () => zoomBy(1 / 1.25) }, "−"),
    zoomLabel,
    h("button", { type: "button", "aria-label": "Zoom in", onclick: () => zoomBy(1.25) }, "+"),
    h("button", { type: "button", title: "Show the whole graph", onclick: () => fit(true) }, "Fit"),
    h("button", { type: "button", title: "Back to a readable size, from the top", onclick: () => fit(false) }, "Reset"),
  );
  const el = h("div", { class: "graph" }, toolbar, svg);
  let scale = 1;
  let tx = 0;
  let ty = 0;
  let selected = null;

  // Labels of edges that leave one Choice start close together: push later ones down until
  // none overlaps another. Needs the SVG on the page (to measure text), so fit() runs it.
  let decluttered = false;
  function declutter() {
    if (decluttered) return;
    decluttered = true;
    const placed = [];
    const hits = (a, b) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    for (const label of lines.querySelectorAll(".edge-label")) {
      const box = label.getBBox();
      const spot = { x: box.x, y: box.y, width: box.width, height: box.height };
      for (let tries = 0; tries < 6 && placed.some((other) => hits(spot, other)); tries += 1) spot.y += box.height + 1;
      if (spot.y !== box.y) label.setAttribute("y", Number(label.getAttribute("y")) + spot.y - box.y);
      placed.push(spot);
    }
  }

  function apply() {
    view.setAttribute("transform", `translate(${tx},${ty}) scale(${scale})`);
    zoomLabel.textContent = `${Math.round(scale * 100)}%`;
  }

  function zoomAt(factor, px, py) {
    const next = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale * factor));
    tx = px - ((px - tx) * next) / scale;
    ty = py - ((py - ty) * next) / scale;
    scale = next;
    apply();
  }

  function zoomBy(factor) {
    const box = svg.getBoundingClientRect();
    zoomAt(factor, box.width / 2, box.height / 2);
  }

  /**
   * Fit the whole graph (`whole`); or show it as large as fits, but never so small that
   * names become hard to read (a tall flow then starts at its top, the rest a scroll away).
   */
  function fit(whole) {
    const box = svg.getBoundingClientRect();
    if (!box.width) return;
    declutter();
    const byWidth = (box.width - 24) / layout.width;
    const byHeight = (box.height - 24) / layout.height;
    const readable = Math.max(byHeight, READABLE_SCALE);
    scale = Math.min(1, byWidth, whole ? byHeight : readable);
    scale = Math.max(MIN_SCALE, scale);
    tx = (box.width - layout.width * scale) / 2;
    ty = layout.height * scale < box.height ? (box.height - layout.height * scale) / 2 : 8;
    apply();
  }

  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const box = svg.getBoundingClientRect();
    if (event.ctrlKey || event.metaKey) {
      zoomAt(Math.exp(-event.deltaY / 300), event.clientX - box.left, event.clientY - box.top);
    } else {
      tx -= event.deltaX;
      ty -= event.deltaY;
      apply();
    }
  }, { passive: false });

  let drag = null;
  svg.addEventListener("pointerdown", (event) => {
    if (event.target.closest("[data-state]")) return;
    drag = { x: event.clientX, y: event.clientY, tx, ty };
    svg.setPointerCapture(event.pointerId);
    svg.classList.add("dragging");
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    tx = drag.tx + event.clientX - drag.x;
    ty = drag.ty + event.clientY - drag.y;
    apply();
  });
  const endDrag = () => {
    drag = null;
    svg.classList.remove("dragging");
  };
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);

  const choose = (event) => {
    const target = event.target.closest("[data-state]");
    if (target && onSelect) onSelect(target.dataset.state);
  };
  svg.addEventListener("click", choose);
  svg.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      choose(event);
    }
  });

  return {
    el,
    fit,
    /** Colour every state from the execution's progress (`states`: name -> summary). */
    setStatuses(states) {
      for (const [name, node] of byState) {
        const summary = states[name];
        const status = summary ? summary.status : "not_reached";
        for (const cls of [...node.classList]) if (cls.startsWith("st-")) node.classList.remove(cls);
        node.classList.add(`st-${status}`);
        const icon = node.querySelector(".node-icon");
        if (icon) icon.textContent = STATUS_ICONS[status] || "";
        const counts = node.querySelector(".node-counts");
        if (counts) counts.textContent = childCounts(summary && summary.children) || STATUS_ICONS[status] || "";
        const type = node.querySelector(".node-type").textContent;
        node.setAttribute("aria-label", `State ${name}, ${type}: ${STATUS_LABELS[status] || status}`);
      }
    },
    /** Mark `name` as the selected state and bring it into view. */
    select(name) {
      if (selected) {
        selected.classList.remove("selected");
        selected.removeAttribute("aria-pressed");
      }
      selected = byState.get(name) || null;
      if (!selected) return;
      selected.classList.add("selected");
      selected.setAttribute("aria-pressed", "true");
      const node = layout.nodes.find((n) => n.state === name);
      const box = svg.getBoundingClientRect();
      const left = tx + node.x * scale;
      const top = ty + node.y * scale;
      const outside = left < 0 || top < 0 || left + node.width * scale > box.width || top + node.height * scale > box.height;
      if (outside && box.width) {
        tx = box.width / 2 - (node.x + node.width / 2) * scale;
        ty = box.height / 3 - (node.y + node.height / 2) * scale;
        apply();
      }
    },
  };
}

/** The colour key of state statuses. */
export function legend() {
  return h("ul", { class: "legend", "aria-label": "State colours" },
    Object.entries(STATUS_LABELS).map(([status, label]) =>
      h("li", {}, h("span", { class: `swatch st-${status}`, "aria-hidden": "true" }, STATUS_ICONS[status] || ""), label)));
}
