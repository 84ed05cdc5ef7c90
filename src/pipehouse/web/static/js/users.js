// Keys and users: every user with their keys (prefixes only), new keys shown once, revoking.
import { api, el, errorText, toast } from "./common.js";

async function load() {
  const users = await api("GET", "/console/api/users");
  document.querySelector("#users tbody").replaceChildren(...users.map((u) => el("tr", {},
    el("td", {}, el("b", { text: u.email }), el("div", { class: "muted", text: u.name || "" })),
    el("td", { text: u.role }),
    el("td", {}, el("ul", { class: "keys" }, u.keys.map((k) => el("li", { class: k.revoked ? "revoked" : "" },
      el("code", { text: `${k.prefix}…` }), ` ${k.name || ""} `,
      k.revoked ? el("span", { class: "muted", text: "revoked" })
        : el("button", { type: "button", class: "quiet", text: "Revoke", onclick: () => revoke(k) }))))))));
}

async function revoke(key) {
  if (!confirm(`Revoke ${key.prefix}…? Clients using it stop working within seconds.`)) return;
  await api("POST", `/console/api/keys/${key.id}/revoke`).catch((e) => toast(errorText(e), "error"));
  load();
}

document.getElementById("new-key").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const made = await api("POST", "/console/api/keys", Object.fromEntries(form));
    const shown = document.getElementById("new-key-shown");
    shown.replaceChildren("New key, shown only this once: ", el("code", { text: made.key }));
    shown.hidden = false;
    event.target.reset();
    load();
  } catch (error) {
    toast(errorText(error), "error");
  }
});

load().catch((error) => toast(errorText(error), "error"));
