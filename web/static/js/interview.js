// An interview: what it was, its feedback (polled until ready) and the transcript of both sides.

import { ApiError, api, requireUser } from "./api.js";
import { renderCallQuality, renderReport } from "./feedback.js";
import { messageNode } from "./transcript.js";
import { $, TYPE_LABELS, el, formatDate, formatMinutes, mountHeader, showPageError, statusBadge } from "./ui.js";

const interviewId = decodeURIComponent(location.pathname.split("/")[2] || "");
const POLL_MS = 3000;
const FIRST_POLL_MS = 1000;
const SLOW_POLL_MS = 10000;
const SLOW_AFTER_MS = 120000;

let pollTimer = null;
let pollStarted = performance.now();
/** What the feedback section last announced (so a poll that changes nothing says nothing). */
let announced = "";

function metaItem(label, value) {
  return el("div", {}, el("dt", {}, label), el("dd", {}, value));
}

function headerBlock(interview, live) {
  const actions = el("div", { class: "button-row" });
  if (interview.status === "in_progress") {
    actions.append(
      el("a", { class: "button", href: `/interviews/${interview.id}/call`, id: "rejoin" }, live ? "Go to the call" : "Rejoin the call"),
    );
    const finish = el("button", { type: "button", class: "button button--secondary", id: "finish" }, "Finish and get feedback");
    finish.addEventListener("click", async () => {
      finish.disabled = true;
      try {
        await api.post(`/api/interviews/${encodeURIComponent(interview.id)}/complete`);
        location.reload();
      } catch (err) {
        finish.disabled = false;
        $("#feedback-body").replaceChildren(el("p", { class: "notice notice--error", role: "alert" }, err.message));
      }
    });
    actions.append(finish);
  }
  return el(
    "div",
    { class: "page-head" },
    el(
      "div",
      {},
      el("span", { class: "eyebrow" }, `${TYPE_LABELS[interview.interview_type] || interview.interview_type} interview · ${interview.duration_minutes} min`),
      el("h1", { id: "interview-title" }, interview.role),
      el(
        "dl",
        { class: "meta-list" },
        metaItem("Date", formatDate(interview.started_at)),
        metaItem("Call time", formatMinutes(interview.active_seconds)),
        metaItem("Status", statusBadge(interview.status)),
      ),
    ),
    actions.children.length ? actions : null,
  );
}

function pendingBlock() {
  return el(
    "div",
    { class: "pending", id: "feedback-pending", role: "status" },
    el("span", { class: "spinner", "aria-hidden": "true" }),
    el(
      "div",
      {},
      el("strong", {}, "Preparing your feedback…"),
      el("p", { class: "muted small" }, "This usually takes a moment. This page updates by itself; you can also come back later."),
    ),
  );
}

/** Say a change of the feedback's state to screen readers once (the report itself is not read out whole). */
function announce(text) {
  const region = $("#feedback-announce");
  if (!region || text === announced) return;
  announced = text;
  region.textContent = text;
}

function setBusy(busy) {
  $("#feedback")?.setAttribute("aria-busy", String(busy));
}

function showPending() {
  const body = $("#feedback-body");
  if (!$("#feedback-pending")) body.replaceChildren(pendingBlock());
  setBusy(true);
}

/** "Try again" on a failed report: ask for it again, then wait for it like the first time. */
async function retryFeedback(button) {
  const error = $("#feedback-retry-error");
  button.disabled = true;
  button.textContent = "Asking again…";
  error.hidden = true;
  try {
    await api.post(`/api/feedback/${encodeURIComponent(interviewId)}/retry`);
  } catch (err) {
    // 409: it is not failed any more (another tab asked already); the next load shows where it is.
    if (!(err instanceof ApiError && err.status === 409)) {
      button.disabled = false;
      button.textContent = "Try again";
      error.textContent = `That did not work: ${err.message}`;
      error.hidden = false;
      return;
    }
  }
  showPending();
  announce("Preparing your feedback again.");
  pollStarted = performance.now();
  schedule(FIRST_POLL_MS);
}

