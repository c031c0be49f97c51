"""Speech metrics from crafted transcripts whose figures are worked out by hand in each test."""

import enum
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest

from voice_agent.feedback.speech_metrics import (
    FAST_WPM,
    FILLERS,
    HEDGES,
    LONG_ANSWER_SECONDS,
    SHORT_ANSWER_SECONDS,
    SLOW_WPM,
    Line,
    compute_speech_metrics,
    count_fillers,
    count_hedges,
    count_words,
    pace_flag,
)

T0 = datetime(2025, 3, 1, 10, 0, 0, tzinfo=UTC)


def interviewer(at: float, seconds: float, text: str = "Next question.", interrupted: bool = False) -> Line:
    return Line("assistant", text, T0 + timedelta(seconds=at), seconds, interrupted)


def candidate(at: float, seconds: float, text: str) -> Line:
    return Line("user", text, T0 + timedelta(seconds=at), seconds)


# Six sentences of exactly 10 words each = 60 words. Fillers: "Um", "like" (between commas), "You know", "um" = 2 um,
# 1 like, 1 you know. The "like" in "I like Python" is the verb. Hedges: "I think" only.
FIRST_ANSWER = (
    "Um, I think I like Python because it reads clearly. "  # 10
    "It was, like, the first language I learned at school. "  # 10
    "You know, um, I then used it for data pipelines. "  # 10
    "Our small team of four engineers shipped weekly releases there. "  # 10
    "We cut costs by half over three busy quarters together. "  # 10
    "Customers across Europe and Asia relied on those nightly reports."  # 10
)


def interview() -> list[Line]:
    """Four answers:

    0. after a 5.0 s question at t=0 (ends t=5.0), starts at t=6.5 (delay 1.5): 60 words in 20.0 s.
    1. after a 4.0 s question at t=30 (ends t=34), starts at t=33 (barge-in, delay -1 -> 0), two candidate lines:
       "I guess it was fine." (5 words, 10.0 s) and "Probably, sort of." (3 words, 8.0 s): 8 words in 18.0 s.
    2. after a 3.0 s question at t=60 (ends t=63), starts at t=65 (delay 2.0): "Yes." 1 word in 0.5 s.
    3. after a 2.0 s question at t=70 (ends t=72), starts at t=75 (delay 3.0): 300 words in 150.0 s.
    Then a 3.0 s closing line. Interviewer: 5 + 4 + 3 + 2 + 3 = 17.0 s. Candidate: 20 + 18 + 0.5 + 150 = 188.5 s.
    """
    return [
        interviewer(0, 5.0, "Tell me about yourself."),
        candidate(6.5, 20.0, FIRST_ANSWER),
        interviewer(30, 4.0, "And how did that go?", interrupted=True),
        candidate(33, 10.0, "I guess it was fine."),
        candidate(45, 8.0, "Probably, sort of."),
        interviewer(60, 3.0, "Was it your choice?"),
        candidate(65, 0.5, "Yes."),
        interviewer(70, 2.0, "Walk me through it."),
        candidate(75, 150.0, "data " * 300),
        interviewer(230, 3.0, "Thank you, that is all."),
    ]


def test_the_first_answer_is_counted_to_the_unit():
    assert count_words(FIRST_ANSWER) == 60
    answer = compute_speech_metrics(interview()).answers[0]
    assert answer.index == 0
    assert answer.line_count == 1
    assert answer.started_at == T0 + timedelta(seconds=6.5)
    assert answer.duration_seconds == 20.0
    assert answer.word_count == 60
    assert answer.words_per_minute == 180.0  # 60 words / (20 / 60) min
    assert answer.pace == "fast"
    assert answer.filler_counts == {"um": 2, "like": 1, "you know": 1}
    assert answer.filler_count == 4
    assert answer.fillers_per_minute == 12.0  # 4 / (20 / 60)
    assert answer.hedge_counts == {"I think": 1}
    assert answer.hedge_count == 1
    assert answer.hedges_per_minute == 3.0  # 1 / (20 / 60)
    assert answer.start_delay_seconds == 1.5  # starts at 6.5, question ended at 0 + 5.0
    assert answer.is_long is False
    assert answer.is_short is False


