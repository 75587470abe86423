"""`taxolab data generate` against a teacher that is slow, behind a 504 gateway, or fails mid-run.

The real CLI and the scripted fake teacher on 127.0.0.1; each fault must end in
one line that says what happened, what to change, and whether a rerun resumes.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from taxolab.cli.main import main
from taxolab.testing.fake_openai import FakeOpenAIServer

from .conftest import scripted

QNA = "version: 3\ncreated_by: tests\ntask_description: Write a haiku about the topic.\nseed_examples:\n" + "".join(
    f"  - question: Write a haiku about {topic}.\n    answer: |\n      {topic} line one\n      line two\n      line three\n"
    for topic in ("autumn", "the sea", "snow", "a train", "bees")
)


def generate(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, list[str]]:
    leaf = tmp_path / "taxonomy" / "compositional_skills" / "writing" / "freeform" / "haiku"
    leaf.mkdir(parents=True, exist_ok=True)
    (leaf / "qna.yaml").write_text(QNA, encoding="utf-8")
    args = ["data", "generate", "--taxonomy-path", str(tmp_path / "taxonomy"), "--taxonomy-base", "empty"]
    args += ["--endpoint-url", url, "--sdg-scale-factor", "2", "--batch-size", "1", "--concurrency", "1"]
    code = main([*args, "--output-dir", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line.startswith("error:")]


def test_a_slow_teacher_names_the_timeout_and_saves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXOLAB_CLIENT__TIMEOUT", "0.3")
    monkeypatch.setenv("TAXOLAB_CLIENT__MAX_RETRIES", "0")
    with FakeOpenAIServer(scripted, latency=2.0) as teacher:
        code, _, (line,) = generate(teacher.url, tmp_path, capsys)
    assert code == 1
    assert "slow: no answer within 0.3 s" in line and "TAXOLAB_CLIENT__TIMEOUT" in line
    assert "nothing was saved" in line and "--resume" not in line
    assert not list((tmp_path / "run").glob("skills_train_msgs_*.jsonl"))


def test_a_gateway_504_is_quoted_not_called_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXOLAB_CLIENT__MAX_RETRIES", "1")
    with FakeOpenAIServer(scripted, fail_with=504) as teacher:
        code, _, (line,) = generate(teacher.url, tmp_path, capsys)
        completions = [r for r in teacher.requests if "messages" in r]
    assert code == 1 and 2 <= len(completions) <= 4  # two tries, and at most a request already sent by the next batch
    assert "HTTP 504: scripted failure 504" in line and "proxy in front of it timed out" in line
    assert "stopped answering" not in line and "connection" not in line


def test_a_teacher_failing_mid_run_says_the_finished_batches_are_saved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXOLAB_CLIENT__MAX_RETRIES", "0")
    answered = {"count": 0}
    lock = threading.Lock()
    teacher = FakeOpenAIServer(scripted)

    def breaks_after_three(request: dict[str, Any]) -> str:
        with lock:
            answered["count"] += 1
            if answered["count"] == 3:
                teacher.fail_with = 503  # from the next request on: overloaded for good
        return scripted(request)

    teacher.responder = breaks_after_three
    with teacher:
        code, _, (line,) = generate(teacher.url, tmp_path, capsys)
    assert code == 1 and "HTTP 503" in line and "overloaded" in line
    saved = len(list((tmp_path / "run" / "checkpoints").rglob("batch-*.json")))
    assert saved > 0
    expected = "1 finished batch is" if saved == 1 else f"{saved} finished batches are"
    assert f"{expected} saved: rerun the same command (or add --resume) to continue" in line

    with FakeOpenAIServer(scripted) as healthy:
        code, _, errors = generate(healthy.url, tmp_path, capsys)
    assert code == 0 and not errors


class EveryThirdFails(FakeOpenAIServer):
    """Answers HTTP 503 to every third request (a flaky teacher that recovers at once)."""

    seen: int = 0

    def _track(self, delta: int) -> None:
        super()._track(delta)
        if delta > 0:
            self.seen += 1
            self.fail_with = 503 if self.seen % 3 == 0 else None


def test_a_flaky_teacher_is_retried_and_the_summary_counts_the_retries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAXOLAB_CLIENT__MAX_RETRIES", "3")
    with EveryThirdFails(scripted) as teacher:
        code, out, errors = generate(teacher.url, tmp_path, capsys)
    assert code == 0 and not errors
    assert "teacher retries after transient errors" in out
    rows = (tmp_path / "run" / "generated" / "compositional_skills_writing_freeform_haiku.jsonl").read_text()
    assert len(rows.splitlines()) == 10  # 5 seeds x 2: nothing dropped for a transient error
