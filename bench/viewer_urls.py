"""What the rewrite options cost on real deploys: the extra paths of directory_without_slash and
strip_extensions = [".html"], per site.

Data: the real deploys replay.py replays (../shared/sites/, changes only: added, modified and deleted
keys). Per deploy, the changed keys are cut into batches of the module's batch_size in the order
`aws s3 sync` walks them (sorted), one distribution with origin path "", index document index.html.

Reported per site and option: changed keys over all deploys; the viewer paths they need (the oracle,
tests/python/support/path_oracle.py: exact invalidation); the extra paths over the options off; and the
paths the handler's planner (plan.plan_requests, coalescing at the module's default budget, nothing in
progress) bills for those batches. Not modelled: the batching window cutting a deploy finer, what is in
progress. Figures are printed, never asserted.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda_src"), str(ROOT / "tests" / "python"), str(ROOT / "bench")]

from parallel import Finish, Sections, run_alone  # noqa: E402
from replay import SITES, load_site  # noqa: E402
from sections import markdown_table  # noqa: E402

from cf_invalidator.config import Config, Distribution  # noqa: E402
from cf_invalidator.core.plan import plan_requests  # noqa: E402
from support.module_defaults import module_defaults  # noqa: E402
from support.path_oracle import required_paths  # noqa: E402

INDEX_DOCUMENT = "index.html"
OPTIONS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "none": (False, ()),
    "directory_without_slash": (True, ()),
    'strip_extensions = [".html"]': (False, (".html",)),
    "both": (True, (".html",)),
}


def needed(keys: Sequence[str], without_slash: bool, extensions: tuple[str, ...]) -> int:
    """Distinct viewer paths the keys need, by the oracle."""
    return len(
        {
            path
            for key in keys
            for path in required_paths(
                key, "", INDEX_DOCUMENT, directory_without_slash=without_slash, strip_extensions=extensions
            )
        }
    )


def billed(batches: Sequence[Sequence[str]], without_slash: bool, extensions: tuple[str, ...]) -> int:
    """Paths the handler's planner requests for the batches, at the module's default budget."""
    defaults = module_defaults()
    config = Config(
        (Distribution("site", "ESITE", "", without_slash, extensions),), defaults.max_paths_per_invalidation
    )
    return sum(
        len(request.paths) for batch in batches for request in plan_requests({"batch": list(batch)}, config)
    )


def site_rows(name: str) -> list[tuple[str, ...]]:
    site = load_site(name)
    size = module_defaults().batch_size
    deploys = [sorted(deploy.changed) for deploy in site.deploys]
    batches = [deploy[i : i + size] for deploy in deploys for i in range(0, len(deploy), size)]
    changed = sum(len(deploy) for deploy in deploys)
    base = sum(needed(deploy, False, ()) for deploy in deploys)
    rows: list[tuple[str, ...]] = []
    for label, (without_slash, extensions) in OPTIONS.items():
        paths = sum(needed(deploy, without_slash, extensions) for deploy in deploys)
        extra = f"+{paths - base:,} (+{100 * (paths - base) / base:.0f} %)" if base else "0"
        rows.append(
            (
                name,
                label,
                f"{changed:,}",
                f"{paths:,}",
                extra,
                f"{billed(batches, without_slash, extensions):,}",
            )
        )
    return rows


def start(pool: Executor) -> Finish:
    """Submit each site's rows; `finish` prints the table and returns the docs' section."""
    started = time.perf_counter()
    found = [pool.submit(site_rows, name) for name in SITES]

    def finish() -> Sections:
        print("== Rewrite options on real deploys: extra paths ==")
        rows = [row for future in found for row in future.result()]
        columns = (
            "Site",
            "Options",
            "Changed keys",
            "Paths needed",
            "Extra",
            "Paths billed (default budget)",
        )
        table = markdown_table(columns, rows, "llrrrr")
        print(table)
        print(f"viewer urls: {time.perf_counter() - started:.0f} s")
        return {"viewer-urls": table}

    return finish


def main() -> Sections:
    return run_alone(start)


if __name__ == "__main__":
    main()
