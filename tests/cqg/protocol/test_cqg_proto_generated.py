"""The committed ``ec_cqg._proto`` is exactly what the generator produces from ``ec_cqg/proto``."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from cqg_proto_support import REPO_ROOT
from file_modules import load_file_module

GENERATOR = REPO_ROOT / "ec_cqg" / "tools" / "generate_proto.py"
COMMITTED = REPO_ROOT / "ec_cqg" / "src" / "ec_cqg" / "_proto"


def _load_generator() -> ModuleType:
    return load_file_module("ec_cqg_generate_proto", GENERATOR, register=True)


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_regenerated_code_is_identical_to_committed(tmp_path: Path) -> None:
    generator = _load_generator()
    out = tmp_path / "_proto"
    generator.generate(out)
    fresh, committed = _tree(out), _tree(COMMITTED)
    assert sorted(fresh) == sorted(committed), "file lists differ: run the generator"
    changed = [name for name in fresh if fresh[name] != committed[name]]
    assert not changed, f"regenerate with ec_cqg/tools/generate_proto.py; differs: {changed}"


def test_generated_imports_stay_inside_the_private_package() -> None:
    for path in COMMITTED.rglob("*_pb2.py*"):
        text = path.read_text(encoding="utf-8")
        for top_level in (
            "\nfrom WebAPI ",
            "\nfrom common ",
            "\nimport WebAPI.",
            "\nimport common.",
        ):
            assert top_level not in text, path


def test_every_proto_source_is_generated() -> None:
    sources = sorted((REPO_ROOT / "ec_cqg" / "proto").rglob("*.proto"))
    assert sources
    for source in sources:
        rel = source.relative_to(REPO_ROOT / "ec_cqg" / "proto").with_suffix("")
        assert (COMMITTED / rel.parent / f"{rel.name}_pb2.py").is_file(), rel
        assert (COMMITTED / rel.parent / f"{rel.name}_pb2.pyi").is_file(), rel
