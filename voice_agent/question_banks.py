"""The question banks: TOML files loaded into frozen dataclasses, validated as they load.

The built-in banks are ``voice_agent/questions/*.toml``, one file per bank, named for it:

- ``openers.toml``: one technical opener (opens technical interviews) and one behavioral opener (opens
  behavioral and mixed interviews);
- ``software_engineer.toml``, ``data_scientist.toml``, ``product_manager.toml``, ``generic.toml``: the
  technical questions of each role family;
- ``behavioral.toml``: the behavioral questions every role shares, with ``shared_key_points`` (STAR) that
  every one of its questions starts with;
- ``defaults.toml``: the follow-ups every question has unless it sets its own, by kind.

An operator's folder (``QUESTION_BANKS_DIR``) holds files of the same names: each replaces the built-in file
of its name, the others stay built-in. Every problem is a ``QuestionBankError`` naming the file and the field.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

QuestionKind = Literal["technical", "behavioral"]

KINDS: tuple[QuestionKind, ...] = ("technical", "behavioral")
ALL_LEVELS: frozenset[str] = frozenset({"entry", "mid", "senior"})
#: The reasons for a follow-up besides ``key:<label>`` (see ``voice_agent.question_plans``).
FOLLOW_UP_REASONS: tuple[str, ...] = ("detail", "example", "result", "ownership", "tradeoff")
#: What a question's texts may name: the role as entered, and the role with its article ("an Accountant").
PLACEHOLDERS: frozenset[str] = frozenset({"role", "a_role"})

SOFTWARE_ENGINEER = "software_engineer"
DATA_SCIENTIST = "data_scientist"
PRODUCT_MANAGER = "product_manager"
GENERIC = "generic"
ROLE_FAMILIES: tuple[str, ...] = (SOFTWARE_ENGINEER, DATA_SCIENTIST, PRODUCT_MANAGER, GENERIC)

DEFAULTS = "defaults"
OPENERS = "openers"
BEHAVIORAL = "behavioral"
BANK_FILES: tuple[str, ...] = (DEFAULTS, OPENERS, *ROLE_FAMILIES, BEHAVIORAL)

BUILTIN_DIR = Path(__file__).parent / "questions"


class QuestionBankError(ValueError):
    """A bank file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class KeyPoint:
    """Something a good answer covers, recognised by any of its keywords (see ``voice_agent.keywords``)."""

    label: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Question:
    """One main question of a plan, with what a good answer covers and the follow-ups it may need."""

    id: str
    kind: QuestionKind
    text: str
    key_points: tuple[KeyPoint, ...]
    follow_ups: dict[str, str] = field(compare=False)
    levels: frozenset[str]


@dataclass(frozen=True, slots=True)
class QuestionBanks:
    """Every question the scripted interviewer can ask, by bank."""

    technical_opener: Question
    background_opener: Question
    #: The technical questions of each role family (``ROLE_FAMILIES``).
    technical: Mapping[str, tuple[Question, ...]]
    behavioral: tuple[Question, ...]
    by_id: Mapping[str, Question] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {q.id: q for q in self.all_questions()})

    def all_questions(self) -> Iterator[Question]:
        """Every question of every bank (openers first), with ``{role}`` placeholders left in the texts."""
        yield self.technical_opener
        yield self.background_opener
        for bank in self.technical.values():
            yield from bank
        yield from self.behavioral


# --------------------------------------------------------------------------------------------------------
# Loading


def load_question_banks(folder: Path | None = None) -> QuestionBanks:
    """The built-in banks, with each file of ``folder`` (an operator's banks) replacing the built-in file of
    the same name. Raises ``QuestionBankError`` for the first problem found."""
    files = {name: BUILTIN_DIR / f"{name}.toml" for name in BANK_FILES}
    if folder is not None:
        files.update(_operator_files(folder))
    follow_ups = _read_defaults(files[DEFAULTS])
    openers = _read_bank(files[OPENERS], follow_ups)
    technical = {family: _read_bank(files[family], follow_ups, kind="technical") for family in ROLE_FAMILIES}
    behavioral = _read_bank(files[BEHAVIORAL], follow_ups, kind="behavioral")
    banks = [(files[OPENERS], openers), *((files[f], technical[f]) for f in ROLE_FAMILIES)]
    _check_unique_ids([*banks, (files[BEHAVIORAL], behavioral)])
    return QuestionBanks(
        technical_opener=_the_opener(files[OPENERS], openers, "technical"),
        background_opener=_the_opener(files[OPENERS], openers, "behavioral"),
        technical=technical,
        behavioral=behavioral,
    )


