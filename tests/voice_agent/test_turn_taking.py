"""Adaptive turn-taking in ``CallSession``: the candidate may think, and keeps the turn until they are done.

Driven frame by frame like tests/voice_agent/test_session.py, with a scripted speech-to-text and a scripted
end-of-turn model (the real model is tested in test_turn_model.py), the real scripted interviewer and eSpeak NG.
"""

from __future__ import annotations

import pytest

from tests.voice_agent.session_harness import Harness, ScriptedStt, ScriptedTurnModel, make
from voice_agent.providers.espeak import EspeakTextToSpeech
from voice_agent.turn_options import TurnOptions


@pytest.fixture(scope="module")
async def voice() -> EspeakTextToSpeech:
    tts = EspeakTextToSpeech()
    await tts.start()
    return tts


def user_lines(h: Harness) -> list[str]:
    return [text for role, text, _ in h.lines() if role == "user"]


def agent_lines(h: Harness) -> list[tuple[str, bool]]:
    return [(text, interrupted) for role, text, interrupted in h.lines() if role == "assistant"]


async def test_a_thinking_pause_mid_sentence_keeps_one_line_and_gets_one_reply(voice):
    stt = ScriptedStt([("I would start by", "I would start by profiling the slowest endpoint.")])
    model = ScriptedTurnModel([0.1, 0.97])  # the first pause sounds unfinished, the second finished
    h = make(voice, stt, turn_model=model)
    await h.session.start()
    await h.play()
    await h.say(0.8, silence=1.5)  # "I would start by..." and a 1.5 s think
    assert user_lines(h) == [] and h.session.state.value == "listening"
    await h.say(1.0)  # "...profiling the slowest endpoint."
    await h.wait_for(lambda: len(agent_lines(h)) == 2)
    assert user_lines(h) == ["I would start by profiling the slowest endpoint."]
    assert h.metrics()[-1].ended_by == "model"
    assert model.asked == 2
    await h.session.close("test")


async def test_words_stopping_mid_clause_hold_the_turn_though_the_voice_sounded_finished(voice):
    stt = ScriptedStt([(None, "We moved the billing service to Kubernetes and"), (None, "then cut its costs by 40%.")])
    h = make(voice, stt, turn_model=ScriptedTurnModel([0.95, 0.95]))
    await h.session.start()
    await h.play()
    await h.say(1.0, silence=1.2)
    await h.wait_for(lambda: any(text.endswith("Kubernetes and") for text in h.user_interims()))  # held open
    assert user_lines(h) == []
    await h.say(1.0)
    await h.wait_for(lambda: len(agent_lines(h)) == 2)
    assert user_lines(h) == ["We moved the billing service to Kubernetes and then cut its costs by 40%."]
    await h.session.close("test")


async def test_an_unfinished_pause_ends_when_the_think_time_grace_runs_out(voice):
    stt = ScriptedStt([(None, "I think the main problem was")])
    h = make(voice, stt, turn_model=ScriptedTurnModel([0.1]), turn=TurnOptions(think_grace_s=2.0))
    await h.session.start()
    await h.play()
    await h.say(1.0, silence=2.2)
    await h.wait_for(lambda: len(agent_lines(h)) == 2)
    assert user_lines(h) == ["I think the main problem was"]
    assert h.metrics()[-1].ended_by == "grace"
    await h.session.close("test")


async def test_a_technical_interview_allows_a_longer_think(voice):
    stt = ScriptedStt([(None, "For the cache I would use a write-through layer in front of Postgres.")])
    model = ScriptedTurnModel([0.1, 0.97])
    h = make(voice, stt, turn_model=model, interview_type="technical", turn=TurnOptions(think_grace_s=1.0))
    await h.session.start()
    await h.play()
    await h.say(1.0, silence=2.5)  # past the behavioral grace, within the technical one (5 s)
    await h.say(1.0)
    await h.wait_for(lambda: len(agent_lines(h)) == 2)
    assert user_lines(h) == ["For the cache I would use a write-through layer in front of Postgres."]
    await h.session.close("test")


async def test_going_on_just_after_the_agent_began_drops_its_reply_and_joins_the_answer(voice):
    stt = ScriptedStt([(None, "I led the migration."), (None, "And it took six months.")])
    h = make(voice, stt, turn_model=ScriptedTurnModel([0.95, 0.95]))
    await h.session.start()
    await h.play()
    await h.say(1.0)
    await h.play(voiced_frames=10)  # 0.2 s of the reply
    await h.say(0.8)  # the candidate was not done
    await h.wait_for(lambda: len(agent_lines(h)) == 2)
    assert user_lines(h) == ["I led the migration. And it took six months."]
    assert [interrupted for _, interrupted in agent_lines(h)] == [False, False]
    assert h.session.false_interruptions == 1
    await h.session.close("test")


async def test_talking_over_the_agent_after_the_resume_window_is_a_barge_in(voice):
    stt = ScriptedStt([(None, "I led the migration."), (None, "Sorry, one more thing.")])
    h = make(voice, stt, turn_model=ScriptedTurnModel([0.95, 0.95]), turn=TurnOptions(resume_window_s=0.5))
    await h.session.start()
    await h.play()
    await h.say(1.0)
    await h.play(voiced_frames=40)  # 0.8 s of the reply: past the window
    await h.say(0.8)
    await h.wait_for(lambda: len(user_lines(h)) == 2)
    assert user_lines(h) == ["I led the migration.", "Sorry, one more thing."]
    assert agent_lines(h)[1][1] is True  # the reply, cut to what was played
    assert h.session.false_interruptions == 0
    await h.session.close("test")


