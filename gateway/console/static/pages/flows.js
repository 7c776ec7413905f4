// The list of flows, and the page that creates or updates one from pasted FDL.

import { api, ApiError, flowPath, withQuery } from "../api.js";
import { createEditor } from "../editor.js";
import { fill, formatTime, h, route } from "../dom.js";

const PAGE_SIZE = 50;
const VALIDATE_DELAY_MS = 400;

const STARTER = `Type: StateMachine
SpecVersion: v1
Name: hello
StartAt: Greet
States:
  - Type: Pass
    Name: Greet
    OutputConstructor:
      greeting.$: format("Hello, {}!", $Input.name)
    End: true
`;

export async function flowsPage(main) {
  const tokens = [""];
  const body = h("tbody");
  const pager = h("div", { class: "pager" });
  const table = h("table", { class: "list" },
    h("caption", { class: "visually-hidden" }, "Flows"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Name"),
      h("th", { scope: "col" }, "Mode"),
      h("th", { scope: "col" }, "Revision"),
      h("th", { scope: "col" }, "Modified"),
      h("th", { scope: "col" }, "Description"))),
    body);
  fill(main,
    h("div", { class: "page-head" },
      h("h1", {}, "Flows"),
      h("a", { class: "button primary", href: "#/new" }, "New flow")),
    table,
    pager);

  async function load(index) {
    const page = await api("GET", withQuery("/api/flows", { page_size: PAGE_SIZE, page_token: tokens[index] }));
    tokens[index + 1] = page.nextPageToken;
    if (!page.flows.length && index === 0) {
      fill(body, h("tr", {}, h("td", { colspan: 5, class: "empty" },
        "No flows yet. ", h("a", { href: "#/new" }, "Create the first one"), ".")));
    } else {
      fill(body, page.flows.map((flow) => h("tr", {},
        h("td", {}, h("a", { href: route("flows", flow.name) }, flow.name)),
        h("td", {}, h("span", { class: `mode mode-${flow.mode.toLowerCase()}` }, flow.mode)),
        h("td", {}, String(flow.revision)),
        h("td", {}, formatTime(flow.modifiedAt)),
        h("td", { class: "muted" }, flow.description))));
    }
    fill(pager,
      h("button", { type: "button", disabled: index === 0, onclick: () => load(index - 1) }, "Previous"),
      h("span", { class: "muted" }, `Page ${index + 1}`),
      h("button", { type: "button", disabled: !page.nextPageToken, onclick: () => load(index + 1) }, "Next"));
  }
  await load(0);
}

/** Create a flow (#/new) or update one (#/flows/NAME/edit). */
export async function editorPage(main, [name], active) {
  const existing = name ? await api("GET", flowPath(name)) : null;
  const mode = h("select", { id: "flow-mode", disabled: Boolean(existing) },
    h("option", { value: "Standard" }, "Standard — durable, with history"),
    h("option", { value: "Express" }, "Express — in memory, runs to its end on start"));
  if (existing) mode.value = existing.mode;
  const nameInput = h("input", {
    id: "flow-name",
    required: true,
    pattern: "[A-Za-z_][A-Za-z0-9_\\-]{0,127}",
    autocomplete: "off",
    value: existing ? existing.name : "",
    readonly: Boolean(existing),
  });
  const description = h("input", { id: "flow-description", autocomplete: "off", value: existing ? existing.description : "" });
  const status = h("p", { class: "validation-status", role: "status", "aria-live": "polite" });
  const formError = h("div", { class: "form-error", role: "alert" });
  let timer = null;
  let latest = 0;

  const editor = createEditor({
    value: existing ? existing.definition : STARTER,
    onChange: () => {
      clearTimeout(timer);
      timer = setTimeout(validate, VALIDATE_DELAY_MS);
    },
  });

  async function validate() {
    const ticket = (latest += 1);
    try {
      const answer = await api("POST", "/api/validate", { definition: editor.value, mode: mode.value });
      if (ticket !== latest || !active()) return;
      showProblems(answer.problems);
    } catch (err) {
      if (ticket === latest) status.textContent = `Could not validate: ${err.message}`;
    }
  }

  function showProblems(problems) {
    editor.setProblems(problems);
    const count = problems.length;
    status.textContent = count ? `${count} problem${count === 1 ? "" : "s"} found` : "No problems found";
    status.className = `validation-status ${count ? "bad" : "good"}`;
  }

  async function save(event) {
    event.preventDefault();
    fill(formError);
    try {
      const flow = existing
        ? await api("PUT", flowPath(existing.name), { definition: editor.value, description: description.value })
        : await api("POST", "/api/flows", {
          name: nameInput.value.trim(),
          definition: editor.value,
          description: description.value,
          mode: mode.value,
        });
      location.hash = route("flows", flow.name);
    } catch (err) {
      if (err instanceof ApiError && err.problems) {
        showProblems(err.problems);
        fill(formError, "The definition has problems; they are marked beside their lines.");
      } else {
        fill(formError, err.message);
      }
    }
  }

  const form = h("form", { class: "flow-form", onsubmit: save, novalidate: true },
    h("div", { class: "fields" },
      h("div", { class: "field" },
        h("label", { for: "flow-name" }, "Name"),
        nameInput,
        h("span", { class: "hint" }, "Letters, digits, _ and -; starts with a letter or _.")),
      h("div", { class: "field" }, h("label", { for: "flow-mode" }, "Mode"), mode),
      h("div", { class: "field field-wide" }, h("label", { for: "flow-description" }, "Description"), description)),
    h("div", { class: "editor-head" },
      h("h2", { id: "definition-label" }, "Definition"),
      status),
    editor.el,
    editor.list,
    formError,
    h("div", { class: "actions" },
      h("a", { class: "button secondary", href: existing ? route("flows", existing.name) : "#/" }, "Cancel"),
      h("button", { type: "button", class: "secondary", onclick: validate }, "Validate"),
      h("button", { type: "submit", class: "primary" }, existing ? "Save new revision" : "Create flow")));
  mode.addEventListener("change", validate);

  fill(main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
      h("a", { href: "#/" }, "Flows"),
      existing ? [" / ", h("a", { href: route("flows", existing.name) }, existing.name)] : ""),
    h("h1", {}, existing ? `Edit ${existing.name}` : "New flow"),
    form);
  if (!existing) nameInput.focus();
  await validate();
  return () => clearTimeout(timer);
}
