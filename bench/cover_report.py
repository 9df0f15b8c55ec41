"""The replay against the frontier: printed per deploy, the docs' cover and evictions tables, the targets.

A report: it formats what replay.py (Outcome) and frontier.py (Cover) produce, for the runner
cover_replay.py, and never imports the runner. The ratio to the frontier is
`(paths billed + evicted / evictions_per_path) / (the frontier's)`, at evictions_per_path 0 the paths
billed over the frontier's paths (evictions shown apart); summed over deploys, it is the ratio of the
sums. Dollars a month at daily deploys: the site's average deploy's paths x 30, $0.005 a path past the
free 1,000 (replay.monthly_dollars).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from frontier import Cover
from replay import WAYS, WILDCARD_QUOTA, Outcome, monthly_dollars
from sections import markdown_table

# The deploys that regenerate (nearly) the whole site: the targets' "full regenerations".
FULL_REGENERATIONS: Mapping[str, tuple[int, ...]] = {
    "formats.kaitai.io": (5,),
    "paws-r.github.io": (1, 3, 4, 6, 7),
}
DEPLOYS_PER_MONTH = 30
TARGET_RATIO = 1.02  # issue 20: at the default, summed per site and way (issue 13's was 1.25)
TARGET_REGENERATION_EXTRA_PATHS = 1  # issue 20: a full regeneration bills at most the frontier's + 1
TARGET_REGENERATION_EVICTED = 0.01  # issue 13: of the tree
Frontiers = Mapping[tuple[str, int, float], Cover]


@dataclass(frozen=True)
class Summed:
    """One site's deploys, one way, one evictions_per_path, added up with their frontiers."""

    site: str
    way: str
    evictions_per_path: float
    deploys: int
    calls: int
    paths_billed: int
    wildcards: int
    peak_wildcards: int
    refusals: int
    evicted: int
    missed: int
    dead_letters: int
    frontier_paths: int
    frontier_evicted: int
    frontier_cost: float

    @property
    def ratio(self) -> float:
        return ratio(
            self.paths_billed, self.evicted, self.evictions_per_path, self.frontier_cost, self.frontier_paths
        )

    @property
    def daily_dollars(self) -> float:
        """A month of daily deploys like this site's average one."""
        return monthly_dollars(self.paths_billed / self.deploys * DEPLOYS_PER_MONTH)


def ratio(paths: int, evicted: int, epp: float, frontier_cost: float, frontier_paths: int) -> float:
    """The replay's cost over the frontier's (paths over paths at evictions_per_path 0)."""
    if epp == 0:
        return paths / frontier_paths if frontier_paths else float("inf")
    return (paths + evicted / epp) / frontier_cost if frontier_cost else float("inf")


def deploy_ratio(o: Outcome, frontiers: Frontiers) -> float:
    best = frontiers[o.site, o.deploy_number, o.evictions_per_path]
    return ratio(o.paths_billed, o.evicted, o.evictions_per_path, best.cost, best.paths)


def summed(outcomes: Iterable[Outcome], frontiers: Frontiers) -> list[Summed]:
    """One Summed per (site, way, evictions_per_path), in the order they first appear."""
    groups: dict[tuple[str, str, float], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.site, o.way, o.evictions_per_path), []).append(o)
    result = []
    for (site, way, epp), group in groups.items():
        best = [frontiers[site, o.deploy_number, epp] for o in group]
        result.append(
            Summed(
                site=site, way=way, evictions_per_path=epp, deploys=len(group),
                calls=sum(o.calls for o in group), paths_billed=sum(o.paths_billed for o in group),
                wildcards=sum(o.wildcards for o in group),
                peak_wildcards=max(o.peak_wildcards for o in group),
                refusals=sum(o.refusals for o in group), evicted=sum(o.evicted for o in group),
                missed=sum(o.missed for o in group), dead_letters=sum(o.dead_letters for o in group),
                frontier_paths=sum(c.paths for c in best), frontier_evicted=sum(c.evicted for c in best),
                frontier_cost=sum(c.cost for c in best),
            )
        )  # fmt: skip
    return result


