"""How fast is taxonomy validation? 1,000 generated leaves, against two peers measured in the same run.

    .venv/bin/python bench/bench_taxonomy.py [--leaves 1000] [--repeat 3]

The leaves are copies of the 5 real knowledge and skill leaves of
../shared/data/taxonomy, each made unique (its own created_by) so nothing can
be served from a cache. Timed (best of --repeat runs, same files each time):

- taxolab: ``validate_files`` -- read, YAML lint, parse with positions, all schema rules, build leaves;
- peer A: ``yamllint.linter.run`` alone (relaxed profile, no line-length) on the same files, the lint
  step upstream InstructLab runs for every leaf (upstream even runs it as a subprocess per file);
- peer B: ``yaml.safe_load`` alone (pure-Python PyYAML), the parse step upstream runs before its schema;
- peer C: ruamel.yaml's round-trip load alone, the usual position-keeping parser (why taxolab composes
  with libyaml instead).

Target from the issue: 1,000 leaves validated in under 2 seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from ruamel.yaml import YAML
from yamllint import linter
from yamllint.config import YamlLintConfig

from taxolab.taxonomy import leaf_files, validate_files
from taxolab.taxonomy.lint import LINT_CONFIG

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "taxonomy"


def make_leaves(root: Path, count: int) -> list[Path]:
    """``count`` leaves under ``root``: round-robin copies of the sample leaves, each one unique."""
    sources = leaf_files(SAMPLE)
    texts = [(p.parent.relative_to(SAMPLE), p.read_text(encoding="utf-8")) for p in sources]
    paths = []
    for index in range(count):
        relative, text = texts[index % len(texts)]
        folder = root / relative.parts[0] / f"generated_{index:05d}" / Path(*relative.parts[1:])
        folder.mkdir(parents=True)
        path = folder / "qna.yaml"
        path.write_text(text.replace("created_by: ", f"created_by: user{index}-", 1), encoding="utf-8")
        paths.append(path)
    return paths


def best_of(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leaves", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not SAMPLE.is_dir():
        print(f"sample taxonomy not found at {SAMPLE}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        paths = make_leaves(root, args.leaves)
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
        reports = validate_files(paths, root)  # warm-up, and a correctness check
        assert all(r.valid and r.leaf is not None for r in reports), "generated leaves must be valid"
        conf = YamlLintConfig(content=LINT_CONFIG)

        def yamllint_alone() -> None:
            for path in paths:
                list(linter.run(path.read_text(encoding="utf-8"), conf))

        def safe_load_alone() -> None:
            for path in paths:
                yaml.safe_load(path.read_text(encoding="utf-8"))

        ruamel = YAML(typ="rt")

        def ruamel_alone() -> None:
            for path in paths:
                ruamel.load(path.read_text(encoding="utf-8"))

        ours = best_of(args.repeat, lambda: validate_files(paths, root))
        lint_peer = best_of(args.repeat, yamllint_alone)
        load_peer = best_of(args.repeat, safe_load_alone)
        ruamel_peer = best_of(args.repeat, ruamel_alone)
    n = args.leaves
    print(f"{n} leaves ({size_mb:.1f} MB), best of {args.repeat}:")
    print(f"  taxolab validate_files (lint + parse + schema): {ours:6.3f} s  {n / ours:8.0f} leaves/s")
    print(f"  peer A: yamllint.linter.run alone              : {lint_peer:6.3f} s  {n / lint_peer:8.0f} leaves/s")
    print(f"  peer B: yaml.safe_load alone (pure Python)     : {load_peer:6.3f} s  {n / load_peer:8.0f} leaves/s")
    print(f"  peer C: ruamel.yaml round-trip load alone      : {ruamel_peer:6.3f} s  {n / ruamel_peer:8.0f} leaves/s")
    print(
        f"  ratio: taxolab is {lint_peer / ours:.1f}x faster than yamllint alone, "
        f"{load_peer / ours:.1f}x faster than safe_load alone, {ruamel_peer / ours:.1f}x faster than ruamel alone"
    )
    per_1000 = ours * 1000 / n
    print(f"  target: 1,000 leaves in < 2 s -> {per_1000:.2f} s per 1,000 leaves: {'PASS' if per_1000 < 2 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
