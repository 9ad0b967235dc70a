"""The tick readers' whole-column path reads exactly what the row-by-row path reads.

:meth:`TickParser.batch <ec_core.data.tick_parser.TickParser.batch>` converts a chunk of
rows column by column and gives up (``None``) on anything not plain; the rows are then
parsed one by one. For any file, the ticks, the error (message and row) and what the
lenient checks count must be those of a read that parses every row one by one.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from ec_core.data import TICK_FIELDS, read_ticks, tick_parser, ticks_arrow, ticks_csv
from ec_core.data.tick_checks import ColumnBatch, TickChecks, row_problem
from ec_core.errors import ConfigError
from ec_core.model import Instrument, Quote, Trade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CLE = Instrument(symbol="CLE", tick_size=Decimal("0.01"), multiplier=Decimal(1000))
ZN = Instrument(symbol="ZN", tick_size=Decimal("0.015625"), multiplier=Decimal(1000))
TABLE = {"CLE": CLE, "ZN": ZN}
T0 = 1_704_898_801_000_000_000

ODD = [
    "", " 5", "1_000", "-3", "0", "70.005", "x", "٣", "9223372036854775808", "1e2", "5\n",
    "sell", "Quote", "zn", "70.10",
]  # fmt: skip
PRICES = {"CLE": ["70.00", "70.01", "70.02", "69.99", "70.1"], "ZN": ["110.015625", "110"]}


@st.composite
def rows(draw: st.DrawFn) -> list[list[str]]:
    """Runs of plain quote or trade rows of one symbol, with odd cells among them,
    blank lines, short rows and times going back, in any mix."""
    out: list[list[str]] = []
    ts = T0
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        kind = draw(st.sampled_from(["quote", "quote", "trade"]))
        symbol = draw(st.sampled_from(["CLE", "CLE", "ZN"]))
        for _ in range(draw(st.integers(min_value=1, max_value=10))):
            shape = draw(st.sampled_from(["plain"] * 6 + ["odd", "blank", "short"]))
            ts += draw(st.sampled_from([0, 1, 1, 1, 1000, -5]))
            price = draw(st.sampled_from(PRICES[symbol]))
            other = draw(st.sampled_from(PRICES[symbol]))
            bid, ask = sorted((price, other), key=Decimal)
            size = str(draw(st.integers(min_value=1, max_value=3)))
            if shape == "blank":
                out.append([])
                continue
            if kind == "trade":
                side = draw(st.sampled_from(["BUY", "SELL", ""]))
                row = [str(ts), symbol, "trade", price, size, "", "", "", "", side]
            else:
                row = [str(ts), symbol, "quote", "", "", bid, size, ask, size, ""]
            if shape == "odd":
                row[draw(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))] = draw(
                    st.sampled_from(ODD)
                )
            if shape == "short":
                row = row[: draw(st.integers(min_value=3, max_value=9))]
            out.append(row)
    return out


def write_csv(path: Path, body: list[list[str]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(TICK_FIELDS)
    for row in body:
        if row:
            writer.writerow(row)
        else:
            text.write("\r\n")
    path.write_text(text.getvalue(), newline="")


def write_parquet(path: Path, body: list[list[str]]) -> None:
    """The rows as a Parquet file of text columns (a blank line is no row, a short one
    is padded with empty cells); ``ts_ns`` as integers when every cell is digits."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    full = [[*row, *[""] * (len(TICK_FIELDS) - len(row))] for row in body if row]
    columns: dict[str, object] = {name: [r[i] for r in full] for i, name in enumerate(TICK_FIELDS)}
    stamps = columns["ts_ns"]
    assert isinstance(stamps, list)
    if all(c.isdigit() and c.isascii() and int(c) < 2**63 for c in stamps):
        columns["ts_ns"] = pa.array([int(c) for c in stamps], pa.int64())
    pq.write_table(pa.table(columns), str(path))


