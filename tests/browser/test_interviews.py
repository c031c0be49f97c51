"""Interviews in the browser: starting one (and running out), the history, the feedback report, the profile."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import expect

from db.models import FeedbackStatus
from tests.browser.conftest import DESKTOP, PHONE, Visit


async def test_a_candidate_without_interviews_left_is_told_so_clearly(visit: Visit):
    page = visit.page
    await visit.signup(target_role="Data Scientist")
    await visit.create_interview()
    await visit.create_interview()

    await visit.goto("/interviews/new")
    await expect(page.get_by_label("Role", exact=True)).to_have_value("Data Scientist")
    await expect(page.locator("#credits-line")).to_contain_text("last practice interview")
    # The last one is spent elsewhere (another tab) before this form is sent: the server says no.
    await visit.create_interview()
    await page.get_by_role("button", name="Start interview").click()
    notice = page.locator("#credits-notice")
    await expect(notice).to_contain_text("No interviews left")
    await expect(notice).to_contain_text("used all your practice interviews")
    await expect(page.get_by_role("button", name="Start interview")).to_be_disabled()
    await expect(page).to_have_url(re.compile(r"/interviews/new$"))
    await visit.screenshot("no-credits")

    # Coming back later, the page says so before anything is tried; so does the dashboard.
    await page.reload()
    await expect(notice).to_be_visible()
    await expect(page.get_by_role("button", name="Start interview")).to_be_disabled()
    await visit.goto("/dashboard")
    await expect(page.locator("#interviews-left")).to_have_text("0")
    await expect(page.locator("#no-credits")).to_be_visible()
    await expect(page.get_by_role("link", name="Start a new interview")).to_have_count(0)


async def test_history_lists_interviews_by_page_and_links_each_to_its_page(visit: Visit):
    page = visit.page
    user = await visit.signup()
    await visit.server.db.grant_credits(user["email"], 10)
    interviews = [await visit.create_interview(role=f"Role {n:02d}") for n in range(12)]
    # Interviews 0..10 are completed; the newest (11) is still in progress.
    for interview in interviews[:-1]:
        status, _ = await visit.api("POST", f"/api/interviews/{interview['id']}/complete")
        assert status == 200
    scored = interviews[-2]
    # The server wrote its own (offline) report when the interview completed; this one replaces it.
    await visit.feedback_written(scored["id"])
    await visit.server.db.save_feedback(
        uuid.UUID(scored["id"]), status=FeedbackStatus.READY, scores={"overall_score": 78}
    )

    # The dashboard offers to rejoin the interview in progress, and shows the latest five.
    await visit.goto("/dashboard")
    await expect(page.get_by_text("You have an interview in progress")).to_be_visible()
    await expect(page.get_by_role("link", name="Rejoin interview")).to_have_attribute(
        "href", f"/interviews/{interviews[-1]['id']}/call"
    )
    await expect(page.locator(".interview-row")).to_have_count(5)
    await expect(page.get_by_role("link", name="See all 12")).to_be_visible()
    await visit.screenshot("dashboard-returning")

    await visit.goto("/history")
    rows = page.locator("#history-table tbody tr")
    await expect(rows).to_have_count(10)
    await expect(page.locator("#page-status")).to_have_text("1–10 of 12 · page 1 of 2")
    newest = rows.nth(0)
    await expect(newest).to_contain_text("Role 11")
    await expect(newest).to_contain_text("In progress")
    await expect(newest.get_by_role("link", name="Rejoin")).to_have_attribute(
        "href", f"/interviews/{interviews[-1]['id']}/call"
    )
    await expect(rows.nth(1)).to_contain_text("Role 10")
    await expect(rows.nth(1)).to_contain_text("Completed")
    await expect(rows.nth(1).locator("td.num").first).to_have_text("78")
    await expect(rows.nth(1)).to_contain_text("Mixed")
    await expect(rows.nth(1)).to_contain_text("0 / 10 min")
    await visit.screenshot("history")

    await page.get_by_role("link", name="Older").click()
    await expect(page).to_have_url(re.compile(r"/history\?page=2$"))
    await expect(rows).to_have_count(2)
    await expect(page.locator("#page-status")).to_have_text("11–12 of 12 · page 2 of 2")
    await rows.nth(1).get_by_role("link", name="View").click()
    await expect(page).to_have_url(re.compile(rf"/interviews/{interviews[0]['id']}$"))
    await expect(page.get_by_role("heading", name="Role 00")).to_be_visible()
    # Nothing was said in it: the offline report says so, with nothing to measure.
    await expect(page.locator("#feedback-report")).to_be_visible()
    await expect(page.locator("#feedback-speech")).to_contain_text("nothing to measure")
    await expect(page.locator("#call-quality")).to_have_count(0)


#: A technical interview as stored by a call: each line with its duration, the interviewer's with the call's
#: per-turn latency (turn 0 is the greeting: no candidate speech before it), the candidate's with its STT.
LONG_ANSWER = (
    "I designed the ingestion pipeline for our billing events at a fintech startup. Um, we were writing every event "
    "straight to Postgres and at peak it was, like, twelve thousand inserts a second, so the primary kept falling "
    "over. I proposed a queue in front of it: producers push to Kafka, and a small Go service batches writes, five "
    "hundred rows or fifty milliseconds, whichever comes first, and uses COPY instead of single inserts. I think the "
    "key trade-off was latency against throughput: an event now lands about a hundred milliseconds later, but the "
    "database load dropped by seventy percent. We also made the consumer idempotent with an event ID and an upsert, "
    "so a replay after a crash never double-charges anyone. Basically I wrote the design doc, built the first "
    "version with one other engineer over three weeks, and we rolled it out behind a feature flag, one region at a "
    "time. If I did it again I would add, you know, better dashboards from day one, because the first incident took "
    "us an hour to find."
)
GREETING = (
    "Hi Grace, welcome, and thanks for joining. This is a technical interview for the Backend Engineer role, and it "
    "will take about 20 minutes. To start, tell me about a system you designed."
)
QUESTION_2 = "Thanks. How would you make a service resilient when one of its dependencies is slow or down?"


def turn(n: int, endpointing, stt, llm, tts, response, early=False, ended_by="vad") -> dict[str, Any]:
    return {
        "turn": n,
        "endpointing_ms": endpointing,
        "stt_ms": stt,
        "llm_ttft_ms": llm,
        "tts_first_audio_ms": tts,
        "response_ms": response,
        "early_reply": early,
        "early_reply_discarded": False,
        "ended_by": ended_by,
    }


HEARD = {"stt": "whisper"}
#: (role, text, seconds spoken, silence after, metrics)
TRANSCRIPT = [
    ("assistant", GREETING, 14.2, 1.4, turn(0, None, None, 0.3, 41.8, None)),
    ("user", LONG_ANSWER, 131.5, 0.9, HEARD),
    ("assistant", QUESTION_2, 5.6, 1.1, turn(1, 480.0, 742.3, 0.6, 20.4, 779.1)),
    (
        "user",
        "I would add timeouts and retries with backoff, and maybe a circuit breaker, you know, so we fail fast.",
        9.4,
        2.3,
        HEARD,
    ),
    (
        "assistant",
        "Could you say more about how you would notice that the dependency is failing?",
        4.1,
        0.8,
        turn(2, 480.0, 716.0, 0.5, 35.2, 758.4),
    ),
    (
        "user",
        "Um, we'd have, like, dashboards and alerts on the error rate and the p99 latency of each call, I guess.",
        11.8,
        1.0,
        HEARD,
    ),
    (
        "assistant",
        "Thanks, Grace. That's all the time we have today. Your feedback will be ready in a moment.",
        5.0,
        0,
        turn(3, 300.0, 455.7, 0.4, 28.9, 512.6, early=True, ended_by="stt"),
    ),
]


def answer(index: int, started: str, seconds: float, words: int, fillers: dict, hedges: dict, delay: float):
    """One answer's speech metrics, as speech_metrics.to_dict() gives them."""
    wpm = round(words * 60 / seconds, 1)
    return {
        "index": index,
        "line_count": 1,
        "started_at": f"2025-01-01T00:{started}+00:00",
        "duration_seconds": seconds,
        "word_count": words,
        "words_per_minute": wpm,
        "pace": "slow" if wpm < 110 else "fast" if wpm > 170 else "ok",
        "filler_count": sum(fillers.values()),
        "fillers_per_minute": round(sum(fillers.values()) * 60 / seconds, 1),
        "filler_counts": fillers,
        "hedge_count": sum(hedges.values()),
        "hedges_per_minute": round(sum(hedges.values()) * 60 / seconds, 1),
        "hedge_counts": hedges,
        "start_delay_seconds": delay,
        "is_long": seconds > 120,
        "is_short": seconds < 15,
    }


