"""Look-alike spellings of one email are one account (on SQLite and PostgreSQL); accounts made before that rule
keep the spelling they were made with and can still log in with it."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from db import Database, EmailTaken, User, normalise_email
from db.engine import create_engine
from db.repository import legacy_email_form


async def create(database: Database, email: str):
    return await database.create_user(email, "argon2-hash", "Ada Lovelace", "Backend engineer", "mid", 3)


@pytest.mark.parametrize(
    "spelling",
    [
        "ada\u200b@example.com",  # zero-width space
        "\ufeffada@example.com\u2060",  # byte-order mark, word joiner
        "ａｄａ@ｅｘａｍｐｌｅ．ｃｏｍ",  # fullwidth letters and full stop
        "\u00a0ADA@Example.com\u2003",  # no-break space, em space, capitals
        "ad\u00ada@example.com",  # a soft hyphen (Cf)
    ],
)
def test_look_alikes_normalise_to_one_spelling(spelling: str) -> None:
    assert normalise_email(spelling) == "ada@example.com"


def test_the_legacy_form_only_trims_and_lowers() -> None:
    assert legacy_email_form("  ADA\u200b@Example.com ") == "ada\u200b@example.com"


async def test_a_look_alike_signup_is_the_same_account(database: Database) -> None:
    await create(database, "ada@example.com")
    for spelling in ("ada\u200b@example.com", "ＡＤＡ@example.com"):
        with pytest.raises(EmailTaken):
            await create(database, spelling)
    found = await database.users_for_login("ａｄａ@example.com")
    assert [user.email for user in found] == ["ada@example.com"]


async def test_an_account_made_before_the_rule_keeps_its_spelling_and_its_login(
    database: Database, empty_database_url: str
) -> None:
    real = await create(database, "grace@example.com")
    legacy = await create(database, "grace-old@example.com")
    legacy_spelling = "grace\u200b@example.com"
    # As the old code stored it: trimmed and lower-cased only.
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(update(User).where(User.id == legacy.id).values(email=legacy_spelling))
    finally:
        await engine.dispose()

    assert (await database.get_user(legacy.id)).email == legacy_spelling, "left as it is"
    by_exact_spelling = await database.users_for_login(" Grace\u200b@Example.com")
    assert [user.id for user in by_exact_spelling] == [real.id, legacy.id]
    assert [user.id for user in await database.users_for_login("grace@example.com")] == [real.id]