async function loadFeedback() {
  const body = $("#feedback-body");
  clearTimeout(pollTimer);
  let result;
  try {
    result = await api.get(`/api/feedback/${encodeURIComponent(interviewId)}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) {
      body.replaceChildren(
        el("p", { class: "muted", id: "feedback-not-ready" }, "Feedback is written once the interview is finished. Rejoin the call to carry on, or finish it now to get your feedback."),
      );
      setBusy(false);
      return;
    }
    body.replaceChildren(el("p", { class: "notice notice--warning", role: "status" }, `Feedback could not be loaded: ${err.message} Retrying…`));
    schedule();
    return;
  }
  if (result.status === 202 || result.data.status === "pending") {
    showPending();
    schedule();
    return;
  }
  const report = result.data;
  const waited = Boolean($("#feedback-pending"));
  body.replaceChildren(renderReport(report, { onRetry: retryFeedback }));
  setBusy(false);
  // Said when it changes under the reader's eyes; a report already there on arrival is simply read.
  if (waited) announce(report.status === "failed" ? "We could not prepare your feedback." : "Your feedback is ready.");
}

function schedule(delay = null) {
  const slow = performance.now() - pollStarted > SLOW_AFTER_MS;
  pollTimer = setTimeout(loadFeedback, delay ?? (slow ? SLOW_POLL_MS : POLL_MS));
}

/** The call's recording (candidate on the left, interviewer on the right), one player per call. */
function renderRecordings(recordings) {
  if (!recordings.length) return null;
  return el(
    "section",
    { class: "card", "aria-labelledby": "recording-title", id: "recording" },
    el("h2", { id: "recording-title" }, "Recording"),
    el("p", { class: "muted small" }, "You are on the left channel, the interviewer on the right."),
    recordings.map((r, i) =>
      el(
        "div",
        { class: "field" },
        recordings.length > 1 ? el("p", {}, `Call ${i + 1}`) : null,
        el("audio", { controls: true, preload: "metadata", src: r.url, "aria-label": `Recording of call ${i + 1}` }),
      ),
    ),
  );
}

async function main() {
  mountHeader(null);
  const content = $("#content");
  await requireUser();
  let data;
  try {
    ({ data } = await api.get(`/api/interviews/${encodeURIComponent(interviewId)}`));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      content.replaceChildren(
        el("h1", {}, "Interview not found"),
        el("p", { class: "muted" }, "It may belong to another account, or the link is wrong."),
        el("a", { class: "button", href: "/history" }, "See your interviews"),
      );
    } else {
      showPageError(content, err.message);
    }
    content.setAttribute("aria-busy", "false");
    return;
  }
  const { interview, messages, live, recordings = [] } = data;
  document.title = `${interview.role} interview · Mock Interviewer`;

  const blocks = [headerBlock(interview, live)];
  if (interview.status === "in_progress" && live) {
    blocks.push(el("p", { class: "notice notice--info", role: "status" }, "A call for this interview is live right now in another tab or window."));
  }
  blocks.push(
    // Outside the section, which is aria-busy while the report is written (and before it: cards space by adjacency).
    el("p", { class: "visually-hidden", id: "feedback-announce", role: "status" }),
    el(
      "section",
      { class: "card", id: "feedback", "aria-labelledby": "feedback-title", "aria-busy": "true" },
      el("h2", { id: "feedback-title" }, "Feedback"),
      el("div", { id: "feedback-body" }, el("p", { class: "muted" }, "Loading…")),
    ),
  );
  const quality = renderCallQuality(messages);
  if (quality) blocks.push(quality);
  const recording = renderRecordings(recordings);
  if (recording) blocks.push(recording);
  const list = el("ol", { class: "transcript", id: "transcript" }, messages.map(messageNode));
  blocks.push(
    el(
      "section",
      { class: "card", "aria-labelledby": "transcript-title" },
      el(
        "div",
        { class: "transcript-card__head" },
        el("h2", { id: "transcript-title" }, "Transcript"),
        el("span", { class: "muted small" }, `${messages.length} ${messages.length === 1 ? "line" : "lines"}`),
      ),
      messages.length ? list : el("p", { class: "empty" }, "Nothing was said in this interview."),
    ),
  );
  content.replaceChildren(...blocks);
  content.setAttribute("aria-busy", "false");
  await loadFeedback();
}

main();
