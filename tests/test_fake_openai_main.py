"""`python -m taxolab.testing.fake_openai` is a real command (QA: --help printed nothing)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def test_help_lists_the_options() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "taxolab.testing.fake_openai", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    for option in ("--port", "--port-file", "--mode", "--reply", "--latency"):
        assert option in done.stdout


def test_serves_fixed_answers_and_writes_its_port(tmp_path: Path) -> None:
    port_file = tmp_path / "port"
    command = [sys.executable, "-m", "taxolab.testing.fake_openai", "--port-file", str(port_file), "--mode", "fixed"]
    process = subprocess.Popen([*command, "--reply", "hello"], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        port = int(port_file.read_text())
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/chat/completions", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
        assert answer["choices"][0]["message"]["content"] == "hello"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
    assert process.stdout is not None and process.stdout.read().strip() == f"http://127.0.0.1:{port}/v1"
