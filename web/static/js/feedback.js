// The feedback report of an interview: the five scores, strengths and improvements, a card per question, how
// the candidate spoke, who scored it; and the call's quality (per-turn response times) from the transcript.

import { el } from "./ui.js";

export const SCORES = [
  ["overall_score", "Overall"],
  ["technical_depth_score", "Technical depth"],
  ["communication_score", "Communication"],
  ["structure_score", "Structure"],
  ["confidence_score", "Confidence"],
];

/** The comfortable interview pace, in words per minute (as the speech metrics flag it). */
export const PACE_BAND = [110, 170];
/** The pace scale drawn around the band. */
const PACE_SCALE = [60, 220];
const LONG_ANSWER = "over 2 minutes";
const SHORT_ANSWER = "under 15 seconds";

const BULLET = /^(?:[-*•‣▪]|\d{1,2}[.)])\s+/;

// ------------------------------------------------------------------------------------------ formatting

const isNumber = (value) => typeof value === "number" && Number.isFinite(value);

/** A number with at most `digits` decimals ("5.6", "120"), or null. */
export function formatNumber(value, digits = 1) {
  if (!isNumber(value)) return null;
  return value.toLocaleString("en", { maximumFractionDigits: digits });
}

/** "9 s", "1 min 12 s", "0.8 s" from seconds. */
export function formatSeconds(value) {
  if (!isNumber(value)) return null;
  if (value < 10) return `${formatNumber(value, 1)} s`;
  const total = Math.round(value);
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

/** "780 ms", "1.24 s" from milliseconds. */
export function formatMs(value) {
  if (!isNumber(value)) return null;
  if (value > 0 && value < 1) return "<1 ms";
  if (value < 1000) return `${Math.round(value)} ms`;
  return `${formatNumber(value / 1000, 2)} s`;
}

const listFormat = new Intl.ListFormat("en", { style: "long", type: "conjunction" });

/** [0, 2] -> "answer 1 and answer 3" (the metrics number answers from 0; people from 1). */
export function answerNames(indexes) {
  return listFormat.format(indexes.map((index) => `answer ${index + 1}`));
}

function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

/** Text with one item per line ("\n"), bullets or numbers tolerated; a list is taken as it is. */
export function splitItems(value) {
  if (Array.isArray(value)) return value.map((item) => String(item ?? "").trim()).filter(Boolean);
  if (typeof value !== "string") return [];
  return value
    .split(/\r?\n/)
    .map((line) => line.trim().replace(BULLET, "").trim())
    .filter(Boolean);
}

/** {um: 2, like: 3} -> [["like", 3], ["um", 2]], most frequent first. */
function topCounts(counts, limit = 4) {
  if (!counts || typeof counts !== "object") return [];
  return Object.entries(counts)
    .filter(([, n]) => isNumber(n) && n > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit);
}

// ------------------------------------------------------------------------------------------ scores

/** One line that reads the overall score for a person. */
export function scoreReading(score) {
  if (score >= 85) return "Excellent: interview-ready answers, with only small things to polish.";
  if (score >= 70) return "Strong: solid answers; the points below would make them stand out.";
  if (score >= 55) return "A fair base: good parts to build on, and clear room to improve.";
  if (score >= 40) return "Developing: the answers need more depth and structure; start with the points to work on.";
  return "Early days: focus on the points to work on below, then practise again.";
}

function scoreRow(key, label, value) {
  const fill = el("div", { class: "score__fill" });
  fill.style.width = `${Math.max(0, Math.min(100, value))}%`;
  const overall = key === "overall_score";
  return el(
    "div",
    { class: `score${overall ? " score--overall" : ""}`, dataset: { score: key } },
    el("span", { class: "score__label", id: `score-${key}` }, label),
    el(
      "div",
      {
        class: "score__bar",
        role: "meter",
        "aria-labelledby": `score-${key}`,
        "aria-valuemin": "0",
        "aria-valuemax": "100",
        "aria-valuenow": String(value),
        "aria-valuetext": `${value} out of 100`,
      },
      fill,
    ),
    el("span", { class: "score__value" }, String(value), overall ? el("span", { class: "score__max" }, "/100") : null),
  );
}

export function renderScores(report) {
  const present = SCORES.filter(([key]) => isNumber(report[key]));
  if (!present.length) return null;
  const overall = report.overall_score;
  const parts = present.filter(([key]) => key !== "overall_score").map(([key, label]) => scoreRow(key, label, report[key]));
  return el(
    "div",
    { class: "scores", id: "feedback-scores" },
    isNumber(overall)
      ? el(
          "div",
          { class: "score-hero" },
          scoreRow("overall_score", "Overall score", overall),
          el("p", { class: "score-reading", id: "score-reading" }, scoreReading(overall)),
        )
      : null,
    parts.length ? el("div", { class: "scores__parts" }, parts) : null,
  );
}

// ------------------------------------------------------------------------------------------ lists

function itemList(items, className) {
  return el("ul", { class: `points ${className}` }, items.map((item) => el("li", {}, item)));
}

function strengthsAndImprovements(report) {
  const strengths = splitItems(report.strengths);
  const improvements = splitItems(report.improvements);
  if (!strengths.length && !improvements.length) return null;
  const column = (id, title, items, className, empty) =>
    el(
      "div",
      { class: `takeaways__col takeaways__col--${className}`, id, "aria-labelledby": `${id}-title`, role: "group" },
      el("h3", { id: `${id}-title` }, title),
      items.length ? itemList(items, `points--${className}`) : el("p", { class: "muted small" }, empty),
    );
  return el(
    "div",
    { class: "takeaways" },
    column("strengths", "What went well", strengths, "good", "Nothing stood out yet; the notes below say what to build on."),
    column("improvements", "What to work on", improvements, "todo", "Nothing in particular: keep practising."),
  );
}

// ------------------------------------------------------------------------------------------ questions

function questionCard(note, number) {
  const good = splitItems(note.good);
  const missing = splitItems(note.missing);
  const titleId = `question-${number}-title`;
  const lists = [];
  if (good.length || missing.length) {
    lists.push(
      el(
        "div",
        { class: "qnote__lists" },
        el(
          "div",
          {},
          el("h5", { class: "qnote__label" }, "What was good"),
          good.length ? itemList(good, "points--good") : el("p", { class: "muted small" }, "Nothing noted."),
        ),
        el(
          "div",
          {},
          el("h5", { class: "qnote__label" }, "What was missing"),
          missing.length ? itemList(missing, "points--todo") : el("p", { class: "muted small" }, "Nothing: well covered."),
        ),
      ),
    );
  }
  return el(
    "li",
    { class: "qnote", "aria-labelledby": titleId },
    el("span", { class: "qnote__number" }, `Question ${number}`),
    el("h4", { class: "qnote__question", id: titleId }, note.question || "Question"),
    note.answer_summary
      ? el("div", { class: "qnote__summary" }, el("h5", { class: "qnote__label" }, "Your answer, in short"), el("p", {}, note.answer_summary))
      : null,
    lists,
    note.stronger_answer
      ? el(
          "figure",
          { class: "stronger" },
          el("figcaption", { class: "qnote__label" }, "A stronger answer"),
          el("blockquote", {}, el("p", {}, note.stronger_answer)),
        )
      : null,
  );
}

function questionsSection(details) {
  const notes = Array.isArray(details?.questions) ? details.questions.filter((n) => n && typeof n === "object") : [];
  if (!notes.length) return null;
  return el(
    "section",
    { class: "report-section", id: "feedback-questions", "aria-labelledby": "questions-title" },
    el("h3", { id: "questions-title" }, "Question by question"),
    el("ol", { class: "qnotes" }, notes.map((note, i) => questionCard(note, i + 1))),
  );
}

// ------------------------------------------------------------------------------------------ speech

function tile(id, label, figure, ...details) {
  return el(
    "div",
    { class: "tile", id },
    el("h4", { class: "tile__label" }, label),
    el("p", { class: "tile__figure" }, figure),
    details,
  );
}

const PACE_LABELS = { slow: "A little slow", ok: "A comfortable pace", fast: "A little fast" };

function paceTile(speech) {
  const wpm = speech.words_per_minute;
  const [low, high] = PACE_BAND;
  const [min, max] = PACE_SCALE;
  const at = (value) => `${((Math.max(min, Math.min(max, value)) - min) / (max - min)) * 100}%`;
  let scale = null;
  if (isNumber(wpm)) {
    const band = el("span", { class: "pace-scale__band" });
    band.style.left = at(low);
    band.style.width = `calc(${at(high)} - ${at(low)})`;
    const marker = el("span", { class: `pace-scale__marker pace-scale__marker--${speech.pace || "ok"}` });
    marker.style.left = at(wpm);
    const lowLabel = el("span", { class: "pace-scale__tick" }, String(low));
    lowLabel.style.left = at(low);
    const highLabel = el("span", { class: "pace-scale__tick" }, String(high));
    highLabel.style.left = at(high);
    scale = el(
      "div",
      {
        class: "pace-scale",
        role: "img",
        "aria-label": `${formatNumber(wpm)} words per minute; a comfortable range is ${low} to ${high}.`,
      },
      el("span", { class: "pace-scale__track" }, band, marker),
      el("span", { class: "pace-scale__ticks", "aria-hidden": "true" }, lowLabel, highLabel),
    );
  }
  const flag = speech.pace
    ? el("span", { class: `flag flag--${speech.pace}`, id: "pace-flag" }, PACE_LABELS[speech.pace] || speech.pace)
    : null;
  return el(
    "div",
    { class: "tile tile--wide", id: "speech-pace" },
    el("h4", { class: "tile__label" }, "Pace"),
    el(
      "p",
      { class: "tile__figure" },
      isNumber(wpm) ? [el("span", { class: "tile__number", id: "pace-wpm" }, formatNumber(wpm)), " words per minute "] : "Not enough speech to measure ",
      flag,
    ),
    scale,
    el("p", { class: "tile__note" }, `Most listeners find ${low}–${high} words per minute comfortable in an interview.`),
  );
}

function countChips(counts, label) {
  const top = topCounts(counts);
  if (!top.length) return null;
  return el(
    "ul",
    { class: "chips", "aria-label": label },
    top.map(([word, n]) => el("li", { class: "chip" }, `“${word}”`, el("span", { class: "chip__count" }, ` ×${n}`))),
  );
}

const RELIABILITY_LABELS = { high: "High", medium: "Medium", low: "Low", unknown: "Unknown" };

function reliabilityNote(reliability) {
  if (!reliability || !reliability.note) return null;
  const level = RELIABILITY_LABELS[reliability.level] ? reliability.level : "unknown";
  return el(
    "p",
    { class: `reliability reliability--${level}`, id: "filler-reliability" },
    el("span", { class: "reliability__icon", "aria-hidden": "true" }, "i"),
    el("span", {}, el("strong", {}, `Count reliability: ${RELIABILITY_LABELS[level].toLowerCase()}. `), reliability.note),
  );
}

function perMinute(rate, count, noun) {
  if (isNumber(rate)) return [el("span", { class: "tile__number" }, formatNumber(rate)), " per minute"];
  if (isNumber(count)) return [el("span", { class: "tile__number" }, String(count)), ` ${noun}`];
  return "—";
}

function fillerTile(speech, reliability) {
  const count = speech.filler_count;
  return el(
    "div",
    { class: "tile", id: "speech-fillers" },
    el("h4", { class: "tile__label" }, "Filler words"),
    el("p", { class: "tile__figure", id: "filler-rate" }, perMinute(speech.fillers_per_minute, count, "in total")),
    isNumber(count) ? el("p", { class: "tile__note" }, count ? `${plural(count, "filler")} in all, most often:` : "None heard. Well done.") : null,
    countChips(speech.filler_counts, "Most frequent fillers"),
    reliabilityNote(reliability),
  );
}

function hedgeTile(speech) {
  const count = speech.hedge_count;
  return el(
    "div",
    { class: "tile", id: "speech-hedges" },
    el("h4", { class: "tile__label" }, "Hedges"),
    el("p", { class: "tile__figure" }, perMinute(speech.hedges_per_minute, count, "in total")),
    el(
      "p",
      { class: "tile__note" },
      isNumber(count) && count
        ? `${plural(count, "hedge")} (phrases that soften what you say), most often:`
        : "Phrases like “I think” or “maybe” that soften what you say: none heard.",
    ),
    countChips(speech.hedge_counts, "Most frequent hedges"),
  );
}

function talkShareTile(speech) {
  const share = speech.talk_share;
  if (!isNumber(share)) return tile("speech-talk-share", "Talk share", "—", el("p", { class: "tile__note" }, "Not enough speech to measure."));
  const you = Math.round(share * 100);
  const yours = el("span", { class: "talk-bar__you" });
  yours.style.width = `${share * 100}%`;
  const theirs = el("span", { class: "talk-bar__them" });
  theirs.style.width = `${(1 - share) * 100}%`;
  return el(
    "div",
    { class: "tile", id: "speech-talk-share" },
    el("h4", { class: "tile__label" }, "Talk share"),
    el("p", { class: "tile__figure" }, el("span", { class: "tile__number" }, `${you}%`), " of the talking was you"),
    el("div", { class: "talk-bar", role: "img", "aria-label": `You spoke ${you}% of the time, the interviewer ${100 - you}%.` }, yours, theirs),
    el(
      "p",
      { class: "talk-legend", "aria-hidden": "true" },
      el("span", { class: "talk-legend__you" }, `You ${formatSeconds(speech.total_seconds) ?? ""}`),
      el("span", { class: "talk-legend__them" }, `Interviewer ${formatSeconds(speech.interviewer_seconds) ?? ""}`),
    ),
  );
}

function startDelayTile(speech) {
  const delay = speech.mean_start_delay_seconds;
  return tile(
    "speech-start-delay",
    "Time to start answering",
    isNumber(delay) ? [el("span", { class: "tile__number" }, formatSeconds(delay)), " on average"] : "—",
    el(
      "p",
      { class: "tile__note" },
      isNumber(delay) ? "From the end of each question to your first word. A short pause to think is fine." : "No answer followed a question.",
    ),
  );
}

function lengthTile(speech) {
  const longest = formatSeconds(speech.longest_answer_seconds);
  const mean = formatSeconds(speech.mean_answer_seconds);
  const words = (n) => (isNumber(n) ? ` (${plural(Math.round(n), "word")})` : "");
  const long = Array.isArray(speech.long_answers) ? speech.long_answers : [];
  const short = Array.isArray(speech.short_answers) ? speech.short_answers : [];
  const flagged = (id, label, list, good) =>
    el(
      "li",
      { id, class: list.length ? "is-flagged" : null },
      el("span", { class: "lengths__label" }, label),
      " ",
      list.length ? el("strong", {}, answerNames(list)) : el("span", { class: "muted" }, good),
    );
  return el(
    "div",
    { class: "tile tile--wide", id: "speech-lengths" },
    el("h4", { class: "tile__label" }, "Answer length"),
    el(
      "dl",
      { class: "figures" },
      el("div", {}, el("dt", {}, "Longest"), el("dd", {}, longest ? `${longest}${words(speech.longest_answer_words)}` : "—")),
      el("div", {}, el("dt", {}, "Average"), el("dd", {}, mean ? `${mean}${words(speech.mean_answer_words)}` : "—")),
      el("div", {}, el("dt", {}, "Answers"), el("dd", {}, isNumber(speech.answer_count) ? String(speech.answer_count) : "—")),
    ),
    el(
      "ul",
      { class: "lengths" },
      flagged("long-answers", `Ran long (${LONG_ANSWER}):`, long, "none"),
      flagged("short-answers", `Very short (${SHORT_ANSWER}):`, short, "none"),
    ),
    el("p", { class: "tile__note" }, "Aim for one to two minutes: enough for context, what you did and the outcome."),
  );
}

function answersTable(speech) {
  const answers = Array.isArray(speech.answers) ? speech.answers : [];
  if (!answers.length) return null;
  const cell = (value) => el("td", { class: "num" }, value ?? "—");
  return el(
    "details",
    { class: "answers-details" },
    el("summary", {}, "Answer by answer"),
    el(
      "div",
      { class: "metrics-wrap", role: "region", "aria-label": "Answer by answer", tabindex: "0" },
      el(
        "table",
        { class: "metrics-table" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { scope: "col" }, "Answer"),
            el("th", { scope: "col", class: "num" }, "Length"),
            el("th", { scope: "col", class: "num" }, "Words"),
            el("th", { scope: "col", class: "num" }, "Words / min"),
            el("th", { scope: "col", class: "num" }, "Fillers"),
            el("th", { scope: "col", class: "num" }, "Hedges"),
            el("th", { scope: "col", class: "num" }, "Started after"),
          ),
        ),
        el(
          "tbody",
          {},
          answers.map((a) =>
            el(
              "tr",
              {},
              el(
                "th",
                { scope: "row" },
                `Answer ${(isNumber(a.index) ? a.index : 0) + 1}`,
                a.is_long ? el("span", { class: "flag flag--fast" }, "long") : null,
                a.is_short ? el("span", { class: "flag flag--slow" }, "short") : null,
              ),
              cell(formatSeconds(a.duration_seconds)),
              cell(isNumber(a.word_count) ? String(a.word_count) : null),
              cell(formatNumber(a.words_per_minute)),
              cell(isNumber(a.filler_count) ? String(a.filler_count) : null),
              cell(isNumber(a.hedge_count) ? String(a.hedge_count) : null),
              cell(formatSeconds(a.start_delay_seconds)),
            ),
          ),
        ),
      ),
    ),
  );
}

