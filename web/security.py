"""Passwords, session tokens and the secret that signs them."""

from __future__ import annotations

import gzip
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Protocol

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

SESSION_COOKIE = "mi_session"
_JWT_ALGORITHM = "HS256"
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verifying against this when the email is unknown costs the same time as a real check, so the response time
# does not tell whether an account exists.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; with no hash, spends the same time and returns False."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def common_passwords() -> frozenset[str]:
    """Passwords too common to accept (lower case; package data, see ``web/data/common-passwords.LICENSE``)."""
    data = files("web").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode("utf-8").splitlines() if line.strip())


def password_problem(password: str, email: str) -> str | None:
    """Why a password is refused, or None."""
    if len(password) < 8:
        return "The password must be at least 8 characters long."
    if len(password) > 256:
        return "The password must be at most 256 characters long."
    if password.strip().lower() == email.strip().lower():
        return "The password must not be your email address."
    if password.strip().lower() in common_passwords():
        return "This password is one of the most common ones; choose another."
    return None


@dataclass(frozen=True, slots=True)
class SessionClaims:
    """What a session token says: whose it is and which server-side session row backs it."""

    user_id: uuid.UUID
    session_id: uuid.UUID


def issue_token(secret: str, claims: SessionClaims, lifetime: timedelta) -> str:
    """A signed JWT naming the user and the session row."""
    now = datetime.now(UTC)
    payload = {
        "sub": str(claims.user_id),
        "sid": str(claims.session_id),
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=_JWT_ALGORITHM)


def read_token(secret: str, token: str) -> SessionClaims | None:
    """The claims of a valid, unexpired token; None for anything else."""
    try:
        payload = jwt.decode(token, secret, algorithms=[_JWT_ALGORITHM], options={"require": ["sub", "sid", "exp"]})
        return SessionClaims(uuid.UUID(payload["sub"]), uuid.UUID(payload["sid"]))
    except (jwt.PyJWTError, ValueError, KeyError, TypeError):
        return None


class SecretKeySource(Protocol):
    """Where the signing secret comes from (a file here; shared configuration for several hosts)."""

    def get(self) -> str: ...


class FileOrEnvSecretKey:
    """``SECRET_KEY`` when set, else a key generated once and kept in ``DATA_DIR/secret_key``.

    Generation is atomic (the file is created exclusively), so processes starting together agree on one key.
    """

    def __init__(self, configured: str | None, data_dir: Path) -> None:
        self._configured = configured
        self._path = data_dir / "secret_key"
        self._key: str | None = None

    def get(self) -> str:
        if self._key is None:
            self._key = self._configured or self._load_or_create()
        return self._key

    def _load_or_create(self) -> str:
        if self._path.exists():
            return self._path.read_text().strip()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # Write a complete file under a private name, then link it into place: link() fails if the key exists,
        # so the first process wins and every other one reads the same complete key.
        temporary = self._path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        temporary.write_text(secrets.token_urlsafe(48))
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, self._path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
        return self._path.read_text().strip()
