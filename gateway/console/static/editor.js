// A plain-text FDL editor that shows the validator's problems beside their lines.
//
// A <textarea> (so typing, undo, selection and screen readers all work as usual) lies on
// top of a "backdrop" that holds the same lines in the same font: a problem line is tinted
// there and its message is written after the end of the line, where the textarea has no
// text. The backdrop decides the size of both, so nothing scrolls inside the editor and
// the two can never drift apart.

import { h } from "./dom.js";

export function createEditor({ value = "", label = "Flow definition (FDL, YAML)", readOnly = false, onChange } = {}) {
  const gutter = h("div", { class: "editor-gutter", "aria-hidden": "true" });
  const backdrop = h("div", { class: "editor-backdrop", "aria-hidden": "true" });
  const problemsId = `problems-${Math.random().toString(36).slice(2)}`;
  const textarea = h("textarea", {
    class: "editor-input",
    spellcheck: "false",
    autocapitalize: "off",
    autocomplete: "off",
    wrap: "off",
    "aria-label": label,
    "aria-describedby": problemsId,
    readonly: readOnly,
  });
  textarea.value = value;
  const surface = h("div", { class: "editor-surface" }, backdrop, textarea);
  const el = h("div", { class: `editor${readOnly ? " editor-readonly" : ""}` }, gutter, h("div", { class: "editor-scroll" }, surface));
  const list = h("ul", { class: "problem-list", id: problemsId });
  let problems = [];

  function render() {
    const lines = textarea.value.split("\n");
    const byLine = new Map();
    for (const problem of problems) {
      if (!problem.line) continue;
      if (!byLine.has(problem.line)) byLine.set(problem.line, []);
      byLine.get(problem.line).push(problem);
    }
    const rows = [];
    const numbers = [];
    lines.forEach((text, index) => {
      const number = index + 1;
      const found = byLine.get(number);
      const row = h("div", { class: `line${found ? " has-problem" : ""}`, "data-line": number }, text || "\u200b");
      if (found) {
        row.append(h("span", { class: "problem-msg" }, `⚠ ${found.map(describe).join("  ·  ")}`));
      }
      rows.push(row);
      numbers.push(h("div", { class: found ? "has-problem" : "", title: found ? found.map(describe).join("\n") : null }, String(number)));
    });
    // Room for the caret after the last line.
    rows.push(h("div", { class: "line" }, "\u200b"));
    backdrop.replaceChildren(...rows);
    gutter.replaceChildren(...numbers);
    textarea.setAttribute("aria-invalid", String(problems.length > 0));
  }

  function describe(problem) {
    return problem.location ? `${problem.location}: ${problem.message}` : problem.message;
  }

  function goToLine(number) {
    const lines = textarea.value.split("\n");
    let offset = 0;
    for (let i = 0; i < number - 1 && i < lines.length; i += 1) offset += lines[i].length + 1;
    textarea.focus();
    textarea.setSelectionRange(offset, offset + (lines[number - 1] || "").length);
    const row = backdrop.querySelector(`[data-line="${number}"]`);
    if (row) row.scrollIntoView({ block: "center" });
  }

  function renderList() {
    list.replaceChildren(...problems.map((problem) =>
      h("li", {},
        problem.line
          ? h("button", { type: "button", class: "link", onclick: () => goToLine(problem.line) }, `Line ${problem.line}`)
          : h("span", { class: "muted" }, "Definition"),
        " ",
        problem.location ? h("code", {}, problem.location) : "",
        problem.location ? ": " : "",
        problem.message)));
  }

  textarea.addEventListener("input", () => {
    render();
    if (onChange) onChange(textarea.value);
  });
  textarea.addEventListener("keydown", (event) => {
    // Tab inserts two spaces (YAML has no tabs); Escape leaves the editor for keyboard users.
    if (event.key === "Tab" && !event.shiftKey && !readOnly && !event.ctrlKey) {
      event.preventDefault();
      textarea.setRangeText("  ", textarea.selectionStart, textarea.selectionEnd, "end");
      textarea.dispatchEvent(new Event("input"));
    } else if (event.key === "Escape") {
      textarea.blur();
    }
  });
  render();

  return {
    el,
    list,
    get value() {
      return textarea.value;
    },
    set value(text) {
      textarea.value = text;
      render();
    },
    focus() {
      textarea.focus();
    },
    /** Show `items` ({line, location, message}) beside their lines and in the list. */
    setProblems(items) {
      problems = items || [];
      render();
      renderList();
    },
  };
}
