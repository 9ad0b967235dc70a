"""``ec kill-switch``: show or switch the kill switch of a limits file.

The state lives next to the limits file (``limits.toml`` →
``limits.killswitch.json``); every running process that uses that limits file
picks a change up within its poll interval (100 ms by default).
"""

from __future__ import annotations

import getpass
from pathlib import Path

import click
import msgspec

from ec_core.errors import ConfigError
from ec_core.safety.kill_switch import KillSwitch, KillSwitchState, kill_switch_path
from ec_core.safety.limits import load_limits
from ec_core.settings import load_settings

__all__ = ["kill_switch_command"]


def _limits_path(limits: str | None, config: Path | None) -> Path:
    if limits:
        return Path(limits)
    try:
        configured = load_settings(config).limits_file
    except ConfigError as exc:
        raise click.UsageError(f"cannot read the settings: {exc}") from exc
    if not configured:
        raise click.UsageError(
            "no limits file: pass --limits PATH, set EC_LIMITS_FILE, or limits_file in the"
            " settings (--config FILE or $EC_SETTINGS)"
        )
    return Path(configured)


def _limits_error(limits_path: Path) -> str:
    """Why the limits file does not load now ('' if it does): running processes keep
    their last good limits, and their kill switch says so."""
    try:
        load_limits(limits_path)
    except ConfigError as exc:
        return str(exc)
    return ""


def _show(switch: KillSwitch, path: Path, limits_path: Path, as_json: bool) -> None:
    record = switch.record
    limits_error = _limits_error(limits_path)
    if as_json:
        data = msgspec.to_builtins(record)
        data["file"] = str(path)
        data["limits_file"] = str(limits_path)
        data["limits_error"] = limits_error
        click.echo(msgspec.json.encode(data).decode())
        return
    click.echo(f"kill switch: {record.state.value} ({record.state.meaning})")
    if record.reason or record.source:
        click.echo(f"reason: {record.reason or '-'} (set by {record.source or '-'})")
    click.echo(f"file: {path}")
    if limits_error:
        click.echo(
            f"limits file: DOES NOT LOAD: {limits_error} (running processes keep their last"
            " good limits)"
        )
    else:
        click.echo(f"limits file: {limits_path} (loads)")


@click.command("kill-switch", short_help="Show or switch the kill switch of a limits file.")
@click.argument(
    "action",
    type=click.Choice(["status", "halt", "reduce", "resume"], case_sensitive=False),
    default="status",
)
@click.option(
    "--limits",
    "limits",
    envvar="EC_LIMITS_FILE",
    type=click.Path(dir_okay=False),
    help="The limits file whose kill switch to use (default: limits_file of the settings).",
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Settings file whose limits_file to use, as `ec run --config` (default: $EC_SETTINGS).",
)
@click.option("--reason", default="", help="Why (kept in the state file and in denials).")
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
def kill_switch_command(
    action: str, limits: str | None, config: Path | None, reason: str, as_json: bool
) -> None:
    """Show the kill switch, or switch it: halt (only cancels and liquidate/go-flat),
    reduce (only position-reducing orders) or resume (ACTIVE)."""
    path = _limits_path(limits, config)
    switch = KillSwitch(kill_switch_path(path))
    target = {
        "halt": KillSwitchState.HALTED,
        "reduce": KillSwitchState.REDUCING,
        "resume": KillSwitchState.ACTIVE,
    }.get(action.lower())
    # A switch beside a limits file that is not there is read by no process: most likely a
    # misspelt path. A halt or reduce is still written (a stop is never refused), then said.
    missing = not path.exists()
    if missing and target not in (KillSwitchState.HALTED, KillSwitchState.REDUCING):
        raise click.ClickException(_missing(path))
    if target is not None:
        who = _user()
        switch.set(target, reason or f"{action.lower()} from the command line", source=f"cli:{who}")
    _show(switch, kill_switch_path(path), path, as_json)
    if missing:
        raise click.ClickException(_missing(path) + f" (the {action.lower()} was written anyway)")


def _missing(path: Path) -> str:
    return (
        f"{path}: limits file not found: a process reads the kill switch beside the limits file"
        " it loads; check the path (--limits, EC_LIMITS_FILE or limits_file)"
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"
