"""The question banks as data: the built-in TOML files, an operator's folder, and the errors a broken one gets."""

from __future__ import annotations

import string
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from voice_agent.feedback.generate import write_feedback
from voice_agent.feedback.speech_metrics import Line
from voice_agent.providers.base import ChatMessage, InterviewContext, ReplyRequest
from voice_agent.providers.registry import ProviderConfig, build_provider
from voice_agent.question_banks import (
    ALL_LEVELS,
    BUILTIN_DIR,
    FOLLOW_UP_REASONS,
    PLACEHOLDERS,
    QuestionBankError,
    load_question_banks,
)
from voice_agent.question_plans import BUILTIN_BANKS, build_plan, main_question_count

BUILTIN = load_question_banks()
EVERY_QUESTION = list(BUILTIN.all_questions())

OWN_BANK = """
[[questions]]
id = "acme-queues"
kind = "technical"
levels = ["entry", "mid", "senior"]
text = "How would you use a message queue in the Acme order pipeline?"

[[questions.key_points]]
label = "ordering"
keywords = ["ordering", "in order", "sequence"]
follow_up = "How would you keep the orders in sequence?"

[[questions.key_points]]
label = "retries"
keywords = ["retry", "dead letter", "idempotent"]
follow_up = "What happens when a consumer fails halfway?"

[questions.follow_ups]
tradeoff = "Why a queue rather than direct calls between the services?"
"""

A_QUESTION = """
[[questions]]
id = "acme-one"
kind = "technical"
levels = ["mid"]
text = "Tell me about caching in the Acme storefront."

[[questions.key_points]]
label = "invalidation"
keywords = ["invalidate", "ttl"]
follow_up = "How would stale prices be avoided?"
"""


def bank_folder(tmp_path: Path, name: str, text: str) -> Path:
    """A folder holding one bank file ``name`` with ``text``."""
    folder = tmp_path / "banks"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder


def context(**overrides) -> InterviewContext:
    values = {"role": "Backend Developer", "interview_type": "technical", "experience_level": "mid", "seed": "s"}
    return InterviewContext(**(values | overrides))


# --------------------------------------------------------------------------------------------------------
# The built-in banks


def test_the_built_in_banks_are_the_ones_the_plans_use():
    assert BUILTIN == BUILTIN_BANKS
    assert sorted(p.stem for p in BUILTIN_DIR.glob("*.toml")) == sorted(
        ["defaults", "openers", "software_engineer", "data_scientist", "product_manager", "generic", "behavioral"]
    )


@pytest.mark.parametrize("question", EVERY_QUESTION, ids=lambda q: q.id)
def test_every_question_has_a_type_levels_and_key_points_with_keywords_and_a_probe(question):
    assert question.kind in ("technical", "behavioral")
    assert question.levels and question.levels <= ALL_LEVELS
    assert question.text.strip()
    assert question.key_points
    for point in question.key_points:
        assert point.label and point.keywords and all(k.strip() for k in point.keywords)
        assert question.follow_ups[f"key:{point.label}"].strip()
    for reason in FOLLOW_UP_REASONS:
        assert question.follow_ups[reason].strip()


@pytest.mark.parametrize("question", EVERY_QUESTION, ids=lambda q: q.id)
def test_texts_name_only_the_role(question):
    for text in (question.text, *question.follow_ups.values()):
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        assert names <= PLACEHOLDERS


def test_question_ids_are_unique_and_each_bank_holds_its_kind():
    ids = [q.id for q in EVERY_QUESTION]
    assert len(ids) == len(set(ids))
    assert BUILTIN.technical_opener.kind == "technical"
    assert BUILTIN.background_opener.kind == "behavioral"
    assert all(q.kind == "technical" for bank in BUILTIN.technical.values() for q in bank)
    assert all(q.kind == "behavioral" for q in BUILTIN.behavioral)


@pytest.mark.parametrize("level", sorted(ALL_LEVELS))
def test_every_bank_fills_a_half_hour_interview_at_every_level(level):
    needed = main_question_count(30)
    for family, bank in BUILTIN.technical.items():
        assert sum(level in q.levels for q in bank) >= needed, family
    assert sum(level in q.levels for q in BUILTIN.behavioral) >= needed


def test_behavioral_questions_start_with_the_star_points():
    for question in BUILTIN.behavioral:
        assert [p.label for p in question.key_points[:3]] == ["situation", "action", "result"]


# --------------------------------------------------------------------------------------------------------
# An operator's folder


def test_an_operators_bank_replaces_the_built_in_one_of_its_name(tmp_path):
    banks = load_question_banks(bank_folder(tmp_path, "software_engineer.toml", OWN_BANK))

    (question,) = banks.technical["software_engineer"]
    assert question.id == "acme-queues"
    assert [p.label for p in question.key_points] == ["ordering", "retries"]
    assert question.follow_ups["tradeoff"] == "Why a queue rather than direct calls between the services?"
    defaults = tomllib.loads((BUILTIN_DIR / "defaults.toml").read_text())["follow_ups"]["technical"]
    assert question.follow_ups["detail"] == defaults["detail"]
    assert banks.technical["data_scientist"] == BUILTIN.technical["data_scientist"]
    assert banks.behavioral == BUILTIN.behavioral
    assert [q.id for q in build_plan(context(), banks)] == ["opener-project", "acme-queues"]


