// The plugin list: kind, active/global, load state and environment state, errors with file and line.
import { api, el, errorText, toast } from "./common.js";
import { BUILDING, environmentView } from "./environment.js";

const admin = document.body.dataset.role === "admin";

function stateCell(plugin) {
  const cell = el("td", { class: "state" });
  cell.append(el("span", { class: `badge state-${plugin.state}`, text: plugin.state }));
  const error = plugin.error;
  if (error) {
    const where = [error.path, error.line].filter(Boolean).join(":");
    cell.append(el("div", { class: "error", text: `${where ? where + " " : ""}${error.type || ""}: ${error.message || errorText(error)}` }));
  }
  if (plugin.environment) cell.append(environmentView(plugin.id, plugin.environment, load));
  return cell;
}

// Shown again every second while an environment is being built, until it is ready or failed.
let refresh = null;
function refreshWhileBuilding(overview) {
  clearTimeout(refresh);
  const building = overview.some((p) => BUILDING.has(p.state) || BUILDING.has(p.environment?.state));
  if (building) refresh = setTimeout(() => load().catch((error) => toast(errorText(error), "error")), 1000);
}

async function toggle(table, id, what) {
  try {
    await api("POST", `/api/v1/${table}/id/${id}/toggle${what === "global" ? "/global" : ""}`);
    load();
  } catch (error) {
    toast(errorText(error), "error");
  }
}

async function load() {
  const body = document.querySelector("#plugin-list tbody");
  const rows = [];
  if (admin) {
    const [overview, functions, tools] = await Promise.all([
      api("GET", "/api/v1/plugins"), api("GET", "/api/v1/functions/list"), api("GET", "/api/v1/tools/list"),
    ]);
    refreshWhileBuilding(overview);
    const byId = {};
    for (const f of functions) byId[f.id] = { table: "functions", row: f };
    for (const t of tools) byId[t.id] = { table: "tools", row: t };
    for (const plugin of overview) {
      const stored = byId[plugin.id] || { table: plugin.kind === "tools" ? "tools" : "functions", row: {} };
      const active = stored.row.is_active ?? plugin.active;
      rows.push(el("tr", { "data-id": plugin.id },
        el("td", {}, el("a", { href: `/plugins/${stored.table}/${plugin.id}`, text: plugin.id }), el("div", { class: "muted", text: plugin.name || "" })),
        el("td", { text: plugin.kind || stored.row.type || (stored.table === "tools" ? "tools" : "") }),
        el("td", {}, el("input", { type: "checkbox", class: "switch", checked: !!active, "aria-label": `${plugin.id} active`, onchange: () => toggle(stored.table, plugin.id, "active") })),
        el("td", {}, stored.table === "functions" && ["filter", "action"].includes(plugin.kind)
          ? el("input", { type: "checkbox", class: "switch", checked: !!stored.row.is_global, "aria-label": `${plugin.id} global`, onchange: () => toggle("functions", plugin.id, "global") })
          : "—"),
        stateCell(plugin),
        el("td", {}, el("a", { href: `/plugins/${stored.table}/${plugin.id}`, text: "open" })),
      ));
    }
  } else {
    const [functions, tools] = await Promise.all([api("GET", "/api/v1/functions/"), api("GET", "/api/v1/tools/")]);
    for (const [table, list] of [["functions", functions], ["tools", tools]]) {
      for (const p of list) {
        rows.push(el("tr", {},
          el("td", {}, el("a", { href: `/plugins/${table}/${p.id}`, text: p.id }), el("div", { class: "muted", text: p.name || "" })),
          el("td", { text: p.type || "tools" }), el("td", { text: p.is_active === false ? "no" : "yes" }),
          el("td", { text: p.is_global ? "yes" : "—" }), el("td", { text: p.status?.state || "" }),
          el("td", {}, el("a", { href: `/plugins/${table}/${p.id}`, text: "your valves" }))));
      }
    }
  }
  body.replaceChildren(...rows);
}

document.getElementById("upload-plugin")?.addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  sessionStorage.setItem("ph-upload", JSON.stringify({ name: file.name, code: await file.text() }));
  location.href = "/plugins/new?from=upload";
});

load().catch((error) => toast(errorText(error), "error"));
