// Past interviews, newest first, ten to a page; each links to its page (or, in progress, to its call).

import { api, requireUser } from "./api.js";
import { $, TYPE_LABELS, el, formatDate, mountHeader, showPageError, statusBadge } from "./ui.js";

const PAGE_SIZE = 10;

function pageFromUrl() {
  const page = Number.parseInt(new URLSearchParams(location.search).get("page") || "1", 10);
  return Number.isFinite(page) && page > 0 ? page : 1;
}

/** "12 / 20 min": the time spent in calls against the planned length. */
function duration(item) {
  const seconds = item.active_seconds || 0;
  const spent = seconds > 0 && seconds < 60 ? "<1" : String(Math.round(seconds / 60));
  return `${spent} / ${item.duration_minutes} min`;
}

function row(item) {
  const inProgress = item.status === "in_progress";
  const open = inProgress
    ? el("a", { class: "button", href: `/interviews/${item.id}/call` }, "Rejoin", el("span", { class: "visually-hidden" }, ` ${item.role} interview`))
    : el("a", { class: "button button--secondary", href: `/interviews/${item.id}` }, "View", el("span", { class: "visually-hidden" }, ` ${item.role} interview`));
  const score = item.overall_score === null || item.overall_score === undefined ? "—" : `${item.overall_score}`;
  return el(
    "tr",
    { dataset: { id: item.id, status: item.status } },
    el("td", { "data-label": "Date" }, formatDate(item.started_at)),
    el("td", { class: "role" }, el("a", { href: inProgress ? `/interviews/${item.id}/call` : `/interviews/${item.id}` }, item.role)),
    el("td", { "data-label": "Type" }, TYPE_LABELS[item.interview_type] || item.interview_type),
    el("td", { "data-label": "Duration" }, duration(item)),
    el("td", { "data-label": "Status" }, statusBadge(item.status)),
    el("td", { class: "num", "data-label": "Score" }, score),
    el("td", { class: "num" }, open),
  );
}

function pager(page, total) {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const first = (page - 1) * PAGE_SIZE + 1;
  const last = Math.min(total, page * PAGE_SIZE);
  const prev = page > 1
    ? el("a", { class: "button button--secondary", href: `/history?page=${page - 1}`, rel: "prev" }, "← Newer")
    : el("span", {});
  const next = page < pages
    ? el("a", { class: "button button--secondary", href: `/history?page=${page + 1}`, rel: "next" }, "Older →")
    : el("span", {});
  return el(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    prev,
    el("span", { class: "muted small", id: "page-status" }, `${first}–${last} of ${total} · page ${page} of ${pages}`),
    next,
  );
}

async function main() {
  mountHeader("/history");
  const box = $("#history");
  await requireUser();
  const page = pageFromUrl();
  try {
    const { data } = await api.get(`/api/interviews/history?limit=${PAGE_SIZE}&offset=${(page - 1) * PAGE_SIZE}`);
    if (data.total === 0) {
      box.replaceChildren(
        el("div", { class: "empty" }, el("p", {}, "No interviews yet."), el("a", { class: "button", href: "/interviews/new" }, "Start your first interview")),
      );
    } else if (data.items.length === 0) {
      box.replaceChildren(el("div", { class: "empty" }, el("p", {}, "There is nothing on this page."), el("a", { href: "/history" }, "Go to the first page")));
    } else {
      const table = el(
        "table",
        { class: "table", id: "history-table" },
        el("caption", { class: "visually-hidden", id: "history-caption" }, "Your interviews, newest first"),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ...["Date", "Role", "Type", "Duration", "Status"].map((h) => el("th", { scope: "col" }, h)),
            el("th", { scope: "col", class: "num" }, "Score"),
            el("th", { scope: "col" }, el("span", { class: "visually-hidden" }, "Open")),
          ),
        ),
        el("tbody", {}, data.items.map(row)),
      );
      box.replaceChildren(el("div", { class: "table-wrap" }, table));
      if (data.total > PAGE_SIZE) box.append(pager(page, data.total));
      $("#history-summary").textContent = `${data.total} ${data.total === 1 ? "interview" : "interviews"}, newest first.`;
    }
  } catch (err) {
    showPageError(box, err.message);
  } finally {
    box.setAttribute("aria-busy", "false");
  }
}

main();
