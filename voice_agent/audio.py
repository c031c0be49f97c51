"""PCM plumbing: resampling with PyAV, fixed-size framing, levels.

Inbound audio is brought to 16 kHz mono s16 in 20 ms frames (320 samples) for VAD and STT; outbound audio is
48 kHz mono s16 in 20 ms frames (960 samples) for the transport.
"""

from __future__ import annotations

import av
import numpy as np

FRAME_MS = 20
VAD_SAMPLE_RATE = 16_000
VAD_FRAME_SAMPLES = VAD_SAMPLE_RATE * FRAME_MS // 1000  # 320
OUT_SAMPLE_RATE = 48_000
OUT_FRAME_SAMPLES = OUT_SAMPLE_RATE * FRAME_MS // 1000  # 960

_LAYOUTS = {1: "mono", 2: "stereo"}


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] (or already int16) as int16, clipped."""
    if samples.dtype == np.int16:
        return samples
    return (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)


def rms_dbfs(samples: np.ndarray) -> float:
    """Level of int16 samples in dB relative to full scale (-inf for digital silence)."""
    if samples.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * np.log10(rms / 32768.0) if rms > 0 else float("-inf")


class PcmResampler:
    """Stateful resampler to mono s16 at ``out_rate`` (PyAV's swresample underneath).

    The filter keeps state between calls, so a continuous stream must go through one instance; a change of
    input rate or layout starts a new filter.
    """

    def __init__(self, out_rate: int) -> None:
        self.out_rate = out_rate
        self._resampler: av.AudioResampler | None = None
        self._input_key: tuple[int, str, str] | None = None

    def _filter_for(self, rate: int, fmt: str, layout: str) -> av.AudioResampler:
        key = (rate, fmt, layout)
        if self._resampler is None or key != self._input_key:
            self._resampler = av.AudioResampler(format="s16", layout="mono", rate=self.out_rate)
            self._input_key = key
        return self._resampler

    def resample_frame(self, frame: av.AudioFrame) -> np.ndarray:
        """Resample one PyAV frame; returns int16 mono samples (possibly empty while the filter primes)."""
        if frame.sample_rate == self.out_rate and frame.format.name == "s16" and frame.layout.name == "mono":
            return frame.to_ndarray().reshape(-1)
        resampler = self._filter_for(frame.sample_rate, frame.format.name, frame.layout.name)
        frame.pts = None
        return _join(resampler.resample(frame))

    def resample(self, samples: np.ndarray, rate: int, channels: int = 1) -> np.ndarray:
        """Resample interleaved int16 or float32 samples; returns int16 mono."""
        if samples.size == 0:
            return np.zeros(0, np.int16)
        if channels == 1 and rate == self.out_rate:
            return to_int16(samples.reshape(-1))
        fmt = "s16" if samples.dtype == np.int16 else "flt"
        data = samples if fmt == "s16" else samples.astype(np.float32, copy=False)
        frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format=fmt, layout=_LAYOUTS[channels])
        frame.sample_rate = rate
        return self.resample_frame(frame)

    def flush(self) -> np.ndarray:
        """The samples still inside the filter (call once at the end of a stream)."""
        if self._resampler is None:
            return np.zeros(0, np.int16)
        out = _join(self._resampler.resample(None))
        self._resampler = None
        self._input_key = None
        return out


def _join(frames: list[av.AudioFrame]) -> np.ndarray:
    if not frames:
        return np.zeros(0, np.int16)
    if len(frames) == 1:
        return frames[0].to_ndarray().reshape(-1)
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames])


class Framer:
    """Cuts a stream of int16 samples into frames of exactly ``frame_samples``."""

    def __init__(self, frame_samples: int) -> None:
        self.frame_samples = frame_samples
        self._pending = np.zeros(0, np.int16)

    @property
    def pending_samples(self) -> int:
        """Samples waiting for the next full frame."""
        return len(self._pending)

    def push(self, samples: np.ndarray) -> list[np.ndarray]:
        """Add samples; return every complete frame now available, oldest first."""
        if samples.size == 0:
            return []
        data = np.concatenate((self._pending, samples)) if self._pending.size else samples
        n = len(data) // self.frame_samples
        frames = [data[i * self.frame_samples : (i + 1) * self.frame_samples].copy() for i in range(n)]
        self._pending = data[n * self.frame_samples :].copy()
        return frames

    def flush(self) -> np.ndarray | None:
        """The last partial frame padded with silence, or None when nothing is pending."""
        if self._pending.size == 0:
            return None
        frame = np.zeros(self.frame_samples, np.int16)
        frame[: len(self._pending)] = self._pending
        self._pending = np.zeros(0, np.int16)
        return frame


class SilenceTrimmer:
    """Trims the silence a TTS engine puts around each sentence, on the fly.

    Leading silence is cut to ``keep_lead_s`` and trailing silence to ``keep_tail_s``; quiet stretches inside
    the speech (commas, breaths) pass untouched. Quiet audio is held back only until louder audio follows,
    so nothing loud is ever delayed.
    """

    def __init__(self, sample_rate: int, keep_lead_s: float, threshold: float = 0.01, keep_tail_s: float = 0.2):
        self.threshold = threshold
        self.keep_lead = int(keep_lead_s * sample_rate)
        self.keep_tail = int(keep_tail_s * sample_rate)
        self._started = False
        self._quiet: list[np.ndarray] = []

    def _loud(self, samples: np.ndarray) -> np.ndarray:
        limit = self.threshold * (32768 if samples.dtype == np.int16 else 1.0)
        return np.flatnonzero(np.abs(samples) > limit)

    def push(self, samples: np.ndarray) -> np.ndarray:
        """The part of ``samples`` (with any quiet audio held before it) that can be played now."""
        loud = self._loud(samples)
        if loud.size == 0:
            self._quiet.append(samples)
            if not self._started:
                held = np.concatenate(self._quiet)
                self._quiet = [held[-self.keep_lead :]] if self.keep_lead else []
            return samples[:0]
        first, last = int(loud[0]), int(loud[-1])
        held = np.concatenate(self._quiet) if self._quiet else samples[:0]
        if not self._started:
            self._started = True
            held = held[-self.keep_lead :] if self.keep_lead else held[:0]
            lead = samples[max(0, first - max(0, self.keep_lead - len(held))) : first]
            out = np.concatenate((held, lead, samples[first : last + 1]))
        else:
            out = np.concatenate((held, samples[: last + 1]))
        self._quiet = [samples[last + 1 :]]
        return out

    def finish(self) -> np.ndarray:
        """The trailing silence, cut to ``keep_tail_s``; resets for the next sentence."""
        tail = np.concatenate(self._quiet)[: self.keep_tail] if self._quiet and self._started else np.zeros(0, np.int16)
        self._quiet = []
        self._started = False
        return tail