def print_frontiers(frontiers: Frontiers, full: Mapping[str, tuple[int, ...]]) -> None:
    print("-- the frontier: paths billed / wildcards / unchanged evicted (cost), per deploy --")
    for site, number in sorted({(site, number) for site, number, _ in frontiers}):
        cells = [
            f"{epp:g}: {c.paths}/{len(c.wildcards)}/{c.evicted} ({c.cost:,.1f})"
            for (s, n, epp), c in sorted(frontiers.items())
            if (s, n) == (site, number)
        ]
        mark = " (full regeneration)" if number in full.get(site, ()) else ""
        print(f"{site:<18} {number:>2}{mark:<20} " + "; ".join(cells))


def print_cover(outcomes: Sequence[Outcome], frontiers: Frontiers) -> None:
    """Per site and evictions_per_path: each deploy each way, then the sums."""
    header = (
        f"{'site':<18} {'epp':>4} {'#':>2} {'way':<13} {'calls':>5} {'refused':>7} "
        f"{'billed':>6} {'wildcards':>9} {'peak':>4} {'evicted':>7} {'missed':>6} {'DLQ':>4} "
        f"{'frontier p/ev':>13} {'ratio':>6}"
    )
    print("-- every replay against the frontier (ratio: cost / frontier's cost; at 0, paths / paths) --")
    print(header)
    for o in outcomes:
        best = frontiers[o.site, o.deploy_number, o.evictions_per_path]
        print(
            f"{o.site:<18} {o.evictions_per_path:>4g} {o.deploy_number:>2} {o.way:<13} "
            f"{o.calls:>5} {o.refusals:>7} {o.paths_billed:>6,} {o.wildcards:>9} {o.peak_wildcards:>4} "
            f"{o.evicted:>7,} {o.missed:>6} {o.dead_letters:>4} {f'{best.paths}/{best.evicted}':>13} "
            f"{deploy_ratio(o, frontiers):>6.2f}"
        )
    for t in summed(outcomes, frontiers):
        print(
            f"{t.site:<18} total {t.evictions_per_path:>4g} {t.way:<13}: {t.calls} calls "
            f"({t.refusals} refused), {t.paths_billed:,} paths (${t.daily_dollars:,.2f} a month daily), "
            f"{t.wildcards} wildcards (peak {t.peak_wildcards}), {t.evicted:,} evicted, missed {t.missed}, "
            f"DLQ {t.dead_letters}; frontier {t.frontier_paths:,} paths, {t.frontier_evicted:,} evicted, "
            f"cost {t.frontier_cost:,.1f}; ratio {t.ratio:.2f}"
        )


def cover_section(outcomes: Sequence[Outcome], frontiers: Frontiers, default: float) -> str:
    """At the default: per site and way, the sums against the frontier's; then each full regeneration's
    paths billed and share of the tree evicted."""
    rows = [
        (
            t.site, t.way, f"{t.calls} ({t.refusals})", f"{t.paths_billed:,}",
            f"{t.wildcards} ({t.peak_wildcards})", f"{t.evicted:,}", str(t.missed), str(t.dead_letters),
            f"{t.frontier_paths:,}", f"{t.frontier_evicted:,}", f"{t.ratio:.2f}",
        )
        for t in sorted(summed([o for o in outcomes if o.evictions_per_path == default], frontiers),
                        key=lambda t: (t.site, WAYS.index(t.way)))
    ]  # fmt: skip
    columns = (
        "Site (all deploys)", "Upload", "Calls (refused)", "Paths billed",
        "Wildcards (most in progress)", "Unchanged objects evicted", "Changes missed", "Messages in the DLQ",
        "Frontier: paths", "Frontier: evicted", "Cost / frontier's",
    )  # fmt: skip
    totals = markdown_table(columns, rows, "llrrrrrrrrr")
    regenerations = [
        (
            o.site, str(o.deploy_number), o.way, f"{o.paths_billed:,}",
            f"{o.evicted:,} ({o.evicted / o.tree_size:.2%})",
            f"{(best := frontiers[o.site, o.deploy_number, default]).paths} ({best.evicted})",
        )
        for o in sorted(outcomes, key=lambda o: (o.site, o.deploy_number, WAYS.index(o.way)))
        if o.evictions_per_path == default and o.deploy_number in FULL_REGENERATIONS.get(o.site, ())
    ]  # fmt: skip
    regeneration_columns = (
        "Site", "Full regeneration", "Upload", "Paths billed", "Unchanged evicted (% of the tree)",
        "Frontier: paths (evicted)",
    )  # fmt: skip
    return totals + "\n" + markdown_table(regeneration_columns, regenerations, "lrlrrr")