#: A report for TRANSCRIPT: the offline scorer's output for it, a few scores and notes edited by hand.
READY_REPORT: dict[str, Any] = {
    "scores": {
        "overall_score": 67,
        "technical_depth_score": 74,
        "communication_score": 66,
        "structure_score": 58,
        "confidence_score": 88,
    },
    "strengths": "\n".join(
        [
            "Your technical answers covered the key points (timeouts and retries, graceful degradation, "
            "observability).",
            "You backed your answers with concrete figures (13 across 2 answers).",
            "You started your answers promptly.",
        ]
    ),
    "improvements": "\n".join(
        [
            "Keep answers under two minutes (1 ran long): lead with the point, then the detail.",
            "Expand short answers (2 under 15 seconds): context, what you did, and the outcome.",
            "Pick up the pace a little: 86 words per minute is slow.",
        ]
    ),
    "detailed_feedback": {
        "questions": [
            {
                "question": "To start, tell me about a system you designed.",
                "answer_summary": "I designed the ingestion pipeline for our billing events at a fintech startup. "
                "Um, we were writing every event straight to Postgres and at peak it was, like, twelve thousand "
                "inserts a second, so the…",
                "good": ["Gave 12 concrete figure(s).", "Named specifics: Postgres, Kafka, Go, COPY."],
                "missing": ["Took over two minutes to answer: the point came late."],
                "stronger_answer": "Lead with the answer in one sentence, then justify it: the alternative you "
                "rejected and why, the numbers that matter (scale, latency, cost), and how you would check it works.",
            },
            {
                "question": QUESTION_2,
                "answer_summary": "I would add timeouts and retries with backoff, and maybe a circuit breaker, you "
                "know, so we fail fast.",
                "good": [
                    "Mentioned timeouts and retries, graceful degradation, observability.",
                    "Gave 1 concrete figure(s).",
                ],
                "missing": ["Did not cover redundancy."],
                "stronger_answer": "Name the approach first, then walk through it in order, covering redundancy "
                "(for example replica and redundancy). Close with the main trade-off and how you would measure "
                "that it works.",
            },
        ],
        "speech": {
            "answer_count": 3,
            "total_words": 219,
            "total_seconds": 152.7,
            "interviewer_seconds": 28.9,
            "talk_share": 0.841,
            "words_per_minute": 86.1,
            "pace": "slow",
            "filler_count": 7,
            "fillers_per_minute": 2.8,
            "filler_counts": {"um": 2, "like": 2, "you know": 2, "basically": 1},
            "hedge_count": 3,
            "hedges_per_minute": 1.2,
            "hedge_counts": {"I think": 1, "I guess": 1, "maybe": 1},
            "longest_answer_seconds": 131.5,
            "longest_answer_words": 180,
            "mean_answer_seconds": 50.9,
            "mean_answer_words": 73.0,
            "mean_start_delay_seconds": 1.1,
            "long_answers": [0],
            "long_answer_count": 1,
            "short_answers": [1, 2],
            "short_answer_count": 2,
            "answers": [
                answer(
                    0, "00:15.6", 131.5, 180, {"um": 1, "like": 1, "you know": 1, "basically": 1}, {"I think": 1}, 1.4
                ),
                answer(1, "02:34.7", 9.4, 19, {"you know": 1}, {"maybe": 1}, 1.1),
                answer(2, "02:51.3", 11.8, 20, {"um": 1, "like": 1}, {"I guess": 1}, 0.8),
            ],
        },
        "scored_by": "offline rules",
        "scoring_note": "Scored offline by transparent rules, not by an AI model: coverage of each question's key "
        "points, STAR elements in stories, concrete figures and names, and the speech metrics (pace, fillers, hedges, "
        "answer lengths). The README lists every rule.",
        "filler_reliability": {
            "level": "medium",
            "note": "The embedded Whisper is primed to keep filler words; measured on synthetic speech it kept 93% of "
            "them (benchmarks/filler_hearing.py), but soft hesitations may still be missed, so the count is a floor.",
            "stt": "whisper",
        },
    },
}


