"""The qna.yaml rules, per leaf kind and schema version, checked on a positioned node tree.

The rules follow the InstructLab schema that taxonomy contributors are held to
(versions 1-3): required and allowed keys, non-empty text, minimum counts and
distinct seed examples, and knowledge only in version 3. Every problem points
at the key or list item it is about, and every problem of a file is collected
before giving up, so a contributor fixes a file in one pass.

Two checks go beyond upstream and are only warnings: extra keys inside a
knowledge question/answer pair (upstream ignores them) and a grounded skill
whose seed examples do not all carry a context.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import yaml

from taxolab.taxonomy.model import DocumentRef, LeafKind, SeedExample
from taxolab.taxonomy.problems import Problem, Severity, problem_at
from taxolab.taxonomy.source import STR_TAG, VALUE_ERRORS, Source

SUPPORTED_VERSIONS = (1, 2, 3)
KNOWLEDGE_VERSION = 3
MIN_SKILL_EXAMPLES = 5
MIN_KNOWLEDGE_CONTEXTS = 5
MIN_QUESTIONS_PER_CONTEXT = 3

Entry = tuple[yaml.Node, yaml.Node]


@dataclass
class LeafContent:
    """What the rules extracted from a file; ``problems`` decide whether it is usable."""

    kind: LeafKind | None = None
    version: int | None = None
    created_by: str = ""
    task_description: str = ""
    domain: str | None = None
    document_outline: str | None = None
    document: DocumentRef | None = None
    seed_examples: list[SeedExample] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def check(source: Source, section: str | None) -> LeafContent:
    """Apply the rules for the file's kind (from its taxonomy section, else its content) and version."""
    return _Checker(source).run(section)


def read_version(source: Source) -> tuple[int, Problem | None]:
    """The schema version the file declares (1 when absent, like upstream), and a problem if it is not valid."""
    for key, value in source.root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "version":
            try:
                parsed = source.value(value) if isinstance(value, yaml.ScalarNode) else None
            except VALUE_ERRORS:
                parsed = None
            if isinstance(parsed, int) and not isinstance(parsed, bool):
                if parsed in SUPPORTED_VERSIONS:
                    return parsed, None
                return parsed, _at(source, value, f"version: unsupported version {parsed} (supported: 1, 2, 3)")
            fallback = _int_or_one(parsed)
            return fallback, _at(source, value, f"version: must be the number 1, 2 or 3, found {_describe(value)}")
    return 1, None


