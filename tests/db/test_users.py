"""Accounts and login sessions."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from db import Database, EmailTaken, ExperienceLevel, normalise_email, utcnow


async def create(database: Database, email: str, credits: int = 3):
    return await database.create_user(email, "argon2-hash", "Ada Lovelace", "Backend engineer", "mid", credits)


def test_normalise_email() -> None:
    assert normalise_email("  Ada@Example.COM \n") == "ada@example.com"


async def test_email_is_stored_normalised_and_found_in_any_case(database: Database) -> None:
    user = await create(database, "  Ada@Example.COM ")

    assert user.email == "ada@example.com"
    assert user.interviews_remaining == 3
    assert user.experience_level is ExperienceLevel.MID
    found = await database.get_user_by_email("ADA@example.com")
    assert found is not None and found.id == user.id
    assert (await database.get_user(user.id)).email == "ada@example.com"
    assert await database.get_user_by_email("someone@example.com") is None


async def test_email_is_unique_whatever_its_case(database: Database) -> None:
    await create(database, "ada@example.com")

    with pytest.raises(EmailTaken):
        await create(database, "ada@example.com")
    with pytest.raises(EmailTaken):
        await create(database, " ADA@Example.com")


async def test_simultaneous_signups_with_one_email_make_one_account(database: Database) -> None:
    emails = ["race@example.com", "RACE@example.com", " Race@Example.com"] * 3
    results = await asyncio.gather(*(create(database, email) for email in emails), return_exceptions=True)

    assert sum(not isinstance(result, BaseException) for result in results) == 1
    assert all(isinstance(result, EmailTaken) for result in results if isinstance(result, BaseException))


async def test_update_changes_only_the_given_fields(database: Database) -> None:
    user = await create(database, "ada@example.com")

    updated = await database.update_user(user.id, target_role="Staff engineer", experience_level="senior")

    assert updated is not None
    assert (updated.full_name, updated.target_role) == ("Ada Lovelace", "Staff engineer")
    assert updated.experience_level is ExperienceLevel.SENIOR
    assert updated.updated_at > user.updated_at
    assert updated.created_at == user.created_at
    assert (await database.get_user(user.id)).target_role == "Staff engineer"


async def test_update_of_an_unknown_user_is_none(database: Database) -> None:
    assert await database.update_user(uuid.uuid4(), full_name="Nobody") is None


async def test_grant_credits_adds_atomically(database: Database) -> None:
    user = await create(database, "ada@example.com", credits=1)

    await asyncio.gather(*(database.grant_credits("ADA@example.com", 2) for _ in range(5)))

    assert (await database.get_user(user.id)).interviews_remaining == 11
    assert await database.grant_credits("nobody@example.com", 1) is None
    with pytest.raises(ValueError):
        await database.grant_credits("ada@example.com", -1)


async def test_auth_session_create_touch_revoke(database: Database) -> None:
    user = await create(database, "ada@example.com")

    auth = await database.create_auth_session(user.id, "Mozilla/5.0 " + "x" * 400, "203.0.113.7")
    assert len(auth.user_agent) == 300
    assert auth.ip == "203.0.113.7"
    assert auth.revoked_at is None

    later = utcnow() + timedelta(minutes=5)
    await database.touch_auth_session(auth.id, later)
    assert (await database.get_auth_session(auth.id)).last_seen_at == later

    await database.revoke_auth_session(auth.id)
    revoked = await database.get_auth_session(auth.id)
    assert revoked.revoked_at is not None

    await database.touch_auth_session(auth.id, later + timedelta(minutes=5))
    await database.revoke_auth_session(auth.id)
    again = await database.get_auth_session(auth.id)
    assert (again.last_seen_at, again.revoked_at) == (later, revoked.revoked_at)


async def test_unknown_auth_session_is_none(database: Database) -> None:
    assert await database.get_auth_session(uuid.uuid4()) is None
