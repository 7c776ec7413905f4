// The console's JSON API, with the bearer token when the server asks for one.
// The token is asked for once (a dialog) and kept in sessionStorage: it lasts as long as
// the browser tab, and is never written to disk by this page.

const TOKEN_KEY = "cloudflow.token";

export class ApiError extends Error {
  constructor(status, code, message, problems) {
    super(message);
    this.status = status;
    this.code = code;
    this.problems = problems || null;
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Ask the user for the token; resolves with it, or null when they cancel. */
function askToken(reason) {
  const dialog = document.getElementById("token-dialog");
  const input = dialog.querySelector("input");
  dialog.querySelector(".token-reason").textContent = reason;
  input.value = "";
  return new Promise((resolve) => {
    const done = () => {
      dialog.removeEventListener("close", done);
      const value = dialog.returnValue === "ok" ? input.value.trim() : "";
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      resolve(value || null);
    };
    dialog.addEventListener("close", done);
    dialog.showModal();
    input.focus();
  });
}

/** Call the API; resolves with the JSON answer or rejects with an ApiError. */
export async function api(method, path, body) {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const headers = { Accept: "application/json" };
    const current = token();
    if (current) headers.Authorization = `Bearer ${current}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, "Unavailable", `the server cannot be reached (${err.message})`);
    }
    const answer = await response.json().catch(() => ({}));
    if (response.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      const message = (answer.error && answer.error.message) || "this server needs a token";
      if (await askToken(message)) continue;
    }
    if (!response.ok) {
      const error = answer.error || {};
      throw new ApiError(
        response.status,
        error.code || "Error",
        error.message || `${response.status} ${response.statusText}`,
        error.problems,
      );
    }
    return answer;
  }
  throw new ApiError(401, "Unauthenticated", "no valid token was given");
}

/** `path` with the non-empty entries of `params` as a query string. */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export function flowPath(flow, ...rest) {
  return ["/api/flows", encodeURIComponent(flow), ...rest.map(encodeURIComponent)].join("/");
}
