"""The transcript signals of the turn decisions: completeness, backchannels, time requests, fillers, echo."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from voice_agent.turn_text import (
    TURN_WORDS,
    WORDS_FILE,
    Completeness,
    EchoDetector,
    TurnWordsError,
    asks_for_time,
    completeness,
    echo_of,
    echo_score,
    is_backchannel,
    is_filler_only,
    load_turn_words,
    words,
)

COMPLETE, UNFINISHED, UNKNOWN = Completeness.COMPLETE, Completeness.UNFINISHED, Completeness.UNKNOWN


@pytest.mark.parametrize(
    "text",
    [
        # the paused answers, as Whisper, Deepgram and OpenAI write them
        "I'd probably start by...",
        "I'd probably start by…",
        "I'd probably start by",
        "I'd probably start by profiling the",
        "I'd probably start by profiling the.",
        "I'd deploy it on Kubernetes and",
        "I'd deploy it on Kubernetes and.",
        "um... so",
        "Um... so.",
        # conjunctions, trailing "so", "and then"
        "We rolled it back, but",
        "I picked Postgres because",
        "It was slow so",
        "First we measured and then",
        "We could shard it or",
        "I chose the design which",
        "We split it so that",
        "The main reason is that",
        "It's faster than",
        # articles and determiners
        "I'd start with a",
        "We rewrote our",
        "I'd look at my",
        "I would use an",
        "I'd use this",
        # prepositions
        "The latency went down to",
        "It's a question of",
        "I'd cache it in",
        "We talked with",
        "I'd do it for",
        "It's measured by",
        "We moved it into",
        "We got the data from",
        # auxiliaries and copulas
        "The bottleneck is",
        "The queries were",
        "My first step would",
        "It should be",
        "I could",
        "We have",
        "I had",
        "What I'd do",
        # fillers and hesitations at the end
        "I'd profile it, um",
        "So I would uh",
        "I'd use, like",
        "It was sort of like",
        "It's tricky, you know",
        "We should, I mean",
        "Hmm",
        "Uh.",
        # punctuation that leaves the clause open
        "I'd start with the database,",
        "There are three things:",
        "We tried —",
        "We tried -",
        "I'd use Redis...",
        "Well...",
        # lone subjects
        "I",
        "So we",
        "And then I",
        "I think it's",
        "So I'd",
        # quotes and brackets after the mark do not hide it
        '"I\'d start with the..."',
        "(profiling the)",
        # intensifiers
        "It was very",
    ],
)
def test_utterances_that_end_mid_clause_are_unfinished(text):
    assert completeness(text) is UNFINISHED


@pytest.mark.parametrize(
    "text",
    [
        "Review time dropped from three days to one day.",
        "failures dropped by 90%.",
        "Failures dropped by 90 percent.",
        "I'd start by profiling the slowest endpoint.",
        "I would deploy it on Kubernetes!",
        "Would that work?",
        "It took 3.5 seconds.",
        'He said "ship it."',
        "I'd use Redis.)",
        "Okay.",
        "Thank you.",
        "Mm-hmm.",
        # endings that close a clause although their last word is listed as open
        "I think so.",
        "I don't think so.",
        "I hope so.",
        "Ten minutes or so.",
        "We tracked latency, errors and so on.",
        "We have been on call ever since.",
        "It has been stable since then.",
        "Hold on.",
        "We logged in.",
        "That's what I mean.",
        # a demonstrative as a pronoun
        "I've done that.",
        "I'd start with that.",
        "Something like this.",
        "We did all that.",
        "Could you repeat that?",
        # elliptical answers
        "Yes, I have.",
        "Yeah, we did.",
        "I think it is.",
        "Yes, there is.",
        # inverted questions, only before "?"
        "Should I?",
        "Why is that?",
        "Can we?",
        # unicode and curly apostrophes
        "We’d ship it on Friday.",
        "We shipped it in the café.",
    ],
)
def test_a_terminal_mark_after_a_clause_closing_word_is_complete(text):
    assert completeness(text) is COMPLETE


@pytest.mark.parametrize(
    "text",
    [
        "I'd use Redis",
        "review time dropped from three days to one day",
        "failures dropped by 90%",
        "I think so",
        "I've done that",
        "okay",
        "",
        "   ",
        "...",
        "—",
    ],
)
def test_no_terminal_mark_after_a_content_word_or_no_words_is_unknown(text):
    assert completeness(text) is UNKNOWN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Why is that?", COMPLETE),
        ("The main problem is that.", UNFINISHED),
        ("The main problem is that", UNFINISHED),
        ("Where should we?", COMPLETE),
        ("And then we.", UNFINISHED),
    ],
)
def test_question_endings_count_only_before_a_question_mark(text, expected):
    assert completeness(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yes, I have.", COMPLETE),
        ("yes I have", UNFINISHED),
        ("I think it is.", COMPLETE),
        ("I think it is", UNFINISHED),
    ],
)
def test_a_subject_and_an_auxiliary_close_a_clause_only_before_a_terminal_mark(text, expected):
    assert completeness(text) is expected


def test_every_listed_open_ending_leaves_a_sentence_unfinished():
    """Every word and phrase of the [unfinished] lists (and each demonstrative after a content word), put at
    the end of a sentence, makes it unfinished, with or without a period: the lists in the file do what
    they say."""
    w = TURN_WORDS
    endings = {" ".join(p) for phrases in w.unfinished for p in phrases.phrases} | set(w.demonstratives)
    for ending in sorted(endings):
        for mark in ("", "."):
            text = f"We should use Redis {ending}{mark}"
            assert completeness(text) is UNFINISHED, text


def test_completeness_values_name_themselves_for_the_metrics():
    assert [c.value for c in Completeness] == ["complete", "unfinished", "unknown"]
    assert Completeness("unfinished") is UNFINISHED


@pytest.mark.parametrize(
    "text",
    [
        "mm-hm",
        "Mm-hmm.",
        "mm hmm",
        "Mhm.",
        "uh-huh",
        "Okay.",
        "OK",
        "okay, yeah",
        "Right, right.",
        "Yeah.",
        "Yep!",
        "Yes.",
        "Sure.",
        "Got it.",
        "I see.",
        "Alright.",
        "All right.",
        "Cool, cool.",
        "Great.",
        "Hmm.",
        "Oh, okay.",
        "Makes sense.",
        "Yeah, got it.",
        "Okay, okay, right.",
    ],
)
def test_acknowledgements_alone_are_backchannels(text):
    assert is_backchannel(text)


@pytest.mark.parametrize(
    "text",
    [
        "Okay so I would split the service",
        "Okay, so.",
        "Right, but what about the cache?",
        "Yeah, I used Kafka.",
        "Wait.",
        "No.",
        "Stop.",
        "Um.",
        "I see what you mean",
        "yeah yeah yeah yeah yeah",
        "",
        "...",
        "Let me think.",
    ],
)
def test_anything_more_is_not_a_backchannel(text):
    assert not is_backchannel(text)


def test_the_backchannel_word_limit_is_a_parameter():
    assert not is_backchannel("okay okay okay okay okay")
    assert is_backchannel("okay okay okay okay okay", max_words=5)
    assert not is_backchannel("okay", max_words=0)


def test_every_listed_backchannel_token_alone_is_a_backchannel():
    for phrase in TURN_WORDS.backchannel.phrases:
        text = " ".join(phrase).capitalize() + "."
        assert is_backchannel(text), text


@pytest.mark.parametrize(
    "text",
    [
        "Let me think.",
        "let me think about that",
        "Hmm, let me think about it.",
        "Okay, let me think.",
        "Give me a second.",
        "Give me a sec.",
        "Give me one second, please.",
        "Give me 1 second.",
        "Give me a moment.",
        "Give me a minute to think.",
        "One second.",
        "Just a moment.",
        "Hold on.",
        "Hang on, let me think.",
        "Good question, hmm.",
        "That's a good question, let me think.",
        "That’s a good question. Let me think about that for a moment.",
        "Um, that's a tough one.",
        "So, let me see.",
        "Let me think... um...",
        "Oh, interesting question. Give me a moment.",
    ],
)
def test_a_request_for_thinking_time_alone_asks_for_time(text):
    assert asks_for_time(text)


@pytest.mark.parametrize(
    "text",
    [
        # an answer that goes on after the request is an answer
        "Let me think... I would start by profiling the endpoint",
        "Let me think. First I'd look at the slow queries.",
        "Good question. I'd use a queue.",
        "I'd hold on to the old schema for a while.",
        # fillers and acknowledgements alone ask for nothing
        "Hmm.",
        "Okay.",
        "Um, so.",
        "",
        "I think the answer is Redis.",
    ],
)
def test_an_answer_or_a_filler_does_not_ask_for_time(text):
    assert not asks_for_time(text)


def test_every_listed_time_request_alone_asks_for_time():
    for phrase in TURN_WORDS.time_requests.phrases:
        text = " ".join(phrase).capitalize() + "."
        assert asks_for_time(text), text


@pytest.mark.parametrize("text", ["um", "Uh...", "Um, uh, hmm.", "mm", "Erm.", "uh, you know", "Like, um."])
def test_hesitations_and_fillers_alone_are_filler_only(text):
    assert is_filler_only(text)


@pytest.mark.parametrize("text", ["", "...", "Um, so.", "mm-hmm", "Okay.", "Um, I'd use Redis.", "um... so"])
def test_anything_else_is_not_filler_only(text):
    assert not is_filler_only(text)


QUESTION = "Could you walk me through how you would design a rate limiter for an API?"
PLAYED = ["Thanks, that's helpful.", QUESTION]


@pytest.mark.parametrize(
    "text",
    [
        # the whole question heard back, with one word misrecognised (a near spelling, then a different word)
        "Could you walk me through how you would design a rate limited for an API?",
        "Could you walk me through how you would design a rate limiter from an API?",
        # a word dropped, and a word wrong and lowercase without punctuation
        "could you walk me through how you would design a rate limiter for api",
        "could you walk me through how do you would design a rate limiter for an a p i",
        # only a stretch of it, across the sentence boundary, with a hesitation in it
        "that's helpful could you walk me through",
        "um how you would design a rate limiter",
        # the whole of a short sentence
        "thanks that's helpful",
    ],
)
def test_the_interviewers_own_words_heard_back_are_an_echo(text):
    assert echo_of(text, PLAYED), echo_score(text, PLAYED)


@pytest.mark.parametrize(
    ("text", "played"),
    [
        ("I'd use Kubernetes", ["Would you use Kubernetes?"]),
        ("I'd use Kubernetes.", ["Would you use Kubernetes for that?"]),
        ("I would use Kubernetes for that.", ["Would you use Kubernetes for that?"]),
        ("I would use a token bucket in Redis.", [QUESTION]),
        ("I would design it with a token bucket for each API key.", [QUESTION]),
        ("Design it", [QUESTION]),  # too short to tell
        ("um uh design a", [QUESTION]),  # hesitations do not count towards the words
        ("Could you walk me through how you would design a rate limiter for an API?", []),
        ("", [QUESTION]),
    ],
)
def test_an_answer_that_reuses_some_of_the_words_is_not_an_echo(text, played):
    assert not echo_of(text, played), echo_score(text, played)


def test_numbers_match_as_digits_or_words():
    assert words("Three days, 40%, OK") == ("3", "days", "40", "percent", "okay")
    assert echo_of("we have 3 minutes left for 2 questions", ["We have three minutes left for two questions."])


def test_the_echo_thresholds_are_parameters():
    text, played = "I would use Kubernetes", ["Would you use Kubernetes?"]
    assert echo_score(text, played) == pytest.approx(0.5)  # 3 matched of 4, less the skipped "you"
    assert echo_of(text, played, min_ratio=0.5)
    assert not echo_of("use Kubernetes", ["Would you use Kubernetes?"])
    assert echo_of("use Kubernetes", ["Would you use Kubernetes?"], min_words=2)
    assert echo_score("", played) == 0.0 and echo_score(text, []) == 0.0


def test_the_echo_detector_remembers_what_was_played_for_a_while():
    detector = EchoDetector(horizon_s=10.0)
    detector.played("Thanks, that's helpful.", at=100.0)
    detector.played(QUESTION, at=103.0)
    assert detector.is_echo("how you would design a rate limiter", now=105.0)
    assert detector.recent(now=111.0) == (QUESTION,)  # the first sentence is forgotten
    assert not detector.is_echo("thanks that's helpful", now=111.0)
    assert not detector.is_echo("how you would design a rate limiter", now=113.5)
    detector.played(QUESTION, at=120.0)
    detector.clear()
    assert detector.recent(now=120.0) == ()


def test_the_word_lists_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TURN_WORDS.conjunctions = TURN_WORDS.prepositions  # type: ignore[misc]
    with pytest.raises(TypeError):
        TURN_WORDS.spellings["ok"] = ("no",)  # type: ignore[index]
    assert isinstance(TURN_WORDS.backchannel.phrases, frozenset)
    assert load_turn_words() == TURN_WORDS


def broken(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """A copy of the shipped file with each pattern (a regular expression, which must match) replaced."""
    text = WORDS_FILE.read_text()
    for pattern, new in edits:
        text, count = re.subn(pattern, new, text, count=1, flags=re.DOTALL)
        assert count == 1, pattern
    path = tmp_path / "turn_words.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ([(r"determiners = \[", "x = 1\ndeterminers = [")], r"\[unfinished\] x: unknown key"),
        ([(r"determiners = \[.*?\]", 'determiners = "the"')], r"\[unfinished\] determiners: must be a non-empty list"),
        ([(r"determiners = \[.*?\]", "determiners = []")], r"\[unfinished\] determiners: must be a non-empty list"),
        ([(r'determiners = \["the", ', "determiners = [3, ")], r"\[unfinished\] determiners: entry 1 \(3\)"),
        ([(r'determiners = \["the"', 'determiners = ["", "the"')], r"\[unfinished\] determiners: entry 1 \(''\)"),
        ([(r'determiners = \["the"', 'determiners = ["...", "the"')], r"\[unfinished\] determiners: entry 1.*no word"),
        ([(r"determiners = \[.*?\]\n", "")], r"\[unfinished\] determiners: missing"),
        ([(r"\ntokens = \[", "\ntokenz = [")], r"\[backchannel\] tokenz: unknown key"),
        ([(r'\nwords = \["this"', '\nwords = ["so this"')], r"\[demonstratives\] words: entry 1 .*must be one word"),
        ([(r'ok = "okay"', "ok = 1")], r"\[spellings\] 'ok': must be a string"),
        ([(r'ok = "okay"', '"ok okay" = "okay"')], r"\[spellings\] 'ok okay': must be one word"),
        ([(r"\[time_request\]", "[time_requests]")], r"\[time_requests\]: unknown table"),
        ([(r"\[backchannel\]\n.*?(?=\[time_request\])", "")], r"\[backchannel\]: missing table"),
        (
            [
                (r"\[backchannel\]\n.*?(?=\[time_request\])", ""),
                (r"\n\[spellings\]\n", "\nbackchannel = 1\n[spellings]\n"),
            ],
            r"\[backchannel\]: must be a table",
        ),
        ([(r"\[unfinished\]", "[unfinished")], "not valid TOML"),
    ],
)
def test_a_malformed_file_is_an_error_naming_the_file_and_the_key(tmp_path, edits, message):
    path = broken(tmp_path, *edits)
    with pytest.raises(TurnWordsError, match=message) as raised:
        load_turn_words(path)
    assert str(raised.value).startswith(f"{path}: ")


def test_an_unreadable_file_is_named(tmp_path):
    with pytest.raises(TurnWordsError, match=r"absent\.toml: cannot be read"):
        load_turn_words(tmp_path / "absent.toml")
