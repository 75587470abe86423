"""Load a messages JSONL into tokenised samples: cached by content, parallel when large.

The cache key is the file's bytes plus the tokenizer's identity (vocabulary and
chat template), so a rerun, a resumed run and every torchrun worker reuse one
tokenisation, and a changed file or tokenizer never reuses a stale one.
Length filtering happens after the cache, so changing ``max_seq_len`` is free.
"""

from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from taxolab import fsio
from taxolab.config import paths
from taxolab.errors import TaxolabError
from taxolab.training.tokenize import SampleError, TokenizedSample, tokenize_sample

CACHE_VERSION = 2  # 2: samples carry their epoch variant
_PARALLEL_THRESHOLD = 2000


@dataclass
class TokenizedDataset:
    """Samples ready to pack, plus why any input rows were left out."""

    samples: list[TokenizedSample]
    dropped: Counter[str] = field(default_factory=Counter)
    source_rows: int = 0
    bad_lines: dict[str, list[int]] = field(default_factory=dict)
    """For each reason a row was dropped while reading, the 1-based file lines of its first few rows."""

    @functools.cached_property
    def lengths(self) -> list[int]:
        return [len(s.input_ids) for s in self.samples]

    def epoch_indices(self, epoch: int) -> list[int]:
        """The samples trained in ``epoch`` (0-based): all but the other epochs' variants (``mix.epoch_variants``)."""
        return [i for i, sample in enumerate(self.samples) if sample.in_epoch(epoch)]

    def split(self, fraction: float, cap: int, seed: int) -> tuple[TokenizedDataset, TokenizedDataset]:
        """(train, validation): a seeded random hold-out of ``fraction`` of the samples, at most ``cap``."""
        count = min(int(len(self.samples) * fraction), cap)
        if count == 0 or len(self.samples) - count < 1:
            return self, TokenizedDataset([], Counter(), 0)
        order = torch.randperm(len(self.samples), generator=torch.Generator().manual_seed(seed)).tolist()
        held = set(order[:count])
        train = [s for i, s in enumerate(self.samples) if i not in held]
        valid = [s for i, s in enumerate(self.samples) if i in held]
        kept = TokenizedDataset(train, self.dropped, self.source_rows, self.bad_lines)
        return kept, TokenizedDataset(valid, Counter(), count)


def load_dataset(
    data_file: Path, tokenizer_dir: Path, *, max_seq_len: int, workers: int | None = None
) -> TokenizedDataset:
    """Tokenise ``data_file`` with the tokenizer in ``tokenizer_dir``; drop (and count) unusable rows."""
    tokenizer = load_tokenizer(tokenizer_dir)
    key = _cache_key(data_file, tokenizer)
    cache = paths.cache_dir() / "training" / "tokenized" / f"{key}.pt"
    if cache.exists():
        stored = torch.load(cache, weights_only=False)
        samples, dropped, rows = stored["samples"], Counter(stored["dropped"]), stored["rows"]
        bad_lines = stored.get("bad_lines", {})
    else:
        samples, dropped, rows, bad_lines = _tokenize_file(data_file, tokenizer_dir, tokenizer, workers)
        with fsio.atomic_open(cache, "wb") as handle:
            torch.save({"samples": samples, "dropped": dict(dropped), "rows": rows, "bad_lines": bad_lines}, handle)
    kept = []
    for sample in samples:
        if len(sample.input_ids) > max_seq_len:
            dropped[f"longer than max_seq_len={max_seq_len}"] += 1
        else:
            kept.append(sample)
    return TokenizedDataset(kept, dropped, rows, bad_lines)


def load_tokenizer(model_dir: Path) -> Any:
    """The tokenizer saved with a model (with its chat template)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir))


def _cache_key(data_file: Path, tokenizer: Any) -> str:
    digest = hashlib.sha256(f"v{CACHE_VERSION}".encode())
    with Path(data_file).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    identity = json.dumps(
        {
            "vocab": sorted(tokenizer.get_vocab().items()),
            "template": tokenizer.chat_template,
            "class": type(tokenizer).__name__,
        },
        sort_keys=True,
    )
    digest.update(identity.encode())
    return digest.hexdigest()[:32]


BAD_LINES_SHOWN = 3
"""File lines named per drop reason (the first ones), so a user can open the file at a bad row."""


def _tokenize_file(
    data_file: Path, tokenizer_dir: Path, tokenizer: Any, workers: int | None
) -> tuple[list[TokenizedSample], Counter[str], int, dict[str, list[int]]]:
    numbered = _read_rows(data_file)
    lines = [line for _, line in numbered]
    if workers is None:
        workers = (os.cpu_count() or 1) if len(lines) >= _PARALLEL_THRESHOLD else 1
    if workers > 1 and len(lines) > 1:
        chunk = max(1, len(lines) // (workers * 8))
        with multiprocessing.get_context("spawn").Pool(
            workers, initializer=_init_worker, initargs=(str(tokenizer_dir),)
        ) as pool:
            results = pool.map(_tokenize_line, lines, chunksize=chunk)
    else:
        results = [_tokenize_with(tokenizer, line) for line in lines]
    samples: list[TokenizedSample] = []
    dropped: Counter[str] = Counter()
    bad_lines: dict[str, list[int]] = {}
    for (number, _), result in zip(numbered, results, strict=True):
        if isinstance(result, str):
            dropped[result] += 1
            shown = bad_lines.setdefault(result, [])
            if len(shown) < BAD_LINES_SHOWN:
                shown.append(number)
        else:
            samples.append(result)
    return samples, dropped, len(lines), bad_lines


def _read_rows(data_file: Path) -> list[tuple[int, str]]:
    """The non-blank lines of ``data_file`` with their 1-based line numbers."""
    if not Path(data_file).is_file():
        raise TaxolabError(f"{data_file}: training data not found")
    with Path(data_file).open(encoding="utf-8") as handle:
        return [(number, line) for number, line in enumerate(handle, start=1) if line.strip()]


def _tokenize_with(tokenizer: Any, line: str) -> TokenizedSample | str:
    """A sample, or the reason it was dropped."""
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return "not valid JSON"
    if not isinstance(row, dict):
        return "not a JSON object"
    try:
        sample = tokenize_sample(tokenizer, row)
    except SampleError as exc:
        return str(exc)
    if sample.loss_tokens == 0:
        return "no trained tokens"
    return sample


_worker_tokenizer: Any = None


def _init_worker(tokenizer_dir: str) -> None:
    global _worker_tokenizer  # noqa: PLW0603 - one tokenizer per pool process
    _worker_tokenizer = load_tokenizer(Path(tokenizer_dir))


def _tokenize_line(line: str) -> TokenizedSample | str:
    return _tokenize_with(_worker_tokenizer, line)
