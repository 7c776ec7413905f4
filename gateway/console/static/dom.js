// Building DOM and SVG elements, and formatting values for display.
// No framework: pages build their elements with h()/s() and replace them when data changes.

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "text") {
      el.textContent = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An HTML element: h("a", {href: "#/", class: "x"}, "text", child...). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  return append(el, children);
}

/** An SVG element, same shape as h(). */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  return append(el, children);
}

/** Replace everything inside `el` with `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Unix seconds as local date and time, to the second. */
export function formatTime(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const d = new Date(seconds * 1000);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** A duration in seconds, in the unit that reads best. */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const MAX_SHOWN_JSON = 200_000;

/** A JSON value pretty-printed (shortened when huge, so the page stays responsive). */
export function formatJson(value) {
  if (value === undefined) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  if (text.length <= MAX_SHOWN_JSON) return text;
  return `${text.slice(0, MAX_SHOWN_JSON)}\n… (${text.length.toLocaleString()} characters in all)`;
}

/** The same on one line, cut to `limit` characters. */
export function briefJson(value, limit = 160) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (text === undefined) return "";
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

export const STATUS_LABELS = {
  not_reached: "Not reached",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  caught: "Caught",
  retried: "Retried",
  cancelled: "Cancelled",
};

export const STATUS_ICONS = {
  not_reached: "",
  running: "◔",
  succeeded: "✓",
  failed: "✕",
  caught: "⤳",
  retried: "↻",
  cancelled: "⊘",
};

/** A coloured badge for an execution status (Running, Succeeded, ...). */
export function statusBadge(status) {
  return h("span", { class: `badge badge-${String(status).toLowerCase()}` }, status);
}

/** A badge for a state status (running, failed, ...). */
export function stateBadge(status) {
  const icon = STATUS_ICONS[status] || "";
  return h("span", { class: `badge st-badge st-${status}` }, icon ? `${icon} ` : "", STATUS_LABELS[status] || status);
}

/** A row of tabs; `onSelect(id)` is called on click. Returns {el, select(id)}. */
export function tabs(items, current, onSelect) {
  const buttons = new Map();
  const el = h("div", { class: "tabs", role: "tablist" });
  for (const [id, label] of items) {
    const button = h("button", {
      type: "button",
      role: "tab",
      id: `tab-${id}`,
      "aria-selected": String(id === current),
      onclick: () => onSelect(id),
    }, label);
    buttons.set(id, button);
    el.append(button);
  }
  return {
    el,
    select(id) {
      for (const [key, button] of buttons) button.setAttribute("aria-selected", String(key === id));
    },
  };
}

/** Route links: "#/flows/a b" with each part encoded. */
export function route(...parts) {
  return "#/" + parts.map((p) => encodeURIComponent(p)).join("/");
}
