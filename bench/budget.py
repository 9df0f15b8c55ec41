"""The path budget (max_paths_per_invalidation) against real deploys: what it bills and what it evicts.

Replays every deploy of both sites (replay.py: real handler, moto's versioned S3, the CloudFront model,
Lambda's batching at the module's other defaults) at each budget in BUDGETS. Only the changed files are
uploaded: that is what change detection should reduce a CI re-upload to, and today's handler, without
change detection, would turn a CI re-upload into wildcards at any budget. A low budget collapses a
deploy's paths into directory wildcards (cheap, but they evict unchanged objects, which CloudFront then
fetches again from the bucket); a high one bills every path exactly. Cost: $0.005 a path past the free
1,000 a month, as if each site's deploys fell in one month. Figures are printed, never asserted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from replay import SITES, WAYS, monthly_dollars, replay_sites
from replay_report import totals
from sections import markdown_table

BUDGETS = (100, 300, 1000, 3000)


def main() -> dict[str, str]:
    """Replay at each budget; return the README section (name -> markdown)."""
    started = time.perf_counter()
    print("== Path budget: real deploys, changes only, by max_paths_per_invalidation ==")
    outcomes = replay_sites(SITES, BUDGETS, ways=(WAYS[0],))
    rows = []
    for t in totals(outcomes):  # per site, each budget in turn
        cells = (
            t.site,
            f"{t.budget:,}",
            f"{t.paths_billed:,}",
            f"{monthly_dollars(t.paths_billed):,.2f}",
            f"{t.wildcards} ({t.peak_wildcards})",
            str(t.refusals),
            f"{t.evicted:,}",
            f"{t.evicted_share:.1%}",
            f"{t.ideal:,}",
            str(t.missed),
            str(t.dead_letters),
        )
        rows.append(cells)
        print("  ".join(f"{cell:>17}" for cell in cells))
    print(f"budget: {time.perf_counter() - started:.0f} s")
    columns = (
        "Site (all deploys)", "max_paths_per_invalidation", "Paths billed", "$ if in one month",
        "Wildcards (most in progress)", "Calls refused (quota)", "Unchanged objects evicted",
        "% of the trees", "Ideal paths", "Changes missed", "Messages in the DLQ",
    )  # fmt: skip
    return {"budget": markdown_table(columns, rows, "lrrrrrrrrrr")}


if __name__ == "__main__":
    main()