async def add_transcript(visit: Visit, interview_id: str) -> None:
    key = uuid.UUID(interview_id)
    at = datetime.now(UTC) - timedelta(minutes=4)
    for role, text, seconds, gap, metrics in TRANSCRIPT:
        await visit.server.db.add_message(key, role, text, at, seconds, metrics=metrics)
        at += timedelta(seconds=seconds + gap)
    await visit.server.db.record_activity(key, sum(seconds + gap for _, _, seconds, gap, _ in TRANSCRIPT))


async def test_the_feedback_report_appears_when_ready_with_scores_notes_speech_and_call_quality(visit: Visit):
    page = visit.page
    await visit.signup()
    interview = await visit.create_interview(role="Backend Engineer", interview_type="technical", duration_minutes=20)
    key = uuid.UUID(interview["id"])
    db = visit.server.db
    await add_transcript(visit, interview["id"])
    # In progress: no feedback yet; the candidate may rejoin, or finish it here.
    await visit.goto(f"/interviews/{interview['id']}")
    await expect(page.locator("#feedback-not-ready")).to_contain_text("once the interview is finished")
    await expect(page.get_by_role("link", name="Rejoin the call")).to_have_attribute(
        "href", f"/interviews/{interview['id']}/call"
    )
    await page.get_by_role("button", name="Finish and get feedback").click()
    await expect(page.locator(".badge--completed")).to_be_visible()
    await expect(page.get_by_role("link", name="Rejoin the call")).to_have_count(0)
    await expect(page.locator("#transcript .line--user").first).to_contain_text("batches writes")
    await expect(page.locator("#feedback-pending, #feedback-report")).to_be_visible()

    # While the report is being written the page says so, and shows it as soon as it is there (no reload).
    await visit.feedback_written(interview["id"])
    await db.save_feedback(key, status=FeedbackStatus.PENDING)
    await page.reload()
    await expect(page.locator("#feedback-pending")).to_contain_text("Preparing your feedback")
    await expect(page.locator("#feedback")).to_have_attribute("aria-busy", "true")
    await db.save_feedback(
        key,
        status=FeedbackStatus.READY,
        scores=READY_REPORT["scores"],
        strengths=READY_REPORT["strengths"],
        improvements=READY_REPORT["improvements"],
        detailed_feedback=READY_REPORT["detailed_feedback"],
    )
    report = page.locator("#feedback-report")
    await expect(report).to_be_visible(timeout=10_000)
    await expect(page.locator("#feedback")).to_have_attribute("aria-busy", "false")
    await expect(page.locator("#feedback-announce")).to_have_text("Your feedback is ready.")

    # The five scores as bars, the overall one first with a line that reads it.
    await expect(report.locator("#feedback-scores [role=meter]")).to_have_count(5)
    await expect(page.locator("[data-score=overall_score] .score__value")).to_have_text("67/100")
    await expect(page.locator("#score-reading")).to_contain_text("A fair base")
    await expect(page.locator("[data-score=structure_score] [role=meter]")).to_have_attribute("aria-valuenow", "58")
    width = await page.locator("[data-score=technical_depth_score] .score__fill").evaluate("e => e.style.width")
    assert width == "74%"

    # Strengths and improvements: one list item per line of text.
    strengths = page.get_by_role("group", name="What went well")
    await expect(strengths.locator("li")).to_have_count(3)
    await expect(strengths.locator("li").nth(2)).to_have_text("You started your answers promptly.")
    improvements = page.get_by_role("group", name="What to work on")
    await expect(improvements.locator("li")).to_have_count(3)
    await expect(improvements.locator("li").first).to_contain_text("Keep answers under two minutes")

    # A card per question: what was said, what was good and missing, and a stronger answer as a quote.
    cards = page.locator("#feedback-questions .qnote")
    await expect(cards).to_have_count(2)
    second = cards.nth(1)
    await expect(second.get_by_role("heading", name=QUESTION_2)).to_be_visible()
    await expect(second).to_contain_text("circuit breaker")
    await expect(second.locator(".points--good li")).to_have_count(2)
    await expect(second.locator(".points--todo li")).to_have_text(["Did not cover redundancy."])
    await expect(second.locator(".stronger blockquote")).to_contain_text("Name the approach first")
    await expect(second.locator(".stronger figcaption")).to_have_text("A stronger answer")

    # How they spoke, for a person: pace against its band, fillers with how far to trust the count, talk share.
    speech = page.locator("#feedback-speech")
    await expect(speech.get_by_role("heading", name="How you spoke")).to_be_visible()
    await expect(page.locator("#pace-wpm")).to_have_text("86.1")
    await expect(page.locator("#pace-flag")).to_have_text("A little slow")
    await expect(page.locator("#speech-pace")).to_contain_text("110–170 words per minute")
    await expect(page.locator("#speech-pace [role=img]")).to_have_attribute(
        "aria-label", "86.1 words per minute; a comfortable range is 110 to 170."
    )
    await expect(page.locator("#filler-rate")).to_have_text("2.8 per minute")
    await expect(page.locator("#speech-fillers .chip")).to_have_count(4)
    await expect(page.locator("#speech-fillers .chip").first).to_have_text("“um” ×2")
    reliability = page.locator("#filler-reliability")
    await expect(reliability).to_contain_text("Count reliability: medium.")
    await expect(reliability).to_contain_text("embedded Whisper")
    await expect(page.locator("#speech-hedges .chip")).to_have_count(3)
    await expect(page.locator("#speech-talk-share")).to_contain_text("84% of the talking was you")
    await expect(page.locator("#speech-talk-share [role=img]")).to_have_attribute(
        "aria-label", "You spoke 84% of the time, the interviewer 16%."
    )
    await expect(page.locator("#speech-start-delay")).to_contain_text("1.1 s on average")
    await expect(page.locator("#speech-lengths")).to_contain_text("2 min 12 s (180 words)")
    await expect(page.locator("#long-answers")).to_contain_text("answer 1")
    await expect(page.locator("#short-answers")).to_contain_text("answer 2 and answer 3")

    # Who scored it, at the end of the report.
    await expect(page.locator("#feedback-scorer")).to_contain_text("Scored offline by transparent rules")

    # Call quality: a row per interviewer line with metrics, the median response time over the answered turns.
    quality = page.locator("#call-quality")
    await expect(quality).to_contain_text("from the end of your speech to the first sound of its reply")
    rows = quality.locator("#latency-table tbody tr")
    await expect(rows).to_have_count(4)
    await expect(rows.nth(0).locator("th")).to_have_text("Greeting")
    await expect(rows.nth(0).locator("td").nth(0)).to_have_text("—")
    await expect(rows.nth(1).locator("td.num")).to_have_text(["779 ms", "480 ms", "742 ms", "<1 ms", "20 ms"])
    await expect(rows.nth(3).locator(".early-mark")).to_have_count(1)
    await expect(rows.nth(1).locator(".early-mark")).to_have_count(0)
    await expect(page.locator("#median-response")).to_have_text("758 ms")
    await visit.screenshot("interview-feedback")

    # On a phone the report reads in one column, and nothing but the latency table scrolls sideways.
    await page.set_viewport_size(PHONE)
    overflow = await page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, overflow
    await visit.screenshot("interview-feedback-phone")
    await page.set_viewport_size(DESKTOP)