def test_consecutive_candidate_lines_are_one_answer_and_a_barge_in_counts_as_no_delay():
    metrics = compute_speech_metrics(interview())
    answer = metrics.answers[1]
    assert metrics.answer_count == 4
    assert answer.line_count == 2
    assert answer.text == "I guess it was fine. Probably, sort of."
    assert answer.started_at == T0 + timedelta(seconds=33)
    assert answer.duration_seconds == 18.0  # 10.0 + 8.0
    assert answer.word_count == 8  # 5 + 3
    assert answer.words_per_minute == pytest.approx(8 * 60 / 18)  # 26.67
    assert answer.pace == "slow"
    assert answer.filler_counts == {"sort of": 1}
    assert answer.fillers_per_minute == pytest.approx(60 / 18)
    # "sort of" counts once as a filler and once as a hedge.
    assert answer.hedge_counts == {"I guess": 1, "probably": 1, "sort of": 1}
    assert answer.hedge_count == 3
    assert answer.hedges_per_minute == pytest.approx(10.0)  # 3 / (18 / 60)
    assert answer.start_delay_seconds == 0.0  # started at 33, the question ended at 34: -1 s -> 0
    assert answer.is_short is False  # 18 s


def test_an_answer_under_one_second_has_no_rate_and_is_short():
    answer = compute_speech_metrics(interview()).answers[2]
    assert answer.duration_seconds == 0.5
    assert answer.word_count == 1
    assert answer.words_per_minute is None
    assert answer.pace is None
    assert answer.fillers_per_minute is None
    assert answer.hedges_per_minute is None
    assert answer.start_delay_seconds == 2.0  # 65 - (60 + 3)
    assert answer.is_short is True


def test_a_long_answer():
    answer = compute_speech_metrics(interview()).answers[3]
    assert answer.duration_seconds == 150.0
    assert answer.word_count == 300
    assert answer.words_per_minute == 120.0  # 300 / 2.5 min
    assert answer.pace == "ok"
    assert answer.filler_count == 0
    assert answer.fillers_per_minute == 0.0
    assert answer.filler_counts == {}
    assert answer.start_delay_seconds == 3.0  # 75 - (70 + 2)
    assert answer.is_long is True
    assert answer.is_short is False


def test_overall_figures():
    metrics = compute_speech_metrics(interview())
    assert metrics.answer_count == 4
    assert metrics.total_words == 369  # 60 + 8 + 1 + 300
    assert metrics.total_seconds == 188.5  # 20 + 18 + 0.5 + 150
    assert metrics.interviewer_seconds == 17.0  # 5 + 4 + 3 + 2 + 3
    assert metrics.talk_share == pytest.approx(188.5 / 205.5)  # 0.917
    assert metrics.words_per_minute == pytest.approx(369 * 60 / 188.5)  # 117.45: overall, not a mean of answers
    assert metrics.pace == "ok"
    assert metrics.filler_counts == {"um": 2, "like": 1, "you know": 1, "sort of": 1}
    assert metrics.filler_count == 5
    assert metrics.fillers_per_minute == pytest.approx(5 * 60 / 188.5)  # 1.59
    assert metrics.hedge_counts == {"I think": 1, "I guess": 1, "probably": 1, "sort of": 1}
    assert metrics.hedge_count == 4
    assert metrics.hedges_per_minute == pytest.approx(4 * 60 / 188.5)  # 1.27
    assert metrics.longest_answer_seconds == 150.0
    assert metrics.longest_answer_words == 300
    assert metrics.mean_answer_seconds == 47.125  # 188.5 / 4
    assert metrics.mean_answer_words == 92.25  # 369 / 4
    assert metrics.mean_start_delay_seconds == 1.625  # (1.5 + 0 + 2 + 3) / 4
    assert metrics.long_answers == (3,)
    assert metrics.long_answer_count == 1
    assert metrics.short_answers == (2,)
    assert metrics.short_answer_count == 1


