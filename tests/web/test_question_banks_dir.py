"""``QUESTION_BANKS_DIR``: a broken folder of question banks keeps the server from starting, with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks.common import free_port
from tests.conftest import test_settings

NO_KEY_POINTS = """
[[questions]]
id = "acme-one"
kind = "technical"
levels = ["mid"]
text = "Tell me about caching in the Acme storefront."
"""


def test_serve_refuses_to_start_with_a_broken_bank_and_names_the_file_and_the_field(tmp_path):
    banks = tmp_path / "banks"
    banks.mkdir()
    (banks / "software_engineer.toml").write_text(NO_KEY_POINTS)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PROVIDER") and not k.endswith("_API_KEY")}
    env.update({"PORT": str(free_port()), "DATA_DIR": str(tmp_path / "data"), "QUESTION_BANKS_DIR": str(banks)})

    server = subprocess.run(
        [sys.executable, "-m", "web.cli", "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )

    assert server.returncode == 2
    (line,) = [line for line in server.stderr.splitlines() if line.startswith("mock-interviewer:")]
    assert line == (
        f"mock-interviewer: QUESTION_BANKS_DIR: {banks / 'software_engineer.toml'}: "
        "question 1 ('Tell me about caching...'): 'key_points' is missing"
    )


def test_a_good_folder_passes_the_start_up_check_and_reaches_the_providers(tmp_path):
    banks = tmp_path / "banks"
    banks.mkdir()
    key_point = '\n[[questions.key_points]]\nlabel = "ttl"\nkeywords = ["ttl"]\nfollow_up = "How long?"\n'
    (banks / "software_engineer.toml").write_text(NO_KEY_POINTS + key_point)

    settings = test_settings(tmp_path, question_banks_dir=str(banks))

    assert settings.question_banks_problem() is None
    assert settings.provider_config().question_banks_dir == banks
    assert test_settings(tmp_path, question_banks_dir="").question_banks_dir is None
