"""Fixtures for the provider contract tests: the official SDKs against local fakes of each API."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from signaling.client.audio import speak
from voice_agent.audio import PcmResampler

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@functools.cache
def speech16k(text: str) -> np.ndarray:
    """``text`` spoken by eSpeak NG as 16 kHz int16 (what the session hands to STT)."""
    resampler = PcmResampler(16000)
    return np.concatenate([resampler.resample(speak(text), 48000), resampler.flush()])


def frames(pcm: np.ndarray) -> list[bytes]:
    """20 ms frames of 16 kHz audio."""
    return [pcm[i : i + 320].tobytes() for i in range(0, len(pcm) - 319, 320)]
