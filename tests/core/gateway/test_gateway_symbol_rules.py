"""The symbol rules of ``ec_core.gateway.symbols`` without Redis: what a symbol may look
like, and that a worker's count never passes its cap whatever it asks."""

from __future__ import annotations

import pytest
from ec_core.errors import ConfigError
from ec_core.gateway.config import parse_gateway_config
from ec_core.gateway.symbols import MAX_SYMBOL_LENGTH, SymbolQuota, is_symbol
from hypothesis import given
from hypothesis import strategies as st

_POOL = st.sampled_from(["EP", "CLE", "ENQ", "GCE", "TYA", "EU6", "NOPE", "", " EP", "E\x00P"])


@given(st.text(max_size=MAX_SYMBOL_LENGTH + 5))
def test_a_symbol_is_short_printable_unpadded_text(text: str) -> None:
    expected = 0 < len(text) <= MAX_SYMBOL_LENGTH and text.isprintable() and text == text.strip()
    assert is_symbol(text) is expected


@given(
    st.lists(st.tuples(st.sampled_from(["w1", "w2"]), st.lists(_POOL, max_size=5)), max_size=30),
    st.integers(1, 4),
    st.integers(1, 6),
)
def test_a_worker_s_count_never_passes_its_cap_and_a_refusal_counts_nothing(
    requests: list[tuple[str, list[str]]], per_request: int, per_worker: int
) -> None:
    quota = SymbolQuota(per_request=per_request, per_worker=per_worker)
    named: dict[str, set[str]] = {"w1": set(), "w2": set()}
    for worker, symbols in requests:
        refused = quota.refusal(worker, symbols)
        if refused is None:
            assert len(symbols) <= per_request
            assert all(is_symbol(s) for s in symbols)
            named[worker].update(symbols)
        else:
            assert refused.code in {"TOO_MANY_SYMBOLS", "SYMBOL_MALFORMED", "SYMBOL_LIMIT_REACHED"}
        assert quota.named(worker) == len(named[worker]) <= per_worker


def test_the_caps_default_and_are_settings() -> None:
    default = parse_gateway_config({"gateway": {"accounts": ["A"]}})
    assert (default.max_symbols_per_request, default.max_symbols_per_worker) == (100, 1000)
    table = {"accounts": ["A"], "max_symbols_per_request": 5, "max_symbols_per_worker": 9}
    config = parse_gateway_config({"gateway": table})
    assert (config.max_symbols_per_request, config.max_symbols_per_worker) == (5, 9)
    with pytest.raises(ConfigError, match="max_symbols_per_request"):
        parse_gateway_config({"gateway": {"accounts": ["A"], "max_symbols_per_request": 0}})


def test_a_malformed_symbol_in_the_config_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="must be non-empty") as caught:
        parse_gateway_config({"gateway": {"accounts": ["A"], "symbols": ["EP", "CLE "]}})
    assert caught.value.path == "gateway.symbols"
    assert "'CLE '" in str(caught.value)
