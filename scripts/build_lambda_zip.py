"""Build the Lambda package reproducibly: the same sources always give the same bytes.

Entries are sorted, timestamps fixed (1980-01-01, the earliest a zip can hold), modes fixed (0644),
compression fixed, and only *.py files under lambda_src/ are taken (no __pycache__). The module hashes
the committed zip with filebase64sha256, so an unchanged handler never causes a Terraform diff.

Usage: build_lambda_zip.py [--output PATH]   (default: dist/cf_invalidator.zip)
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "lambda_src"
DEFAULT_OUTPUT = ROOT / "dist" / "cf_invalidator.zip"
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16


def package_files(source: Path) -> list[Path]:
    """The files that go into the package, in the order they are written."""
    return sorted(path for path in source.rglob("*.py") if "__pycache__" not in path.parts)


def build(output: Path, source: Path = SOURCE) -> Path:
    """Write the zip to `output` and return it."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w") as archive:
        for path in package_files(source):
            info = zipfile.ZipInfo(path.relative_to(source).as_posix(), date_time=FIXED_TIME)
            info.external_attr = FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever machine builds it
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return output


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    print(build(args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
