// Shared page pieces: the header, small DOM helpers, formatting, and form errors next to their fields.

import { api } from "./api.js";

/** Create an element: el("a", {href: "/x", class: "button"}, "text", child...). Text is always text. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);

const NAV = [
  ["/dashboard", "Dashboard"],
  ["/interviews/new", "New interview"],
  ["/history", "History"],
  ["/profile", "Profile"],
];

/** The header of the app's pages (logged in): brand, navigation, log out. */
export function mountHeader(active) {
  const header = $("#site-header");
  if (!header) return;
  const nav = el("nav", { class: "nav", "aria-label": "Main" });
  for (const [href, label] of NAV) {
    nav.append(
      el("a", { href, class: href === "/dashboard" ? "nav__home" : null, "aria-current": href === active ? "page" : null }, label),
    );
  }
  const logout = el("button", { type: "button", id: "logout" }, "Log out");
  logout.addEventListener("click", async () => {
    logout.disabled = true;
    try {
      await api.post("/api/auth/logout", {}, { redirectOn401: false });
    } catch {
      // Logged out already, or the server is away: the login page is the right place either way.
    }
    location.assign("/login");
  });
  nav.append(logout);
  header.replaceChildren(
    el(
      "div",
      { class: "site-header__inner" },
      el("a", { class: "brand", href: "/dashboard" }, el("span", { class: "brand__mark", "aria-hidden": "true" }), "Mock Interviewer"),
      nav,
    ),
  );
}

/** The header of the public pages: brand and the way in. */
export function mountPublicHeader(links = []) {
  const header = $("#site-header");
  if (!header) return;
  const nav = el("nav", { class: "nav", "aria-label": "Main" });
  for (const [href, label] of links) nav.append(el("a", { href }, label));
  header.replaceChildren(
    el(
      "div",
      { class: "site-header__inner" },
      el("a", { class: "brand", href: "/" }, el("span", { class: "brand__mark", "aria-hidden": "true" }), "Mock Interviewer"),
      nav,
    ),
  );
}

// ------------------------------------------------------------------------------------------ icons

const ICONS = {
  alert: ["M12 7v6", "M12 17h.01", "circle:12,12,10"],
  check: ["M20 6 9 17l-5-5"],
  "mic-off": ["M2 2l20 20", "M9 9v3a3 3 0 0 0 5.1 2.1", "M15 9.3V5a3 3 0 0 0-5.9-.6", "M17 16.9A7 7 0 0 1 5 12v-2", "M19 10v2a7 7 0 0 1-.4 2.2", "M12 19v3"],
  mic: ["M12 2a3 3 0 0 0-3 3v7a3 3 0 0 0 6 0V5a3 3 0 0 0-3-3Z", "M19 10v2a7 7 0 0 1-14 0v-2", "M12 19v3"],
  tabs: ["M7 3h12a2 2 0 0 1 2 2v12", "rect:3,7,14,14"],
  "wifi-off": ["M2 2l20 20", "M8.5 16.5a5 5 0 0 1 7 0", "M5 12.9a10 10 0 0 1 5.2-2.8", "M19 12.9a10 10 0 0 0-2.1-1.5", "M1.4 9a16 16 0 0 1 4.7-2.9", "M10.7 5.1A16 16 0 0 1 22.6 9", "M12 20h.01"],
  clock: ["circle:12,12,10", "M12 6v6l4 2"],
  restart: ["M21 12a9 9 0 1 1-3-6.7L21 8", "M21 3v5h-5"],
};

/** A small line icon (decorative: hidden from screen readers). */
export function icon(name, size = 26) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  for (const [key, value] of Object.entries({
    width: size,
    height: size,
    viewBox: "0 0 24 24",
    fill: "none",
    stroke: "currentColor",
    "stroke-width": "2",
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
    "aria-hidden": "true",
    focusable: "false",
  })) {
    svg.setAttribute(key, String(value));
  }
  for (const part of ICONS[name] || ICONS.alert) {
    let node;
    if (part.startsWith("circle:")) {
      const [cx, cy, r] = part.slice(7).split(",");
      node = document.createElementNS(ns, "circle");
      Object.entries({ cx, cy, r }).forEach(([k, v]) => node.setAttribute(k, v));
    } else if (part.startsWith("rect:")) {
      const [x, y, width, height] = part.slice(5).split(",");
      node = document.createElementNS(ns, "rect");
      Object.entries({ x, y, width, height, rx: 2 }).forEach(([k, v]) => node.setAttribute(k, String(v)));
    } else {
      node = document.createElementNS(ns, "path");
      node.setAttribute("d", part);
    }
    svg.append(node);
  }
  return svg;
}