async def test_a_failed_report_says_why_and_try_again_writes_it(visit: Visit):
    page = visit.page
    await visit.signup()
    interview = await visit.create_interview(role="Backend Engineer", interview_type="technical", duration_minutes=20)
    await add_transcript(visit, interview["id"])
    status, _ = await visit.api("POST", f"/api/interviews/{interview['id']}/complete")
    assert status == 200
    await visit.feedback_written(interview["id"])
    await visit.server.db.save_feedback(
        uuid.UUID(interview["id"]),
        status=FeedbackStatus.FAILED,
        error="The reviewer could not write this report (TimeoutError). Try again in a moment.",
    )

    await visit.goto(f"/interviews/{interview['id']}")
    failed = page.locator("#feedback-failed")
    await expect(failed).to_contain_text("could not prepare feedback")
    await expect(failed).to_contain_text("(TimeoutError)")
    await expect(failed).to_contain_text("Your transcript is saved below")
    # The call's quality does not depend on the report.
    await expect(page.locator("#latency-table tbody tr")).to_have_count(4)
    await visit.screenshot("interview-feedback-failed")

    # "Try again" asks the server to write it again (the test server's offline scorer does at once): the page
    # waits for it like the first time, then shows the real report.
    async with page.expect_response(lambda r: r.url.endswith("/retry") and r.request.method == "POST") as posted:
        await page.get_by_role("button", name="Try again").click()
    assert (await posted.value).status == 202
    await expect(page.locator("#feedback-pending")).to_contain_text("Preparing your feedback")
    report = page.locator("#feedback-report")
    await expect(report).to_be_visible(timeout=10_000)
    await expect(page.locator("#feedback-failed")).to_have_count(0)
    await expect(report.locator("#feedback-scores [role=meter]")).to_have_count(5)
    await expect(report.locator("#feedback-questions .qnote").first).to_contain_text("A stronger answer")
    await expect(page.locator("#filler-reliability")).to_contain_text("Whisper")
    await expect(page.locator("#feedback-scorer")).to_contain_text("Scored offline by transparent rules")
    await expect(page.locator("#feedback-announce")).to_have_text("Your feedback is ready.")