async def test_the_scripted_interviewer_and_the_scorer_use_the_operators_banks(tmp_path):
    config = ProviderConfig(question_banks_dir=bank_folder(tmp_path, "software_engineer.toml", OWN_BANK))
    interviewer = await build_provider("llm", "offline", config)
    ctx = context(duration_minutes=10)
    greeting = interviewer.compose_reply(ReplyRequest(system="", messages=(), context=ctx))
    opener = "I led the build of our billing system, using Python and Postgres rather than Java; I wrote it. " * 3
    messages = (ChatMessage("assistant", greeting), ChatMessage("user", opener))
    question = interviewer.compose_reply(ReplyRequest(system="", messages=messages, context=ctx, elapsed_seconds=60))
    assert "Acme order pipeline" in question

    answer = "I would keep the ordering per customer and retry with a dead letter queue for failures. " * 3
    start = datetime(2026, 1, 1, tzinfo=UTC)
    lines = [
        Line("assistant", greeting, start, 8.0),
        Line("user", opener, start + timedelta(seconds=10), 20.0),
        Line("assistant", question, start + timedelta(seconds=40), 6.0),
        Line("user", answer, start + timedelta(seconds=50), 25.0),
    ]
    report = await write_feedback(lines, ctx, interviewer, "whisper")
    (note,) = [note for note in report.questions if "Acme order pipeline" in note.question]
    assert any("ordering" in good and "retries" in good for good in note.good)


# --------------------------------------------------------------------------------------------------------
# Errors: the file and the field


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "software_engineer.toml",
            A_QUESTION.split("[[questions.key_points]]")[0],
            "software_engineer.toml: question 1 ('Tell me about caching...'): 'key_points' is missing",
        ),
        (
            "generic.toml",
            A_QUESTION.replace('levels = ["mid"]', 'levels = ["junior"]'),
            "generic.toml: question 1 ('Tell me about caching...'): 'levels' holds 'junior'",
        ),
        (
            "generic.toml",
            A_QUESTION.replace('levels = ["mid"]\n', ""),
            "generic.toml: question 1 ('Tell me about caching...'): 'levels' is missing",
        ),
        (
            "generic.toml",
            A_QUESTION.replace('kind = "technical"\n', ""),
            "generic.toml: question 1 ('Tell me about caching...'): 'kind' is missing",
        ),
        (
            "behavioral.toml",
            A_QUESTION,
            "behavioral.toml: question 1 ('Tell me about caching...'): 'kind' must be 'behavioral' in this bank",
        ),
        (
            "generic.toml",
            A_QUESTION.replace("keywords =", "keywrds ="),
            "generic.toml: question 1 ('Tell me about caching...'): key_points 1: unknown field 'keywrds'",
        ),
        (
            "generic.toml",
            A_QUESTION.replace('keywords = ["invalidate", "ttl"]', "keywords = []"),
            "generic.toml: question 1 ('Tell me about caching...'): key_points 1: 'keywords' must be a non-empty",
        ),
        (
            "generic.toml",
            A_QUESTION.replace("Acme storefront", "{company} storefront"),
            "generic.toml: question 1 ('Tell me about caching...'): 'text' has an unknown placeholder {company}",
        ),
        (
            "generic.toml",
            A_QUESTION + '\n[questions.follow_ups]\ndetial = "More?"\n',
            "generic.toml: question 1 ('Tell me about caching...'): follow_ups: unknown field 'detial'",
        ),
        (
            "generic.toml",
            A_QUESTION.replace('id = "acme-one"', 'id = "swe-rest-api"'),
            "generic.toml: question 1: 'id' 'swe-rest-api' is already used in",
        ),
        ("generic.toml", "[[questions]\nid = 1\n", "generic.toml: not valid TOML"),
        ("generic.toml", "", "generic.toml: 'questions' is missing"),
        ("sales.toml", A_QUESTION, "sales.toml: unknown bank 'sales': name the file one of defaults.toml"),
        (
            "openers.toml",
            A_QUESTION,
            "openers.toml: needs exactly one behavioral opener ('kind' = 'behavioral'), not 0",
        ),
        (
            "defaults.toml",
            '[follow_ups.technical]\ndetail = "More?"\n',
            "defaults.toml: follow_ups: 'behavioral' is missing",
        ),
    ],
)
def test_a_broken_bank_is_refused_naming_the_file_and_the_field(tmp_path, name, text, expected):
    folder = bank_folder(tmp_path, name, text)
    with pytest.raises(QuestionBankError) as raised:
        load_question_banks(folder)
    message = str(raised.value)
    assert message.startswith(f"{folder / name}: ")
    assert expected in message
    assert "\n" not in message


def test_a_missing_or_empty_folder_is_refused(tmp_path):
    with pytest.raises(QuestionBankError, match="not a folder"):
        load_question_banks(tmp_path / "nowhere")
    with pytest.raises(QuestionBankError, match=r"no bank files \(\*\.toml\)"):
        load_question_banks(tmp_path)


async def test_the_scripted_interviewer_does_not_start_with_a_broken_folder(tmp_path):
    broken = bank_folder(tmp_path, "software_engineer.toml", A_QUESTION.split("[[questions.key_points]]")[0])
    with pytest.raises(QuestionBankError, match="'key_points' is missing"):
        await build_provider("llm", "offline", ProviderConfig(question_banks_dir=broken))