def test_to_dict_is_plain_rounded_json_and_stable():
    metrics = compute_speech_metrics(interview())
    data = metrics.to_dict()
    text = json.dumps(data)
    assert json.loads(text) == data
    assert json.dumps(compute_speech_metrics(interview()).to_dict()) == text
    assert {key: value for key, value in data.items() if key != "answers"} == {
        "answer_count": 4,
        "total_words": 369,
        "total_seconds": 188.5,
        "interviewer_seconds": 17.0,
        "talk_share": 0.917,  # 188.5 / 205.5 = 0.91727
        "words_per_minute": 117.5,  # 117.454
        "pace": "ok",
        "filler_count": 5,
        "fillers_per_minute": 1.6,  # 1.5915
        "filler_counts": {"um": 2, "like": 1, "you know": 1, "sort of": 1},
        "hedge_count": 4,
        "hedges_per_minute": 1.3,  # 1.2732
        "hedge_counts": {"I think": 1, "I guess": 1, "probably": 1, "sort of": 1},
        "longest_answer_seconds": 150.0,
        "longest_answer_words": 300,
        "mean_answer_seconds": 47.12,  # 47.125, Python rounds half to even
        "mean_answer_words": 92.2,  # 92.25, half to even
        "mean_start_delay_seconds": 1.62,  # 1.625, half to even
        "long_answers": [3],
        "long_answer_count": 1,
        "short_answers": [2],
        "short_answer_count": 1,
    }
    assert data["answers"][1] == {
        "index": 1,
        "line_count": 2,
        "started_at": "2025-03-01T10:00:33+00:00",
        "duration_seconds": 18.0,
        "word_count": 8,
        "words_per_minute": 26.7,  # 26.667
        "pace": "slow",
        "filler_count": 1,
        "fillers_per_minute": 3.3,  # 3.333
        "filler_counts": {"sort of": 1},
        "hedge_count": 3,
        "hedges_per_minute": 10.0,
        "hedge_counts": {"I guess": 1, "probably": 1, "sort of": 1},
        "start_delay_seconds": 0.0,
        "is_long": False,
        "is_short": False,
    }
    assert data["answers"][2]["words_per_minute"] is None
    assert data["answers"][2]["pace"] is None
    assert [answer["index"] for answer in data["answers"]] == [0, 1, 2, 3]


def test_an_empty_transcript():
    metrics = compute_speech_metrics([])
    assert metrics.answer_count == 0
    assert metrics.total_words == 0
    assert metrics.total_seconds == 0.0
    assert metrics.interviewer_seconds == 0.0
    assert metrics.talk_share is None
    assert metrics.words_per_minute is None
    assert metrics.pace is None
    assert metrics.filler_count == 0
    assert metrics.fillers_per_minute is None
    assert metrics.filler_counts == {}
    assert metrics.hedge_count == 0
    assert metrics.hedges_per_minute is None
    assert metrics.hedge_counts == {}
    assert metrics.longest_answer_seconds is None
    assert metrics.longest_answer_words is None
    assert metrics.mean_answer_seconds is None
    assert metrics.mean_answer_words is None
    assert metrics.mean_start_delay_seconds is None
    assert metrics.long_answers == ()
    assert metrics.short_answers == ()
    assert metrics.answers == ()
    data = metrics.to_dict()
    json.dumps(data)
    assert data["answers"] == []
    assert data["long_answer_count"] == 0


def test_only_the_interviewer_spoke():
    metrics = compute_speech_metrics([interviewer(0, 4.0), interviewer(10, 6.0)])
    assert metrics.answer_count == 0
    assert metrics.interviewer_seconds == 10.0
    assert metrics.talk_share == 0.0
    assert metrics.mean_start_delay_seconds is None


def test_an_answer_not_after_an_interviewer_line_has_no_delay():
    # The candidate speaks first (12 words in 6.0 s = 120 wpm), then once more after a 2.0 s question (delay 0.5).
    lines = [
        candidate(0, 6.0, "one two three four five six seven eight nine ten eleven twelve"),
        interviewer(7, 2.0),
        candidate(9.5, 1.0, "Sure."),
    ]
    metrics = compute_speech_metrics(lines)
    assert [answer.start_delay_seconds for answer in metrics.answers] == [None, 0.5]
    assert metrics.mean_start_delay_seconds == 0.5
    assert metrics.answers[0].words_per_minute == 120.0
    assert metrics.answers[1].words_per_minute == 60.0  # 1 word in exactly 1.0 s: rated
    assert metrics.talk_share == 7.0 / 9.0  # (6 + 1) / (6 + 1 + 2)


