"""``taxolab taxonomy``: validate leaves and list what changed against a git base."""

from __future__ import annotations

from pathlib import Path

import click

from taxolab.cli.context import AppContext, emit
from taxolab.cli.options import json_option
from taxolab.config.sections import PathSettings
from taxolab.console import stdout
from taxolab.errors import TaxolabError
from taxolab.taxonomy import FileReport, TaxonomyReport, diff_taxonomy, lint_paths
from taxolab.taxonomy.settings import TaxonomySettings

_TAXONOMY_HELP = f"{PathSettings.model_fields['taxonomy'].description} [config: paths.taxonomy]"
_BASE_HELP = f"{TaxonomySettings.model_fields['base'].description} [config: taxonomy.base]"

quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print only the problems.")
strict_option = click.option("--strict", is_flag=True, help="Fail on warnings too (yamllint warnings, style).")


@click.group("taxonomy")
def taxonomy_group() -> None:
    """Check a taxonomy: what changed, and is it valid; or write the packaged sample."""


@taxonomy_group.command("diff")
@click.option("--taxonomy-path", "paths__taxonomy", type=click.Path(path_type=Path), help=_TAXONOMY_HELP)
@click.option("--taxonomy-base", "taxonomy__base", help=_BASE_HELP)
@json_option
@quiet_option
@strict_option
@click.pass_obj
def diff(app: AppContext, as_json: bool, quiet: bool, strict: bool, **flags: object) -> None:
    """List leaves added or changed against the base and validate them (exit 1 if any is invalid)."""
    config = app.config(flags)
    report = diff_taxonomy(config.paths.resolved("taxonomy"), config.taxonomy.base)
    scope = "all leaves" if report.base == "empty" else f"changed against {report.base}"
    _finish(report, as_json, quiet, strict, title=f"{report.taxonomy_root} ({scope})")


@taxonomy_group.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@json_option
@quiet_option
@strict_option
@click.pass_obj
def lint(app: AppContext, paths: tuple[Path, ...], as_json: bool, quiet: bool, strict: bool) -> None:
    """Validate qna.yaml files or whole trees, regardless of git (default: the configured taxonomy)."""
    targets = list(paths) or [app.config().paths.resolved("taxonomy")]
    report = lint_paths(targets)
    _finish(report, as_json, quiet, strict, title=", ".join(str(t) for t in targets))


@taxonomy_group.command("sample")
@click.argument("dest", required=False, type=click.Path(path_type=Path, file_okay=False))
@json_option
@click.pass_obj
def sample(app: AppContext, dest: Path | None, as_json: bool) -> None:
    """Write the packaged two-leaf sample taxonomy to DEST (default: paths.taxonomy) as a git repo.

    \b
    One knowledge leaf (the black-capped chickadee, with its document) and one skill
    leaf (synonyms), committed on `main`, so every leaf counts as new. The document's
    commit goes into taxolab's document cache: no network and no flag needed after.
    Example:
      taxolab taxonomy sample ~/taxolab-sample && taxolab run --taxonomy-path ~/taxolab-sample
    """
    from taxolab.taxonomy.sample import write_sample

    done = write_sample(dest or app.config().paths.resolved("taxonomy"))

    def render(data: dict[str, object]) -> None:
        stdout.print(f"sample taxonomy with {len(done.leaves)} leaves in {done.taxonomy} (commit {done.commit[:12]})",
                     markup=False, highlight=False)  # fmt: skip
        for leaf in done.leaves:
            stdout.print(f"  {leaf}", markup=False, highlight=False)
        stdout.print(f"document {done.document_repo} at {done.document_commit[:12]} cached in {done.document_cache}",
                     markup=False, highlight=False)  # fmt: skip
        stdout.print(f"next: taxolab run --taxonomy-path {done.taxonomy}", markup=False, highlight=False)

    emit(done.to_json(), as_json, render)


def _finish(report: TaxonomyReport, as_json: bool, quiet: bool, strict: bool, title: str) -> None:
    """Print the report; a failing one ends as the one-line error (exit 1) after the problems were listed.

    Under ``--strict`` a file with warnings is invalid in every place the verdict shows (its line, the
    summary, ``--json``), so the output never says "valid" next to a failing exit status.
    """
    report.strict = strict
    emit(report.to_json(), as_json, lambda _: _render(report, quiet, title))
    counts = f"{report.error_count} error(s), {report.warning_count} warning(s)"
    if not report.passes():
        failing = sum(1 for f in report.files if not report.file_passes(f))
        if report.valid:
            raise TaxolabError(
                f"{failing} of {len(report.files)} files invalid under --strict (warnings fail): {counts}"
            )
        raise TaxolabError(f"{failing} of {len(report.files)} files invalid: {counts}")


def _render(report: TaxonomyReport, quiet: bool, title: str) -> None:
    def say(text: str = "", style: str | None = None) -> None:
        stdout.print(text, style=style, markup=False, highlight=False)

    root = report.taxonomy_root
    if not quiet:
        say(f"{title}: {len(report.files)} file{'s' if len(report.files) != 1 else ''}", style="bold")
        for item in report.files:
            kind = str(item.kind) if item.kind else "-"
            version = f"v{item.version}" if item.version else "-"
            passes = report.file_passes(item)
            say(f"  {kind:<15} {version:<3} {item.display_path(root)}  {_status(item, passes)}", style=_style(passes))
    for item in report.files:
        for problem in item.problems:
            location = f"{_shown(problem.location.path)}"
            if problem.location.line:
                location += f":{problem.location.line}"
                if problem.location.col:
                    location += f":{problem.location.col}"
            prefix = "" if problem.is_error else "warning: "
            say(f"{location}: {prefix}{problem.message}", style="red" if problem.is_error else "yellow")
    for notice in report.notices:
        say(f"notice: {notice}", style="yellow")
    if quiet:
        return
    if not report.files:
        say("no changed leaves" if report.base is not None else "no taxonomy files")
    elif report.passes():
        say(f"all {len(report.files)} files valid ({report.warning_count} warning(s))", style="bold green")


def _status(item: FileReport, passes: bool) -> str:
    """``ok``, ``2 errors``, or under --strict ``1 warning (fails --strict)``."""
    if not item.valid:
        return f"{len(item.errors)} error{'s' if len(item.errors) != 1 else ''}"
    if not passes:
        return f"{len(item.warnings)} warning{'s' if len(item.warnings) != 1 else ''} (fails --strict)"
    return "ok"


def _style(passes: bool) -> str | None:
    return None if passes else "red"


def _shown(path: Path) -> Path:
    """A path relative to the working folder when it is under it (shorter, still clickable)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except (ValueError, OSError):
        return path
