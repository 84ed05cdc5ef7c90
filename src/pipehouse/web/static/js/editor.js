// A plugin's page: the code editor (CodeMirror, Python), save with load errors at their line,
// toggles, delete, versions with diff and restore, and the valves forms.
import { api, errorText, el, pageData, toast } from "./common.js";
import { BUILDING } from "./environment.js";
import { valvesForm } from "./valves.js";

const data = pageData();
const admin = document.body.dataset.role === "admin";
const base = data.id ? `/api/v1/${data.table}/id/${data.id}` : null;
let editor = null;
let marked = null;
let current = null;

function showState(row) {
  const status = row?.status || {};
  const line = document.getElementById("state");
  line.replaceChildren(
    el("span", { class: `badge state-${status.state || "new"}`, text: status.state || "new" }), " ",
    row ? el("span", { text: `${row.is_active ? "active" : "inactive"}${row.is_global ? ", global" : ""}` }) : "");
  if (BUILDING.has(status.state)) {
    // not an error: it loads by itself once its requirements are installed (see the plugin list)
    line.append(" ", el("a", { href: "/plugins", text: "its requirements are being installed" }));
  } else if (status.error) {
    showLoadError(status.error, false);
  }
}

function showLoadError(error, fromSave = true) {
  const box = document.getElementById("load-error");
  if (!box) return;
  const where = error.line ? `line ${error.line}: ` : "";
  box.textContent = `${where}${error.type ? error.type + ": " : ""}${error.message || errorText(error)}${error.hint ? " — " + error.hint : ""}${fromSave ? " (not saved: the last good version keeps serving)" : ""}`;
  box.hidden = false;
  clearMark();
  if (editor && error.line) {
    marked = editor.addLineClass(error.line - 1, "wrap", "error-line");
    editor.scrollIntoView({ line: error.line - 1, ch: 0 }, 80);
    editor.setCursor({ line: error.line - 1, ch: 0 });
    editor.focus();
  }
}

function clearMark() {
  if (editor && marked) editor.removeLineClass(marked, "wrap", "error-line");
  marked = null;
}

async function save() {
  const id = document.getElementById("plugin-id").value.trim();
  const form = {
    id,
    name: document.getElementById("plugin-name").value.trim() || id,
    content: editor.getValue(),
    meta: { description: document.getElementById("plugin-description").value },
  };
  const table = data.table;
  let saved = null;
  try {
    if (data.id) saved = await api("POST", `${base}/update`, form);
    else saved = await api("POST", `/api/v1/${table}/create`, form);
  } catch (error) {
    if (error.detail && typeof error.detail === "object") showLoadError(error.detail);
    toast(errorText(error), "error");
    return;
  }
  document.getElementById("load-error").hidden = true;
  clearMark();
  const building = BUILDING.has(saved?.status?.state);
  toast(building ? "Saved: it loads once its requirements are installed" : "Saved and loaded", "success");
  if (!data.id) {
    location.href = `/plugins/${table}/${id}`;
    return;
  }
  await load();
}

async function versions() {
  const body = document.querySelector("#versions tbody");
  const list = await api("GET", `${base}/history`);
  const latest = current?.version_id;
  body.replaceChildren(...list.map((v) => el("tr", {},
    el("td", { text: new Date(v.created_at * 1000).toLocaleString() }),
    el("td", { text: v.commit_message || "" }),
    el("td", { text: v.user?.name || "" }),
    el("td", {},
      v.id !== latest && latest ? el("button", { type: "button", class: "quiet", text: "Diff to latest", onclick: () => diff(v.id, latest) }) : el("span", { class: "muted", text: v.id === latest ? "latest" : "" }),
      " ",
      el("button", { type: "button", class: "quiet", text: "Restore into editor", onclick: () => restore(v.id) })))));
}

async function diff(fromId, toId) {
  const found = await api("GET", `${base}/history/diff?from_id=${fromId}&to_id=${toId}`);
  const box = document.getElementById("diff");
  box.replaceChildren(...(found.content_diff || "").split("\n").map((line) =>
    el("span", { class: diffClass(line), text: line + "\n" })));
  box.hidden = false;
}

function diffClass(line) {
  if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("@@")) return "hunk";
  return line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : "";
}

async function restore(versionId) {
  const version = await api("GET", `${base}/history/${versionId}`);
  editor.setValue(version.snapshot?.content || "");
  toast("That version is in the editor: Save to make it live", "info");
}

async function load() {
  if (!admin) return;
  current = await api("GET", base);
  document.getElementById("plugin-name").value = current.name || "";
  document.getElementById("plugin-description").value = current.meta?.description || "";
  if (editor.getValue() !== current.content) editor.setValue(current.content || "");
  showState(current);
  const active = document.getElementById("toggle-active");
  active.textContent = current.is_active ? "Deactivate" : "Activate";
  const global = document.getElementById("toggle-global");
  if (global) global.textContent = current.is_global ? "Make not global" : "Make global";
  await Promise.all([versions(), valvesForm(document.getElementById("valves"), `${base}/valves`, data.secrets || [])]);
}

function start() {
  if (admin) {
    editor = CodeMirror.fromTextArea(document.getElementById("code"), {
      mode: "python", lineNumbers: true, indentUnit: 4, viewportMargin: Infinity,
      extraKeys: { Tab: (cm) => cm.replaceSelection("    "), "Ctrl-S": () => save(), "Cmd-S": () => save() },
    });
    editor.on("change", clearMark);
    document.getElementById("save").addEventListener("click", save);
    document.getElementById("open-file").addEventListener("change", async (event) => {
      const file = event.target.files[0];
      if (file) editor.setValue(await file.text());
    });
    const upload = new URLSearchParams(location.search).get("from") === "upload" && sessionStorage.getItem("ph-upload");
    if (upload && !data.id) {
      const { name, code } = JSON.parse(upload);
      sessionStorage.removeItem("ph-upload");
      editor.setValue(code);
      document.getElementById("plugin-id").value = name.replace(/\.py$/, "").replace(/\W/g, "_");
      if (/^class Tools\b/m.test(code)) data.table = "tools";
    }
    if (data.id) {
      document.getElementById("toggle-active").addEventListener("click", async () => {
        await api("POST", `${base}/toggle`).catch((e) => toast(errorText(e), "error"));
        load();
      });
      document.getElementById("toggle-global")?.addEventListener("click", async () => {
        await api("POST", `${base}/toggle/global`).catch((e) => toast(errorText(e), "error"));
        load();
      });
      document.getElementById("delete").addEventListener("click", async () => {
        if (!confirm(`Delete ${data.id}? Its versions and valves go too.`)) return;
        await api("DELETE", `${base}/delete`);
        location.href = "/plugins";
      });
    }
  }
  if (data.id) {
    load().catch((error) => toast(errorText(error), "error"));
    valvesForm(document.getElementById("user-valves"), `${base}/valves/user`, data.user_secrets || []);
  }
}

start();
