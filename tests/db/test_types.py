"""Timestamps are timezone-aware UTC on both databases; naive ones are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import StatementError

from db import Database, MessageRole, User, create_engine, session_factory, utcnow
from db.migrate import upgrade


async def test_aware_timestamp_comes_back_aware_and_equal(database: Database, make_user) -> None:
    user = await make_user()
    interview = await database.create_interview(user.id, "Backend engineer", "technical", 30)
    said_at = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))

    await database.add_message(interview.id, MessageRole.USER, "Hello", said_at, 1.5)

    [message] = await database.list_messages(interview.id)
    assert message.timestamp == said_at
    assert message.timestamp.tzinfo == UTC
    assert message.timestamp.hour == 4  # 09:30 at +05:30


async def test_every_timestamp_read_back_is_utc(database: Database, make_user) -> None:
    user = await database.get_user((await make_user()).id)
    assert user is not None
    for value in (user.created_at, user.updated_at):
        assert value.tzinfo == UTC
        assert abs(utcnow() - value) < timedelta(minutes=1)


async def test_naive_timestamp_is_refused_by_the_repository(database: Database, make_user) -> None:
    user = await make_user()
    interview = await database.create_interview(user.id, "Backend engineer", "technical", 30)

    with pytest.raises(ValueError, match="naive"):
        await database.add_message(interview.id, MessageRole.USER, "Hello", datetime(2026, 3, 1, 9, 30), 1.0)
    with pytest.raises(ValueError, match="naive"):
        await database.abandon_stale_interviews(datetime(2026, 3, 1))
    assert await database.list_messages(interview.id) == []


async def test_naive_timestamp_is_refused_by_the_column_type(empty_database_url: str) -> None:
    await upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        async with session_factory(engine)() as session:
            session.add(
                User(
                    email="naive@example.com",
                    full_name="N",
                    target_role="R",
                    experience_level="mid",
                    password_hash="h",
                    created_at=datetime(2026, 1, 1),
                )
            )
            with pytest.raises(StatementError) as raised:
                await session.commit()
        assert isinstance(raised.value.orig, ValueError)
    finally:
        await engine.dispose()
