"""The built wheel holds the package data: the Docker image installs the wheel, not the source tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: Top-level entries that are not sources: the build reads none of them, and some are large or change under us.
NOT_SOURCES = {".git", ".venv", "data", "build", "dist", "node_modules", ".pytest_cache", ".ruff_cache"}


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The file names inside a wheel built offline from a copy of the sources (the build writes ``build/``
    and ``*.egg-info`` next to what it builds; the copy keeps them out of the checkout)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for entry in REPO.iterdir():
        if entry.name in NOT_SOURCES or entry.name.endswith(".egg-info"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, source / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(entry, source / entry.name)
    out = work / "dist"
    offline = ["--no-deps", "--no-build-isolation", "--no-index", "--disable-pip-version-check", "--quiet"]
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", *offline, "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, f"the wheel did not build (dev extras installed?):\n{build.stderr[-3000:]}"
    (wheel,) = out.glob("mock_interviewer-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_holds_every_question_bank(wheel_names):
    banks = sorted(path.name for path in (REPO / "voice_agent" / "questions").glob("*.toml"))
    assert banks
    assert {f"voice_agent/questions/{name}" for name in banks} <= wheel_names


def test_the_wheel_holds_the_turn_word_lists(wheel_names):
    data = sorted(path.name for path in (REPO / "voice_agent" / "data").glob("*.toml"))
    assert "turn_words.toml" in data
    assert {f"voice_agent/data/{name}" for name in data} <= wheel_names


def test_the_wheel_holds_the_common_passwords_list(wheel_names):
    assert "web/data/common-passwords.txt.gz" in wheel_names
