// The call page: microphone permission, the WebRTC call, live transcript, timer, mute, end, and every way a
// call can fail or end, each explained with what to do next.

import { ApiError, TRY_AGAIN_CODES, api, requireUser } from "./api.js";
import { LevelProbe, meterLevel, renderMeter } from "./audio.js";
import { InterviewCall } from "./rtc.js";
import { LiveTranscript } from "./transcript.js";
import { $, TYPE_LABELS, el, formatClock, formatMinutes, icon, mountHeader } from "./ui.js";

const interviewId = decodeURIComponent(location.pathname.split("/")[2] || "");
const main = $("#main");
const startButton = $("#start-call");
const muteButton = $("#mute");
const endButton = $("#end");
const endDialog = $("#end-dialog");
const agentAudio = $("#agent-audio");
const micMeter = $("#mic-level");
const avatar = document.querySelector(".agent-avatar");
const transcript = new LiveTranscript($("#transcript"), {
  announcer: $("#sr-transcript"),
  empty: $("#transcript-empty"),
});

let interview = null;
let micStream = null;
let audioContext = null;
let call = null;
let micProbe = null;
let agentProbe = null;
let agentPeak = 0;
let meterTimer = null;
let clockTimer = null;
let connectedAt = null;
let elapsedBefore = 0;
let muted = false;
let ending = false;
let noticeTimer = null;

// ------------------------------------------------------------------------------------------ view helpers

function setCallState(state) {
  main.dataset.callState = state;
  const badge = $("#call-badge");
  if (!badge) return;
  const labels = {
    microphone: "Waiting for the microphone",
    blocked: "Not started",
    connecting: "Connecting",
    live: "Live",
    ending: "Ending",
    ended: "Ended",
    failed: "Disconnected",
    over: "Finished",
  };
  badge.textContent = labels[state] || "Ready";
  badge.className = `badge${state === "live" ? " badge--in_progress" : ""}`;
}

function show(section) {
  $("#call-loading").hidden = true;
  for (const id of ["panel-start", "panel-problem", "call-view"]) $(`#${id}`).hidden = id !== section;
}

const AGENT_STATES = {
  connecting: ["Connecting", "Connecting to your interviewer…"],
  listening: ["Listening", "Your turn: answer out loud, and pause when you have finished."],
  thinking: ["Thinking", "The interviewer is thinking about your answer…"],
  speaking: ["Speaking", "The interviewer is speaking. You can interrupt by talking."],
  ended: ["Ended", "The call has ended."],
};

function setAgentState(state) {
  const [label, hint] = AGENT_STATES[state] || [state, ""];
  main.dataset.agentState = state;
  $("#agent-state").textContent = label;
  $("#agent-hint").textContent = hint;
}

function showNotice(message, { sticky = false, action = null } = {}) {
  const notice = $("#call-notice");
  notice.replaceChildren(el("p", {}, message));
  if (action) notice.append(action);
  notice.hidden = false;
  clearTimeout(noticeTimer);
  if (!sticky) noticeTimer = setTimeout(() => (notice.hidden = true), 8000);
}

function hideNotice() {
  clearTimeout(noticeTimer);
  $("#call-notice").hidden = true;
}

/**
 * Replace the call with an explanation: {tone: error|warning|info, symbol (an icon), title, text: [..], steps: [..],
 * actions: [{label, href} | {label, onClick}], the first is the primary one}.
 */
function showProblem({ tone = "error", symbol = "alert", title, text = [], steps = [], actions = [] }) {
  const panel = $("#panel-problem");
  panel.className = `card panel panel--${tone}`;
  $("#problem-icon").replaceChildren(icon(symbol));
  $("#problem-title").textContent = title;
  const body = $("#problem-body");
  body.replaceChildren(...text.map((p) => el("p", {}, p)));
  if (steps.length) body.append(el("ol", { class: "checklist" }, steps.map((s) => el("li", {}, s))));
  const row = $("#problem-actions");
  row.replaceChildren(
    ...actions.map((action, index) => {
      const cls = `button${index === 0 ? "" : " button--secondary"}`;
      if (action.href) return el("a", { class: cls, href: action.href, id: action.id }, action.label);
      return el("button", { type: "button", class: cls, id: action.id, onclick: action.onClick }, action.label);
    }),
  );
  show("panel-problem");
  panel.focus();
}

