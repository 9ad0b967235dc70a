"""ServeOptions refuses what would serve credentials or orders to anyone who asks."""

from __future__ import annotations

from pathlib import Path

import pytest
from ec_core.errors import ConfigError
from ec_core.secrets import Secret
from ec_mock.dialects import ServeOptions


def test_a_user_needs_a_non_empty_password() -> None:
    with pytest.raises(ConfigError, match="needs a non-empty password") as info:
        ServeOptions(user="alice")
    assert info.value.path == "password"
    with pytest.raises(ConfigError, match="needs a non-empty password"):
        ServeOptions(user="alice", password=Secret(""))


def test_an_empty_password_never_matches() -> None:
    assert not ServeOptions().accepts("anyone", "")
    options = ServeOptions(user="alice", password=Secret("pw"))
    assert not options.accepts("alice", "")
    assert options.accepts("alice", "pw")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "example.com"])
def test_a_host_beyond_loopback_needs_tls_or_an_explicit_insecure_public(host: str) -> None:
    with pytest.raises(ConfigError, match="beyond loopback") as info:
        ServeOptions(host=host)
    assert info.value.path == "host"
    with_tls = ServeOptions(host=host, certfile=Path("c.pem"), keyfile=Path("k.pem"))
    assert with_tls.tls
    assert not with_tls.public_in_clear
    in_clear = ServeOptions(host=host, insecure_public=True)
    assert in_clear.public_in_clear


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_serve_plain_text_without_a_word(host: str) -> None:
    assert not ServeOptions(host=host).public_in_clear


def test_certfile_and_keyfile_go_together() -> None:
    with pytest.raises(ConfigError, match="go together"):
        ServeOptions(certfile=Path("c.pem"))


def test_credentials_added_later_keep_the_rest() -> None:
    base = ServeOptions(host="0.0.0.0", insecure_public=True, seed=4)
    options = base.with_credentials("gen", Secret("pw"))
    assert (options.host, options.seed, options.insecure_public) == ("0.0.0.0", 4, True)
    assert options.accepts("gen", "pw")
    assert "pw" not in repr(options)
