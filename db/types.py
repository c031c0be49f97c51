"""Column types shared by the tables: timezone-aware UTC timestamps, portable string enums and JSON."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return an aware datetime converted to UTC; raise ValueError for a naive one (its zone would be a guess)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime refused (give it a timezone, e.g. datetime.now(UTC)): {value!r}")
    return value.astimezone(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A `DateTime(timezone=True)` that only takes aware datetimes and always gives back aware UTC ones.

    PostgreSQL stores `timestamptz` and returns aware values; SQLite has no time zones and returns naive values,
    so UTC is stored there without an offset and the zone is put back on the way out.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes and convert aware ones to UTC (without an offset on SQLite)."""
        if value is None:
            return None
        value = ensure_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Give back an aware UTC datetime whatever the driver returned."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(enum_class: type[enum.Enum], name: str) -> sa.Enum:
    """A string column holding an enum's values with a CHECK constraint, the same on SQLite and PostgreSQL.

    `name` names the CHECK constraint (through the metadata's naming convention); a new type object is made for
    every column because an enum type attaches its constraint to the table of the column it belongs to.
    """
    return sa.Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=32,
        values_callable=lambda members: [member.value for member in members],
    )


def json_type() -> sa.types.TypeEngine[Any]:
    """JSON on SQLite, JSONB on PostgreSQL; Python `None` is stored as SQL NULL rather than JSON `null`."""
    return sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