function speechSection(details) {
  const speech = details?.speech;
  if (!speech || typeof speech !== "object" || !Object.keys(speech).length) return null;
  const head = el("h3", { id: "speech-title" }, "How you spoke");
  if (!speech.answer_count) {
    return el(
      "section",
      { class: "report-section", id: "feedback-speech", "aria-labelledby": "speech-title" },
      head,
      el("p", { class: "muted" }, "No spoken answers were recorded, so there is nothing to measure."),
    );
  }
  return el(
    "section",
    { class: "report-section", id: "feedback-speech", "aria-labelledby": "speech-title" },
    head,
    el("p", { class: "muted small section-lead" }, "Measured from the recording of your answers."),
    el(
      "div",
      { class: "tiles" },
      paceTile(speech),
      fillerTile(speech, details.filler_reliability),
      hedgeTile(speech),
      talkShareTile(speech),
      startDelayTile(speech),
      lengthTile(speech),
    ),
    answersTable(speech),
  );
}

// ------------------------------------------------------------------------------------------ scorer

function scorerNote(details) {
  const by = details?.scored_by;
  if (!by && !details?.scoring_note) return null;
  const offline = by === "offline rules";
  const lead = offline ? "Scored offline by transparent rules." : by ? `Scored by ${by}.` : null;
  const note = details?.scoring_note || "";
  // The note may already say who scored it; then it is said once.
  const text = lead && note.startsWith(lead.replace(/\.$/, "")) ? note : [lead, note].filter(Boolean).join(" ");
  return el("p", { class: "scorer-note", id: "feedback-scorer" }, el("strong", {}, "Who scored this: "), text);
}