async def test_the_fixed_silence_setting_brings_back_the_old_behaviour(voice):
    stt = ScriptedStt([(None, "I would start by"), (None, "profiling the slowest endpoint.")])
    h = make(voice, stt, turn=TurnOptions(turn_ending="silence"))
    await h.session.start()
    await h.play()
    await h.say(0.8, silence=0.7)
    await h.wait_for(lambda: len(user_lines(h)) == 1)
    assert h.metrics() == [] or h.metrics()[-1].ended_by == "silence"
    await h.session.close("test")


async def test_a_backchannel_over_the_agent_does_not_stop_it(voice):
    stt = ScriptedStt([(None, "I led the migration."), (None, "Mm-hm.")])
    h = make(voice, stt, turn_model=ScriptedTurnModel([0.95, 0.95]), turn=TurnOptions(resume_window_s=0.5))
    await h.session.start()
    await h.play()
    await h.say(1.0)
    await h.play(voiced_frames=40)  # past the resume window: the answer is settled
    await h.say(0.4)  # "mm-hm" while the agent speaks: it holds its breath, then goes on
    await h.wait_for(lambda: len(agent_lines(h)) == 2)
    assert user_lines(h) == ["I led the migration."]
    assert agent_lines(h)[1][1] is False  # played to its end
    assert h.session.backchannels == 1
    await h.session.close("test")


async def test_short_words_that_mean_it_do_interrupt(voice):
    stt = ScriptedStt([(None, "I led the migration."), (None, "Wait, sorry.")])
    h = make(voice, stt, turn_model=ScriptedTurnModel([0.95, 0.95]), turn=TurnOptions(resume_window_s=0.5))
    await h.session.start()
    await h.play()
    await h.say(1.0)
    await h.play(voiced_frames=40)
    await h.say(0.4)
    await h.wait_for(lambda: len(user_lines(h)) == 2)
    assert user_lines(h) == ["I led the migration.", "Wait, sorry."]
    assert agent_lines(h)[1][1] is True
    await h.session.close("test")


async def test_the_agents_own_voice_heard_back_is_not_answered(voice):
    from voice_agent.asides import SpokenText

    question = "Tell me about a time you disagreed with your manager."
    stt = ScriptedStt([(None, "Tell me about a time you disagree with your manager.")])  # the echo, misheard
    h = make(voice, stt, llm=SpokenText(question), turn_model=ScriptedTurnModel([0.95]))
    await h.session.start()
    await h.play(voiced_frames=40)
    await h.say(0.5)  # the speakerphone plays (part of) the question back into the microphone
    await h.wait_for(lambda: len(agent_lines(h)) == 1)
    assert user_lines(h) == []
    assert agent_lines(h) == [(question, False)]
    assert h.session.echoes_dropped == 1
    await h.session.close("test")


async def test_asking_for_time_gets_an_aside_and_keeps_the_turn(voice):
    stt = ScriptedStt([(None, "Let me think."), (None, "I would put a queue in front of the workers.")])
    h = make(voice, stt, turn_model=ScriptedTurnModel([0.95, 0.95]))
    await h.session.start()
    await h.play()
    await h.say(0.6)
    await h.play()  # "Sure, take your time."
    await h.wait(5.0)  # longer than the usual grace: still the candidate's turn
    assert user_lines(h) == []
    await h.say(1.2)
    await h.wait_for(lambda: len(user_lines(h)) == 1)
    assert user_lines(h) == ["Let me think. I would put a queue in front of the workers."]
    assert ("assistant", "aside", "Sure, take your time.") in h.kinds()
    await h.session.close("test")


async def test_silence_after_a_question_gets_one_prompt_then_one_offer_to_move_on(voice):
    h = make(voice, ScriptedStt([]))
    await h.session.start()
    await h.play()
    await h.wait(12.5)
    await h.play()
    asides = [text for role, kind, text in h.kinds() if kind == "aside"]
    assert asides == ["Take your time. Would you like me to repeat the question?"]
    await h.wait(10.0)  # not yet the offer
    assert len([k for _, k, _ in h.kinds() if k == "aside"]) == 1
    await h.wait(6.0)
    await h.play()
    await h.wait(40.0)  # never more than two in a row
    asides = [text for role, kind, text in h.kinds() if kind == "aside"]
    assert len(asides) == 2 and asides[1].startswith("If you'd rather, we can move on")
    await h.session.close("test")


async def test_no_idle_prompt_while_the_candidate_talks_or_holds_the_turn(voice):
    stt = ScriptedStt([(None, "So the first thing I would look at is")])
    h = make(voice, stt, turn_model=ScriptedTurnModel([0.1]), turn=TurnOptions(idle_prompt_s=2.0, think_grace_s=6.0))
    await h.session.start()
    await h.play()
    await h.say(3.0, silence=5.0)  # a long answer, then a long think: the turn is still the candidate's
    assert [kind for _, kind, _ in h.kinds()] == ["turn"]  # the greeting only: no prompt
    await h.session.close("test")
