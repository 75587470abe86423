"""Our fast yamllint driver finds exactly what ``yamllint.linter.run`` finds (relaxed, no line-length)."""

from __future__ import annotations

from pathlib import Path

import pytest
from yamllint import linter
from yamllint.config import YamlLintConfig

from taxolab.taxonomy.lint import LINT_CONFIG, lint_text

from .test_rules import CASES

EXTRA_SAMPLES = {
    "flow-style-and-anchors": (
        "version: 3\nbase: &base {a: 1,b: 2 }\nother: *base\nunknown: *nowhere\nlist: [ 1,2 ]\nempty: {}\n"
    ),
    "windows-line-ends": "version: 3\r\ncreated_by: me \r\nseed_examples:\r\n- a\r\n",
    "blank-lines-at-start-and-end": "\n\nversion: 3\n\n\n\n",
    "hyphen-and-colon-spacing": "version  : 3\nitems:\n  -   a\n  - b\n",
    "disabled-file": "# yamllint disable-file\nversion: 3   \n",
}


def _yamllint(text: str) -> list[tuple[int, int, str, str]]:
    conf = YamlLintConfig(content=LINT_CONFIG)
    found = [(p.line, p.column, p.message, p.level) for p in linter.run(text, conf)]
    return sorted(p for p in found if not p[2].endswith("(syntax)"))  # syntax errors: reported by our parser


def _ours(text: str) -> list[tuple[int, int, str, str]]:
    return sorted(
        (p.location.line, p.location.col, p.message, str(p.severity)) for p in lint_text(text, Path("qna.yaml"))
    )


def test_same_findings_on_every_sample_file(shared_data: Path) -> None:
    files = sorted((shared_data / "taxonomy").rglob("qna.yaml"))
    assert len(files) == 16
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert _ours(text) == _yamllint(text), path


@pytest.mark.parametrize("name", [n for n in CASES if not n.startswith("yaml-")])
def test_same_findings_on_each_broken_variant(name: str, shared_data: Path) -> None:
    """(Files that are not YAML never reach the linter: the parser reports them first.)"""
    case = CASES[name]
    text = (shared_data / "taxonomy" / case.leaf).read_text(encoding="utf-8").replace(case.old, case.new, 1)
    assert _ours(text) == _yamllint(text)


@pytest.mark.parametrize("name", list(EXTRA_SAMPLES))
def test_same_findings_on_rules_the_samples_do_not_reach(name: str) -> None:
    text = EXTRA_SAMPLES[name]
    expected = _yamllint(text)
    assert _ours(text) == expected
    if name != "disabled-file":
        assert expected, "each extra sample must trigger at least one rule"