// ------------------------------------------------------------------------------------------ formatting

export const TYPE_LABELS = { technical: "Technical", behavioral: "Behavioral", mixed: "Mixed" };
export const LEVEL_LABELS = { entry: "Entry level", mid: "Mid level", senior: "Senior" };
export const STATUS_LABELS = { in_progress: "In progress", completed: "Completed", abandoned: "Abandoned" };

export function formatDate(iso, { time = true } = {}) {
  if (!iso) return "";
  const date = new Date(iso);
  const options = { year: "numeric", month: "short", day: "numeric" };
  if (time) Object.assign(options, { hour: "numeric", minute: "2-digit" });
  return date.toLocaleString(undefined, options);
}

/** "12 min" from seconds (under a minute: "under 1 min"). */
export function formatMinutes(seconds) {
  const s = Number(seconds) || 0;
  if (s <= 0) return "0 min";
  if (s < 60) return "under 1 min";
  return `${Math.round(s / 60)} min`;
}

/** "03:07" from seconds. */
export function formatClock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

export function statusBadge(status) {
  return el("span", { class: `badge badge--${status}` }, STATUS_LABELS[status] || status);
}

/** "Mixed · 20 min" */
export function interviewKind(interview) {
  return `${TYPE_LABELS[interview.interview_type] || interview.interview_type} · ${interview.duration_minutes} min`;
}

// ------------------------------------------------------------------------------------------ forms

/** Clear every error of a form. */
export function clearErrors(form) {
  for (const node of form.querySelectorAll(".field-error")) node.textContent = "";
  for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  const summary = form.querySelector(".form-error");
  if (summary) {
    summary.textContent = "";
    summary.hidden = true;
  }
}

/** Show an error next to a field (by its name) and tie it to the field for screen readers. */
export function showFieldError(form, name, message) {
  const input = form.elements.namedItem(name);
  const holder = form.querySelector(`[data-error-for="${name}"]`);
  if (!input || !holder) return false;
  holder.textContent = message;
  const target = input instanceof RadioNodeList ? input[0] : input;
  if (target) {
    target.setAttribute("aria-invalid", "true");
    const describedBy = new Set((target.getAttribute("aria-describedby") || "").split(" ").filter(Boolean));
    describedBy.add(holder.id);
    target.setAttribute("aria-describedby", [...describedBy].join(" "));
  }
  return true;
}

/** Show an error for the whole form (above its submit button). */
export function showFormError(form, message) {
  const summary = form.querySelector(".form-error");
  if (!summary) return;
  summary.textContent = message;
  summary.hidden = false;
}

/** The API's message without the leading field name: "'email': value is not valid." -> "Value is not valid." */
export function fieldMessage(message, field) {
  let text = message.replace(new RegExp(`^'${field}'\\s*:?\\s*`), "").replace(/^Value error,\s*/i, "").trim();
  if (!text) return message;
  if (/^(is|must)\b/.test(text)) text = `This ${field.replace(/_/g, " ")} ${text}`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Show an API error next to the field it names, or for the whole form; focus what needs fixing. */
export function showApiError(form, err) {
  if (err.field && showFieldError(form, err.field, fieldMessage(err.message, err.field))) {
    const input = form.elements.namedItem(err.field);
    const target = input instanceof RadioNodeList ? input[0] : input;
    target?.focus();
    return;
  }
  showFormError(form, err.message);
}

/** Disable a submit button while work runs, with a label that says so. */
export async function busy(button, label, work) {
  const original = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = original;
  }
}

/** Render a page-level failure (the server is away, an unexpected answer) in place of the content. */
export function showPageError(container, message, retry = true) {
  const box = el(
    "div",
    { class: "notice notice--error", role: "alert" },
    el("div", {}, el("strong", {}, "Something went wrong"), el("p", {}, message)),
  );
  if (retry) {
    box.append(el("button", { type: "button", class: "button button--secondary", onclick: () => location.reload() }, "Try again"));
  }
  container.replaceChildren(box);
}