// ------------------------------------------------------------------------------------------ report

/** A failed report: the reason, and a button that asks for it again (`onRetry(button)`). */
function failedBlock(report, onRetry) {
  const button = onRetry
    ? el("button", { type: "button", class: "button button--secondary", id: "feedback-retry" }, "Try again")
    : null;
  button?.addEventListener("click", () => onRetry(button));
  return el(
    "div",
    { class: "notice notice--error feedback-failed", id: "feedback-failed" },
    el(
      "div",
      {},
      el("strong", {}, "We could not prepare feedback for this interview"),
      el("p", { id: "feedback-error" }, report.error || "The feedback generator failed."),
      el("p", {}, "Your transcript is saved below, so nothing is lost. If trying again does not help, read through it to review your answers."),
      el("p", { class: "feedback-failed__error", role: "alert", id: "feedback-retry-error", hidden: true }),
      button ? el("div", { class: "button-row" }, button) : null,
    ),
  );
}

/** The whole report (status ready or failed). `onRetry` is called with the "Try again" button of a failed one. */
export function renderReport(report, { onRetry = null } = {}) {
  if (report.status === "failed") return failedBlock(report, onRetry);
  const details = report.detailed_feedback && typeof report.detailed_feedback === "object" ? report.detailed_feedback : {};
  return el(
    "div",
    { id: "feedback-report" },
    renderScores(report),
    strengthsAndImprovements(report),
    questionsSection(details),
    speechSection(details),
    scorerNote(details),
  );
}

