"""Forms per fact and knowledge-mix size: today's mix (teacher questions + passages) vs every form kind.

Re-mixes a finished generation folder offline (no teacher, no training) with the
run profile's mix settings, once per variant in the same run: ``questions`` only
(the mix before ``mix.forms``), every kind, and every kind but one. Prints, per
variant, knowledge samples, tokens and trained (loss) tokens with the student's
own tokenizer and chat template, forms per fact (min / median / short), and the
ratio of each to the questions-only mix: what the knowledge phase grows by.

    python bench/bench_mix_forms.py GENERATION_FOLDER --taxonomy PATH [--base empty] [--profile cpu-small]
    python bench/bench_mix_forms.py --quick        # the all-forms and questions-only variants only

GENERATION_FOLDER is a leaf folder a run wrote (``<run>/data/leaves/<leaf>/<hash>``, or a
``data generate`` run folder); without one, the newest under /tmp/stages/run/data/leaves is used.

Measured 2026-12-04 on the 2-core machine shared with 6 other engineers' jobs (mixing is a
second or less; times are not the point here), chickadee leaf, cpu-small (closed-book pairs +
passages): see docs/generate.md for the figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from taxolab import fsio
from taxolab.mixing import LeafSource, MixOptions, build_training_sets
from taxolab.mixing.settings import FORM_KINDS
from taxolab.taxonomy import load_leaves
from taxolab.workflow.profiles import load_run_config, resolve_profile

DEFAULT_RUN = Path("/tmp/stages")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, help="A leaf's generation folder (generated/, passages/ ...).")
    parser.add_argument("--taxonomy", type=Path, default=DEFAULT_RUN / "taxonomy", help="The taxonomy it came from.")
    parser.add_argument("--base", default="empty", help="Taxonomy base ref (which leaves changed).")
    parser.add_argument("--profile", default="cpu-small", help="Run profile whose mix settings apply.")
    parser.add_argument("--quick", action="store_true", help="Only questions-only and all forms.")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="A mix.KEY override (repeatable)."
    )
    args = parser.parse_args()
    folder = args.folder or _newest(DEFAULT_RUN / "run" / "data" / "leaves")
    if folder is None or not (folder / "generated").is_dir():
        sys.exit(f"{folder}: not a generation folder (no generated/); pass one")
    leaves = [
        leaf
        for leaf in load_leaves(args.taxonomy, args.base)
        if (folder / "generated" / f"{leaf.name}.jsonl").is_file()
    ]
    if not leaves:
        sys.exit(f"{folder}: none of the leaves of {args.taxonomy} (base {args.base}) were generated here")
    overrides = dict(item.split("=", 1) for item in args.set)
    base = load_run_config(None, resolve_profile(args.profile), {"mix": overrides} if overrides else {})
    variants: list[tuple[str, tuple[str, ...]]] = [
        ("questions only (before)", ("questions",)),
        ("all forms", FORM_KINDS),
    ]
    if not args.quick:
        variants += [(f"all but {kind}", tuple(k for k in FORM_KINDS if k != kind)) for kind in FORM_KINDS[1:]]
    tokenizer = _tokenizer()
    print(f"{folder} ({', '.join(leaf.name for leaf in leaves)}), profile {args.profile}, mix overrides {overrides}")
    epochs = (base.train.knowledge_epochs or base.train.epochs, base.train.skills_epochs or base.train.epochs)
    print(
        f"{'variant':<28}{'samples':>9}{'tokens':>10}{'trained':>10}{'forms min':>11}{'median':>8}{'short':>7}"
        f"  x samples  x tokens  both phases' tokens ({epochs[0]} + {epochs[1]} epochs, skills replay)"
    )
    first: dict[str, float] = {}
    for label, kinds in variants:
        options = MixOptions.from_config(
            base.model_copy(update={"mix": base.mix.model_copy(update={"forms": list(kinds)})})
        )
        with tempfile.TemporaryDirectory(prefix="bench-mix-forms-") as out:
            started = time.perf_counter()
            built = build_training_sets([LeafSource(leaf, folder) for leaf in leaves], Path(out), "bench", options)
            seconds = time.perf_counter() - started
            mix = next(Path(out).glob("knowledge_train_msgs_*.jsonl"))
            samples = fsio.read_jsonl(mix)
            tokens, trained = _tokens(tokenizer, samples)
            skills = next(Path(out).glob("skills_train_msgs_*.jsonl"), None)
            skill_tokens = _tokens(tokenizer, fsio.read_jsonl(skills))[0] if skills else 0
            per_leaf = [counts for counts in built["leaves"].values() if "facts" in counts]
            stats = {
                "samples": len(samples),
                "tokens": tokens,
                "trained": trained,
                "run": epochs[0] * tokens + epochs[1] * skill_tokens,
                "min": min(c["forms_min"] for c in per_leaf),
                "median": statistics.median(c["forms_median"] for c in per_leaf),
                "short": sum(c["facts_short"] for c in per_leaf),
            }
        first = first or stats
        print(
            f"{label:<28}{stats['samples']:>9}{stats['tokens']:>10}{stats['trained']:>10}{stats['min']:>11}"
            f"{stats['median']:>8g}{stats['short']:>7}  {stats['samples'] / first['samples']:>9.2f}"
            f"  {stats['tokens'] / first['tokens']:>8.2f}  {stats['run']:>9} (x{stats['run'] / first['run']:.2f})"
            f"   ({seconds:.1f} s to mix)"
        )


def _tokens(tokenizer: Any, samples: list[dict[str, Any]]) -> tuple[int, int]:
    """(all tokens, trained tokens) of the samples as training tokenises them."""
    from taxolab.training.tokenize import tokenize_sample

    total = trained = 0
    for sample in samples:
        tokenized = tokenize_sample(tokenizer, sample)
        total += len(tokenized.input_ids)
        trained += tokenized.loss_tokens
    return total, trained


def _tokenizer() -> Any:
    from taxolab.models.default import default_hf_dir
    from taxolab.training.dataset import load_tokenizer

    return load_tokenizer(default_hf_dir())


def _newest(root: Path) -> Path | None:
    folders = sorted(root.glob("*/*/"), key=lambda path: path.stat().st_mtime) if root.is_dir() else []
    return folders[-1] if folders else None


if __name__ == "__main__":
    main()