def test_thresholds_and_their_boundaries():
    assert (SLOW_WPM, FAST_WPM, SHORT_ANSWER_SECONDS, LONG_ANSWER_SECONDS) == (110, 170, 15, 120)
    assert pace_flag(None) is None
    assert pace_flag(109.9) == "slow"
    assert pace_flag(110.0) == "ok"
    assert pace_flag(170.0) == "ok"
    assert pace_flag(170.1) == "fast"
    lines = [
        interviewer(0, 1.0),
        candidate(1, 15.0, "a"),  # exactly 15 s: not short
        interviewer(20, 1.0),
        candidate(21, 120.0, "b"),  # exactly 120 s: not long
        interviewer(150, 1.0),
        candidate(151, 14.99, "c"),  # short
        interviewer(170, 1.0),
        candidate(171, 120.01, "d"),  # long
    ]
    metrics = compute_speech_metrics(lines)
    assert metrics.short_answers == (2,)
    assert metrics.long_answers == (3,)


def test_word_counting():
    assert count_words("") == 0
    assert count_words("don't") == 1
    assert count_words("I’m") == 1  # curly apostrophe
    assert count_words("3.5") == 2
    assert count_words("well-known") == 2
    assert count_words("café naïve") == 2
    assert count_words("' - , ...") == 0
    assert count_words("'quoted' words") == 2


@pytest.mark.parametrize(
    ("text", "fillers"),
    [
        # 1. joined by a hyphen: not a filler
        ("We were like-minded.", 0),
        ("A business-like tone.", 0),
        # 2. after a word that makes it the verb: not a filler
        ("I like Python.", 0),
        ("I would like to add one thing.", 0),
        ("I'd like to add one thing.", 0),
        ("Do you like it?", 0),
        ("I really like, um, testing.", 1),  # only the "um"
        ("That's what I like.", 0),
        # 3. after a word that makes it a preposition: not a filler
        ("I feel like it went well.", 0),
        ("It looks like a bug.", 0),
        ("Something like that.", 0),
        # 4. followed by a pause: a filler
        ("It was, like, hard.", 1),
        ("So like, the thing is simple.", 1),
        ("We had nothing to show, like.", 1),
        # 5. followed by a comparison object: not a filler
        ("It works like a queue.", 0),
        ("It is fast, like the old one.", 0),
        ("It's like this one.", 0),
        ("Do it like that.", 0),
        # 6. after a pause: a filler
        ("Like I was saying, it failed.", 1),
        ("So, like three years.", 1),
        # 7. after a form of "be": a filler
        ("I was like no way.", 1),
        ("She is like really good.", 1),
        ("I'm like why not.", 1),
        ("It's like really hard.", 1),
        # 8. next to a hesitation, or between two fillers: a filler
        ("We um like shipped it.", 2),  # um + like
        ("We shipped it like uh fast.", 2),  # like + uh
        ("We you know like basically rebuilt it.", 3),  # you know + like + basically
        # 9. otherwise: not a filler
        ("We used tools like Docker.", 0),
        ("People like you.", 0),
        # only the exact word
        ("She likes it and liked it.", 0),
    ],
)
def test_like_rules(text: str, fillers: int):
    counts = count_fillers(text)
    assert sum(counts.values()) == fillers, counts


def test_hesitation_variants_and_case():
    assert count_fillers("Umm, UH, erm... ahh, Ummm, uhh, err, uhm, ER") == {"um": 3, "uh": 2, "er": 3, "ah": 1}
    # Words that only start like a hesitation do not count.
    assert count_fillers("Umbrella, under, ahead, error") == {}


def test_multiword_fillers_count_once_and_are_not_double_counted():
    assert count_fillers("You know, I mean, it was you know fine.") == {"you know": 2, "I mean": 1}
    # "you know like" is one "you know" plus a "like" between two fillers; "know" is not counted again.
    assert count_fillers("It you know like basically worked.") == {"like": 1, "you know": 1, "basically": 1}
    # A comma inside the phrase breaks it.
    assert count_fillers("you, know") == {}
    # Words of fillers still count as words.
    assert count_words("You know, I mean, it was you know fine.") == 9


