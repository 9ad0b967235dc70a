"""``ec gateway --config FILE``: own the vendor session and the executor; serve workers
over Redis Streams until Ctrl-C or SIGTERM (see ``docs/guides/scale-out.md``).

The first line on stdout (``ec gateway: serving ...``) says it answers intents, so a
supervisor or a test can wait for it; on stop a summary line gives its counters.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import click

from ec_core.cli.failure import fail
from ec_core.cli.signals import StopOnSignal
from ec_core.errors import EcError
from ec_core.plugins import PluginHost

if TYPE_CHECKING:
    from ec_core.gateway.config import GatewayConfig

__all__ = ["gateway_command"]


@click.command("gateway", short_help="Serve a vendor session to workers over Redis Streams.")
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Settings file with a [gateway] table (url, accounts, workers, symbols...).",
)
@click.pass_obj
def gateway_command(host: PluginHost, config_path: Path) -> None:
    """Serve the configured vendor session to workers over Redis Streams.

    Strategy processes reach it with `ec run STRATEGY --gateway redis://...`, scripts
    with ec_core.connect("redis://..."). Redis' ACL user and password come from
    EC_REDIS_USER / EC_REDIS_PASSWORD.
    """
    try:
        from ec_core.gateway import require_redis
        from ec_core.gateway.config import load_gateway_config

        require_redis("ec gateway")

        config = load_gateway_config(config_path)
        summary = anyio.run(_serve, host, config)
    except EcError as exc:
        raise fail(exc) from exc
    click.echo(summary)


async def _serve(host: PluginHost, config: GatewayConfig) -> str:
    from ec_core.gateway.process import open_gateway
    from ec_core.gateway.redis_io import redacted

    stop = StopOnSignal("stopped", command="ec gateway")
    async with open_gateway(config, host) as gateway, anyio.create_task_group() as tg:
        await tg.start(stop.watch, tg.cancel_scope)
        await tg.start(gateway.serve)
        click.echo(
            f"ec gateway: serving {', '.join(config.accounts)} on {config.settings.vendor}"
            f" through {redacted(config.url)} (namespace {config.namespace},"
            f" consumer {gateway.consumer}); Ctrl-C to stop",
        )
    counters = gateway.counters
    waits = gateway.intent_waits.status()
    return (
        f"ec gateway: {stop.reason}; {counters['intents']} intents, {counters['answers']} answers"
        f" ({counters['replayed']} from the journal), {counters['reclaimed']} reclaimed,"
        f" {counters['malformed']} malformed, {counters['refused']} refused,"
        f" {counters['request_failures']} failed, {sum(gateway.outbox.dropped.values())} market"
        f" entries dropped; intents waited {waits['intent_wait_ms_mean']} ms on average,"
        f" {waits['intent_wait_ms_max']} ms at most"
    )
