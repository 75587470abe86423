"""Download models from the Hugging Face hub into the models folder.

A whole repository (an HF model folder) or one file of it (``--filename``,
typically a GGUF) lands in ``<models_dir>/<org>/<name>/``, where
``taxolab model list`` and ``--model-path org/name`` find it. The token comes
from ``HF_TOKEN`` (or the user's ``huggingface-cli login``); ``HF_ENDPOINT``
points at a mirror. Offline, or when the hub cannot be reached, the user gets
one line saying so instead of a stack of HTTP errors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from taxolab.errors import TaxolabError
from taxolab.models.formats import ModelFormat, detect_format

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Downloaded:
    repo: str
    revision: str | None
    path: Path
    format: ModelFormat | None


def download_model(
    repo: str,
    models_dir: Path,
    *,
    revision: str | None = None,
    filename: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
) -> Downloaded:
    """Fetch ``repo`` (or only ``filename`` from it) into ``models_dir/repo``; returns where it landed."""
    from huggingface_hub import hf_hub_download, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if repo.count("/") != 1 or repo.startswith("/") or repo.endswith("/") or ".." in repo:
        raise TaxolabError(f"{repo!r} is not a hub repository name; expected ORG/NAME")
    if _offline():
        raise TaxolabError(f"cannot download {repo}: offline mode is on (HF_HUB_OFFLINE is set); unset it to download")
    target = Path(models_dir).expanduser() / repo
    token = token or os.environ.get("HF_TOKEN") or None
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None
    try:
        if filename:
            path = Path(
                hf_hub_download(repo, filename, revision=revision, local_dir=target, token=token, endpoint=endpoint)
            )
        else:
            path = Path(snapshot_download(repo, revision=revision, local_dir=target, token=token, endpoint=endpoint))
    except (OfflineModeIsEnabled, LocalEntryNotFoundError) as exc:
        raise TaxolabError(f"cannot download {repo}: the hub is not reachable ({_first_line(exc)})") from None
    except GatedRepoError:
        raise TaxolabError(
            f"cannot download {repo}: it is gated; accept its terms on the hub and set HF_TOKEN"
        ) from None
    except RepositoryNotFoundError:
        raise TaxolabError(f"cannot download {repo}: no such repository, or it is private (set HF_TOKEN)") from None
    except RevisionNotFoundError:
        raise TaxolabError(f"cannot download {repo}: revision {revision!r} not found") from None
    except RemoteEntryNotFoundError:
        raise TaxolabError(f"cannot download {repo}: no file {filename!r} at revision {revision or 'main'}") from None
    except HfHubHTTPError as exc:
        raise TaxolabError(f"cannot download {repo}: {_first_line(exc)}") from None
    except OSError as exc:
        if _is_connection_error(exc):
            raise TaxolabError(f"cannot download {repo}: the hub is not reachable ({_first_line(exc)})") from None
        raise
    return Downloaded(repo, revision, path, detect_format(path))


def _offline() -> bool:
    """Offline mode, read at call time (the hub library reads its environment only once, at import)."""
    from huggingface_hub import constants

    env = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE")
    if env is not None:
        return env.strip().lower() in _TRUE
    return bool(constants.is_offline_mode())


def _is_connection_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionError) or "connect" in type(seen).__name__.lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
