"""Resampling with PyAV and 20 ms framing."""

import numpy as np
import pytest

from voice_agent.audio import Framer, PcmResampler, SilenceTrimmer, rms_dbfs, to_int16


def tone(freq: float, seconds: float, rate: int, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    mono = (np.sin(2 * np.pi * freq * t) * 12000).astype(np.int16)
    return np.repeat(mono, channels) if channels > 1 else mono


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize(("rate", "channels"), [(48000, 2), (48000, 1), (44100, 1), (22050, 1), (16000, 1)])
def test_inbound_audio_becomes_16k_mono_with_its_pitch_and_length(rate, channels):
    resampler = PcmResampler(16000)
    source = tone(440, 1.0, rate, channels)
    out = []
    for chunk in np.array_split(source, 50):  # arrives in pieces, as frames do
        out.append(resampler.resample(chunk, rate, channels))
    out.append(resampler.flush())
    samples = np.concatenate(out)
    assert samples.dtype == np.int16
    assert len(samples) == pytest.approx(16000, abs=40)
    assert dominant_frequency(samples, 16000) == pytest.approx(440, abs=3)


def test_float_tts_output_becomes_48k_int16():
    t = np.arange(24000) / 24000
    voice = (np.sin(2 * np.pi * 220 * t) * 0.5).astype(np.float32)
    resampler = PcmResampler(48000)
    samples = np.concatenate([resampler.resample(voice, 24000), resampler.flush()])
    assert samples.dtype == np.int16 and len(samples) == pytest.approx(48000, abs=64)
    assert dominant_frequency(samples, 48000) == pytest.approx(220, abs=2)
    assert np.max(np.abs(samples)) == pytest.approx(0.5 * 32767, rel=0.05)


def test_framer_cuts_exact_frames_and_keeps_the_remainder():
    framer = Framer(320)
    frames = framer.push(np.arange(700, dtype=np.int16))
    assert [len(f) for f in frames] == [320, 320]
    assert framer.pending_samples == 60
    frames = framer.push(np.arange(300, dtype=np.int16))
    assert len(frames) == 1 and frames[0][0] == 640 and frames[0][60] == 0
    tail = framer.flush()
    assert tail is not None and len(tail) == 320 and tail[40] == 0 and framer.flush() is None


def test_levels():
    assert rms_dbfs(np.zeros(320, np.int16)) == float("-inf")
    assert rms_dbfs(np.full(320, 32767, np.int16)) == pytest.approx(0, abs=0.01)
    assert to_int16(np.array([2.0, -2.0, 0.5], np.float32)).tolist() == [32767, -32767, 16383]


def test_tts_silence_is_trimmed_around_a_sentence_but_kept_inside_it():
    rate = 24000
    quiet = lambda s: np.zeros(int(s * rate), np.float32)  # noqa: E731
    loud = lambda s: np.full(int(s * rate), 0.3, np.float32)  # noqa: E731
    sentence = np.concatenate([quiet(0.3), loud(0.5), quiet(0.1), loud(0.4), quiet(0.45)])
    trimmer = SilenceTrimmer(rate, keep_lead_s=0.03, keep_tail_s=0.2)
    out = [trimmer.push(chunk) for chunk in np.array_split(sentence, 37)]
    out.append(trimmer.finish())
    audio = np.concatenate(out)
    expected = np.concatenate([quiet(0.03), loud(0.5), quiet(0.1), loud(0.4), quiet(0.2)])
    assert len(audio) == len(expected)
    assert np.array_equal(audio > 0.1, expected > 0.1)
    # The trimmer is ready for the next sentence.
    assert len(np.concatenate([trimmer.push(quiet(0.2)), trimmer.push(loud(0.1)), trimmer.finish()])) == int(
        0.13 * rate
    )
