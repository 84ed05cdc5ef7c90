// Valves forms generated from a plugin's JSON schema: selects for options, switches for
// booleans, password fields for secrets (the API sends a mask; posting the mask keeps the secret).
import { api, el, errorText, toast } from "./common.js";

function fieldType(prop) {
  if (prop.type) return prop.type;
  const options = (prop.anyOf || []).filter((p) => p.type !== "null");
  return options[0]?.type || "string";
}

function options(prop) {
  const listed = prop.enum || (prop.anyOf || []).find((p) => p.enum)?.enum || prop.input?.options;
  if (!Array.isArray(listed)) return null;
  return listed.map((o) => (typeof o === "object" && o !== null ? { value: o.value, label: o.label ?? o.value } : { value: o, label: o }));
}

function isSecret(name, prop, secrets) {
  const nested = (prop.anyOf || []).some((p) => p.format === "password");
  return secrets.includes(name) || prop.format === "password" || nested || prop.input?.type === "password";
}

function input(name, prop, value, secret) {
  const type = fieldType(prop);
  const choices = options(prop);
  const shown = value === undefined || value === null ? "" : value;
  if (choices) {
    return el("select", { name }, choices.map((o) => el("option", { value: o.value, text: o.label, selected: String(o.value) === String(shown) })));
  }
  if (type === "boolean") return el("input", { type: "checkbox", class: "switch", name, checked: !!value });
  if (secret) return el("input", { type: "password", name, value: shown, autocomplete: "off", placeholder: "not set" });
  if (type === "integer" || type === "number") return el("input", { type: "number", name, value: shown, step: type === "integer" ? "1" : "any" });
  if (type === "array" || type === "object") return el("textarea", { name, rows: 3, text: JSON.stringify(value ?? prop.default ?? null) });
  return el("input", { type: "text", name, value: shown });
}

function readValue(field, prop) {
  const type = fieldType(prop);
  if (field.type === "checkbox") return field.checked;
  if (field.value === "" && (prop.anyOf || []).some((p) => p.type === "null")) return null;
  if (type === "integer" || type === "number") return field.value === "" ? null : Number(field.value);
  if (type === "array" || type === "object") return JSON.parse(field.value || "null");
  return field.value;
}

function showErrors(form, error) {
  form.querySelectorAll(".field-error").forEach((n) => n.remove());
  const detail = error.detail;
  // pipehouse's 400 names each field (details.errors: [{field, message}]); a 422 has FastAPI's loc
  const items = Array.isArray(detail) ? detail : detail?.details?.errors || detail?.errors || [];
  let placed = false;
  for (const item of items) {
    const name = item.field || (item.loc || []).filter((p) => typeof p === "string" && p !== "body").pop();
    const field = name && form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (field) {
      field.closest("label").append(el("span", { class: "field-error", text: item.message || item.msg || JSON.stringify(item) }));
      placed = true;
    }
  }
  if (!placed) {
    const text = errorText(error);
    const named = [...form.querySelectorAll("[name]")].find((f) => text.includes(f.name));
    (named ? named.closest("label") : form).append(el("span", { class: "field-error", text }));
  }
}

// Fills `form` from `base` (e.g. /api/v1/functions/id/X/valves or .../valves/user).
export async function valvesForm(form, base, secrets) {
  let schema;
  try {
    schema = await api("GET", `${base}/spec`);
  } catch (error) {
    form.replaceChildren(el("p", { class: "muted", text: errorText(error) }));
    return;
  }
  if (!schema || !schema.properties) {
    form.replaceChildren(el("p", { class: "muted", text: "This plugin has no such valves." }));
    return;
  }
  const values = (await api("GET", base)) || {};
  const props = schema.properties;
  const original = {};
  const fields = Object.entries(props).map(([name, prop]) => {
    const secret = isSecret(name, prop, secrets);
    const value = name in values ? values[name] : secret ? "" : prop.default;
    original[name] = value;
    return el("label", { class: secret ? "secret" : "" },
      el("span", { class: "name", text: prop.title || name }),
      input(name, prop, value, secret),
      prop.description ? el("small", { class: "muted", text: prop.description }) : null,
      secret ? el("small", { class: "muted", text: "secret: shown masked, never in clear" }) : null);
  });
  const save = el("button", { type: "submit", text: "Save valves" });
  form.replaceChildren(...fields, save);
  form.noValidate = true; // the server checks values and names the field
  form.onsubmit = async (event) => {
    event.preventDefault();
    const posted = {};
    try {
      for (const [name, prop] of Object.entries(props)) {
        const field = form.querySelector(`[name="${CSS.escape(name)}"]`);
        const value = readValue(field, prop);
        if (isSecret(name, prop, secrets) && value === "" && !original[name]) continue;
        posted[name] = value;
      }
    } catch (error) {
      toast(`Not valid JSON: ${error.message}`, "error");
      return;
    }
    try {
      await api("POST", `${base}/update`, posted);
      toast("Valves saved", "success");
      await valvesForm(form, base, secrets);
    } catch (error) {
      showErrors(form, error);
      toast(errorText(error), "error");
    }
  };
}