def test_filler_context_exceptions():
    assert count_fillers("Do you know Redis? If you know it, good.") == {}
    assert count_fillers("What I mean is simple.") == {}
    assert count_fillers("What kind of database? A sort of cache. This kind of thing.") == {}
    assert count_fillers("It's kind of slow and sort of old.") == {"sort of": 1, "kind of": 1}
    assert count_fillers("Basically, it actually literally worked.") == {
        "basically": 1,
        "actually": 1,
        "literally": 1,
    }


def test_phrases_do_not_span_lines():
    # "you" ends one line and "know" starts the next: no "you know"; each line start is a pause for "like".
    lines = [interviewer(0, 1.0), candidate(2, 2.0, "I told you"), candidate(5, 2.0, "know what, like")]
    answer = compute_speech_metrics(lines).answers[0]
    assert answer.filler_counts == {"like": 1}
    assert count_fillers("I told you\nknow what") == {}


def test_hedges():
    text = (
        "I think so. I guess. I believe it. I suppose. I feel like it. I'm not sure. Not sure. Maybe, probably, "
        "perhaps, possibly. Sort of, kind of, somewhat. It might. It could be. More or less. To be honest, yes."
    )
    assert count_hedges(text) == dict.fromkeys(HEDGES, 1)
    # The longest phrase wins: "I'm not sure" is not also "not sure"; "I feel like" is not a filler "like".
    assert count_hedges("I'm not sure I feel like it") == {"I feel like": 1, "I'm not sure": 1}
    assert count_fillers("I feel like it") == {}
    assert count_hedges("What kind of bug? MIGHT be.") == {"might": 1}


@pytest.mark.parametrize("filler", FILLERS)
def test_each_listed_filler_said_in_an_answer_is_counted_under_its_name(filler):
    answer = compute_speech_metrics([interviewer(0, 2.0), candidate(3, 10.0, f"So, {filler}, it worked.")]).answers[0]
    assert answer.filler_counts == {filler: 1} and answer.filler_count == 1


def test_every_filler_of_a_transcript_is_counted_and_listed_in_the_lists_order():
    said = ", ".join(reversed(FILLERS))  # "literally, actually, ..., uh, um"
    counts = count_fillers(f"So, {said}, it worked.")
    assert counts == dict.fromkeys(FILLERS, 1) and list(counts) == list(FILLERS)


def test_kind_of_and_sort_of_are_hedges_as_well_as_fillers():
    text = "It's kind of slow and sort of old."
    assert count_fillers(text) == {"kind of": 1, "sort of": 1}
    assert count_hedges(text) == {"kind of": 1, "sort of": 1}


class Role(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"


@dataclass
class Row:
    role: Role
    content: str
    timestamp: datetime
    audio_duration_seconds: float
    interrupted: bool = False


def test_line_from_message_takes_enum_roles_and_the_stored_timestamp():
    row = Row(Role.USER, "Hello there", T0, 1.25)
    assert Line.from_message(row) == Line("user", "Hello there", T0, 1.25, False)

    @dataclass
    class Spoken:
        role: str
        content: str
        started_at: datetime
        audio_duration_seconds: float
        interrupted: bool

    cut = Spoken("assistant", "So tell", T0, 0.8, True)
    assert Line.from_message(cut) == Line("assistant", "So tell", T0, 0.8, True)


def test_line_validation():
    with pytest.raises(ValueError, match="role"):
        Line("system", "x", T0, 1.0)
    with pytest.raises(ValueError, match="timezone"):
        Line("user", "x", datetime(2025, 3, 1, 10, 0), 1.0)
    with pytest.raises(ValueError, match="audio_duration_seconds"):
        Line("user", "x", T0, -1.0)
    with pytest.raises(ValueError, match="audio_duration_seconds"):
        Line("user", "x", T0, float("nan"))


def test_other_time_zones_give_the_same_delays():
    paris = timezone(timedelta(hours=1))
    lines = [
        Line("assistant", "Q", datetime(2025, 3, 1, 11, 0, 0, tzinfo=paris), 2.0),
        Line("user", "A", datetime(2025, 3, 1, 10, 0, 3, tzinfo=UTC), 2.0),
    ]
    metrics = compute_speech_metrics(lines)
    assert metrics.mean_start_delay_seconds == 1.0
    assert metrics.to_dict()["answers"][0]["started_at"] == "2025-03-01T10:00:03+00:00"
