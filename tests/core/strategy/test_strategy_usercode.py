"""Which frames are the user's: ec's own packages (core and every vendor plugin) never are,
installed from wheels or, as in this checkout, from the workspace's sources."""

from __future__ import annotations

from pathlib import Path

import ec_core.strategy.engine
import ec_cqg.client.session
import ec_cqg.plugin
import ec_mock.vendor.session
import pytest
from ec_core.strategy.usercode import is_user_file, user_frame


@pytest.mark.parametrize(
    "module",
    [ec_core.strategy.engine, ec_cqg.plugin, ec_cqg.client.session, ec_mock.vendor.session],
)
def test_ec_and_its_vendor_packages_are_not_user_code(module: object) -> None:
    filename = getattr(module, "__file__", None)
    assert filename is not None
    assert not is_user_file(filename)


def test_a_strategy_file_and_a_module_beside_it_are_user_code(tmp_path: Path) -> None:
    assert is_user_file(str(tmp_path / "strategy.py"))
    assert is_user_file(str(tmp_path / "ec_cqg_like" / "helpers.py"))
    assert not is_user_file("<string>")


def test_a_vendor_frame_below_the_users_is_not_named(tmp_path: Path) -> None:
    """The user's deepest frame is named, not the vendor code it called into."""
    user = tmp_path / "strategy.py"
    user.write_text("def call(f):\n    return f()\n", encoding="utf-8")
    namespace: dict[str, object] = {}
    exec(compile(user.read_text(encoding="utf-8"), str(user), "exec"), namespace)

    def vendor_fails() -> None:
        raise ValueError("from the vendor")

    vendor_fails.__code__ = vendor_fails.__code__.replace(co_filename=ec_cqg.plugin.__file__ or "")
    call = namespace["call"]
    assert callable(call)
    with pytest.raises(ValueError, match="from the vendor") as caught:
        call(vendor_fails)
    assert user_frame(caught.value) == (str(user), 2)
