"""The ``taxolab`` entry point: the command tree and the one place errors are rendered."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click
from rich.markup import escape

from taxolab import __version__
from taxolab.cli.config_cmd import config_group
from taxolab.cli.context import AppContext
from taxolab.cli.data_cmd import data_group
from taxolab.cli.model import model_group
from taxolab.cli.options import add_ilab_aliases
from taxolab.cli.run_cmd import run_command
from taxolab.cli.system_cmd import system_group
from taxolab.cli.taxonomy_cmd import taxonomy_group
from taxolab.console import stderr
from taxolab.errors import TaxolabError
from taxolab.fsio import write_error
from taxolab.training.threads import bounded_wait_for_torch


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="taxolab")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="TAXOLAB_CONFIG",
    help="Config file (default: the platform config dir's config.yaml; env TAXOLAB_CONFIG).",
)
@click.option("--debug", is_flag=True, envvar="TAXOLAB_DEBUG", help="Show tracebacks and debug detail.")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, debug: bool) -> None:
    """taxolab: teach a language model new knowledge and skills from a taxonomy (the LAB method).

    \b
    Typical loop:
      taxolab config init
      taxolab taxonomy diff
      taxolab data generate
      taxolab model train
      taxolab model evaluate
      taxolab model chat
    or all of it at once: taxolab run
    """
    ctx.obj = AppContext(config_path=config_path, debug=debug)


cli.add_command(config_group)
cli.add_command(taxonomy_group)
cli.add_command(data_group)
cli.add_command(model_group)
cli.add_command(system_group)
cli.add_command(run_command)
add_ilab_aliases(cli)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr and a non-zero exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("TAXOLAB_DEBUG", "").lower() in {"1", "true", "yes"}
    bounded_wait_for_torch()  # torch's OpenMP threads spin only briefly, then yield to other processes
    try:
        # In non-standalone mode click returns ctx.exit(N)'s code instead of raising.
        code = cli.main(args=args, prog_name="taxolab", standalone_mode=False)
    except click.exceptions.Abort:
        stderr.print("aborted")
        return 130
    except click.exceptions.Exit as exc:
        return int(exc.exit_code or 0)
    except click.ClickException as exc:
        exc.show(file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        stderr.print("interrupted; finished work is kept, rerun the same command to resume")
        return 130
    except TaxolabError as exc:
        if debug:
            traceback.print_exc()
        stderr.print(f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        return exc.exit_code
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if debug:
            traceback.print_exc()
            return 1
        # a full disk or a read-only folder met by a writer that does not name its file itself
        refused = write_error(exc, None, elsewhere="folder (e.g. --output-dir)")
        if refused is not None:
            stderr.print(f"[red]error:[/red] {escape(str(refused))}", markup=True, highlight=False, soft_wrap=True)
            return refused.exit_code
        stderr.print(
            f"[red]internal error:[/red] {type(exc).__name__}: {escape(str(exc))} (rerun with --debug for the traceback)",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
