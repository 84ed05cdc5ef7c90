// The playground: pick a model, toggle filters and tools, attach files, chat with streaming.
// Plugins' events arrive in the stream (X-Pipehouse-Events: inline); event calls (dialogs) and
// actions' events arrive on the side channel (GET /api/v1/events?chat_id=...), answered by POST.
import { api, el, errorText, send, toast } from "./common.js";
import { sseData } from "./sse.js";

const $ = (id) => document.getElementById(id);
let models = [];
let chatId = crypto.randomUUID();
let conversation = []; // {id, role, content}
const views = new Map(); // message id -> its view
const acting = new Set(); // message ids with an action running (its events: side channel)
let subscription = null;

function model() {
  return models.find((m) => m.id === $("model").value);
}

function showModelOptions() {
  const m = model();
  const filters = $("filters");
  filters.replaceChildren(el("legend", { text: "Filters" }));
  for (const f of m?.filters || []) {
    filters.append(el("label", {}, el("input", { type: "checkbox", class: "switch", name: "filter", value: f.id }), ` ${f.name || f.id}`));
  }
  if (!m?.filters?.length) filters.append(el("small", { class: "muted", text: "none to toggle" }));
}

async function loadChoices() {
  models = (await api("GET", "/v1/models")).data;
  $("model").replaceChildren(...models.map((m) => el("option", { value: m.id, text: m.name && m.name !== m.id ? `${m.name} (${m.id})` : m.id })));
  const wanted = new URLSearchParams(location.search).get("model");
  if (wanted && models.some((m) => m.id === wanted)) $("model").value = wanted;
  showModelOptions();
  const tools = await api("GET", "/api/v1/tools/").catch(() => []);
  const box = $("tools");
  for (const t of tools) box.append(el("label", {}, el("input", { type: "checkbox", class: "switch", name: "tool", value: t.id }), ` ${t.name || t.id}`));
  if (!tools.length) box.append(el("small", { class: "muted", text: "no toolkits" }));
}

function messageView(id, role) {
  const view = {
    root: el("div", { class: `message ${role}`, "data-id": id }),
    status: el("div", { class: "status", hidden: true }),
    content: el("div", { class: "content" }),
    sources: el("ol", { class: "sources", hidden: true }),
    actions: el("div", { class: "actions" }),
    text: "",
  };
  view.root.append(view.status, view.content, view.sources, view.actions);
  $("messages").append(view.root);
  views.set(id, view);
  return view;
}

function setText(view, text) {
  view.text = text;
  view.content.textContent = text;
  view.root.scrollIntoView({ block: "end" });
}

function handleEvent(event, view) {
  const data = event.data || {};
  switch (event.type) {
    case "status":
      if (data.hidden) break;
      view.status.hidden = false;
      view.status.textContent = data.description || "";
      view.status.classList.toggle("done", !!data.done);
      break;
    case "citation":
    case "source": {
      view.sources.hidden = false;
      const source = data.source || {};
      const label = source.name || source.url || data.metadata?.[0]?.source || "source";
      const link = source.url || (/^https?:/.test(label) ? label : null);
      view.sources.append(el("li", {}, link ? el("a", { href: link, target: "_blank", rel: "noopener", text: label }) : label,
        data.document?.[0] ? el("small", { class: "muted", text: ` — ${String(data.document[0]).slice(0, 200)}` }) : null));
      break;
    }
    case "notification":
      toast(data.content || data.message || "", data.type || "info");
      break;
    case "message":
    case "chat:message:delta":
      setText(view, view.text + (data.content || ""));
      break;
    case "replace":
    case "chat:message":
      setText(view, data.content || "");
      break;
    default:
      break;
  }
}

// -- event calls: one dialog at a time -----------------------------------------------------------
const calls = [];
let shownCall = null;

function nextCall() {
  if (shownCall || !calls.length) return;
  shownCall = calls.shift();
  const { data } = shownCall;
  const body = data.data || {};
  const dialog = $("call-dialog");
  $("call-title").textContent = body.title || (data.type === "input" ? "Input" : "Confirm");
  $("call-message").textContent = body.message || body.description || "";
  const field = $("call-input");
  field.hidden = data.type !== "input";
  field.value = body.value || "";
  field.placeholder = body.placeholder || "";
  dialog.returnValue = "";
  dialog.showModal();
}

$("call-dialog").addEventListener("close", async () => {
  const call = shownCall;
  shownCall = null;
  if (!call) return;
  const ok = $("call-dialog").returnValue === "ok";
  const answer = call.data.type === "input" ? (ok ? $("call-input").value : null) : ok;
  await api("POST", `/api/v1/events/calls/${call.call_id}`, answer).catch((e) => toast(errorText(e), "error"));
  nextCall();
});

async function execute(call) {
  // As Open WebUI does: run the plugin's JavaScript in the page and answer its result.
  let answer;
  try {
    answer = await new Function(call.data.data?.code || "")();
  } catch (error) {
    answer = { error: String(error) };
  }
  await api("POST", `/api/v1/events/calls/${call.call_id}`, answer ?? null).catch((e) => toast(errorText(e), "error"));
}

