"""docs/configuration.md is generated from the typed config and must match it."""

from __future__ import annotations

from pathlib import Path

from taxolab.config.reference import COMMAND, DOCS_FILE, main, render_reference
from taxolab.config.schema import Config


def test_docs_configuration_md_is_up_to_date() -> None:
    assert DOCS_FILE.exists(), f"{DOCS_FILE} is missing: run `{COMMAND}`"
    assert DOCS_FILE.read_text(encoding="utf-8") == render_reference(), (
        f"docs/configuration.md is stale: run `{COMMAND}`"
    )


def test_reference_names_every_section_and_key_with_its_default() -> None:
    text = render_reference()
    for section, field in Config.model_fields.items():
        model = field.annotation
        if isinstance(model, type) and hasattr(model, "model_fields"):
            assert f"\n## {section}\n" in text
            for key in model.model_fields:
                assert f"| `{section}.{key}` |" in text, f"{section}.{key} missing"
    assert "| `train.epochs` | integer (≥ 1) | `1` | yes |" in text
    assert "`--epochs`, `--num-epochs` (model train)" in text  # flags, ilab aliases included
    assert "| `generate.batch_size` |" in text and "| no |" in text  # speed-only keys say so


def test_check_mode_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "configuration.md"
    stale.write_text("# old\n")
    assert main([str(stale), "--check"]) == 1
    assert main([str(stale)]) == 0
    assert main([str(stale), "--check"]) == 0
    assert stale.read_text(encoding="utf-8") == render_reference()
