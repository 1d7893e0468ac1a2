"""The `mergeml` command line: one group, thin commands, one error boundary.

Each command parses its options, calls one function of :mod:`mergeml.api` and prints
what it returns; the commands live in ``params``, ``review``, ``model`` and ``release``.
"""

from __future__ import annotations

import logging
import sys

import click

from mergeml import __version__
from mergeml.cli.model import model
from mergeml.cli.monitor import MONITOR_COMMANDS
from mergeml.cli.params import PARAMS_COMMANDS
from mergeml.cli.release import RELEASE_COMMANDS
from mergeml.cli.review import REVIEW_COMMANDS
from mergeml.cli.serve import SERVE_COMMANDS
from mergeml.errors import MergemlError, UsageError, run_with_boundary


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mergeml")
@click.option("--traceback", is_flag=True, help="Show the full Python traceback on errors.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress and debug details.")
@click.pass_context
def cli(ctx: click.Context, traceback: bool, verbose: bool) -> None:
    """mergeml: Git-centric, declarative MLOps (Hydra params, DVC stages, gated merges)."""
    ctx.ensure_object(dict)
    ctx.obj["traceback"] = traceback  # read by the error boundary in `main`
    # Quiet by default, so that an error is the only line on stderr (STYLE 8);
    # --verbose shows mergeml's own progress and debug messages, not other libraries'.
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    logging.getLogger("mergeml").setLevel(logging.DEBUG if verbose else logging.WARNING)


for _command in (
    *PARAMS_COMMANDS,
    *REVIEW_COMMANDS,
    model,
    *RELEASE_COMMANDS,
    *SERVE_COMMANDS,
    *MONITOR_COMMANDS,
):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: click parses, the error boundary reports."""
    args = sys.argv[1:] if argv is None else argv
    state: dict[str, bool] = {"traceback": False}  # the group's --traceback lands here

    def invoke() -> None:
        try:
            # make_context + invoke rather than cli.main: click's main echoes a blank line
            # on Ctrl-C before re-raising, and an interrupt must be one line (the boundary's).
            with cli.make_context("mergeml", list(args), obj=state) as ctx:
                code = cli.invoke(ctx)
            if isinstance(code, int) and code:  # a command's ctx.exit(code)
                sys.exit(code)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        except click.UsageError as exc:
            raise UsageError(exc.format_message()) from exc
        except click.exceptions.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):  # a signal: the boundary says so
                raise exc.__cause__ from None
            raise MergemlError("aborted") from exc
        except click.exceptions.Exit as exc:
            if exc.exit_code:
                sys.exit(exc.exit_code)

    run_with_boundary(invoke, traceback=lambda: state["traceback"])
