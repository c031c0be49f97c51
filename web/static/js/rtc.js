// One WebRTC call to the interviewer: the microphone up, the agent's voice down, JSON events both ways.
//
// Non-trickle signaling: the data channel "events" is created before the offer, every ICE candidate is
// gathered into the offer, and the server answers once (POST /api/interviews/{id}/rtc).

import { api } from "./api.js";

const GATHER_TIMEOUT_MS = 4000;
const CONNECT_TIMEOUT_MS = 20000;
const DISCONNECTED_GRACE_MS = 6000;

let configPromise = null;

/** The browser's ICE servers (GET /api/config), fetched once per page. */
export function iceServers() {
  configPromise ??= api.get("/api/config").then(
    ({ data }) => data.ice_servers || [],
    (err) => {
      configPromise = null; // asked again on the next attempt
      throw err;
    },
  );
  return configPromise;
}

function gatheringComplete(pc, timeoutMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener("icegatheringstatechange", check);
      clearTimeout(timer);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === "complete") done();
    };
    // A STUN server that never answers must not hold the call: go with the candidates gathered so far.
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

/**
 * Events (EventTarget): "track" (detail: the agent's MediaStream), "connected", "message" (detail: a server
 * event such as {type: "transcript", ...}), "lost" (detail: {reason}) when the connection failed or
 * closed without an `ended` event.
 */
export class InterviewCall extends EventTarget {
  constructor(interviewId, micStream) {
    super();
    this.interviewId = interviewId;
    this.micStream = micStream;
    this.pc = null;
    this.channel = null;
    this.callId = null;
    this.endedReason = null;
    this.muted = false;
    this.closed = false;
    this._connected = false;
    this._disconnectTimer = null;
    this._connectTimer = null;
    this._endedWaiters = [];
  }

  /** Offer, answer, and wait for nothing more: "connected" follows when the media flows. */
  async connect() {
    const pc = new RTCPeerConnection({ iceServers: await iceServers() });
    this.pc = pc;
    const channel = pc.createDataChannel("events");
    this.channel = channel;
    channel.addEventListener("message", (event) => this._onMessage(event.data));
    channel.addEventListener("open", () => {
      if (this.muted) this.send({ type: "mute" });
      this.dispatchEvent(new Event("open"));
    });
    channel.addEventListener("close", () => {
      if (!this.closed && this.endedReason === null) this._lost("channel_closed");
    });
    for (const track of this.micStream.getAudioTracks()) pc.addTrack(track, this.micStream);
    pc.addEventListener("track", (event) => {
      const stream = event.streams[0] || new MediaStream([event.track]);
      this.dispatchEvent(new CustomEvent("track", { detail: stream }));
    });
    pc.addEventListener("connectionstatechange", () => this._onConnectionState());

    await pc.setLocalDescription(await pc.createOffer());
    await gatheringComplete(pc, GATHER_TIMEOUT_MS);
    if (this.closed) return;
    const offer = pc.localDescription;
    const { data } = await api.post(`/api/interviews/${encodeURIComponent(this.interviewId)}/rtc`, {
      sdp: offer.sdp,
      type: offer.type,
    });
    if (this.closed) return;
    this.callId = data.call_id;
    await pc.setRemoteDescription({ type: data.type, sdp: data.sdp });
    this._connectTimer = setTimeout(() => {
      if (!this._connected) this._lost("connect_timeout");
    }, CONNECT_TIMEOUT_MS);
  }

  _onConnectionState() {
    const state = this.pc.connectionState;
    if (state === "connected") {
      clearTimeout(this._disconnectTimer);
      clearTimeout(this._connectTimer);
      if (!this._connected) {
        this._connected = true;
        this.dispatchEvent(new Event("connected"));
      }
    } else if (state === "disconnected") {
      clearTimeout(this._disconnectTimer);
      this._disconnectTimer = setTimeout(() => {
        if (this.pc && this.pc.connectionState !== "connected") this._lost("disconnected");
      }, DISCONNECTED_GRACE_MS);
    } else if (state === "failed") {
      this._lost("failed");
    }
  }

  _onMessage(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (!message || typeof message !== "object") return;
    if (message.type === "ended") {
      this.endedReason = message.reason || "hangup";
      for (const resolve of this._endedWaiters.splice(0)) resolve(this.endedReason);
    }
    this.dispatchEvent(new CustomEvent("message", { detail: message }));
  }

  _lost(reason) {
    if (this.closed || this.endedReason !== null) return;
    this.close();
    this.dispatchEvent(new CustomEvent("lost", { detail: { reason } }));
  }

  /** Send a client event ({type: "end" | "mute" | "unmute"}) if the channel is open. */
  send(message) {
    if (this.channel && this.channel.readyState === "open") {
      this.channel.send(JSON.stringify(message));
      return true;
    }
    return false;
  }

  /** Mute: the track sends silence AND the server treats the input as silence. */
  setMuted(muted) {
    this.muted = muted;
    for (const track of this.micStream.getAudioTracks()) track.enabled = !muted;
    this.send({ type: muted ? "mute" : "unmute" });
  }

  /** Resolves with the `ended` reason, or null after `timeoutMs`. */
  waitEnded(timeoutMs) {
    if (this.endedReason !== null) return Promise.resolve(this.endedReason);
    return new Promise((resolve) => {
      this._endedWaiters.push(resolve);
      setTimeout(() => resolve(null), timeoutMs);
    });
  }

  /** The candidate ends the interview: tell the server, give it a moment to say `ended`, then close. */
  async end(timeoutMs = 3000) {
    const sent = this.send({ type: "end" });
    const reason = sent ? await this.waitEnded(timeoutMs) : null;
    this.close();
    return reason;
  }

  /** Release the connection (the microphone belongs to the page). */
  close() {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this._disconnectTimer);
    clearTimeout(this._connectTimer);
    try {
      this.channel?.close();
    } catch {
      // already closed
    }
    try {
      this.pc?.close();
    } catch {
      // already closed
    }
  }
}
