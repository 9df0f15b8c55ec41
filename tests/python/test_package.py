"""GIVEN the handler sources WHEN packaged THEN the committed zip is exactly what the build script makes."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import build_lambda_zip  # noqa: E402

COMMITTED = ROOT / "dist" / "cf_invalidator.zip"


def test_committed_zip_is_identical_to_a_fresh_build(tmp_path: Path) -> None:
    fresh = build_lambda_zip.build(tmp_path / "fresh.zip")
    assert fresh.read_bytes() == COMMITTED.read_bytes(), "dist/cf_invalidator.zip is stale: run `make zip`"


def test_build_is_byte_for_byte_reproducible(tmp_path: Path) -> None:
    first = build_lambda_zip.build(tmp_path / "a.zip").read_bytes()
    (tmp_path / "b.zip").write_bytes(b"")  # an existing file is overwritten, not appended to
    assert build_lambda_zip.build(tmp_path / "b.zip").read_bytes() == first


def test_zip_holds_only_the_handler_package_with_fixed_metadata() -> None:
    with zipfile.ZipFile(COMMITTED) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert "cf_invalidator/handler.py" in names
    assert all(name.startswith("cf_invalidator/") and name.endswith(".py") for name in names)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


def test_zip_sources_match_lambda_src() -> None:
    with zipfile.ZipFile(COMMITTED) as archive:
        for info in archive.infolist():
            assert archive.read(info) == (ROOT / "lambda_src" / info.filename).read_bytes(), info.filename
