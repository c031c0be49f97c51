"""Small conversions shared by the web modules."""

from __future__ import annotations

from typing import Any


def enum_value(enum_or_str: Any) -> Any:
    """The plain value of a database enum (SQLite and PostgreSQL hand back either the enum or its string)."""
    return getattr(enum_or_str, "value", enum_or_str)