async def test_profile_edits_are_saved_and_used_for_the_next_interview(visit: Visit):
    page = visit.page
    user = await visit.signup(full_name="Grace Hopper", target_role="Software Engineer", experience_level="mid")

    await visit.goto("/profile")
    await expect(page.get_by_label("Email")).to_have_value(user["email"])
    await expect(page.locator("#interviews-left")).to_have_text("3")
    await expect(page.get_by_label("Mid")).to_be_checked()
    await visit.screenshot("profile")

    await page.get_by_label("Full name").fill("")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator("[data-error-for=full_name]")).to_have_text("Enter your name.")
    await expect(page.get_by_label("Full name")).to_be_focused()

    await page.get_by_label("Full name").fill("Rear Admiral Grace Hopper")
    await page.get_by_label("Target role").fill("Engineering Manager")
    await page.get_by_text("Senior", exact=True).click()
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator("#profile-saved")).to_have_text("Your profile is saved.")
    await expect(page.locator("[data-error-for=full_name]")).to_be_empty()

    await page.reload()
    await expect(page.get_by_label("Full name")).to_have_value("Rear Admiral Grace Hopper")
    await expect(page.get_by_label("Senior")).to_be_checked()
    await page.get_by_role("link", name="New interview").click()
    await expect(page.get_by_label("Role", exact=True)).to_have_value("Engineering Manager")
    await page.get_by_role("link", name="Dashboard").click()
    await expect(page.get_by_role("heading", name="Welcome, Rear")).to_be_visible()


async def test_an_aside_in_the_transcript_is_shown_apart_from_the_turns(visit: Visit):
    page = visit.page
    await visit.signup()
    interview = await visit.create_interview(role="Backend Engineer", interview_type="technical", duration_minutes=20)
    key = uuid.UUID(interview["id"])
    at = datetime.now(UTC) - timedelta(minutes=2)
    for seconds, (role, text, kind) in enumerate(
        [
            ("assistant", "Tell me about a system you built.", "turn"),
            ("user", "Let me think.", "turn"),
            ("assistant", "Sure, take your time.", "aside"),
            ("user", "A billing service that batches writes.", "turn"),
        ]
    ):
        await visit.server.db.add_message(key, role, text, at + timedelta(seconds=10 * seconds), 2.0, kind=kind)
    await visit.goto(f"/interviews/{interview['id']}")

    aside = page.locator("#transcript .line--aside")
    await expect(aside).to_have_count(1)
    await expect(aside).to_contain_text("Sure, take your time.")
    await expect(aside.locator(".line__note")).to_have_text("Aside, not part of an answer")
    await expect(page.locator("#transcript .line[data-kind=turn]")).to_have_count(3)
