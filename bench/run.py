"""`make bench`: every benchmark, then the figures in docs/ rewritten.

handler_bench runs first, alone (CPU and wall-time figures); then the simulations of the other benches,
each independent and on a virtual clock, run on a process pool, one worker a core (parallel.py), and
print in the order they always did.

Figures are printed, never asserted. Each bench returns its sections (name -> markdown);
sections.write_sections puts each between its `<!-- bench:name -->` markers, in the docs/ page that
holds them, and keeps a copy in bench/results/<name>.md.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cover_replay
import deploy_bench
import deploy_cost
import deploy_regeneration
import deploy_stress
import handler_bench
import parallel
import storm
import viewer_urls
from sections import markdown_table, write_sections

# handler_bench's figures -> (what the docs call them, unit, target)
HANDLER_FIGURES = {
    "cpu_ms_per_1000_at_1000": ("CPU per 1,000 records, in a 1,000-record batch", "ms", "<= 20 ms"),
    "cpu_ms_per_1000_at_10000": ("CPU per 1,000 records, in a 10,000-record batch", "ms", "<= 20 ms"),
    "cpu_ms_per_1000_at_1000_no_metrics": (
        "CPU per 1,000 records, 1,000-record batch, enable_metrics off (measured alternately with on)",
        "ms",
        "reported",
    ),
    "cpu_ms_per_1000_at_1000_metrics": (
        "CPU per 1,000 records, 1,000-record batch, enable_metrics on (EMF lines to a null stream)",
        "ms",
        "reported",
    ),
    "metrics_added_pct_at_1000": ("CPU added by enable_metrics, 1,000-record batch", "%", "< 5 %"),
    "cpu_ms_per_1000_at_10000_no_metrics": (
        "CPU per 1,000 records, 10,000-record batch, enable_metrics off (measured alternately with on)",
        "ms",
        "reported",
    ),
    "cpu_ms_per_1000_at_10000_metrics": (
        "CPU per 1,000 records, 10,000-record batch, enable_metrics on (EMF lines to a null stream)",
        "ms",
        "reported",
    ),
    "metrics_added_pct_at_10000": ("CPU added by enable_metrics, 10,000-record batch", "%", "< 5 %"),
    "peak_mb_10000": ("Peak traced memory, 10,000-record batch", "MB", "<= 20 MB"),
    "import_ms": ("Import of the handler once boto3 is loaded", "ms", "<= 10 ms"),
    "detect_wall_s": ("Change detection, 4,000-record re-upload at 20 ms per S3 call: time", "s", "<= 15 s"),
    "detect_cpu_s": ("Change detection, 4,000-record re-upload: CPU", "s", ""),
    "detect_peak_mb": ("Change detection, 4,000-record re-upload: peak traced memory", "MB", "reported"),
    "plan_wall_s_12000": (
        "Planning a 12,000-object regeneration with its tree, 20 ms per S3 call",
        "s",
        "<= 2 s",
    ),
    "plan_peak_mb_100000": ("Planning with a 100,000-object tree: peak traced memory", "MB", "<= 64 MB"),
}


def handler_section(results: Mapping[str, float]) -> str:
    """handler_bench's figures as a table; a figure without a label above shows under its own name."""
    rows = []
    for name, value in results.items():
        label, unit, target = HANDLER_FIGURES.get(name, (name, "", ""))
        rows.append((label, f"{value:,.1f} {unit}".strip(), target))
    return markdown_table(("Measure", "Value", "Target"), rows, "lrr")


def main() -> None:
    parallel.silence_handler_log()
    started = time.perf_counter()
    handler = handler_bench.main()  # alone, before the pool starts: its CPU figures share no core
    sections = {"handler": handler_section(handler)}
    print()
    with parallel.pool() as pool:  # every simulation submitted, the longest first; results in order
        replays = cover_replay.start(pool)  # the replay at several evictions_per_path, and the frontier
        regeneration = deploy_regeneration.start(pool)  # the deploy pipeline's 200,000-object deploy
        stresses = deploy_stress.start(pool)  # its writer that never stops, and a crash at every call
        costs = deploy_cost.start(pool)  # what a deploy costs in requests beside CloudFront
        storms = storm.start(pool)
        urls = viewer_urls.start(pool)
        deploys = deploy_bench.start(pool)  # the deploy pipeline (issue 20): real and synthetic deploys
        for finish in (storms, replays, urls, deploys, stresses, costs, regeneration):
            sections |= finish()
            print()
    write_sections(sections)
    print_planning_targets(handler)
    print(f"make bench: {time.perf_counter() - started:.0f} s")


def print_planning_targets(handler: Mapping[str, float]) -> None:
    """Issue 13's planning targets next to handler_bench's figures (the replay's targets are printed by
    cover_report); never asserted."""
    for name in ("plan_wall_s_12000", "plan_peak_mb_100000"):
        label, unit, target = HANDLER_FIGURES[name]
        measured = f"{handler[name]:,.1f} {unit}" if name in handler else "not measured"
        print(f"target: {label}: {target}: {measured}")


if __name__ == "__main__":
    main()