function heading(item) {
  $("#call-kind").textContent = `${TYPE_LABELS[item.interview_type] || item.interview_type} interview · ${item.duration_minutes} min`;
  $("#call-title").textContent = item.role;
  document.title = `${item.role} interview · Mock Interviewer`;
  $("#call-meta").replaceChildren(el("span", { class: "badge", id: "call-badge" }, "Ready"));
  $("#timer-total").textContent = `of ${formatClock(item.duration_minutes * 60)}`;
}

// ------------------------------------------------------------------------------------------ meters and clock

function startMeters() {
  clearInterval(meterTimer);
  meterTimer = setInterval(() => {
    const micRms = micProbe && !muted ? micProbe.rms() : 0;
    renderMeter(micMeter, meterLevel(micRms));
    main.dataset.micLevel = micRms.toFixed(4);
    const agentRms = agentProbe ? agentProbe.rms() : 0;
    agentPeak = Math.max(agentPeak, agentRms);
    main.dataset.agentLevel = agentRms.toFixed(4);
    main.dataset.agentPeak = agentPeak.toFixed(4);
    avatar.style.setProperty("--level", meterLevel(agentRms).toFixed(2));
  }, 60);
}

function stopMeters() {
  clearInterval(meterTimer);
  meterTimer = null;
  renderMeter(micMeter, 0);
  avatar.style.setProperty("--level", "0");
  main.dataset.agentLevel = "0";
}

function tickClock() {
  const planned = interview.duration_minutes * 60;
  const elapsed = elapsedBefore + (connectedAt === null ? 0 : (performance.now() - connectedAt) / 1000);
  $("#timer").textContent = formatClock(elapsed);
  const fill = $("#timer-fill");
  fill.style.width = `${Math.min(100, (elapsed / planned) * 100).toFixed(1)}%`;
  fill.classList.toggle("is-over", elapsed > planned);
  $("#timer-total").textContent = `of ${formatClock(planned)}${elapsed > planned ? " · wrapping up" : ""}`;
}

// ------------------------------------------------------------------------------------------ the call

async function requestMicrophone() {
  if (micStream && micStream.getAudioTracks().some((t) => t.readyState === "live")) return micStream;
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const err = new Error("insecure");
    err.name = "InsecureContext";
    throw err;
  }
  const stream = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    video: false,
  });
  for (const track of stream.getAudioTracks()) {
    track.enabled = !muted;
    track.addEventListener("ended", () => {
      if (call && !call.closed && !ending) {
        teardown({ stopMic: true });
        showProblem({
          symbol: "mic-off",
          title: "Your microphone was disconnected",
          text: ["The microphone stopped working during the call (it may have been unplugged or switched off). Your answers so far are saved."],
          actions: [{ label: "Reconnect", id: "reconnect", onClick: start }],
        });
        setCallState("failed");
      }
    });
  }
  micStream = stream;
  micProbe?.disconnect();
  micProbe = new LevelProbe(audioContext, stream);
  return stream;
}

function microphoneProblem(err) {
  setCallState("blocked");
  const retry = { label: "Try again", id: "retry-microphone", onClick: start };
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    showProblem({
      symbol: "mic-off",
      title: "Microphone access is blocked",
      text: [
        "The interviewer needs to hear your answers, and your browser did not let this page use the microphone. Nothing has started yet, and your interview is waiting for you.",
        "To allow it:",
      ],
      steps: [
        "Click the icon at the left of the address bar (a padlock or a microphone with a cross).",
        "Find Microphone and choose Allow.",
        "Click Try again below. If your browser still does not ask, check that your computer's privacy settings let the browser use the microphone.",
      ],
      actions: [retry, { label: "Back to dashboard", href: "/dashboard" }],
    });
  } else if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    showProblem({
      symbol: "mic-off",
      title: "No microphone found",
      text: ["Your browser could not find a microphone. Connect a headset or microphone, then try again."],
      actions: [retry, { label: "Back to dashboard", href: "/dashboard" }],
    });
  } else if (name === "NotReadableError" || name === "AbortError" || name === "TrackStartError") {
    showProblem({
      symbol: "mic-off",
      title: "The microphone is busy",
      text: ["Your microphone is in use by another application or could not be started. Close other apps that use it (video calls, recorders), then try again."],
      actions: [retry, { label: "Back to dashboard", href: "/dashboard" }],
    });
  } else if (name === "InsecureContext") {
    showProblem({
      symbol: "mic-off",
      title: "This page cannot use the microphone",
      text: ["Browsers only allow the microphone on secure (https) pages. Open this site through its https address and try again."],
      actions: [{ label: "Back to dashboard", href: "/dashboard" }],
    });
  } else {
    showProblem({
      title: "The microphone could not start",
      text: [`Your browser reported: ${(err && err.message) || "an unknown error"}.`],
      actions: [retry, { label: "Back to dashboard", href: "/dashboard" }],
    });
  }
}