class _Checker:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.out = LeafContent()

    # -- reporting -------------------------------------------------------------------------------

    def error(self, node: yaml.Node, message: str, severity: Severity = Severity.ERROR) -> None:
        self.out.problems.append(_at(self.source, node, message, severity))

    # -- generic shapes --------------------------------------------------------------------------

    def fields(
        self,
        node: yaml.Node,
        where: str,
        spec: dict[str, bool],
        anchor: yaml.Node,
        unknown: Severity = Severity.ERROR,
    ) -> dict[str, Entry] | None:
        """The mapping's known entries; reports a non-mapping, unknown keys and missing required keys."""
        if not isinstance(node, yaml.MappingNode):
            self.error(_value_anchor(anchor, node), f"{where}: must be a mapping of keys, found {_describe(node)}")
            return None
        entries: dict[str, Entry] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                self.error(key, f"{where or 'top level'}: keys must be plain text, found {_describe(key)}")
                continue
            name = str(key.value)
            if name not in spec:
                allowed = ", ".join(spec)
                self.error(key, f"{_join(where, name)}: unknown key (allowed here: {allowed})", unknown)
                continue
            entries[name] = (key, value)
        for name, required in spec.items():
            if required and name not in entries:
                self.error(anchor, f"{where or 'top level'}: missing required key '{name}'")
        return entries

    def text(self, entry: Entry | None, where: str, *, allow_empty: bool = False) -> str | None:
        """A string value: not null, not a number or a list, and (unless allowed) not blank."""
        if entry is None:
            return None
        key, value = entry
        if not (isinstance(value, yaml.ScalarNode) and value.tag == STR_TAG):
            self.error(_value_anchor(key, value), f"{where}: must be text, found {_describe(value)}")
            return None
        if not allow_empty and not value.value.strip():
            self.error(_value_anchor(key, value), f"{where}: must not be empty")
            return None
        return str(value.value)

    def items(self, entry: Entry | None, where: str, minimum: int, what: str) -> list[yaml.Node]:
        """A list value with at least ``minimum`` entries."""
        if entry is None:
            return []
        key, value = entry
        if not isinstance(value, yaml.SequenceNode):
            self.error(_value_anchor(key, value), f"{where}: must be a list of {what}, found {_describe(value)}")
            return []
        if len(value.value) < minimum:
            noun = what.removesuffix("s") if minimum == 1 else what
            self.error(key, f"{where}: needs at least {minimum} {noun}, found {len(value.value)}")
        return list(value.value)

    def distinct(self, nodes: list[yaml.Node], where: str, what: str) -> None:
        """Report each list item that repeats an earlier one (upstream's ``uniqueItems``)."""
        seen: dict[str, int] = {}
        for index, node in enumerate(nodes):
            key = self.fingerprint(node)
            if key in seen:
                self.error(node, f"{where}[{index}]: repeats {where}[{seen[key]}]; {what} must be distinct")
            else:
                seen[key] = index

    def fingerprint(self, node: yaml.Node) -> str:
        try:
            return json.dumps(self.source.value(node), sort_keys=True, default=str)
        except VALUE_ERRORS:
            return f"{node.start_mark.line}:{node.start_mark.column}"

    # -- the rules ---------------------------------------------------------------------------------

    def run(self, section: str | None) -> LeafContent:
        root = self.source.root
        version, version_problem = read_version(self.source)
        self.out.version = version
        if version_problem:
            self.out.problems.append(version_problem)
            if version not in SUPPORTED_VERSIONS:
                return self.out
        top_keys = {k.value for k, _ in root.value if isinstance(k, yaml.ScalarNode)}
        is_knowledge = section == "knowledge" or (section is None and "document" in top_keys)
        if is_knowledge:
            self.out.kind = LeafKind.KNOWLEDGE
            self.knowledge(root, version)
        else:
            self.skill(root, version)
        return self.out

    def skill(self, root: yaml.MappingNode, version: int) -> None:
        spec = {"version": version >= 2, "created_by": True, "task_description": True, "seed_examples": True}
        entries = self.fields(root, "", spec, root) or {}
        self.out.created_by = self.text(entries.get("created_by"), "created_by") or ""
        self.out.task_description = (
            self.text(entries.get("task_description"), "task_description", allow_empty=version == 1) or ""
        )
        minimum = 1 if version == 1 else MIN_SKILL_EXAMPLES
        examples = self.items(entries.get("seed_examples"), "seed_examples", minimum, "seed examples")
        if version >= 2:
            self.distinct(examples, "seed_examples", "seed examples")
        example_spec = {"question": True, "answer": True, "context": False}
        grounded: list[bool] = []
        for index, node in enumerate(examples):
            where = f"seed_examples[{index}]"
            example = self.fields(node, where, example_spec, node)
            if example is None:
                continue
            question = self.text(example.get("question"), f"{where}.question")
            answer = self.text(example.get("answer"), f"{where}.answer")
            context = self.text(example.get("context"), f"{where}.context")
            grounded.append("context" in example)
            if question is not None and answer is not None:
                self.out.seed_examples.append(SeedExample(question, answer, context))
        self.out.kind = LeafKind.GROUNDED_SKILL if any(grounded) else LeafKind.FREEFORM_SKILL
        if any(grounded) and not all(grounded):
            for index, has_context in enumerate(grounded):
                if not has_context:
                    self.error(
                        examples[index],
                        f"seed_examples[{index}]: no context, while other seed examples have one "
                        "(a grounded skill should give every example a context)",
                        Severity.WARNING,
                    )

    def knowledge(self, root: yaml.MappingNode, version: int) -> None:
        if version < KNOWLEDGE_VERSION:
            anchor = next((k for k, _ in root.value if isinstance(k, yaml.ScalarNode) and k.value == "version"), root)
            self.error(
                anchor,
                f"version: knowledge leaves need version 3; version {version} is no longer supported "
                "(rewrite seed_examples as contexts with questions_and_answers, add document_outline)",
            )
            return
        spec = {
            "version": True,
            "created_by": True,
            "domain": True,
            "seed_examples": True,
            "document_outline": True,
            "document": True,
        }
        entries = self.fields(root, "", spec, root) or {}
        self.out.created_by = self.text(entries.get("created_by"), "created_by") or ""
        self.out.domain = self.text(entries.get("domain"), "domain")
        self.out.document_outline = self.text(entries.get("document_outline"), "document_outline")
        self.document(entries.get("document"))
        contexts = self.items(entries.get("seed_examples"), "seed_examples", MIN_KNOWLEDGE_CONTEXTS, "contexts")
        self.distinct(contexts, "seed_examples", "seed examples")
        for index, node in enumerate(contexts):
            self.knowledge_context(node, f"seed_examples[{index}]")

    def knowledge_context(self, node: yaml.Node, where: str) -> None:
        """One v3 context and its Q&A pairs, each text with its paragraphs' soft wraps joined.

        Contributors hard-wrap contexts and answers in ``|`` block scalars to pass the taxonomy's
        line-length lint; the wraps are layout, not content (Markdown soft breaks), and trained
        as they are they teach the student to break lines mid-sentence (issue 16). Skill leaves keep
        their line breaks: a poem's or an address's lines are the content.
        """
        from taxolab.documents.markup import join_soft_wraps

        entries = self.fields(node, where, {"context": True, "questions_and_answers": True}, node)
        if entries is None:
            return
        context = self.text(entries.get("context"), f"{where}.context")
        context = None if context is None else join_soft_wraps(context)  # once per context, not once per pair
        qa_where = f"{where}.questions_and_answers"
        pairs = self.items(
            entries.get("questions_and_answers"), qa_where, MIN_QUESTIONS_PER_CONTEXT, "question/answer pairs"
        )
        self.distinct(pairs, qa_where, "question/answer pairs")
        for index, pair in enumerate(pairs):
            pair_where = f"{qa_where}[{index}]"
            qa = self.fields(pair, pair_where, {"question": True, "answer": True}, pair, unknown=Severity.WARNING)
            if qa is None:
                continue
            question = self.text(qa.get("question"), f"{pair_where}.question")
            answer = self.text(qa.get("answer"), f"{pair_where}.answer")
            if question is not None and answer is not None:
                self.out.seed_examples.append(SeedExample(join_soft_wraps(question), join_soft_wraps(answer), context))

    def document(self, entry: Entry | None) -> None:
        if entry is None:
            return
        key, node = entry
        fields = self.fields(node, "document", {"repo": True, "commit": True, "patterns": True}, key)
        if fields is None:
            return
        repo = self.text(fields.get("repo"), "document.repo")
        commit = self.text(fields.get("commit"), "document.commit")
        pattern_nodes = self.items(fields.get("patterns"), "document.patterns", 1, "file patterns")
        self.distinct(pattern_nodes, "document.patterns", "patterns")
        patterns = [
            self.text((fields["patterns"][0], item), f"document.patterns[{index}]")
            for index, item in enumerate(pattern_nodes)
        ]
        if repo and commit and pattern_nodes and all(patterns):
            self.out.document = DocumentRef(
                repo.strip(),
                commit.strip(),
                tuple(p.strip() for p in patterns if p),
                line=key.start_mark.line + 1,
                commit_line=fields["commit"][1].start_mark.line + 1,
                pattern_lines=tuple(item.start_mark.line + 1 for item in pattern_nodes),
            )


def _at(source: Source, node: yaml.Node, message: str, severity: Severity = Severity.ERROR) -> Problem:
    mark = node.start_mark
    return problem_at(source.path, mark.line + 1, mark.column + 1, message, severity=severity)


def _value_anchor(key: yaml.Node, value: yaml.Node) -> yaml.Node:
    """Point at the value, unless it is an implicit empty value (``key:`` and nothing): then at the key."""
    if isinstance(value, yaml.ScalarNode) and value.value == "" and value.tag != STR_TAG:
        return key
    return value


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    kind = str(node.tag).rsplit(":", 1)[-1]
    if kind == "null":
        return "nothing"
    names = {"str": "text", "int": "a number", "float": "a number", "bool": "true/false", "timestamp": "a date"}
    return f"{names.get(kind, kind)} ({node.value})"


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _int_or_one(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 1
