// What every console page shares: calling the API with the session, toasts, small DOM helpers.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.detail = detail;
  }
}

// fetch with the session cookie and, for anything that changes state, the CSRF token.
export function send(method, path, { json, body, headers = {} } = {}) {
  const init = { method, credentials: "same-origin", headers: { ...headers } };
  if (method !== "GET" && method !== "HEAD") init.headers["X-Pipehouse-CSRF"] = csrf;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  return fetch(path, init);
}

// The JSON answer, or an ApiError carrying the server's `detail`.
export async function api(method, path, json) {
  const reply = await send(method, path, { json });
  if (reply.status === 401) {
    location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
  }
  const text = await reply.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!reply.ok) throw new ApiError(reply.status, data?.detail ?? data?.error ?? data);
  return data;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

export function toast(message, type = "info") {
  const box = el("div", { class: `toast ${type}`, role: "status", text: message });
  document.getElementById("toasts").append(box);
  setTimeout(() => box.remove(), type === "error" ? 10000 : 5000);
}

export function pageData() {
  const node = document.getElementById("page-data");
  return node ? JSON.parse(node.textContent) : {};
}

export function errorText(error) {
  const detail = error?.detail;
  if (detail && typeof detail === "object" && detail.message) {
    return detail.line ? `line ${detail.line}: ${detail.type}: ${detail.message}` : detail.message;
  }
  return error?.message || String(error);
}

document.getElementById("sign-out")?.addEventListener("click", async () => {
  await send("POST", "/logout");
  location.href = "/login";
});
