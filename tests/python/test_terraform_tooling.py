"""The test tooling's Terraform runs: parallel tests must not break each other's provider installation."""

from __future__ import annotations

import re
from pathlib import Path

from support.terraform import LOCK_FILE, Terraform, cli_config_file, stage_root_module

ROOT_MODULE = """terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
"""
UNREACHABLE_ENDPOINT = "http://127.0.0.1:9"


def cached_provider_directories() -> list[Path]:
    match = re.search(r'^plugin_cache_dir\s*=\s*"([^"]+)"', cli_config_file().read_text(), re.MULTILINE)
    assert match, f"{cli_config_file()} configures no plugin cache"
    return sorted(Path(match.group(1)).glob("registry.terraform.io/hashicorp/aws/*/*"))


def identity(path: Path) -> tuple[int, int]:
    """Which file this is: a replacement may reuse the inode number but not the change time."""
    status = path.lstat()
    return status.st_ino, status.st_ctime_ns


def test_an_init_after_the_first_links_the_cached_provider_without_replacing_it(tmp_path: Path) -> None:
    first = Terraform(stage_root_module(tmp_path / "first", "root", ROOT_MODULE), UNREACHABLE_ENDPOINT)
    first.init()
    cached = cached_provider_directories()
    assert cached, "the first init left no provider in the plugin cache"
    identities = {path: identity(path) for path in cached}

    second = Terraform(stage_root_module(tmp_path / "second", "root", ROOT_MODULE), UNREACHABLE_ENDPOINT)
    second.init()

    # A replaced cache entry is a new file (a plan running beside the replacement finds no provider).
    assert {path: identity(path) for path in cached_provider_directories()} == identities
    assert (second.workdir / LOCK_FILE).read_text() == (first.workdir / LOCK_FILE).read_text()
