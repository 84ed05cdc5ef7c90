// Upstream connections: list (keys masked by the API), add, enable/disable, remove.
import { api, el, errorText, toast } from "./common.js";

async function load() {
  const list = await api("GET", "/api/v1/connections");
  document.querySelector("#connections tbody").replaceChildren(...list.map((c) => el("tr", {},
    el("td", { text: c.id }), el("td", { text: c.base_url }), el("td", { text: c.api_key ? "set (masked)" : "—" }),
    el("td", { text: c.prefix || "" }),
    el("td", {}, c.source === "stored"
      ? el("input", { type: "checkbox", class: "switch", checked: !!c.enabled, "aria-label": `${c.id} enabled`, onchange: (e) => change(c.id, { enabled: e.target.checked }) })
      : c.enabled ? "yes" : "no"),
    el("td", { text: c.source }),
    el("td", {}, c.source === "stored" ? el("button", { type: "button", class: "danger", text: "Remove", onclick: () => remove(c.id) }) : ""))));
}

async function change(id, changes) {
  await api("POST", `/api/v1/connections/${id}/update`, changes).catch((e) => toast(errorText(e), "error"));
  load();
}

async function remove(id) {
  if (!confirm(`Remove the connection ${id}?`)) return;
  await api("DELETE", `/api/v1/connections/${id}`).catch((e) => toast(errorText(e), "error"));
  load();
}

document.getElementById("new-connection").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = { base_url: form.get("base_url") };
  if (form.get("api_key")) body.api_key = form.get("api_key");
  if (form.get("prefix")) body.prefix = form.get("prefix");
  try {
    await api("POST", "/api/v1/connections", body);
    event.target.reset();
    toast("Connection added", "success");
    load();
  } catch (error) {
    toast(errorText(error), "error");
  }
});

load().catch((error) => toast(errorText(error), "error"));
