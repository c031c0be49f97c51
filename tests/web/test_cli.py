"""The commands a user types: `mock-interviewer serve` in one terminal, `mock-interviewer call` in another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import wave
from pathlib import Path

from benchmarks.common import free_port
from signaling.client.audio import speak, write_wav

BIN = Path(sys.executable).parent


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited during start-up"
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not come up")


def test_serve_then_call_prints_every_turn_as_json_and_records_the_agent(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_PROVIDER") and not k.endswith("_API_KEY")}
    env.update({"PORT": str(port), "DATA_DIR": str(tmp_path / "data")})
    server = subprocess.Popen([BIN / "mock-interviewer", "serve"], cwd=tmp_path, env=env, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/", server)
        record = tmp_path / "agent.wav"
        call = subprocess.run(
            [
                BIN / "mock-interviewer",
                "call",
                "--server",
                url,
                "--json",
                "--record",
                record,
                "--say",
                "I mentor three junior developers every week",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert call.returncode == 0, call.stderr
        report = json.loads(call.stdout)
        assert report["greeting"] and len(report["turns"]) == 1
        turn = report["turns"][0]
        assert {"said", "heard", "reply", "client_response_ms", "server"} <= set(turn)
        assert "junior" in turn["heard"].lower() and turn["reply"]
        assert turn["server"]["response_ms"] > 0 and turn["client_response_ms"] > 0
        with wave.open(str(record)) as w:
            assert w.getframerate() == 48000 and w.getnframes() / 48000 > 5

        # An operator makes a user with one interview and grants one more; the client logs in as that user.
        def cli(*args: object) -> subprocess.CompletedProcess:
            return subprocess.run(
                [BIN / "mock-interviewer", *map(str, args)],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )

        created = cli(
            "users",
            "create",
            "--email",
            "Grace@Example.org",
            "--password",
            "hopper-1906",
            "--name",
            "Grace Hopper",
            "--credits",
            "1",
        )
        assert created.returncode == 0 and "grace@example.org" in created.stdout, created.stderr
        assert cli("users", "create", "--email", "grace@example.org", "--password", "hopper-1906").returncode == 1
        granted = cli("users", "grant", "grace@example.org", "1")
        assert granted.returncode == 0 and "now has 2 interview(s)" in granted.stdout
        assert cli("users", "grant", "nobody@example.org", "1").returncode == 1
        assert cli("db", "upgrade").returncode == 0

        # A recording instead of synthesised text, and the table a person reads.
        answer = tmp_path / "answer.wav"
        write_wav(answer, speak("The database was slow, so I added an index and a cache"))
        table = subprocess.run(
            [
                BIN / "mock-interviewer",
                "call",
                "--server",
                url,
                "--wav",
                answer,
                "--email",
                "grace@example.org",
                "--password",
                "hopper-1906",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert table.returncode == 0, table.stderr
        assert "said    <answer.wav>" in table.stdout and "client  server" in table.stdout
        heard = next(line for line in table.stdout.splitlines() if line.startswith("heard"))
        assert sum(word in heard.lower() for word in ("database", "index", "cache")) >= 2, heard
        assert "candidate grace@example.org" in table.stdout
        assert "now has 1 interview(s)" in cli("users", "grant", "grace@example.org", "0").stdout
        wrong = cli("call", "--server", url, "--email", "grace@example.org", "--password", "wrong-password")
        assert wrong.returncode == 1 and "refused (401)" in wrong.stderr
    finally:
        server.send_signal(signal.SIGTERM)
        _, stderr = server.communicate(timeout=30)
    assert server.returncode == 0, stderr.decode()[-2000:]


def test_call_explains_a_server_that_is_not_there(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run(
        [BIN / "mock-interviewer", "call", "--server", url, "--say", "hello"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "call failed" in result.stderr
