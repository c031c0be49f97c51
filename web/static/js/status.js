// The operator page: GET /api/status every few seconds, rendered as tables. The token (when the server has
// one) is kept for this tab only.

import { el, $ } from "./ui.js";

const REFRESH_MS = 3000;
const TOKEN_KEY = "mi-status-token";

function table(headers, rows) {
  return el(
    "div",
    { class: "metrics-wrap" },
    el(
      "table",
      { class: "metrics-table" },
      el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows.map((row) => el("tr", {}, row.map((cell) => el("td", {}, cell ?? "—"))))),
    ),
  );
}

function ms(value) {
  return value === null || value === undefined ? "—" : `${Math.round(value)} ms`;
}

function section(title, ...content) {
  return el("section", { class: "card" }, el("h2", { class: "card__title" }, title), ...content);
}

function render(status) {
  const calls = status.active_calls.map((c) => [
    c.interview_id.slice(0, 8),
    c.user_id ? c.user_id.slice(0, 8) : "—",
    c.transport,
    c.state,
    `${Math.round(c.duration_s)} s`,
    c.media.inbound_packets ?? c.media.messages_in ?? "—",
    c.media.inbound_lost ?? "—",
    c.media.inbound_jitter_ms !== undefined ? `${c.media.inbound_jitter_ms} ms` : "—",
    ms(c.last_turn_ms?.response_ms),
  ]);
  const latency = Object.entries(status.since_start.latency_ms).map(([stage, p]) => [
    stage.replace(/_ms$/, "").replaceAll("_", " "),
    ms(p.p50),
    ms(p.p95),
    ms(p.p99),
    p.n,
  ]);
  const providers = Object.entries(status.providers).map(([role, p]) => [
    role.toUpperCase(),
    p.name,
    p.embedded ? "embedded" : `${p.errors} / ${p.requests}`,
    p.last_error ?? "—",
  ]);
  const u = status.usage;
  return [
    section(
      "Server",
      el(
        "p",
        {},
        `Version ${status.version} · up ${Math.round(status.uptime_s / 60)} min · database ${status.database.ok ? "ok" : "DOWN"}` +
          ` (${status.database.dialect}, ${status.database.ping_ms} ms)` +
          (status.draining ? " · draining" : ""),
      ),
      el("p", {}, `Since start: ${status.since_start.calls} calls, ${status.since_start.turns} turns.`),
    ),
    section(
      `Live calls (${calls.length})`,
      calls.length
        ? table(["Interview", "User", "Transport", "State", "Duration", "Packets in", "Lost", "Jitter", "Last response"], calls)
        : el("p", { class: "muted" }, "No call in progress."),
    ),
    section("Latency since start", table(["Stage", "p50", "p95", "p99", "Turns"], latency)),
    section("Providers", table(["Role", "Provider", "Errors / requests", "Last error"], providers)),
    section(
      "Usage",
      el(
        "p",
        {},
        `Speech recognised ${Math.round(u.stt_seconds / 60)} min · model tokens ${u.llm_input_tokens} in, ${u.llm_output_tokens} out · ` +
          `voice ${u.tts_characters} characters · estimated cost $${u.estimated_cost_usd.total.toFixed(2)}`,
      ),
    ),
  ];
}

async function refresh() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const response = await fetch("/api/status", { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const form = $("#token-form");
  if (response.status === 401 || response.status === 403) {
    const body = await response.json().catch(() => ({}));
    form.hidden = false;
    const error = $("#token-error");
    error.textContent = body.error?.message || "A status token is needed.";
    error.hidden = !token;
    $("#status-updated").textContent = "Enter the server's status token.";
    return false;
  }
  form.hidden = true;
  const status = await response.json();
  $("#status").replaceChildren(...render(status));
  $("#status-updated").textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s`;
  return true;
}

$("#token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("#token").value);
  refresh();
});

async function loop() {
  try {
    await refresh();
  } catch {
    $("#status-updated").textContent = "The server did not answer; retrying…";
  }
  setTimeout(loop, REFRESH_MS);
}
loop();
