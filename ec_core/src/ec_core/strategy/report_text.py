"""The replay report as text: what ``ec replay`` prints and writes to ``report.txt``
(totals, statistics, every fill and round trip, each signal's path, what went wrong)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ec_core.data.tick_checks import TickCheckSummary
    from ec_core.strategy.analytics import TradeStats
    from ec_core.strategy.engine import ErrorReport
    from ec_core.strategy.report import ReplayReport

__all__ = ["render_text"]


def render_text(report: ReplayReport) -> str:
    """A plain-text summary: totals, trades, then each signal's path."""
    seconds = (report.last_ns - report.first_ns) / 1e9
    lines = [
        f"ticks {report.ticks} over {seconds:.1f}s of market time, replayed in {report.wall_s}s",
        f"signals {report.signals}, {report.order_outcomes.describe()}, fills {len(report.fills)}",
        f"P&L: realized {report.realized_pnl:.2f}, unrealized {report.unrealized_pnl:.2f},"
        f" net {report.net_pnl:.2f}; max drawdown {report.max_drawdown:.2f}",
        "positions: " + (", ".join(f"{s} {q:+d}" for s, q in report.positions.items()) or "-"),
        *_stats_lines(report.stats),
        "",
        "fills:",
    ]
    for t in report.fills:
        offset = (t.ts_ns - report.first_ns) / 1e9
        lines.append(
            f"  {offset:>10.3f}s {t.symbol:<8} {t.side:<4} {t.qty:>4} @ {t.price}"
            f"  realized {t.realized:.2f}  ({t.cl_order_id})"
        )
    if not report.fills:
        lines.append("  none")
    lines += ["", "round trips:"]
    lines += [
        f"  {t.entry_time} -> {t.exit_time} {t.symbol:<8} {t.side:<4} {t.qty:>4}"
        f" {t.entry_price} -> {t.exit_price}  {t.pnl_ticks:+d} ticks {t.pnl}"
        f"  held {t.holding_s}s  MAE {t.mae_ticks} MFE {t.mfe_ticks}"
        for t in report.trades
    ] or ["  none"]
    lines += ["", "signals:"]
    for p in report.signal_paths:
        lines.append(
            f"  {p.signal_id} {p.name} [{p.symbol}] {p.state}: {' -> '.join(p.path)}"
            + (f"  ({p.reason})" if p.reason else "")
        )
    if not report.signal_paths:
        lines.append("  none")
    if report.held:
        lines += ["", "held, never sent (activation window not reached by the data):"]
        lines += [
            f"  {h.signal_id} {h.node} {h.cl_order_id} {h.status}: {h.reason}" for h in report.held
        ]
    if report.warnings:
        lines += ["", "warnings:"]
        lines += [f"  {w}" for w in report.warnings]
    lines += _tick_check_lines(report.tick_checks)
    if report.errors:
        lines += ["", "errors:"]
        lines += [_error_line(e) for e in report.errors]
    if report.disabled:
        lines += ["", "disabled strategies:"]
        lines += [f"  {name}: {why}" for name, why in report.disabled.items()]
    return "\n".join(lines) + "\n"


def _stats_lines(stats: TradeStats | None) -> list[str]:
    if stats is None or not stats.trades:
        return []
    factor = "-" if stats.profit_factor is None else f"{stats.profit_factor:.2f}"
    sharpe = "-" if stats.sharpe is None else f"{stats.sharpe:.2f}"
    sortino = "-" if stats.sortino is None else f"{stats.sortino:.2f}"
    return [
        f"round trips {stats.trades}: win rate {stats.win_rate:.0%}, avg win {stats.avg_win},"
        f" avg loss {stats.avg_loss}, profit factor {factor}, expectancy {stats.expectancy}",
        f"Sharpe {sharpe}, Sortino {sortino} (daily, {stats.days} days); exposure"
        f" {stats.exposure:.0%}; drawdown {stats.max_drawdown} over {stats.max_drawdown_s}s;"
        f" commissions {stats.commissions}, slippage {stats.slippage}",
    ]


def _tick_check_lines(checks: TickCheckSummary | None) -> list[str]:
    if checks is None:
        return []
    lines = []
    if checks.reordered:
        lines += ["", f"tick file: {checks.reordered} rows out of time order were sorted (--sort)"]
    if checks.skipped:
        counts = ", ".join(f"{code} {n}" for code, n in checks.skipped.items())
        lines += [
            "",
            f"tick file: {sum(checks.skipped.values())} rows skipped (--lenient): {counts}",
        ]
        lines += [f"  {example}" for example in checks.examples]
    return lines


def _error_line(e: ErrorReport) -> str:
    at = f" at {e.at}" if e.at else ""
    times = f" ({e.count} times)" if e.count > 1 else ""
    return f"  {e.where} {e.strategy} {e.signal_id or '-'}{at}: {e.error}{times}"