def outcome(path: Path, *, lenient: bool) -> tuple[object, ...]:
    checks = TickChecks(lenient=lenient)
    got: list[Quote | Trade] = []
    try:
        got.extend(read_ticks(path, TABLE, checks=checks))
    except ConfigError as exc:
        return tuple(got), str(exc), checks.summary()
    return tuple(got), None, checks.summary()


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=rows(), lenient=st.booleans(), suffix=st.sampled_from([".csv", ".parquet"]))
def test_whole_columns_read_what_rows_read(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    body: list[list[str]],
    lenient: bool,
    suffix: str,
) -> None:
    path = tmp_path / f"t{suffix}"
    if suffix == ".csv":
        write_csv(path, body)
    else:
        write_parquet(path, body)
    with monkeypatch.context() as patch:
        patch.setattr(ticks_csv, "_CHUNK", 4)  # many chunks, each converted whole if it can
        patch.setattr(ticks_arrow, "_CHUNK", 4)
        patch.setattr(ticks_csv, "_ARROW_FROM", 0)  # pyarrow's CSV reader, when installed
        fast = outcome(path, lenient=lenient)
    with monkeypatch.context() as patch:
        patch.setattr(tick_parser.TickParser, "batch", lambda self, columns, keys: None)
        patch.setattr(ticks_csv, "_one_row_a_line", lambda path: False)  # csv.reader only
        slow = outcome(path, lenient=lenient)
    assert fast == slow


@pytest.mark.parametrize("arrow", [True, False], ids=["pyarrow.csv", "csv.reader"])
def test_a_plain_file_is_read_whole_columns_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arrow: bool
) -> None:
    if arrow:
        pytest.importorskip("pyarrow")
    path = tmp_path / "t.csv"
    body = [
        [str(T0 + i), "CLE", "quote", "", "", "70.00", "1", "70.01", "2", ""] for i in range(600)
    ]
    write_csv(path, body)
    monkeypatch.setattr(ticks_csv, "_CHUNK", 100)
    monkeypatch.setattr(ticks_arrow, "_CHUNK", 100)
    monkeypatch.setattr(ticks_csv, "_ARROW_FROM", 0)
    if not arrow:
        monkeypatch.setattr(ticks_csv, "_one_row_a_line", lambda path: False)
    batches = []
    for batch in ticks_csv._tick_batches(path, TABLE):
        batches.append(batch if isinstance(batch, ColumnBatch) else list(batch))
    assert [isinstance(b, ColumnBatch) for b in batches] == [False] + [True] * 5
    whole = [b for b in batches if isinstance(b, ColumnBatch)]
    assert [t.ts_ns for b in whole for t in b.ticks] == [T0 + i for i in range(100, 600)]
    assert [b.keys for b in whole] == [range(n + 2, n + 102) for n in range(100, 600, 100)]


def test_csv_reader_takes_over_where_pyarrow_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.csv"
    body = [
        [str(T0 + i), "CLE", "quote", "", "", "70.00", "1", "70.01", "2", ""] for i in range(300)
    ]
    body[250] = body[250][:7]  # a short row: pyarrow stops, csv.reader pads it
    write_csv(path, body)
    monkeypatch.setattr(ticks_arrow, "_CHUNK", 100)
    monkeypatch.setattr(ticks_csv, "_ARROW_FROM", 0)
    made: list[ticks_arrow.ArrowCsv] = []
    real = ticks_arrow.ArrowCsv

    class Spy:
        available = staticmethod(real.available)

        def __new__(cls, *args: object) -> ticks_arrow.ArrowCsv:  # type: ignore[misc]
            made.append(real(*args))  # type: ignore[arg-type]
            return made[-1]

    monkeypatch.setattr(ticks_csv, "ArrowCsv", Spy)
    with pytest.raises(ConfigError, match=r"t\.csv:252\.ask: a quote needs a bid and an ask"):
        list(read_ticks(path, TABLE, checks=TickChecks()))
    assert made[0].given == 0  # pyarrow reads a block whole: its first one had the short row
    assert not made[0].complete


@given(
    cells=st.lists(
        st.lists(
            st.sampled_from(["a", "1", "x\ny", "p\r\nq", "r\rs", "\n", ""]), min_size=1, max_size=3
        ),
        min_size=1,
        max_size=12,
    )
)
def test_line_numbers_count_the_breaks_quoted_cells_keep(cells: list[list[str]]) -> None:
    text = io.StringIO()
    csv.writer(text).writerows(cells)
    reader = csv.reader(io.StringIO(text.getvalue(), newline=""))
    expected = []
    read = []
    for row in reader:
        read.append(row)
        expected.append(reader.line_num)
    assert ticks_csv._line_numbers(0, read) == expected


