"""The offline scorer's rules, one by one, on crafted transcripts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from voice_agent.feedback.blocks import question_blocks
from voice_agent.feedback.offline_scorer import (
    assess,
    count_numbers,
    named_things,
    offline_report,
    score,
)
from voice_agent.feedback.report import FeedbackReport, Scores
from voice_agent.feedback.speech_metrics import Line, compute_speech_metrics
from voice_agent.providers.base import InterviewContext
from voice_agent.question_plans import build_plan

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
TECHNICAL = InterviewContext("Software Engineer", "technical", "mid", 10, "Sam", seed="scorer")
BEHAVIORAL = InterviewContext("Software Engineer", "behavioral", "mid", 10, "Sam", seed="scorer")


class Script:
    """Builds a transcript line by line with exact timings."""

    def __init__(self) -> None:
        self.t = T0
        self.lines: list[Line] = []

    def say(self, role: str, text: str, seconds: float, gap: float = 1.0) -> None:
        self.lines.append(Line(role, text, self.t, seconds))
        self.t += timedelta(seconds=seconds + gap)


def words_of(n: int, text: str) -> str:
    """``text`` padded with neutral words to exactly ``n`` words."""
    tokens = text.split()
    return " ".join(tokens + ["really"] * (n - len(tokens)))


def full_answer(question) -> str:
    """An answer that mentions every key point of ``question`` with figures, names and structure words."""
    mentions = " and ".join(point.keywords[0] for point in question.key_points)
    return (
        f"First, I would rely on {mentions}. Then we measured it on Postgres with 3 replicas, because "
        f"latency dropped by 40 percent. Finally, the trade-off was cost."
    )


def test_numbers_and_names_are_counted():
    assert count_numbers("We had 3 replicas, cut costs 40% and served two million users.") == 4
    assert named_things("We moved to Kubernetes. Then Redis and AWS helped. I think OK.") == [
        "Kubernetes",
        "Redis",
        "AWS",
    ]


def test_a_technical_answer_covering_every_key_point_scores_full_depth_and_a_silent_one_the_floor():
    plan = build_plan(TECHNICAL)
    good, poor = Script(), Script()
    for script, answer in ((good, full_answer(plan[0])), (poor, "I am not sure.")):
        script.say("assistant", plan[0].text, 6.0)
        script.say("user", answer, 20.0)
    best = assess(question_blocks(good.lines, TECHNICAL)[0])
    worst = assess(question_blocks(poor.lines, TECHNICAL)[0])
    assert best.coverage == 1.0 and best.specificity == 1.0 and best.structure == 1.0
    assert worst.coverage == 0.0 and worst.numbers == 0 and worst.markers == 0
    assert score([best], compute_speech_metrics(good.lines))["technical_depth_score"] == 100
    assert score([worst], compute_speech_metrics(poor.lines))["technical_depth_score"] == 15


def test_star_elements_are_found_in_a_behavioral_story():
    plan = build_plan(BEHAVIORAL)
    question = next(q for q in plan if q.id != "opener-background")
    script = Script()
    script.say("assistant", question.text, 5.0)
    script.say(
        "user",
        "Two years ago our team had a failing project with a key client. I was responsible for the release. "
        "I proposed a weekly demo and I wrote the test plan. As a result we delivered on time and churn "
        "was reduced by 20 percent.",
        25.0,
    )
    found = assess(question_blocks(script.lines, BEHAVIORAL)[0])
    assert found.kind == "behavioral" and found.star == ["situation", "task", "action", "result"]
    assert found.structure == 1.0


def test_communication_and_confidence_follow_the_documented_penalties():
    plan = build_plan(TECHNICAL)
    script = Script()
    # One answer: 60 words in 20 s = 180 wpm (10 over 170: -5), 2 fillers in 20 s = 6 per minute
    # (-20 for fillers above 2; confidence -9 for fillers above 3), 1 hedge = 3 per minute (confidence -12).
    answer = words_of(60, "Um, I think we would shard it, um, by customer because it is simple.")
    script.say("assistant", plan[0].text, 5.0, gap=0.0)
    script.say("user", answer, 20.0)
    speech = compute_speech_metrics(script.lines)
    assert speech.words_per_minute == 180.0 and speech.fillers_per_minute == 6.0 and speech.hedges_per_minute == 3.0
    scores = score([assess(b) for b in question_blocks(script.lines, TECHNICAL)], speech)
    assert scores["communication_score"] == 100 - 5 - 20
    # Confidence: -12 (hedges) -9 (fillers); start delay 0 s; 60 words is not a short answer.
    assert scores["confidence_score"] == 100 - 12 - 9


def test_follow_ups_belong_to_the_question_they_follow():
    plan = build_plan(TECHNICAL)
    script = Script()
    script.say("assistant", plan[0].text, 5.0)
    script.say("user", "It was a billing system.", 3.0)
    script.say("assistant", plan[0].follow_ups["detail"], 3.0)
    script.say("user", "I wrote the invoice service in Go.", 4.0)
    script.say("assistant", "Thanks. " + plan[1].text, 6.0)
    script.say("user", "I would add a cache.", 3.0)
    blocks = question_blocks(script.lines, TECHNICAL)
    assert [b.question for b in blocks] == [plan[0].text, plan[1].text]
    assert blocks[0].answer == "It was a billing system. I wrote the invoice service in Go."
    assert blocks[0].seconds == 7.0


def test_a_full_report_is_in_range_notes_every_question_and_says_it_was_scored_offline():
    plan = build_plan(TECHNICAL)
    script = Script()
    for question in plan[:3]:
        script.say("assistant", question.text, 6.0)
        script.say("user", full_answer(question), 25.0)
    report = offline_report(script.lines, TECHNICAL, "whisper")
    assert isinstance(report, FeedbackReport)
    assert all(1 <= value <= 100 for value in report.scores().values())
    assert set(report.scores()) == set(Scores.model_fields)
    assert len(report.questions) == 3 and all(n.question and n.stronger_answer for n in report.questions)
    assert report.strengths and report.improvements
    assert report.scored_by == "offline rules" and "not by an AI model" in report.scoring_note
    assert report.filler_reliability["level"] == "medium"
    json.dumps(report.detailed_feedback())


def test_an_interview_without_answers_scores_one_and_says_what_to_do():
    script = Script()
    script.say("assistant", build_plan(TECHNICAL)[0].text, 6.0)
    report = offline_report(script.lines, TECHNICAL, None)
    assert set(report.scores().values()) == {1}
    assert report.questions == [] and "no answers" in report.improvements[0]


def test_strong_answers_score_higher_than_weak_ones():
    plan = build_plan(TECHNICAL)
    strong, weak = Script(), Script()
    for question in plan[:3]:
        strong.say("assistant", question.text, 6.0)
        strong.say("user", full_answer(question), 20.0)
        weak.say("assistant", question.text, 6.0)
        weak.say("user", "Um, maybe, I guess, like, I don't know.", 6.0, gap=5.0)
    good = offline_report(strong.lines, TECHNICAL, "whisper")
    bad = offline_report(weak.lines, TECHNICAL, "whisper")
    for name in Scores.model_fields:
        assert getattr(good, name) > getattr(bad, name), name
    assert any("short answers" in text for text in bad.improvements)
