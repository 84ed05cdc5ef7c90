// Overview: plugin counts by state and per-plugin calls, errors and latency from /metrics.
import { api, el, send } from "./common.js";

// Prometheus text -> [{name, labels, value}]
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const match = line.match(/^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/);
    if (!match) continue;
    const labels = {};
    for (const pair of (match[2] || "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

// A call is a hook that served a request (pipe, inlet, stream, outlet, action, a tool, pipes):
// not `pipe.stream`, the rest of the same pipe call (its time is added to the call's), nor the
// valves and lifecycle hooks (on_startup, ...) run when a plugin loads or changes.
const CONTINUATION = "pipe.stream";
const served = (stage) => stage !== "valves" && !stage?.startsWith("on_");

function perPlugin(samples, name, keep = () => true) {
  const totals = {};
  for (const s of samples) {
    if (s.name === name && s.labels.plugin !== undefined && keep(s.labels.stage)) {
      totals[s.labels.plugin] = (totals[s.labels.plugin] || 0) + s.value;
    }
  }
  return totals;
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// Horizontal bars, one per plugin, largest first.
function barChart(target, values, format = (v) => String(Math.round(v * 100) / 100)) {
  const rows = Object.entries(values).sort((a, b) => b[1] - a[1]).slice(0, 12);
  target.replaceChildren();
  if (!rows.length) { target.append(el("p", { class: "muted", text: "Nothing yet." })); return; }
  const max = Math.max(...rows.map(([, v]) => v)) || 1;
  const height = rows.length * 22;
  const chart = svg("svg", { viewBox: `0 0 400 ${height}`, width: "100%", role: "img" });
  rows.forEach(([plugin, value], i) => {
    const y = i * 22;
    chart.append(svg("text", { x: 0, y: y + 15, class: "label" }, plugin.slice(0, 22)));
    chart.append(svg("rect", { x: 150, y: y + 4, height: 14, width: Math.max(1, (value / max) * 200), class: "bar" }));
    chart.append(svg("text", { x: 356, y: y + 15, class: "value" }, format(value)));
  });
  target.append(chart);
}

async function load() {
  const [plugins, metrics] = await Promise.all([
    api("GET", "/api/v1/plugins"),
    send("GET", "/metrics").then((r) => r.text()),
  ]);
  const counts = {};
  for (const p of plugins) counts[p.state] = (counts[p.state] || 0) + 1;
  document.getElementById("counts").replaceChildren(
    el("div", { class: "card stat" }, el("b", { text: plugins.length }), " plugins"),
    ...Object.entries(counts).map(([state, n]) =>
      el("div", { class: `card stat state-${state}` }, el("b", { text: n }), ` ${state}`)),
  );
  const samples = parseMetrics(metrics);
  const calls = (stage) => served(stage) && stage !== CONTINUATION;
  barChart(document.getElementById("chart-calls"), perPlugin(samples, "pipehouse_plugin_calls_total", calls));
  barChart(document.getElementById("chart-errors"), perPlugin(samples, "pipehouse_plugin_errors_total"));
  const sums = perPlugin(samples, "pipehouse_plugin_latency_seconds_sum", served);
  const count = perPlugin(samples, "pipehouse_plugin_latency_seconds_count", calls);
  const mean = {};
  for (const [plugin, total] of Object.entries(sums)) if (count[plugin]) mean[plugin] = (total / count[plugin]) * 1000;
  barChart(document.getElementById("chart-latency"), mean);
}

load();
