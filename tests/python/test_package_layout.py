"""The handler's sub-packages keep their rule: `core` is pure (no AWS), `aws` never reaches up into the
orchestration. Read from the sources with `ast`, so an import under `if TYPE_CHECKING:` counts too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "lambda_src" / "cf_invalidator"
AWS_LIBRARIES = {"boto3", "botocore"}


def imported(path: Path, package_dir: Path = PACKAGE) -> set[str]:
    """Every module `path` (in `package_dir`) imports, as an absolute dotted name (relative imports
    resolved)."""
    module = ".".join(path.relative_to(package_dir.parent).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            name = ".".join([*base, node.module] if node.module else base)
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)  # `from . import x` names modules
    return found


def forbidden(path: Path, packages: set[str]) -> list[str]:
    """The imports of `path` that fall in `packages` (a package or anything below it)."""
    return sorted(
        name for name in imported(path) if any(name == p or name.startswith(p + ".") for p in packages)
    )


def modules(sub_package: str) -> list[Path]:
    return sorted((PACKAGE / sub_package).glob("*.py"))


def test_each_sub_package_holds_modules() -> None:
    assert all(len(modules(sub)) > 1 for sub in ("core", "aws", "pipeline"))


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: p.stem)
def test_a_core_module_imports_neither_aws_nor_the_orchestration(path: Path) -> None:
    banned = AWS_LIBRARIES | {f"cf_invalidator.{sub}" for sub in ("aws", "pipeline", "handler")}
    assert forbidden(path, banned) == []


@pytest.mark.parametrize("path", modules("aws"), ids=lambda p: p.stem)
def test_an_aws_module_does_not_import_the_orchestration(path: Path) -> None:
    assert forbidden(path, {"cf_invalidator.pipeline", "cf_invalidator.handler"}) == []


def test_relative_imports_resolve_to_absolute_names(tmp_path: Path) -> None:
    """The checker itself: `..aws.x`, `.x` and `from .. import aws` are read as the modules they name."""
    root = tmp_path / "cf_invalidator"
    (root / "core").mkdir(parents=True)
    probe = root / "core" / "probe.py"
    probe.write_text("from ..aws.tree import Tree\nfrom .plan import Request\nfrom .. import pipeline\n")
    names = imported(probe, root)
    assert {"cf_invalidator.aws.tree", "cf_invalidator.core.plan", "cf_invalidator.pipeline"} <= names
