"""The path budget (max_paths_per_invalidation) against real deploys: what it bills and what it evicts.

The replay (replay.py: real handler with change detection and the quota planner on, moto's versioned S3,
the CloudFront model, Lambda's batching at the module's other defaults) of every deploy of both sites,
both ways (only the changed files uploaded; a CI re-upload of the whole tree), at each budget in
BUDGETS. A low budget collapses a deploy's paths into directory wildcards (cheap, but they evict
unchanged objects, which CloudFront then fetches again from the bucket); a high one bills every path
exactly. Cost: $0.005 a path past the free 1,000 a month, as if each site's deploys fell in one month.
Figures are printed, never asserted. `make bench` runs this with the replay (run.py), once for both.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import replay
from replay import WAYS, Outcome, monthly_dollars
from replay_report import totals
from sections import markdown_table

BUDGETS = (100, 300, 1000, 3000)


def budget_section(outcomes: Sequence[Outcome]) -> str:
    """Per site, upload way and budget: the totals of all deploys, printed and as the README's table."""
    print("-- by max_paths_per_invalidation, all deploys --")
    rows = []
    for t in sorted(totals(outcomes), key=lambda t: (t.site, WAYS.index(t.way), t.budget)):
        cells = (
            t.site,
            t.way,
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
    columns = (
        "Site (all deploys)", "Upload", "max_paths_per_invalidation", "Paths billed", "$ if in one month",
        "Wildcards (most in progress)", "Calls refused (quota)", "Unchanged objects evicted",
        "% of the trees", "Ideal paths", "Changes missed", "Messages in the DLQ",
    )  # fmt: skip
    return markdown_table(columns, rows, "llrrrrrrrrrr")


def main() -> dict[str, str]:
    """The replay at every budget; returns the README's budget (and replay) sections."""
    return replay.main(BUDGETS)


if __name__ == "__main__":
    main()
