// A plugin's environment (its `requirements:`, built by the server), as `GET /api/v1/plugins`
// gives it: queued / installing with the current step and the installer's last lines, ready,
// failed with the installer's output and a retry (POST /api/v1/environments/plugins/{id}/retry).
import { api, el, errorText, toast } from "./common.js";

export const BUILDING = new Set(["queued", "installing"]);

function output(lines, open) {
  const pre = el("pre", { class: "installer-output", text: lines.join("\n") });
  return open ? pre : el("details", {}, el("summary", { text: "installer output" }), pre);
}

async function retry(pluginId, button, changed) {
  button.disabled = true;
  try {
    await api("POST", `/api/v1/environments/plugins/${encodeURIComponent(pluginId)}/retry`);
    toast(`Installing ${pluginId}'s requirements again`, "info");
  } catch (error) {
    toast(errorText(error), "error");
  }
  changed();
}

// `changed` is called once a retry was asked, to show the new state.
export function environmentView(pluginId, env, changed) {
  const building = BUILDING.has(env.state);
  const label = building ? `${env.state}: ${env.step}` : env.state;
  const box = el("div", { class: "environment", "data-state": env.state },
    el("span", { class: `badge state-${env.state}`, text: `environment ${label}` }),
    el("span", { class: "muted", text: ` ${(env.requirements || []).join(", ")}` }));
  const lines = env.progress || [];
  if (env.state === "failed") {
    if (env.error) box.append(el("div", { class: "error", text: env.error }));
    if (lines.length) box.append(output(lines, true));
    const button = el("button", { type: "button", class: "quiet", text: "Retry install" });
    button.addEventListener("click", () => retry(pluginId, button, changed));
    box.append(button);
  } else if (building) {
    if (lines.length) box.append(output(lines.slice(-5), true));
  } else if (lines.length) {
    box.append(output(lines, false));
  }
  return box;
}