/** The candidate's click: microphone first (with its explanations), then the call. */
async function start() {
  // Created inside the click, so audio may play and be analysed.
  audioContext ??= new AudioContext();
  audioContext.resume().catch(() => {});
  hideNotice();
  ending = false;
  setCallState("microphone");
  startButton.disabled = true;
  startButton.textContent = "Waiting for the microphone…";
  try {
    await requestMicrophone();
  } catch (err) {
    microphoneProblem(err);
    return;
  } finally {
    startButton.disabled = false;
    startButton.textContent = "Allow microphone and start";
  }
  await connect();
}

function interviewOver(item) {
  const completed = item.status === "completed";
  setCallState("over");
  showProblem({
    tone: "info",
    symbol: "check",
    title: completed ? "This interview is finished" : "This interview has closed",
    text: [
      completed
        ? "It has been completed, so there is no call to join. Its transcript and feedback are on the interview page."
        : "It was left idle for too long and has been closed. Its transcript so far is on the interview page; start a new interview to practice again.",
    ],
    actions: [
      { label: "See the interview", href: `/interviews/${interviewId}`, id: "see-interview" },
      { label: "Back to dashboard", href: "/dashboard" },
    ],
  });
}

function connectProblem(err) {
  setCallState("failed");
  if (err instanceof ApiError && err.code === "interview_not_in_progress") {
    interviewOver({ status: /completed/.test(err.message) ? "completed" : "abandoned" });
    return;
  }
  if (err instanceof ApiError && TRY_AGAIN_CODES.has(err.code)) {
    serverBusy(err);
    return;
  }
  if (err instanceof ApiError && err.status === 404) {
    showProblem({
      title: "We cannot find this interview",
      text: ["It may belong to another account, or the link is wrong."],
      actions: [{ label: "Back to dashboard", href: "/dashboard" }],
    });
    return;
  }
  showProblem({
    symbol: "wifi-off",
    title: "We could not connect to the interviewer",
    text: [
      err instanceof ApiError ? err.message : `The call could not be set up (${err.message || err}).`,
      "Check your internet connection, then try again. Your interview has not lost anything.",
    ],
    actions: [
      { label: "Try again", id: "reconnect", onClick: start },
      { label: "Back to dashboard", href: "/dashboard" },
    ],
  });
}

/** The server is full for the moment (no media port, too many calls connecting, at capacity): the same
 * "try again in a moment" for each, with the button ready once the server's Retry-After has passed. */
function serverBusy(err) {
  const wait = Math.max(1, err.retryAfter ?? 5);
  const retry = { label: "Try again", id: "reconnect", onClick: start };
  showProblem({
    tone: "info",
    symbol: "wifi-off",
    title: "The interviewer is busy right now",
    text: [
      `The server cannot take another call at this moment. Try again in a moment (about ${wait} s). Your interview is waiting for you and has not lost anything.`,
    ],
    actions: [retry, { label: "Back to dashboard", href: "/dashboard" }],
  });
  const button = document.getElementById("reconnect");
  if (button) {
    button.disabled = true;
    setTimeout(() => {
      button.disabled = false;
    }, wait * 1000);
  }
}

async function connect() {
  setCallState("connecting");
  setAgentState("connecting");
  show("call-view");
  muteButton.disabled = false;
  endButton.disabled = false;
  connectedAt = null;
  try {
    // The conversation so far and the clock: a rejoined interview continues where it stopped.
    const { data } = await api.get(`/api/interviews/${encodeURIComponent(interviewId)}`);
    interview = data.interview;
    if (interview.status !== "in_progress") {
      teardown({ stopMic: true });
      interviewOver(interview);
      return;
    }
    elapsedBefore = interview.active_seconds || 0;
    transcript.setHistory(data.messages);
    tickClock();
  } catch (err) {
    connectProblem(err);
    return;
  }

  call = new InterviewCall(interviewId, micStream);
  window.__interviewCall = call; // diagnostics: the peer connection is window.__interviewCall.pc
  call.setMuted(muted);
  call.addEventListener("track", (event) => playAgent(event.detail));
  call.addEventListener("connected", onConnected);
  call.addEventListener("message", (event) => onServerEvent(event.detail));
  call.addEventListener("lost", (event) => onLost(event.detail.reason));
  startMeters();
  try {
    await call.connect();
  } catch (err) {
    teardown({ stopMic: false });
    connectProblem(err);
  }
}

