"""Documentation that must not drift: the hook reference and the settings reference."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path
from types import ModuleType

import msgspec
from ec_core.plugins import hookspecs
from ec_core.settings import SECRET_KEYS, Settings
from file_modules import load_file_module

DOCS = Path(__file__).resolve().parents[3] / "docs"


def load_generator() -> ModuleType:
    return load_file_module("hooks_reference", DOCS / "gen" / "hooks_reference.py")


def declared_hooks() -> dict[str, str]:
    """Every ``@hookspec`` function of the spec module and its signature, read from the source."""
    tree = ast.parse(inspect.getsource(hookspecs))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and any(
            "hookspec" in ast.unparse(d) for d in node.decorator_list
        ):
            returns = ast.unparse(node.returns) if node.returns else "None"
            found[node.name] = f"def {node.name}({ast.unparse(node.args)}) -> {returns}"
    return found


def test_the_committed_hook_reference_is_what_the_generator_writes() -> None:
    generator = load_generator()
    committed = (DOCS / "reference" / "hooks.md").read_text(encoding="utf-8")
    assert committed == generator.render(), "run: uv run python docs/gen/hooks_reference.py"
    assert generator.main(["--check"]) == 0


def test_every_hook_spec_is_documented_with_its_exact_signature() -> None:
    page = (DOCS / "reference" / "hooks.md").read_text(encoding="utf-8")
    hooks = declared_hooks()
    assert len(hooks) >= 12
    markdown = load_generator().markdown
    for name, signature in hooks.items():
        assert f"### `{name}`" in page, name
        assert f"```py\n{signature}\n```" in page, signature
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert doc, f"hook {name} has no docstring"
        section = page.split(f"### `{name}`", 1)[1].split("### `", 1)[0]
        assert markdown(doc) in section, name


def plugin_hooks() -> dict[str, object]:
    """Every hook the installed plugins declare (ec-mock's ``ec_mock_add_dialects``, ...)."""
    from ec_core.plugins import PluginHost

    return dict(PluginHost.load().plugin_hookspecs())


def test_every_documented_hook_exists() -> None:
    page = (DOCS / "reference" / "hooks.md").read_text(encoding="utf-8")
    documented = {line[5:-1] for line in page.splitlines() if line.startswith("### `")}
    assert documented == set(declared_hooks()) | set(plugin_hooks())


def test_every_hook_a_plugin_declares_is_documented_with_its_exact_signature() -> None:
    """A plugin's own hooks are API too: the drift test covers them as it covers core's."""
    page = (DOCS / "reference" / "hooks.md").read_text(encoding="utf-8")
    declared = plugin_hooks()
    assert "ec_mock_add_dialects" in declared
    generator = load_generator()
    for name, function in declared.items():
        assert callable(function)
        assert f"### `{name}`" in page, name
        section = page.split(f"### `{name}`", 1)[1].split("### `", 1)[0]
        assert f"```py\n{generator.signature(name, function)}\n```" in section, name
        assert f"Declared by `{function.__module__}`." in section, name
        doc = inspect.getdoc(function)
        assert doc, f"hook {name} has no docstring"
        assert generator.markdown(doc) in section, name


def test_firstresult_and_historic_options_are_shown() -> None:
    page = (DOCS / "reference" / "hooks.md").read_text(encoding="utf-8")
    for name in declared_hooks():
        options = getattr(hookspecs, name).ec_spec
        section = page.split(f"### `{name}`", 1)[1].split("### `", 1)[0]
        assert ("`firstresult`" in section) is bool(options.get("firstresult")), name
        assert ("`historic`" in section) is bool(options.get("historic")), name


def test_every_settings_field_and_secret_key_is_in_the_settings_reference() -> None:
    page = (DOCS / "reference" / "settings.md").read_text(encoding="utf-8")
    for field in msgspec.structs.fields(Settings):
        assert f"`{field.name}`" in page, field.name
    for key in SECRET_KEYS:
        assert f"`{key}`" in page, key
    assert "`allow_secrets_in_file`" in page
    assert "`EC_SETTINGS`" in page


SOURCES = DOCS.parent


def _table_keys(page: str, heading: str) -> set[str]:
    """The keys named in the first cell of each row of the table under ``heading``."""
    section = page.split(heading, 1)[1].split("\n## ", 1)[0]
    cells = re.findall(r"^\| ([^|]+) \|", section, flags=re.M)
    return {key for cell in cells for key in re.findall(r"`([a-z_]+)`", cell)}


def test_every_key_of_the_vendors_tables_is_in_their_settings_tables() -> None:
    """The ``[vendors.cqg]`` and ``[vendors.mock]`` keys each vendor's code accepts, each a
    row of its page's settings table (the CQG page listed 13 of its 23 keys, the mock's 12
    of its 17)."""
    from ec_cqg.client import config as cqg_config
    from ec_mock.vendor import config as mock_config

    cqg = (DOCS / "cqg" / "client.md").read_text(encoding="utf-8")
    assert set(cqg_config._KNOWN) <= _table_keys(cqg, "## Settings")
    mock = (DOCS / "mock" / "vendor.md").read_text(encoding="utf-8")
    fields = {f.name for f in msgspec.structs.fields(mock_config.MockSettings)}
    assert fields | set(mock_config._OBJECT_KEYS) <= _table_keys(mock, "## Settings")


def test_every_key_of_the_gateway_table_is_in_the_scale_out_guide() -> None:
    from ec_core.gateway.config import GatewayConfig

    page = (DOCS / "guides" / "scale-out.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"^([a-z_]+) = ", page, flags=re.M))
    shown |= set(re.findall(r"^\[gateway\.([a-z_]+)\.", page, flags=re.M))
    keys = {f.name for f in msgspec.structs.fields(GatewayConfig)} - {"settings"}
    assert keys <= shown, sorted(keys - shown)


def test_every_environment_variable_ec_reads_is_in_the_settings_reference() -> None:
    """Variables the code reads by name (not the examples a docstring's ``*_env`` names)."""
    read = set()
    for package in ("ec_core", "ec_mock", "ec_cqg"):
        for path in (SOURCES / package / "src").rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for match in re.finditer(r'(_env = )?"(EC_[A-Z_]+)"', text):
                if not match.group(1):
                    read.add(match.group(2))
    assert {"EC_SETTINGS", "EC_LIMITS_FILE", "EC_WORKER"} <= read
    page = (DOCS / "reference" / "settings.md").read_text(encoding="utf-8")
    table = page.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    assert sorted(v for v in read if f"`{v}`" not in table) == []


def load_inliner() -> ModuleType:
    return load_file_module("inline_examples", DOCS / "gen" / "inline_examples.py")


def test_the_tutorials_inline_their_example_files_verbatim() -> None:
    """Readable on a code host and in a checkout (no ``--8<--`` include lines), and
    identical to the files the tests run, so the pages cannot drift."""
    inliner = load_inliner()
    tutorials = DOCS / "tutorials"
    expected = {
        "write-a-vendor-plugin.md": [
            "example_plugin/pyproject.toml",
            "example_plugin/src/ec_echo/plugin.py",
            "example_plugin/src/ec_echo/factory.py",
            "example_plugin/src/ec_echo/session.py",
            "example_plugin/src/ec_echo/wire.py",
            "example_plugin/tests/test_conformance.py",
        ],
        "test-a-strategy-on-the-mock.md": ["strategy_tests/test_my_strategy.py"],
    }
    for name, paths in expected.items():
        page = (tutorials / name).read_text(encoding="utf-8")
        found = dict(inliner.blocks(page))
        assert sorted(found) == sorted(paths), name
        for path in paths:
            stale = f"{name}: stale copy of {path}: run uv run python docs/gen/inline_examples.py"
            assert found[path] == (tutorials / path).read_text(encoding="utf-8"), stale
    assert inliner.main(["--check"]) == 0
    for doc in DOCS.rglob("*.md"):
        lines = doc.read_text(encoding="utf-8").splitlines()
        assert not [line for line in lines if line.startswith("--8<--")], doc


def test_every_hook_spec_documents_each_argument_and_its_options() -> None:
    import inspect

    from ec_core.plugins import hookspecs

    for name, function in vars(hookspecs).items():
        options = getattr(function, "ec_spec", None)
        if not (name.startswith("ec_") and callable(function) and options is not None):
            continue
        doc = inspect.getdoc(function) or ""
        for arg in inspect.signature(function).parameters:
            assert f":param {arg}:" in doc, f"{name}: document argument {arg!r} with :param:"
        if options.get("firstresult"):
            assert "firstresult:" in doc, f"{name}: say what firstresult means for it"


def test_every_ec_command_is_in_the_quick_starts_table() -> None:
    # A new user learns the commands from this table: one left out is one never found.
    from ec_core.cli.main import build_cli
    from ec_core.plugins import PluginHost

    shown = {n for n, c in build_cli(PluginHost.load()).commands.items() if not c.hidden}
    text = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    listed = {
        line.split("`")[1].split()[1] for line in text.splitlines() if line.startswith("| `ec ")
    }
    assert sorted(shown - listed) == []
