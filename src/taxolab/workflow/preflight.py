"""Checks ``taxolab run`` (and ``--plan``) makes before any stage, so a typo fails in seconds, not after generation.

Model references go through :func:`taxolab.models.resolve.resolve_model`, the
same resolver the stages use, so what passes here resolves there. The packaged
default (``default``…) is not resolved here: resolving its HF folder converts it.
"""

from __future__ import annotations

from taxolab.config.schema import Config
from taxolab.errors import TaxolabError

GPU_PROFILES = ("gpu-1", "gpu-8")


def check_models(config: Config) -> None:
    """Raise a one-line :class:`TaxolabError` naming the flag and key of the first model reference that does not resolve.

    Checked: the teacher (unless ``generate.endpoint_urls`` serves it), the
    student (must be an HF folder, training needs one) and the judge (unless
    ``evaluate.judge_endpoint_url`` serves it).
    """
    from taxolab.models.resolve import is_default, resolve_model

    models_dir = config.paths.resolved("models")
    checks: list[tuple[str, str, str | None]] = [("--student", "models.student", config.models.student)]
    if not config.generate.endpoint_urls:
        key = "generate.teacher_model" if config.generate.teacher_model else "models.teacher"
        checks.insert(0, ("--teacher", key, config.generate.teacher_model or config.models.teacher))
    if not config.evaluate.judge_endpoint_url:
        key = "evaluate.judge_model" if config.evaluate.judge_model else "models.judge"
        checks.append(("--judge", key, config.evaluate.judge_model or config.models.judge))
    for flag, key, ref in checks:
        if not ref or is_default(ref):
            continue
        try:
            resolved = resolve_model(ref, models_dir, prefer="hf" if flag == "--student" else "gguf")
        except TaxolabError as err:
            raise TaxolabError(
                f"{flag} {ref!r} [config: {key}]: {err}; pass a path, `default`, or a name from `taxolab model list`"
            ) from None
        if flag == "--student" and resolved.format != "hf":
            raise TaxolabError(
                f"{flag} {ref!r} [config: {key}]: training needs an HF model folder, not {resolved.format}; "
                "see `taxolab model list`"
            )


def cuda_available() -> bool:
    """Whether torch sees a CUDA GPU (False when torch cannot tell)."""
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:  # pragma: no cover - torch is a dependency
        return False


def gpu_profile_problem(profile_name: str) -> str | None:
    """The one-line problem when a GPU profile was chosen on a machine without CUDA, else None."""
    if profile_name in GPU_PROFILES and not cuda_available():
        return f"--profile {profile_name}: no CUDA GPU found; use --profile cpu-small or auto"
    return None
