"""Synthetic audio signals for the VAD and session tests."""

from __future__ import annotations

import numpy as np


def speech_like(seconds: float, sample_rate: int = 16000, f0: float = 140.0) -> np.ndarray:
    """A voiced, harmonic signal with a syllable-rate envelope: speech as far as an energy/spectrum VAD is
    concerned."""
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    signal = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 15))
    signal *= 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
    return signal / np.max(np.abs(signal)) * 0.3
