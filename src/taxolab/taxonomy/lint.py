"""YAML lint with yamllint's own rules (``relaxed`` profile, no line-length), driven fast.

InstructLab lints qna.yaml files of version 2 and later with yamllint. Running
``yamllint.linter.run`` costs ~5 ms per knowledge leaf, most of it in PyYAML's
pure-Python scanner (run twice: once for tokens, once for syntax errors). Here
the same rule objects get the token stream from libyaml's C scanner instead;
syntax errors are reported by the parser in :mod:`taxolab.taxonomy.source`.
A rule that can only fire on a kind of token or line a file does not contain
(flow braces, anchors, trailing blanks...) is skipped for that file; when the
file has one, the rule runs on every token exactly as in yamllint.
The findings are identical to yamllint's (tests compare both on every sample
file and on each broken variant); what is not supported are the in-file
``# yamllint disable`` comments other than ``disable-file``.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml
from yaml.error import Mark
from yamllint import parser as yl_parser
from yamllint.config import YamlLintConfig

from taxolab.taxonomy.problems import Problem, Severity, problem_at

LINT_CONFIG = "{extends: relaxed, rules: {line-length: disable}}"
_DISABLE_FILE = re.compile(r"#\s*yamllint disable-file\s*$")
_Scanner: type[Any] = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

# Token rules that report nothing unless the file holds one of these tokens (from reading each
# rule's check(); the equivalence tests against yamllint.linter.run guard this table).
_TOKEN_TRIGGERS: dict[str, tuple[type[Any], ...]] = {
    "braces": (yaml.FlowMappingStartToken, yaml.FlowMappingEndToken),
    "brackets": (yaml.FlowSequenceStartToken, yaml.FlowSequenceEndToken),
    "commas": (yaml.FlowEntryToken,),
    "anchors": (yaml.AnchorToken, yaml.AliasToken),
    "hyphens": (yaml.BlockEntryToken,),
}
# Line rules that report nothing unless the text matches (trailing blanks, a blank line) ...
_LINE_TRIGGERS: dict[str, re.Pattern[str]] = {
    "trailing-spaces": re.compile(r"[ \t][ \t\r\x0b\x0c]*$", re.MULTILINE),
    "empty-lines": re.compile(r"(?:\A|\n)\r?\n"),
}
# ... or that only ever look at the first or the last line.
_FIRST_LINE_ONLY = frozenset({"new-lines"})
_LAST_LINE_ONLY = frozenset({"new-line-at-end-of-file"})


@functools.cache
def _rules(config: str) -> tuple[YamlLintConfig, list[Any], list[Any]]:
    conf = YamlLintConfig(content=config)
    rules = conf.enabled_rules(None)
    return conf, [r for r in rules if r.TYPE == "token"], [r for r in rules if r.TYPE == "line"]


def _tokens(text: str) -> list[Any]:
    """Tokens with marks carrying ``buffer``/``pointer`` as yamllint's rules expect."""
    buffer = text + "\0"
    loader = _Scanner(text)
    tokens: list[Any] = []
    try:
        while loader.check_token():
            token = loader.get_token()
            start, end = token.start_mark, token.end_mark
            token.start_mark = Mark("<qna>", start.index, start.line, start.column, buffer, start.index)
            token.end_mark = Mark("<qna>", end.index, end.line, end.column, buffer, end.index)
            tokens.append(token)
    except yaml.YAMLError:
        pass  # lint what comes before a syntax error, as yamllint does; the parser reports the error itself
    finally:
        loader.dispose()
    return tokens


def lint_text(text: str, path: Path, config: str = LINT_CONFIG) -> list[Problem]:
    """yamllint's findings for ``text`` as problems (rule level ``error`` or ``warning`` kept)."""
    first_line = text.split("\n", 1)[0]
    if _DISABLE_FILE.match(first_line):
        return []
    conf, token_rules, line_rules = _rules(config)
    found: list[tuple[Any, str]] = []
    tokens = _tokens(text)
    # (token, prev, next, nextnext) windows, built once and shared by every token rule
    padded = [None, *tokens, None, None]
    windows = list(zip(tokens, padded, padded[2:], padded[3:], strict=False))
    present = {type(token) for token in tokens}
    for rule in token_rules:
        if rule.ID in _TOKEN_TRIGGERS and not present.intersection(_TOKEN_TRIGGERS[rule.ID]):
            continue
        check, rule_conf = rule.check, conf.rules[rule.ID]
        context: dict[str, Any] = {}  # a rule's state across its tokens (yamllint's convention)
        problems: list[Any] = []
        for token, prev, nxt, after in windows:
            problems.extend(check(rule_conf, token, prev, nxt, after, context))
        found.extend((problem, rule.ID) for problem in problems)
    all_lines: list[Any] | None = None
    for rule in line_rules:
        trigger = _LINE_TRIGGERS.get(rule.ID)
        if trigger is not None and not trigger.search(text):
            continue
        if rule.ID in _FIRST_LINE_ONLY:
            scope = [next(yl_parser.line_generator(text))]
        elif rule.ID in _LAST_LINE_ONLY:
            scope = [yl_parser.Line(text.count("\n") + 1, text, text.rfind("\n") + 1, len(text))]
        else:
            all_lines = all_lines if all_lines is not None else list(yl_parser.line_generator(text))
            scope = all_lines
        rule_conf = conf.rules[rule.ID]
        for line in scope:
            found.extend((problem, rule.ID) for problem in rule.check(rule_conf, line))
    return [
        problem_at(
            path,
            problem.line,
            problem.column,
            f"{problem.desc} ({rule_id})",
            rule=f"yamllint:{rule_id}",
            severity=Severity(conf.rules[rule_id]["level"]),
        )
        for problem, rule_id in found
    ]