def _operator_files(folder: Path) -> dict[str, Path]:
    if not folder.is_dir():
        raise QuestionBankError(f"{folder}: not a folder")
    paths = sorted(folder.glob("*.toml"))
    if not paths:
        raise QuestionBankError(f"{folder}: no bank files (*.toml) in it")
    for path in paths:
        if path.stem not in BANK_FILES:
            known = ", ".join(f"{name}.toml" for name in BANK_FILES)
            raise QuestionBankError(f"{path}: unknown bank {path.stem!r}: name the file one of {known}")
    return {path.stem: path for path in paths}


def _parse(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise QuestionBankError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise QuestionBankError(f"{path}: not valid TOML ({exc})") from exc


class _Where:
    """Where a value sits, for error messages: ``questions/foo.toml: question 3 ('Tell me...')``."""

    def __init__(self, path: Path, place: str = "") -> None:
        self.path = path
        self.place = place

    def error(self, problem: str) -> QuestionBankError:
        return QuestionBankError(f"{self.path}: {self.place + ': ' if self.place else ''}{problem}")

    def inside(self, place: str) -> _Where:
        return _Where(self.path, f"{self.place}: {place}" if self.place else place)

    def table(self, value: Any, name: str, allowed: frozenset[str], required: frozenset[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(f"{name!r} must be a table")
        for key in value:
            if key not in allowed:
                raise self.error(f"unknown field {key!r} (known: {', '.join(sorted(allowed))})")
        missing = sorted(required - value.keys())
        if missing:
            raise self.error(f"{missing[0]!r} is missing")
        return value

    def text(self, table: dict[str, Any], key: str) -> str:
        value = table[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"{key!r} must be a non-empty string")
        for _, name, _, _ in string.Formatter().parse(value):
            if name is not None and name not in PLACEHOLDERS:
                raise self.error(f"{key!r} has an unknown placeholder {{{name}}}: use {{role}} or {{a_role}}")
        return value

    def strings(self, table: dict[str, Any], key: str) -> tuple[str, ...]:
        value = table[key]
        if not isinstance(value, list) or not value:
            raise self.error(f"{key!r} must be a non-empty list of strings")
        if not all(isinstance(item, str) and item.strip() for item in value):
            raise self.error(f"{key!r} must hold only non-empty strings")
        return tuple(item.strip() for item in value)


def _read_defaults(path: Path) -> dict[QuestionKind, dict[str, str]]:
    where = _Where(path)
    data = where.table(_parse(path), "file", frozenset({"follow_ups"}), frozenset({"follow_ups"}))
    kinds = where.inside("follow_ups").table(data["follow_ups"], "follow_ups", frozenset(KINDS), frozenset(KINDS))
    defaults: dict[QuestionKind, dict[str, str]] = {}
    for kind in KINDS:
        inner = where.inside(f"follow_ups.{kind}")
        reasons = frozenset(FOLLOW_UP_REASONS)
        table = inner.table(kinds[kind], f"follow_ups.{kind}", reasons, reasons)
        defaults[kind] = {reason: inner.text(table, reason) for reason in FOLLOW_UP_REASONS}
    return defaults


_BANK_FIELDS = frozenset({"questions", "shared_key_points"})
_QUESTION_FIELDS = frozenset({"id", "kind", "levels", "text", "key_points", "follow_ups"})
_QUESTION_REQUIRED = frozenset({"id", "kind", "levels", "text", "key_points"})
_POINT_FIELDS = frozenset({"label", "keywords", "follow_up"})


def _read_bank(
    path: Path, defaults: dict[QuestionKind, dict[str, str]], kind: QuestionKind | None = None
) -> tuple[Question, ...]:
    where = _Where(path)
    data = where.table(_parse(path), "file", _BANK_FIELDS, frozenset({"questions"}))
    shared = _read_points(where, data.get("shared_key_points", []), "shared_key_points")
    questions = data["questions"]
    if not isinstance(questions, list) or not questions:
        raise where.error("'questions' must be a non-empty array of tables ([[questions]])")
    return tuple(
        _read_question(where, number, raw, shared, defaults, kind) for number, raw in enumerate(questions, start=1)
    )


def _describe(number: int, raw: Any) -> str:
    text = raw.get("text") if isinstance(raw, dict) else None
    if isinstance(text, str) and text.strip():
        words = text.split()
        head = " ".join(words[:4]) + ("..." if len(words) > 4 else "")
        return f"question {number} ({head!r})"
    qid = raw.get("id") if isinstance(raw, dict) else None
    return f"question {number} ({qid!r})" if isinstance(qid, str) else f"question {number}"


def _read_question(
    bank: _Where,
    number: int,
    raw: Any,
    shared: tuple[tuple[KeyPoint, str], ...],
    defaults: dict[QuestionKind, dict[str, str]],
    bank_kind: QuestionKind | None,
) -> Question:
    where = bank.inside(_describe(number, raw))
    table = where.table(raw, "questions", _QUESTION_FIELDS, _QUESTION_REQUIRED)
    qid = where.text(table, "id")
    kind = table["kind"]
    if kind not in KINDS:
        raise where.error(f"'kind' must be one of {', '.join(KINDS)} (not {kind!r})")
    if bank_kind is not None and kind != bank_kind:
        raise where.error(f"'kind' must be {bank_kind!r} in this bank (not {kind!r})")
    levels = where.strings(table, "levels")
    for level in levels:
        if level not in ALL_LEVELS:
            raise where.error(f"'levels' holds {level!r}: use {', '.join(sorted(ALL_LEVELS))}")
    own = _read_points(where, table["key_points"], "key_points")
    if not own:
        raise where.error("'key_points' must be a non-empty array of tables ([[questions.key_points]])")
    points = (*shared, *own)
    labels = [point.label for point, _ in points]
    for label in labels:
        if labels.count(label) > 1:
            raise where.error(f"'key_points' has the label {label!r} twice")
    follow_ups = dict(defaults[kind])
    follow_ups.update({f"key:{point.label}": probe for point, probe in points})
    follow_ups.update(_read_overrides(where, table.get("follow_ups", {}), labels))
    return Question(
        id=qid,
        kind=kind,
        text=where.text(table, "text"),
        key_points=tuple(point for point, _ in points),
        follow_ups=follow_ups,
        levels=frozenset(levels),
    )


def _read_points(where: _Where, raw: Any, name: str) -> tuple[tuple[KeyPoint, str], ...]:
    """Key points with the follow-up that probes each."""
    if not isinstance(raw, list):
        raise where.error(f"{name!r} must be an array of tables ([[{name}]])")
    points = []
    for number, item in enumerate(raw, start=1):
        inner = where.inside(f"{name} {number}")
        table = inner.table(item, name, _POINT_FIELDS, _POINT_FIELDS)
        label = inner.text(table, "label")
        points.append((KeyPoint(label, inner.strings(table, "keywords")), inner.text(table, "follow_up")))
    return tuple(points)


def _read_overrides(where: _Where, raw: Any, labels: list[str]) -> dict[str, str]:
    allowed = frozenset(FOLLOW_UP_REASONS) | {f"key:{label}" for label in labels}
    inner = where.inside("follow_ups")
    table = inner.table(raw, "follow_ups", allowed, frozenset())
    return {reason: inner.text(table, reason) for reason in table}


def _the_opener(path: Path, openers: tuple[Question, ...], kind: QuestionKind) -> Question:
    found = [q for q in openers if q.kind == kind]
    if len(found) != 1:
        raise QuestionBankError(f"{path}: needs exactly one {kind} opener ('kind' = {kind!r}), not {len(found)}")
    return found[0]


def _check_unique_ids(banks: list[tuple[Path, tuple[Question, ...]]]) -> None:
    seen: dict[str, Path] = {}
    for path, questions in banks:
        for number, question in enumerate(questions, start=1):
            if question.id in seen:
                raise QuestionBankError(
                    f"{path}: question {number}: 'id' {question.id!r} is already used in {seen[question.id]}"
                )
            seen[question.id] = path