function playAgent(stream) {
  agentAudio.srcObject = stream;
  agentAudio.play().catch(() => {
    const button = el("button", { type: "button", class: "button button--secondary" }, "Turn on sound");
    button.addEventListener("click", () => {
      agentAudio.play().then(hideNotice, () => {});
      audioContext?.resume();
    });
    showNotice("Your browser paused the interviewer's voice.", { sticky: true, action: button });
  });
  agentProbe?.disconnect();
  agentProbe = new LevelProbe(audioContext, stream);
}

function onConnected() {
  setCallState("live");
  connectedAt = performance.now();
  clearInterval(clockTimer);
  clockTimer = setInterval(tickClock, 250);
  tickClock();
  if (main.dataset.agentState === "connecting") {
    $("#agent-state").textContent = "Connected";
    $("#agent-hint").textContent = "Your interviewer is about to greet you.";
  }
}

function onServerEvent(message) {
  switch (message.type) {
    case "state":
      setAgentState(message.state);
      break;
    case "transcript":
      transcript.update(message.role, message.text || "", Boolean(message.final));
      break;
    case "error":
      if (message.message) showNotice(message.message);
      break;
    case "ended":
      if (!ending) onEnded(message.reason);
      break;
    default:
      break;
  }
}

/** Close the call and stop the clock; the microphone stays on for a reconnect unless `stopMic`. */
function teardown({ stopMic }) {
  clearInterval(clockTimer);
  clockTimer = null;
  if (connectedAt !== null) {
    elapsedBefore += (performance.now() - connectedAt) / 1000;
    connectedAt = null;
  }
  stopMeters();
  call?.close();
  agentProbe?.disconnect();
  agentProbe = null;
  agentAudio.srcObject = null;
  transcript.settle();
  if (stopMic && micStream) {
    for (const track of micStream.getTracks()) track.stop();
    micStream = null;
    micProbe?.disconnect();
    micProbe = null;
  }
}

const ENDINGS = {
  completed: {
    tone: "info",
    symbol: "check",
    title: "The interview is over",
    text: "Your interviewer wrapped up the interview. Well done for practicing! Your transcript is saved and your feedback is being prepared.",
    done: true,
  },
  candidate_ended: {
    tone: "info",
    symbol: "check",
    title: "You ended the interview",
    text: "Your transcript is saved and your feedback is being prepared.",
    done: true,
  },
  time_limit: {
    tone: "info",
    symbol: "clock",
    title: "Time is up",
    text: "The interview reached its planned length, so the call ended. Your transcript is saved and your feedback is being prepared.",
    done: true,
  },
  replaced: {
    tone: "warning",
    symbol: "tabs",
    title: "This interview continued in another tab",
    text: "It was opened in another tab or window, and only one call can be live at a time, so the call here ended. Carry on in the other tab, or continue here instead (which ends the call there).",
    rejoin: "Continue here",
  },
  media_timeout: {
    tone: "warning",
    symbol: "mic-off",
    title: "The call stopped hearing you",
    text: "The server received no audio from your microphone for a while (the connection may have dropped, or the tab was suspended), so it ended the call. Everything said so far is saved; rejoin to carry on where you stopped.",
    rejoin: "Rejoin the interview",
  },
  server_shutdown: {
    tone: "warning",
    symbol: "restart",
    title: "The interview server restarted",
    text: "The server was restarted during your call. Everything said so far is saved. Wait a few seconds, then rejoin to carry on where you stopped.",
    rejoin: "Rejoin the interview",
  },
  hangup: {
    tone: "warning",
    symbol: "wifi-off",
    title: "The call was disconnected",
    text: "The connection to the interviewer closed. Everything said so far is saved; rejoin to carry on where you stopped.",
    rejoin: "Rejoin the interview",
  },
};

