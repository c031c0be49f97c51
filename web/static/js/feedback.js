// The feedback report: score bars, strengths and improvements (text or lists), and per-question notes of
// whatever shape, rendered generically.

import { el } from "./ui.js";

export const SCORES = [
  ["overall_score", "Overall"],
  ["technical_depth_score", "Technical depth"],
  ["communication_score", "Communication"],
  ["structure_score", "Structure"],
  ["confidence_score", "Confidence"],
];

const BULLET = /^(?:[-*•‣▪]|\d{1,2}[.)])\s+/;

/** "technical_depth" / "technicalDepth" -> "Technical depth". */
export function humanize(key) {
  const words = String(key)
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function scoreRow(key, label, value) {
  const fill = el("div", { class: "score__fill" });
  fill.style.width = `${Math.max(0, Math.min(100, value))}%`;
  return el(
    "div",
    { class: `score${key === "overall_score" ? " score--overall" : ""}`, dataset: { score: key } },
    el("span", { class: "score__label", id: `score-${key}` }, label),
    el(
      "div",
      { class: "score__bar", role: "meter", "aria-labelledby": `score-${key}`, "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(value) },
      fill,
    ),
    el("span", { class: "score__value" }, String(value)),
  );
}

export function renderScores(report) {
  const rows = SCORES.filter(([key]) => typeof report[key] === "number").map(([key, label]) => scoreRow(key, label, report[key]));
  return rows.length ? el("div", { class: "scores" }, rows) : null;
}

/** Text that may hold newlines and bullet lines, or a list, or an object. */
export function richText(value) {
  if (value === null || value === undefined || value === "") return null;
  if (Array.isArray(value) || typeof value === "object") return renderValue(value);
  const box = el("div", { class: "feedback-text" });
  let list = null;
  for (const raw of String(value).split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) {
      list = null;
      continue;
    }
    if (BULLET.test(line)) {
      list ??= box.appendChild(el("ul"));
      list.append(el("li", {}, line.replace(BULLET, "")));
    } else {
      list = null;
      box.append(el("p", {}, line));
    }
  }
  return box;
}

const TITLE_KEYS = ["question", "title", "topic", "name", "heading"];

function isPlain(value) {
  return value === null || typeof value !== "object";
}

/** Any JSON value, readably: objects as labelled lists, lists of objects as notes, text as text. */
export function renderValue(value, depth = 0) {
  if (value === null || value === undefined || value === "") return el("span", { class: "muted" }, "—");
  if (typeof value === "string") return richText(value);
  if (typeof value !== "object") return el("span", {}, String(value));
  if (depth > 5) return el("code", {}, JSON.stringify(value));
  if (Array.isArray(value)) {
    if (value.every(isPlain)) return el("ul", {}, value.map((item) => el("li", {}, item === null ? "—" : String(item))));
    return el("div", {}, value.map((item) => note(item, depth + 1)));
  }
  const dl = el("dl");
  for (const [key, item] of Object.entries(value)) {
    dl.append(el("dt", {}, humanize(key)), el("dd", {}, renderValue(item, depth + 1)));
  }
  return dl;
}

function note(item, depth, fallbackTitle = null) {
  if (isPlain(item) || Array.isArray(item)) {
    return el("div", { class: "note" }, fallbackTitle ? el("h4", {}, fallbackTitle) : null, renderValue(item, depth));
  }
  const titleKey = TITLE_KEYS.find((key) => typeof item[key] === "string");
  const rest = Object.fromEntries(Object.entries(item).filter(([key]) => key !== titleKey));
  const title = titleKey ? item[titleKey] : fallbackTitle;
  return el(
    "div",
    { class: "note" },
    title ? el("h4", {}, title) : null,
    Object.keys(rest).length ? renderValue(rest, depth) : null,
  );
}

/** The per-question notes, whatever their shape. A single wrapping key ({questions: [...]}) is unwrapped. */
export function renderDetails(details) {
  if (details === null || details === undefined) return null;
  if (typeof details === "object" && !Array.isArray(details)) {
    const entries = Object.entries(details);
    if (entries.length === 0) return null;
    if (entries.length === 1 && Array.isArray(entries[0][1])) details = entries[0][1];
    // {q1: {...}, q2: {...}}: one note per key.
    else if (entries.every(([, value]) => value && typeof value === "object" && !Array.isArray(value))) {
      return el("div", { class: "details-tree" }, entries.map(([key, value]) => note(value, 1, humanize(key))));
    }
  }
  return el("div", { class: "details-tree" }, renderValue(details));
}

/** The whole report (status ready or failed). */
export function renderReport(report) {
  if (report.status === "failed") {
    return el(
      "div",
      { class: "notice notice--error", id: "feedback-failed" },
      el(
        "div",
        {},
        el("strong", {}, "We could not prepare feedback for this interview"),
        el("p", {}, report.error || "The feedback generator failed."),
        el("p", {}, "Your transcript is saved below, and you can still read through it to review your answers."),
      ),
    );
  }
  const parts = [renderScores(report)];
  const strengths = richText(report.strengths);
  if (strengths) parts.push(el("h3", {}, "What went well"), strengths);
  const improvements = richText(report.improvements);
  if (improvements) parts.push(el("h3", {}, "What to work on"), improvements);
  const details = renderDetails(report.detailed_feedback);
  if (details) parts.push(el("h3", {}, "Question by question"), details);
  return el("div", { id: "feedback-report" }, parts);
}
