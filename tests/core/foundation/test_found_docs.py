"""Documentation that must not drift: the hook reference and the settings reference."""

from __future__ import annotations

import ast
import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

import msgspec
from ec_core.plugins import hookspecs
from ec_core.settings import SECRET_KEYS, Settings

DOCS = Path(__file__).resolve().parents[3] / "docs"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "hooks_reference", DOCS / "gen" / "hooks_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
        assert f"```python\n{signature}\n```" in page, signature
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert doc, f"hook {name} has no docstring"
        section = page.split(f"### `{name}`", 1)[1].split("### `", 1)[0]
        assert markdown(doc) in section, name


def test_every_documented_hook_exists() -> None:
    page = (DOCS / "reference" / "hooks.md").read_text(encoding="utf-8")
    documented = {line[5:-1] for line in page.splitlines() if line.startswith("### `")}
    assert documented == set(declared_hooks())


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


def test_the_tutorial_shows_the_example_plugin_files() -> None:
    page = (DOCS / "tutorials" / "write-a-vendor-plugin.md").read_text(encoding="utf-8")
    example = DOCS / "tutorials" / "example_plugin"
    for path in (
        "pyproject.toml",
        "src/ec_echo/plugin.py",
        "src/ec_echo/factory.py",
        "src/ec_echo/session.py",
    ):
        assert (example / path).is_file()
        assert f'--8<-- "{path}"' in page, path  # included verbatim, so it cannot drift