function onFrame(frame) {
  if (frame.type === "ready") {
    $("listening").textContent = "";
    $("send").disabled = false;
  } else if (frame.type === "call") {
    if (frame.data?.type === "execute") execute(frame);
    else { calls.push(frame); nextCall(); }
  } else if (frame.type === "call:done") {
    const index = calls.findIndex((c) => c.call_id === frame.call_id);
    if (index >= 0) calls.splice(index, 1);
    if (shownCall?.call_id === frame.call_id) { shownCall = null; $("call-dialog").close(); nextCall(); }
  } else if (frame.type === "event") {
    // a streamed answer's events came in its stream already; an action's come only here
    const view = views.get(frame.message_id);
    if (view && acting.has(frame.message_id)) handleEvent(frame.data, view);
    else if (!view && frame.data?.type === "notification") handleEvent(frame.data, null);
  }
}

async function listen() {
  subscription?.abort();
  const controller = (subscription = new AbortController());
  $("send").disabled = true;
  $("listening").textContent = "connecting…";
  try {
    const reply = await fetch(`/api/v1/events?chat_id=${encodeURIComponent(chatId)}`, { signal: controller.signal, credentials: "same-origin" });
    for await (const data of sseData(reply)) onFrame(JSON.parse(data));
  } catch (error) {
    if (controller.signal.aborted) return;
    $("listening").textContent = `event channel lost: ${error.message}`;
  }
}

// -- chatting ------------------------------------------------------------------------------------
async function upload() {
  const files = [];
  for (const file of $("attach").files) {
    const form = new FormData();
    form.append("file", file);
    const reply = await send("POST", "/api/v1/files/", { body: form });
    const record = await reply.json();
    if (!reply.ok) throw new Error(`${file.name}: ${errorText({ detail: record.detail })}`);
    files.push({ type: "file", id: record.id, name: record.filename });
  }
  $("attach").value = "";
  $("attached").textContent = "";
  return files;
}

async function ask(event) {
  event?.preventDefault();
  const text = $("prompt").value;
  const m = model();
  if (!text.trim() || !m) return;
  $("send").disabled = true;
  try {
    const files = await upload();
    const userMessage = { id: crypto.randomUUID(), role: "user", content: text };
    conversation.push(userMessage);
    const mine = messageView(userMessage.id, "user");
    setText(mine, text);
    if (files.length) mine.content.append(el("div", { class: "muted", text: `📎 ${files.map((f) => f.name).join(", ")}` }));
    $("prompt").value = "";
    await answer(m, files);
  } catch (error) {
    toast(errorText(error), "error");
  } finally {
    $("send").disabled = false;
  }
}

async function answer(m, files) {
  const id = crypto.randomUUID();
  const view = messageView(id, "assistant");
  view.root.classList.add("streaming");
  const body = {
    model: m.id,
    messages: conversation.map(({ role, content }) => ({ role, content })),
    stream: true,
    chat_id: chatId,
    id,
    filter_ids: [...document.querySelectorAll("input[name=filter]:checked")].map((i) => i.value),
    tool_ids: [...document.querySelectorAll("input[name=tool]:checked")].map((i) => i.value),
  };
  if (files.length) body.files = files;
  try {
    const reply = await send("POST", "/v1/chat/completions", { json: body, headers: { "X-Pipehouse-Events": "inline" } });
    if (!reply.ok) {
      const failed = await reply.json().catch(() => ({}));
      throw new Error(failed.error?.message || errorText({ detail: failed.detail }) || reply.statusText);
    }
    for await (const data of sseData(reply)) {
      if (data === "[DONE]") break;
      const frame = JSON.parse(data);
      if (frame.event) handleEvent(frame.event, view);
      else if (frame.error) throw new Error(frame.error.message || JSON.stringify(frame.error));
      else {
        const delta = frame.choices?.[0]?.delta?.content;
        if (delta) setText(view, view.text + delta);
      }
    }
  } catch (error) {
    view.root.append(el("div", { class: "error", text: error.message }));
  } finally {
    view.root.classList.remove("streaming");
  }
  conversation.push({ id, role: "assistant", content: view.text });
  actionButtons(m, id, view);
}

function actionButtons(m, id, view) {
  for (const action of m.actions || []) {
    view.actions.append(el("button", {
      type: "button", class: "quiet", title: action.description || "", text: action.name || action.id,
      onclick: () => runAction(m, action, id, view),
    }));
  }
}

async function runAction(m, action, id, view) {
  const upTo = conversation.slice(0, conversation.findIndex((c) => c.id === id) + 1);
  acting.add(id);
  try {
    const result = await api("POST", `/api/chat/actions/${action.id}`, { model: m.id, messages: upTo, chat_id: chatId, id });
    if (result !== null && result !== undefined) {
      const shown = typeof result === "string" ? result : JSON.stringify(result);
      view.root.append(el("div", { class: "action-result", text: `${action.name || action.id}: ${shown}` }));
    }
    toast(`${action.name || action.id} done`, "success");
  } catch (error) {
    toast(errorText(error), "error");
  } finally {
    acting.delete(id);
  }
}

$("composer").addEventListener("submit", ask);
$("prompt").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) ask(event);
});
$("model").addEventListener("change", showModelOptions);
$("attach").addEventListener("change", () => {
  $("attached").textContent = [...$("attach").files].map((f) => f.name).join(", ");
});
$("new-chat").addEventListener("click", () => {
  chatId = crypto.randomUUID();
  conversation = [];
  views.clear();
  $("messages").replaceChildren();
  listen();
});

loadChoices().catch((error) => toast(errorText(error), "error"));
listen();
