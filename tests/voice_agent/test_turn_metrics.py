"""Per-turn figures: the server overhead is what is left of the response once the provider waits are taken out."""

from __future__ import annotations

from voice_agent.events import TurnMetrics


def test_a_sequential_turn_counts_only_the_gaps_between_provider_stages_as_overhead():
    m = TurnMetrics(
        turn=1,
        user_speech_end=10.0,
        endpoint=10.48,  # the VAD's silence
        stt_final=10.30,
        llm_start=10.49,  # 10 ms of server work after the endpoint
        llm_first_token=11.29,
        tts_start=11.40,  # the first sentence
        tts_first_audio=11.70,
        first_frame_sent=11.72,  # 20 ms to the next frame tick
    )
    figures = m.latencies_ms()
    assert figures["response_ms"] == 1720.0
    assert figures["overhead_ms"] == 30.0


def test_an_early_reply_overlapping_the_turn_leaves_only_what_follows_the_decision():
    m = TurnMetrics(
        turn=2,
        user_speech_end=20.0,
        endpoint=20.25,
        stt_final=20.25,
        llm_start=19.2,  # started on an interim, during the candidate's pause
        llm_first_token=20.0,
        tts_start=20.1,
        tts_first_audio=20.4,
        first_frame_sent=20.41,
    )
    assert m.latencies_ms()["overhead_ms"] == 10.0


def test_the_greeting_has_no_overhead_figure():
    m = TurnMetrics(
        turn=0, llm_start=1.0, llm_first_token=1.1, tts_start=1.2, tts_first_audio=1.3, first_frame_sent=1.4
    )
    assert m.latencies_ms()["overhead_ms"] is None
