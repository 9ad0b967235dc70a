"""Render the replay report's two pictures (``report.html``, ``chart.svg``) as PNGs for the docs.

A seeded example replay: a swing strategy on a two-hour tape of two instruments (CLE and
the 10-year note, TYA: a price pane each), run through
``ec replay`` as a user runs it, then each report opened in headless Chromium and
captured (the HTML page at 1200x1400, the SVG at its own size). Run by hand after
the report's look changed (tests and CI do not)::

    uv run python docs/gen/report_screenshots.py            # needs ec-core[html] and chromium
    uv run python docs/gen/report_screenshots.py --chromium /usr/bin/chromium-browser

It writes ``docs/strategy/img/report-html.png`` and ``report-svg.png`` and fails if a
picture is over 200 KB (the docs stay light).
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from ec_core.data import write_ticks
from ec_core.model import Instrument, Quote, Side, Trade

IMG = Path(__file__).resolve().parent.parent / "strategy" / "img"
LIMIT = 200_000
SEC = 1_000_000_000
T0 = 1_704_898_800 * SEC + SEC  # a Wednesday 09:00:01 in Chicago: CLE trades
CLE = Instrument(symbol="CLE", tick_size=Decimal("0.01"), multiplier=Decimal(1000))
TYA = Instrument(symbol="TYA", tick_size=Decimal("0.015625"), multiplier=Decimal(1000))

STRATEGY = """
from ec_core.model import NewOrder, OrderType, Side
from ec_core.strategy import ActionNode, ActionTree, OpSignal, OpStrategy


class Swing(OpStrategy):
    '''Buy, then sell, then buy... at market; out once the mid moved 6 ticks either way.'''

    def __init__(self, account):
        super().__init__(symbols=["CLE", "TYA"], max_signals=2, cooldown_ns=120_000_000_000)
        self.account = account
        self.count = 0

    def generate(self, ctx, symbol):
        tb = ctx.feeds[symbol].tick_buffer
        start = tb.close_ticks
        self.count += 1
        side = Side.BUY if self.count % 2 else Side.SELL
        back = Side.SELL if side is Side.BUY else Side.BUY
        order = lambda s: NewOrder(account_id=self.account, symbol=symbol, side=s, qty=1,
                                   order_type=OrderType.MKT)
        moved = lambda ctx: abs(tb.close_ticks - start) >= 6
        root = ActionNode("In", [order(side)],
                          transitions={"out": (moved, ActionNode("Out", [order(back)]))})
        return OpSignal(ActionTree(root), symbol=symbol)


def strategy(info):
    return Swing(info.account_id)
"""


def tape(seed: int = 11, minutes: int = 120) -> list[Quote | Trade]:
    """Seeded random walks: a CLE quote every 2 s and a TYA quote a second later, a trade
    now and then."""
    rng = random.Random(seed)
    ticks: list[Quote | Trade] = []
    mids = {"CLE": 7200, "TYA": 7040}
    for i in range(minutes * 30):
        for offset, symbol in enumerate(mids):
            ts = T0 + i * 2 * SEC + offset * SEC
            drift = (1 if i % 900 < 450 else -1) * (rng.random() < 0.05)
            mid = mids[symbol] = mids[symbol] + rng.choice((-1, 0, 0, 1)) + drift
            ticks.append(Quote(symbol=symbol, ts_ns=ts, bid=mid, bid_size=rng.randint(1, 30),
                               ask=mid + 1, ask_size=rng.randint(1, 30)))  # fmt: skip
            if rng.random() < 0.3:
                side = rng.choice((Side.BUY, Side.SELL))
                price = mid + 1 if side is Side.BUY else mid
                ticks.append(Trade(symbol=symbol, ts_ns=ts + 1, price=price,
                                   size=rng.randint(1, 5), aggressor=side))  # fmt: skip
    return ticks


def svg_size(path: Path) -> tuple[int, int]:
    """The SVG's own width and height, so its picture has no empty margin."""
    head = path.read_text(encoding="utf-8")[:400]
    width = re.search(r'width="(\d+)', head)
    height = re.search(r'height="(\d+)', head)
    if width is None or height is None:
        return 1200, 900
    return int(width[1]), int(height[1])


def shoot(chromium: str, page: Path, png: Path, window: tuple[int, int]) -> None:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
             f"--user-data-dir={profile}", "--hide-scrollbars", "--virtual-time-budget=5000",
             f"--screenshot={png}", f"--window-size={window[0]},{window[1]}", page.as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    size = png.stat().st_size
    if size > LIMIT:
        raise SystemExit(f"{png.name} is {size} bytes, over {LIMIT}: shrink the window")
    print(f"{png} ({size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description="Render the replay reports as PNGs for the docs.")
    parser.add_argument("--chromium", default="chromium", help="The Chromium executable.")
    parser.add_argument("--out", type=Path, default=IMG, help="Where the PNGs go.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        run = Path(work)
        (run / "swing.py").write_text(STRATEGY, encoding="utf-8")
        write_ticks(run / "ticks.csv", tape(), [CLE, TYA])
        subprocess.run(
            [sys.executable, "-c", "from ec_core.cli.main import main; main()", "replay",
             "swing.py:strategy", "--ticks", "ticks.csv", "--seed", "1", "--out", "out"],
            cwd=run, check=True, timeout=300,
        )  # fmt: skip
        if not (run / "out" / "report.html").exists():
            raise SystemExit("no report.html: install the extra, pip install 'ec-core[html]'")
        args.out.mkdir(parents=True, exist_ok=True)
        out = run / "out"
        shoot(args.chromium, out / "report.html", args.out / "report-html.png", (1200, 1700))
        shoot(
            args.chromium,
            out / "chart.svg",
            args.out / "report-svg.png",
            svg_size(out / "chart.svg"),
        )


if __name__ == "__main__":
    main()
