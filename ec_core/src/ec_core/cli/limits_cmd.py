"""``ec limits``: start a limits file from the shipped sample, and check one.

Limits are default deny, so a real vendor does not trade without a limits file; these
two commands make the first one a minute's work.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import click

from ec_core.errors import ConfigError
from ec_core.safety.limits import Limits, load_limits

__all__ = ["SAMPLE_ACCOUNT", "limits_command", "sample_limits_text"]

#: The sample's stand-in for the user's account id, to be edited before the file is used.
SAMPLE_ACCOUNT = "CHANGE-ME"


def sample_limits_text() -> str:
    """The sample limits file shipped in the ec-core wheel."""
    return files("ec_core.safety").joinpath("limits.sample.toml").read_text(encoding="utf-8")


@click.group("limits")
def limits_command() -> None:
    """Start a limits file from the sample, or check one."""


@limits_command.command("sample")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the sample to this file (refuses to overwrite) instead of standard output.",
)
def sample_command(out: Path | None) -> None:
    """Print a commented sample limits file to edit (default deny: it allows only what it lists)."""
    text = sample_limits_text()
    if out is None:
        click.echo(text, nl=False)
        return
    if out.exists():
        raise click.UsageError(f"{out} exists: choose another --out or remove it first")
    out.write_text(text, encoding="utf-8")
    click.echo(f'wrote {out}: edit its accounts and instruments, then set limits_file = "{out}"')


@limits_command.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def check_command(path: Path) -> None:
    """Load a limits file as a running process would; name the key of any error."""
    try:
        config = load_limits(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    Limits(config, source=str(path))  # the matchers compile as they do in a process
    if SAMPLE_ACCOUNT in config.accounts:  # valid, yet it lets no real account trade
        raise click.ClickException(
            f'{path}: accounts."{SAMPLE_ACCOUNT}": the sample\'s placeholder: put your account '
            "id there (CQG: the numeric id; the mock: MOCK-1), then check again"
        )
    accounts = ", ".join(config.accounts) or "none (no account may trade)"
    instruments = ", ".join(config.instruments) or "none (no instrument may trade)"
    click.echo(f"{path}: ok\n  accounts allowed: {accounts}\n  instruments allowed: {instruments}")
