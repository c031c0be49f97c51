"""Every knob of a turn's latency is one ``TurnOptions`` field, set from the environment, in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice_agent.turn_options import TurnOptions
from voice_agent.vad import VadOptions
from web.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
VAD_KNOBS = ["aggressiveness", "hangover_ms", "early_pause_ms", "pause_ms", "barge_in_ms", "preroll_ms"]
TURN_KNOBS = [name for name in TurnOptions.model_fields if name != "vad"]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in [*TURN_KNOBS, *(f"vad_{k}" for k in VAD_KNOBS)]:
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


@pytest.mark.parametrize("name", TURN_KNOBS)
def test_each_turn_knob_has_a_setting_with_the_same_default_and_a_readme_line(clean_env, name):
    settings = Settings()
    assert getattr(settings, name) == TurnOptions.model_fields[name].default
    assert getattr(settings.turn_options, name) == TurnOptions.model_fields[name].default
    assert f"`{name.upper()}`" in README


@pytest.mark.parametrize("name", VAD_KNOBS)
def test_each_vad_knob_has_a_setting_with_the_same_default_and_a_readme_line(clean_env, name):
    settings = Settings()
    assert getattr(settings, f"vad_{name}") == VadOptions.model_fields[name].default
    assert getattr(settings.turn_options.vad, name) == VadOptions.model_fields[name].default
    assert f"`VAD_{name.upper()}`" in README


def test_the_environment_reaches_every_part_that_uses_a_knob(clean_env):
    clean_env.setenv("VAD_HANGOVER_MS", "700")
    clean_env.setenv("THINK_GRACE_S", "4.5")
    clean_env.setenv("STT_ENDPOINTING_MS", "250")
    clean_env.setenv("OPUS_COMPLEXITY", "8")
    clean_env.setenv("TURN_ENDING", "silence")
    settings = Settings()
    turn = settings.session_options().turn
    assert turn.vad.hangover_ms == 700 and turn.think_grace_s == 4.5 and turn.opus_complexity == 8
    assert turn.turn_ending == "silence"
    config = settings.provider_config()
    assert config.deepgram.endpointing_ms == 250
    assert config.turn_model == "none"  # the fixed-silence endpointer asks no model


def test_a_bad_knob_is_refused_at_start(clean_env):
    clean_env.setenv("OPUS_COMPLEXITY", "11")
    with pytest.raises(ValueError, match="opus_complexity"):
        Settings()
