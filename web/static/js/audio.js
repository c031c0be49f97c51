// Audio levels with the Web Audio API: the candidate's microphone and the interviewer's voice.

/** The RMS level (0..1) of a MediaStream, read on demand through an AnalyserNode. */
export class LevelProbe {
  constructor(context, stream) {
    this.source = context.createMediaStreamSource(stream);
    this.analyser = context.createAnalyser();
    this.analyser.fftSize = 1024;
    this.analyser.smoothingTimeConstant = 0.2;
    this.buffer = new Float32Array(this.analyser.fftSize);
    // Analysed only: never connected to the speakers (the <audio> element plays the agent).
    this.source.connect(this.analyser);
  }

  rms() {
    this.analyser.getFloatTimeDomainData(this.buffer);
    let sum = 0;
    for (const sample of this.buffer) sum += sample * sample;
    return Math.sqrt(sum / this.buffer.length);
  }

  disconnect() {
    try {
      this.source.disconnect();
    } catch {
      // already disconnected
    }
  }
}

/** 0..1 for a meter: -60 dBFS and below is empty, -6 dBFS and above is full. */
export function meterLevel(rms) {
  if (rms <= 0) return 0;
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db + 60) / 54));
}

/** A segmented level meter (the spans of `node`). */
export function renderMeter(node, level) {
  const segments = node.children;
  const lit = Math.round(level * segments.length);
  for (let i = 0; i < segments.length; i += 1) {
    segments[i].classList.toggle("on", i < lit);
    segments[i].classList.toggle("hot", i >= segments.length - 3);
  }
  node.setAttribute("aria-valuenow", String(Math.round(level * 100)));
}
