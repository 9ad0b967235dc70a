"""A Secret never shows its value: not in repr, str, f-strings, logs, tracebacks or encodings."""

from __future__ import annotations

import copy
import json
import logging
import pickle
import traceback

import msgspec
import pytest
from ec_core.secrets import Secret

VALUE = "hunter2-very-secret"


def test_reveal_is_the_only_way_to_the_value() -> None:
    secret = Secret(VALUE)
    assert secret.reveal() == VALUE
    for shown in (
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret!s}",
        f"{secret:>30}",
        "%s %r" % (secret, secret),  # noqa: UP031 - old-style formatting is what logging uses
        "{}".format(secret),  # noqa: UP032
        repr({"password": secret}),
        repr([secret]),
    ):
        assert VALUE not in shown
        assert "***" in shown


def test_logging_shows_stars(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    secret = Secret(VALUE)
    log = logging.getLogger("ec.test")
    log.info("logon with %s / %r", secret, secret)
    log.info("settings %s", {"user": "jdoe", "password": secret})
    log.info(secret)
    assert VALUE not in caplog.text
    assert caplog.text.count("***") >= 4


def test_traceback_of_an_error_about_a_secret_does_not_show_it() -> None:
    secret = Secret(VALUE)
    try:
        raise ValueError(f"logon refused for password {secret}")
    except ValueError:
        text = traceback.format_exc()
    assert VALUE not in text


def test_encoding_a_secret_fails_rather_than_leaking_it() -> None:
    """Decision: encoders refuse a Secret; one that falls back to ``str`` gets ``***``."""
    table = {"user": "jdoe", "password": Secret(VALUE)}
    with pytest.raises(TypeError, match="Secret"):
        msgspec.json.encode(table)
    with pytest.raises(TypeError, match="Secret"):
        msgspec.msgpack.encode(table)
    with pytest.raises(TypeError, match="Secret"):
        msgspec.to_builtins(table)
    with pytest.raises(TypeError):
        json.dumps(table)
    assert VALUE not in msgspec.json.encode(table, enc_hook=str).decode()
    assert VALUE not in json.dumps(table, default=str)


def test_a_secret_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(Secret(VALUE))


def test_copies_are_the_same_secret() -> None:
    secret = Secret(VALUE)
    assert copy.copy(secret) is secret
    table = copy.deepcopy({"password": secret})
    assert table["password"] is secret


def test_equality_hash_and_truth() -> None:
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    assert Secret("a") != "a"  # never equal to its plain value
    assert hash(Secret("a")) == hash(Secret("a"))
    assert len({Secret("a"), Secret("a"), Secret("b")}) == 2
    assert not Secret("")
    assert Secret("x")


def test_only_strings_are_wrapped() -> None:
    with pytest.raises(TypeError, match="str"):
        Secret(1234)  # type: ignore[arg-type]