def evictions_section(outcomes: Sequence[Outcome], frontiers: Frontiers, values: Sequence[float]) -> str:
    """At each of `values`: per site and way, paths billed, dollars a month at daily
    deploys, unchanged objects evicted, the ratio to the frontier."""
    chosen = [o for o in outcomes if o.evictions_per_path in values]
    rows = [
        (
            f"{t.evictions_per_path:g}", t.site, t.way, f"{t.paths_billed:,}", f"{t.daily_dollars:,.2f}",
            f"{t.evicted:,}", f"{t.frontier_paths:,} ({t.frontier_evicted:,})", f"{t.ratio:.2f}",
            str(t.missed),
        )
        for t in sorted(summed(chosen, frontiers),
                        key=lambda t: (t.evictions_per_path, t.site, WAYS.index(t.way)))
    ]  # fmt: skip
    columns = (
        "evictions_per_path", "Site (all deploys)", "Upload", "Paths billed", "$ a month, daily deploys",
        "Unchanged objects evicted", "Frontier: paths (evicted)", "Cost / frontier's", "Changes missed",
    )  # fmt: skip
    return markdown_table(columns, rows, "rllrrrrrr")


def print_targets(outcomes: Sequence[Outcome], frontiers: Frontiers, default: float) -> None:
    """The targets, each next to its measured figure (never asserted): issue 20's for the deploy
    pipeline (cost within TARGET_RATIO of the frontier's, summed per site and way; every full
    regeneration within the frontier's paths + 1), issue 13's share of the tree evicted."""
    print("-- targets (issue 20; evicted share: issue 13) --")
    for t in summed([o for o in outcomes if o.evictions_per_path == default], frontiers):
        print(
            f"target: {t.site}, {t.way}, default {default:g}: cost within {TARGET_RATIO:g}x the "
            f"frontier's: {t.ratio:.2f}x ({'met' if t.ratio <= TARGET_RATIO else 'NOT met'})"
        )
    for o in outcomes:
        if o.evictions_per_path != default or o.deploy_number not in FULL_REGENERATIONS.get(o.site, ()):
            continue
        limit = frontiers[o.site, o.deploy_number, default].paths + TARGET_REGENERATION_EXTRA_PATHS
        share = o.evicted / o.tree_size
        met = o.paths_billed <= limit and share <= TARGET_REGENERATION_EVICTED
        print(
            f"target: full regeneration {o.site} {o.deploy_number}, {o.way}: <= {limit} paths (the "
            f"frontier's + {TARGET_REGENERATION_EXTRA_PATHS}) and <= {TARGET_REGENERATION_EVICTED:.0%} "
            f"evicted: {o.paths_billed} paths, {share:.2%} ({'met' if met else 'NOT met'})"
        )
    always = (
        ("changes missed", sum(o.missed for o in outcomes), 0),
        ("messages in the DLQ", sum(o.dead_letters for o in outcomes), 0),
        ("calls refused", sum(o.refusals for o in outcomes), 0),
        ("most wildcards in progress", max(o.peak_wildcards for o in outcomes), WILDCARD_QUOTA),
    )
    for label, value, limit in always:
        print(
            f"target: every replay (all settings): {label} <= {limit}: {value} "
            f"({'met' if value <= limit else 'NOT met'})"
        )
