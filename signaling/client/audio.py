"""The candidate's audio: eSpeak NG speech, recordings, WAV files (48 kHz mono int16)."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np

from voice_agent.audio import OUT_SAMPLE_RATE, PcmResampler
from voice_agent.providers.espeak import EspeakEngine

CANDIDATE_VOICE = "en-us"
#: A frame louder than this counts as voice (Opus-coded digital silence decodes far below it).
VOICE_DBFS = -50.0
#: A frame whose loudest sample is above this (about -78 dBFS) is not digital silence.
AUDIBLE_LEVEL = 4


def to_48k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Any mono int16/float32 PCM as 48 kHz mono int16."""
    resampler = PcmResampler(OUT_SAMPLE_RATE)
    out = resampler.resample(samples, rate)
    return np.concatenate((out, resampler.flush()))


def speak(text: str, voice: str = CANDIDATE_VOICE, rate_wpm: int = 150) -> np.ndarray:
    """The candidate's voice: ``text`` spoken by eSpeak NG, as 48 kHz mono int16."""
    engine = EspeakEngine.shared()
    return to_48k(engine.synthesize(text, voice=voice, rate_wpm=rate_wpm), engine.sample_rate)


def read_audio_file(path: str | Path) -> np.ndarray:
    """A recording (any format PyAV reads) as 48 kHz mono int16."""
    resampler = PcmResampler(OUT_SAMPLE_RATE)
    parts = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            parts.append(resampler.resample_frame(frame))
    parts.append(resampler.flush())
    return np.concatenate(parts) if parts else np.zeros(0, np.int16)


def write_wav(path: str | Path, samples: np.ndarray, rate: int = OUT_SAMPLE_RATE) -> None:
    """16-bit mono WAV."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
