// The dashboard: interviews left, start a new one, rejoin one in progress, the latest interviews.

import { api, requireUser } from "./api.js";
import { $, LEVEL_LABELS, el, formatDate, interviewKind, mountHeader, showPageError, statusBadge } from "./ui.js";

export function interviewRow(item) {
  const href = item.status === "in_progress" ? `/interviews/${item.id}/call` : `/interviews/${item.id}`;
  const side = el("div", { class: "interview-row__side" });
  if (item.overall_score !== null && item.overall_score !== undefined) {
    side.append(el("span", { class: "score-chip", title: "Overall score" }, `${item.overall_score}/100`));
  }
  side.append(statusBadge(item.status));
  return el(
    "li",
    { class: "interview-row" },
    el(
      "div",
      { class: "interview-row__main" },
      el("a", { class: "interview-row__title", href }, item.role),
      el("span", { class: "interview-row__meta" }, `${interviewKind(item)} · ${formatDate(item.started_at)}`),
    ),
    side,
  );
}

async function main() {
  mountHeader("/dashboard");
  const content = $("#content");
  try {
    const user = await requireUser();
    const { data } = await api.get("/api/interviews/history?limit=5&offset=0");
    const first = user.full_name.split(/\s+/)[0] || user.full_name;
    $("#greeting").textContent = `Welcome, ${first}`;
    $("#greeting-sub").textContent = `Preparing for ${user.target_role} · ${LEVEL_LABELS[user.experience_level] || user.experience_level}`;
    document.title = `Dashboard · Mock Interviewer`;

    const blocks = [];
    const live = data.items.find((item) => item.status === "in_progress");
    if (live) {
      blocks.push(
        el(
          "div",
          { class: "notice notice--info", role: "status" },
          el(
            "div",
            {},
            el("strong", {}, "You have an interview in progress"),
            el("p", {}, `${live.role} · ${interviewKind(live)}. Rejoin to carry on where you stopped; the clock continues.`),
            el("a", { class: "button", href: `/interviews/${live.id}/call` }, "Rejoin interview"),
          ),
        ),
      );
    }

    const left = user.interviews_remaining;
    const start =
      left > 0
        ? el("a", { class: "button button--large", href: "/interviews/new", id: "start-interview" }, "Start a new interview")
        : el("p", { class: "notice notice--warning", id: "no-credits" }, "You have used all your practice interviews. Ask the person who runs this service for more.");
    const cta = el(
      "section",
      { class: "card cta-card", "aria-labelledby": "cta-title" },
      el(
        "div",
        {},
        el("h2", { class: "card__title", id: "cta-title" }, "Practice an interview"),
        el("p", { class: "muted" }, "Pick a role, the kind of questions and a length. You talk; the interviewer listens, follows up and keeps time."),
      ),
      start,
    );
    const credits = el(
      "section",
      { class: "card", "aria-labelledby": "credits-title" },
      el("h2", { class: "card__title", id: "credits-title" }, "Interviews left"),
      el(
        "p",
        { class: "stat" },
        el("span", { class: "stat__value", id: "interviews-left" }, String(left)),
        el("span", { class: "stat__label" }, left === 1 ? "interview" : "interviews"),
      ),
      el("p", { class: "muted small" }, "Each new interview uses one. Rejoining an interview in progress is free."),
    );
    blocks.push(el("div", { class: "grid-2" }, cta, credits));

    const recent = el("section", { class: "card", "aria-labelledby": "recent-title" });
    recent.append(
      el(
        "div",
        { class: "transcript-card__head" },
        el("h2", { id: "recent-title" }, "Recent interviews"),
        data.total > 0 ? el("a", { href: "/history" }, `See all ${data.total}`) : null,
      ),
    );
    if (data.items.length === 0) {
      recent.append(el("p", { class: "empty" }, "No interviews yet. Your first one is a click away."));
    } else {
      recent.append(el("ul", { class: "list-plain" }, data.items.map(interviewRow)));
    }
    blocks.push(recent);
    content.replaceChildren(...blocks);
    content.classList.add("stack");
  } catch (err) {
    showPageError(content, err.message);
  } finally {
    content.setAttribute("aria-busy", "false");
  }
}

main();