function onEnded(reason) {
  teardown({ stopMic: true });
  setAgentState("ended");
  setCallState("ended");
  const info = ENDINGS[reason] || ENDINGS.hangup;
  const actions = info.done
    ? [
        { label: "See transcript and feedback", href: `/interviews/${interviewId}`, id: "see-interview" },
        { label: "Back to dashboard", href: "/dashboard" },
      ]
    : [
        { label: info.rejoin, id: "reconnect", onClick: start },
        { label: "See the transcript so far", href: `/interviews/${interviewId}` },
      ];
  showProblem({ tone: info.tone, symbol: info.symbol, title: info.title, text: [info.text], actions });
  $("#panel-problem").dataset.reason = reason;
}

function onLost(reason) {
  if (ending) return;
  teardown({ stopMic: false });
  setCallState("failed");
  const neverConnected = reason === "connect_timeout";
  showProblem({
    symbol: "wifi-off",
    title: neverConnected ? "We could not reach the interviewer" : "The connection to the interviewer was lost",
    text: [
      neverConnected
        ? "The call was set up but no audio could flow. A firewall or VPN may be blocking voice calls; try another network if this keeps happening."
        : "Your network may have changed or dropped for a moment. Everything said so far is saved, and the interview clock paused with the call.",
      "Reconnect to carry on where you stopped.",
    ],
    actions: [
      { label: "Reconnect", id: "reconnect", onClick: () => (micStream ? connect() : start()) },
      { label: "See the transcript so far", href: `/interviews/${interviewId}` },
    ],
  });
  $("#panel-problem").dataset.reason = reason;
}

async function complete() {
  try {
    await api.post(`/api/interviews/${encodeURIComponent(interviewId)}/complete`);
    location.assign(`/interviews/${interviewId}`);
  } catch (err) {
    setCallState("failed");
    showProblem({
      title: "We could not finish the interview",
      text: [err.message, "Your call has ended and your transcript is saved. Try again to mark the interview finished and get your feedback."],
      actions: [
        { label: "Try again", id: "retry-complete", onClick: complete },
        { label: "See the interview", href: `/interviews/${interviewId}` },
      ],
    });
  }
}

async function endInterview() {
  if (ending) return;
  ending = true;
  setCallState("ending");
  muteButton.disabled = true;
  endButton.disabled = true;
  $("#agent-state").textContent = "Ending";
  $("#agent-hint").textContent = "Ending the interview and saving your transcript…";
  await call?.end(3000);
  teardown({ stopMic: true });
  await complete();
}

// ------------------------------------------------------------------------------------------ controls

startButton.addEventListener("click", start);

muteButton.addEventListener("click", () => {
  muted = !muted;
  if (call && !call.closed) call.setMuted(muted);
  else if (micStream) for (const track of micStream.getAudioTracks()) track.enabled = !muted;
  muteButton.setAttribute("aria-pressed", String(muted));
  muteButton.textContent = muted ? "Unmute" : "Mute";
  $("#mic-status").textContent = muted ? "Muted: the interviewer cannot hear you" : "On";
  micMeter.classList.toggle("is-muted", muted);
});

endButton.addEventListener("click", () => {
  if (typeof endDialog.showModal === "function") endDialog.showModal();
  else if (window.confirm("End the interview now?")) endInterview();
});
$("#end-cancel").addEventListener("click", () => endDialog.close());
$("#end-confirm").addEventListener("click", () => {
  endDialog.close();
  endInterview();
});

// Leaving the page hangs up at once (the interview stays open for a rejoin).
window.addEventListener("pagehide", () => call?.close());

// ------------------------------------------------------------------------------------------ load

async function load() {
  mountHeader(null);
  await requireUser();
  let data;
  try {
    ({ data } = await api.get(`/api/interviews/${encodeURIComponent(interviewId)}`));
  } catch (err) {
    connectProblem(err);
    return;
  }
  interview = data.interview;
  heading(interview);
  if (interview.status !== "in_progress") {
    interviewOver(interview);
    return;
  }
  if (data.messages.length > 0 || interview.active_seconds >= 5) {
    const note = $("#resume-note");
    note.textContent = `You have done ${formatMinutes(interview.active_seconds)} of ${interview.duration_minutes} minutes. Rejoining carries on where you stopped.`;
    note.hidden = false;
    $("#start-title").textContent = "Rejoin your interview";
  }
  $("#live-elsewhere").hidden = !data.live;
  setCallState("ready");
  show("panel-start");
}

load();