// ------------------------------------------------------------------------------------------ call quality

/** The median of numbers, or null. */
export function median(values) {
  const sorted = values.filter(isNumber).sort((a, b) => a - b);
  if (!sorted.length) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const STAGES = [
  ["endpointing_ms", "Endpointing", "the pause the interviewer waited to be sure you had finished"],
  ["stt_ms", "Speech recognition", "from the end of your speech to the final transcript"],
  ["llm_ttft_ms", "Interviewer first words", "until the interviewer had the first words of its reply"],
  ["tts_first_audio_ms", "Voice first audio", "until the voice had the first sound of that reply"],
];

/** Per-turn latency of the call, from the metrics stored with the interviewer's lines; null when there are none. */
export function renderCallQuality(messages) {
  const turns = (messages || [])
    .filter((m) => m.role === "assistant" && m.metrics && typeof m.metrics === "object" && isNumber(m.metrics.turn))
    .map((m) => m.metrics);
  if (!turns.length) return null;
  const typical = median(turns.filter((t) => t.turn > 0).map((t) => t.response_ms));
  const cell = (value) => el("td", { class: "num" }, formatMs(value) ?? "—");
  const rows = turns.map((t) =>
    el(
      "tr",
      { dataset: { turn: String(t.turn) } },
      el("th", { scope: "row" }, t.turn === 0 ? "Greeting" : String(t.turn)),
      el("td", { class: "num metrics-table__key" }, formatMs(t.response_ms) ?? "—"),
      STAGES.map(([key]) => cell(t[key])),
      el(
        "td",
        { class: "center" },
        t.early_reply
          ? el("span", { class: "early-mark", title: "Early reply used" }, el("span", { "aria-hidden": "true" }, "✓"), el("span", { class: "visually-hidden" }, "Yes"))
          : el("span", { class: "muted" }, el("span", { "aria-hidden": "true" }, "—"), el("span", { class: "visually-hidden" }, "No")),
      ),
    ),
  );
  return el(
    "section",
    { class: "card", id: "call-quality", "aria-labelledby": "call-quality-title" },
    el("h2", { id: "call-quality-title" }, "Call quality"),
    el(
      "p",
      { class: "call-quality__headline" },
      el("span", { class: "muted" }, "Median response time "),
      el("strong", { id: "median-response" }, formatMs(typical) ?? "—"),
    ),
    el(
      "p",
      { class: "muted small" },
      "Response time is how long you waited for the interviewer: from the end of your speech to the first sound of its reply.",
    ),
    el(
      "div",
      { class: "metrics-wrap", role: "region", "aria-labelledby": "call-quality-title", tabindex: "0" },
      el(
        "table",
        { class: "metrics-table", id: "latency-table" },
        el("caption", { class: "visually-hidden" }, "Response time of each turn of the call, and its stages"),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { scope: "col" }, "Turn"),
            el("th", { scope: "col", class: "num" }, "Response time"),
            STAGES.map(([, label]) => el("th", { scope: "col", class: "num" }, label)),
            el("th", { scope: "col", class: "center" }, "Early reply"),
          ),
        ),
        el("tbody", {}, rows),
      ),
    ),
    el(
      "details",
      { class: "stages-details" },
      el("summary", {}, "What the stages mean"),
      el(
        "dl",
        { class: "stages" },
        STAGES.map(([, label, text]) => el("div", {}, el("dt", {}, label), el("dd", {}, text))),
        el("div", {}, el("dt", {}, "Early reply"), el("dd", {}, "the interviewer started its reply during your pause, before the final transcript, and kept it because the words matched")),
      ),
      el("p", { class: "muted small" }, "The stages overlap, so they do not add up to the response time. The greeting answers no speech, so it has no response time."),
    ),
  );
}