@given(
    ticks=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=5),
            st.integers(min_value=-2, max_value=2),
            st.integers(min_value=-1, max_value=2),
            st.integers(min_value=-2, max_value=2),
            st.integers(min_value=-1, max_value=2),
        ),
        min_size=1,
        max_size=8,
    ),
    after=st.integers(min_value=-1, max_value=3),
)
def test_a_batch_passes_exactly_when_every_row_does(
    ticks: list[tuple[int, int, int, int, int]], after: int
) -> None:
    quotes = [
        Quote(symbol="CLE", ts_ns=t, bid=b, bid_size=bs, ask=a, ask_size=az)
        for t, b, bs, a, az in ticks
    ]
    batch = ColumnBatch(
        keys=range(len(quotes)),
        ticks=quotes,
        inst=CLE,
        ts=[q.ts_ns for q in quotes],
        sizes=([q.bid_size for q in quotes], [q.ask_size for q in quotes]),
        prices=([q.bid for q in quotes], [q.ask for q in quotes]),  # type: ignore[misc]
    )
    times = [after, *batch.ts]
    rows_pass = all(row_problem(q, CLE) is None for q in quotes) and times == sorted(times)
    assert batch.passes(after) == rows_pass
    trades = [Trade(symbol="CLE", ts_ns=t, price=b, size=bs) for t, b, bs, _, _ in ticks]
    batch = ColumnBatch(
        keys=range(len(trades)),
        ticks=trades,
        inst=CLE,
        ts=batch.ts,
        sizes=([t.size for t in trades],),
    )
    rows_pass = all(row_problem(t, CLE) is None for t in trades) and times == sorted(times)
    assert batch.passes(after) == rows_pass


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("kind", ["quote", "trade"])
def test_an_odd_cell_inside_a_plain_chunk_reads_as_rows_read_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, suffix: str
) -> None:
    # Every odd cell in every column of the middle chunk of a plain file.
    if kind == "quote":
        plain = [
            [str(T0 + i), "CLE", "quote", "", "", "70.00", "1", "70.01", "2", ""] for i in range(12)
        ]
    else:
        plain = [
            [str(T0 + i), "CLE", "trade", "70.00", "1", "", "", "", "", "SELL"] for i in range(12)
        ]
    for column in range(len(TICK_FIELDS)):
        for cell in ODD:
            body = [list(row) for row in plain]
            body[6][column] = cell
            path = tmp_path / f"t{column}-{ODD.index(cell)}{suffix}"
            (write_csv if suffix == ".csv" else write_parquet)(path, body)
            with monkeypatch.context() as patch:
                patch.setattr(ticks_csv, "_CHUNK", 4)
                patch.setattr(ticks_arrow, "_CHUNK", 4)
                patch.setattr(ticks_csv, "_ARROW_FROM", 0)
                fast = outcome(path, lenient=True), outcome(path, lenient=False)
            with monkeypatch.context() as patch:
                patch.setattr(tick_parser.TickParser, "batch", lambda self, columns, keys: None)
                patch.setattr(ticks_csv, "_one_row_a_line", lambda path: False)
                slow = outcome(path, lenient=True), outcome(path, lenient=False)
            assert fast == slow, (column, cell)


@pytest.mark.parametrize(
    ("text", "one_row_a_line"),
    [
        (b"a,b\n1,2\n3,4\n", True),
        (b"a,b\r\n1,2\r\n3,4", True),
        (b'a,b\n1,"2"\n', False),  # a quote: csv may join lines or commas
        (b"a,b\n1,2\n\n3,4\n", False),  # a blank line is no row for csv
        (b"a,b\r\n1,2\r\n\r\n", False),
        (b"a,b\r1,2\r", False),  # a lone carriage return ends a line for csv
        (b"a,b\n1,\x002\n", False),
    ],
)
def test_a_file_goes_to_pyarrow_only_when_each_line_is_one_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: bytes, one_row_a_line: bool
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(text)
    assert ticks_csv._one_row_a_line(path) is one_row_a_line
    # the same across the scan's blocks: a CR LF pair split between two reads
    real_open = Path.open

    def small_reads(self: Path, *args: object, **kwargs: object) -> object:
        handle = real_open(self, *args, **kwargs)  # type: ignore[call-overload]
        whole = handle.read
        handle.read = lambda size=-1: whole(3 if size and size > 0 else size)
        return handle

    monkeypatch.setattr(Path, "open", small_reads)
    assert ticks_csv._one_row_a_line(path) is one_row_a_line
