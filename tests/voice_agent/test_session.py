"""The turn manager of ``CallSession``, driven frame by frame without a network.

Audio goes in as 20 ms frames (synthetic voiced bursts and silence, as fast as the session takes them: the
VAD counts frames, not seconds) and the agent's voice is pulled frame by frame as a transport would. The
speech-to-text here is a test double that answers from a script (the real engines are exercised by the call
tests); the interviewer is the real scripted one and the voice is the real eSpeak NG.
"""

from __future__ import annotations

import pytest

from tests.voice_agent.session_harness import (
    BrokenLlm,
    BrokenTts,
    CountingLlm,
    Harness,
    ScriptedStt,
    make,
)
from voice_agent.events import AgentState, ErrorRaised
from voice_agent.providers.base import InterviewContext, Providers
from voice_agent.providers.espeak import EspeakTextToSpeech
from voice_agent.providers.scripted import ScriptedInterviewer
from voice_agent.session import CallSession


@pytest.fixture(scope="module")
async def voice() -> EspeakTextToSpeech:
    tts = EspeakTextToSpeech()
    await tts.start()
    return tts


async def test_greeting_answer_reply_and_every_line_committed(voice):
    stt = ScriptedStt([(None, "I build payment systems in Python and Go.")])
    h = make(voice, stt)
    await h.session.start()
    await h.play()
    await h.say(1.0)
    await h.wait_for(lambda: h.session.state != AgentState.LISTENING)
    await h.play()
    roles = [(role, interrupted) for role, _, interrupted in h.lines()]
    assert roles == [("assistant", False), ("user", False), ("assistant", False)]
    assert h.lines()[1][1] == "I build payment systems in Python and Go."
    turn = h.metrics()[-1]
    assert turn.turn == 1 and turn.first_frame_sent > turn.stt_final >= turn.endpoint > turn.user_speech_end
    assert h.session.usage.stt_seconds == pytest.approx(1.0, abs=0.2)  # webrtcvad adds a short hangover
    assert h.session.usage.tts_characters > 50
    await h.session.close("test")


async def test_an_early_reply_on_a_stable_interim_is_kept_when_the_final_agrees(voice):
    stt = ScriptedStt([("I led the billing migration", "I led the billing migration.")])
    h = make(voice, stt)
    await h.session.start()
    await h.play()
    await h.say(1.0)
    await h.wait_for(lambda: h.session.state == AgentState.SPEAKING)
    await h.play()
    turn = h.metrics()[-1]
    assert turn.early_reply and not turn.early_reply_discarded
    assert turn.llm_start < turn.endpoint  # the model started during the pause, before the turn ended
    await h.session.close("test")


async def test_an_early_reply_is_thrown_away_when_the_final_differs(voice):
    stt = ScriptedStt([("I led the billing migration", "I led the billing migration to Kubernetes.")])
    h = make(voice, stt)
    await h.session.start()
    await h.play()
    await h.say(1.0)
    await h.wait_for(lambda: h.session.state == AgentState.SPEAKING)
    await h.play()
    turn = h.metrics()[-1]
    assert not turn.early_reply and turn.early_reply_discarded
    assert h.lines()[1][1] == "I led the billing migration to Kubernetes."
    await h.session.close("test")


async def test_speech_resuming_after_a_pause_cancels_the_early_reply_and_waits_for_the_end(voice):
    stt = ScriptedStt([("first part", "first part and the rest")])
    llm = CountingLlm(ScriptedInterviewer())
    h = make(voice, stt, llm=llm)
    await h.session.start()
    await h.play()
    await h.say(0.8, silence=0.4)  # a pause, shorter than the hangover
    await h.wait_for(lambda: llm.requests == 2)  # the greeting, then the early reply on "first part"
    await h.say(0.8)  # the candidate goes on
    await h.wait_for(lambda: h.session.state == AgentState.SPEAKING)
    await h.play()
    assert [line[1] for line in h.lines() if line[0] == "user"] == ["first part and the rest"]
    assert not h.metrics()[-1].early_reply
    await h.session.close("test")


async def test_barge_in_cuts_the_agent_and_stores_only_what_was_played(voice):
    stt = ScriptedStt([(None, "Sorry, can I ask something first?")])
    h = make(voice, stt)
    await h.session.start()
    await h.play(voiced_frames=60)  # 1.2 s of the greeting
    await h.say(0.6)
    await h.wait_for(lambda: any(e for e in h.lines() if e[0] == "user"))
    role, cut, interrupted = h.lines()[0]
    assert role == "assistant" and interrupted
    assert 0 < len(cut.split()) < 10
    await h.play()
    assert h.lines()[1] == ("user", "Sorry, can I ask something first?", False)
    assert h.lines()[2][0] == "assistant"
    await h.session.close("test")


async def test_a_click_or_a_muted_microphone_is_not_an_answer(voice):
    stt = ScriptedStt([(None, "never used")])
    h = make(voice, stt)
    await h.session.start()
    await h.play()
    await h.say(0.08)  # a click: shorter than the shortest answer
    h.session.set_muted(True)
    await h.say(1.0)
    with pytest.raises(AssertionError):
        await h.wait_for(lambda: len(h.lines()) > 1, timeout=1.0)  # no answer is heard
    assert [line[0] for line in h.lines()] == ["assistant"]
    assert h.session.state == AgentState.LISTENING
    await h.session.close("test")


async def test_closing_mid_answer_keeps_what_the_candidate_said(voice):
    stt = ScriptedStt([("I was saying that", "I was saying that we scaled the team")])
    h = make(voice, stt)
    await h.session.start()
    await h.play()
    await h.say(1.0, silence=0.1)  # still speaking when the call drops
    await h.session.close("hangup")
    assert h.lines()[-1] == ("user", "I was saying that we scaled the team", False)
    assert h.session.state == AgentState.ENDED


async def test_a_failing_language_model_gets_an_apology_not_silence(voice):
    h = make(voice, ScriptedStt([]), llm=BrokenLlm())
    await h.session.start()
    await h.play()
    assert any(isinstance(e, ErrorRaised) and e.code == "llm_failed" for e in h.events)
    assert "lost my train of thought" in h.lines()[0][1]
    await h.session.close("test")


async def test_a_failing_voice_falls_back_and_the_text_still_arrives(voice):
    h = make(voice, ScriptedStt([]), tts=BrokenTts())
    await h.session.start()
    await h.play()
    assert any(isinstance(e, ErrorRaised) and e.code == "tts_failed" for e in h.events)
    assert h.agent_frames > 50  # the fallback voice spoke
    assert h.lines()[0][1].startswith("Hi Sam")
    await h.session.close("test")


async def test_a_failing_language_model_hands_over_to_the_offline_interviewer(voice):
    providers = Providers(
        stt=ScriptedStt([]), llm=BrokenLlm(), tts=voice, fallback_tts=voice, fallback_llm=ScriptedInterviewer()
    )
    context = InterviewContext(candidate_name="Sam", duration_minutes=20, seed="session-test")
    h = Harness(lambda sink: CallSession(providers=providers, context=context, on_event=sink))
    await h.session.start()
    await h.play()
    line = h.lines()[0][1]
    assert line.startswith("Sorry, I lost my train of thought for a moment.")
    assert line.endswith("?") and "Sam" in line  # the offline interviewer greeted and asked the first question
    await h.session.close("test")
