"""The deploy pipeline's figures (deploy_replay.py's outcomes): printed, and docs/deploy-flush.md's tables.

A report: it formats what deploy_replay.py returns, for the runner deploy_bench.py, and never imports
the runner. Each figure is shown beside its target (issue 20); none is asserted.
- Freshness, per site and way: per deploy, from its last write until every change of it was covered
  (deploy_replay.settled), median and max over the deploys; per change, the max of write to covering
  invalidation (a CI re-upload longer than max_wait_seconds is flushed before it ends).
- Cost, per site and way: paths + evicted / evictions_per_path summed over the deploys, over the
  frontier's (cover_report.ratio); and each full regeneration's paths billed against its frontier's.
- The lone edit: its write to the invalidation covering it.
- The synthetic sites, per deploy: what the module billed and evicted against the optimum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cover_report import ratio
from deploy_replay import DeployOutcome
from freshness import Freshness, freshness_stats
from sections import markdown_table

TARGET_MEDIAN_S = 10.0
TARGET_MAX_S = 20.0
TARGET_LONE_EDIT_S = 8.0
TARGET_RATIO = 1.02
TARGET_REGENERATION_EXTRA_PATHS = 1


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


@dataclass(frozen=True)
class Group:
    """One site's deploys replayed one way."""

    site: str
    way: str
    outcomes: tuple[DeployOutcome, ...]

    @property
    def settled(self) -> Freshness:
        return freshness_stats([o.settled_s for o in self.outcomes])

    @property
    def per_change(self) -> Freshness:
        return freshness_stats([d for o in self.outcomes for d in o.delays])

    @property
    def ratio(self) -> float:
        epp = self.outcomes[0].evictions_per_path
        paths, evicted = sum(o.paths_billed for o in self.outcomes), sum(o.evicted for o in self.outcomes)
        best = [o.frontier for o in self.outcomes]
        return ratio(paths, evicted, epp, sum(c.cost for c in best), sum(c.paths for c in best))

    @property
    def regeneration_extra(self) -> int | None:
        """The most paths a full regeneration billed past its frontier's; None: no full regeneration."""
        extra = [o.paths_billed - o.frontier.paths for o in self.outcomes if o.full_regeneration]
        return max(extra, default=None)


def groups(outcomes: Sequence[DeployOutcome]) -> list[Group]:
    """One Group per (site, way), in the order they first appear."""
    found: dict[tuple[str, str], list[DeployOutcome]] = {}
    for o in outcomes:
        found.setdefault((o.site, o.way), []).append(o)
    return [Group(site, way, tuple(chosen)) for (site, way), chosen in found.items()]


def freshness_section(outcomes: Sequence[DeployOutcome]) -> str:
    rows = [
        (
            g.site, g.way, str(len(g.outcomes)), f"{g.settled.median:.1f}", f"{g.settled.max:.1f}",
            f"{g.per_change.max:.1f}", str(sum(o.missed for o in g.outcomes)),
            str(sum(o.dead_letters for o in g.outcomes)), str(sum(o.ticks for o in g.outcomes)),
        )
        for g in groups(outcomes)
    ]  # fmt: skip
    columns = (
        "Site", "Upload", "Deploys", f"Last write to covered: median s (target <= {TARGET_MEDIAN_S:g})",
        f"max s (target <= {TARGET_MAX_S:g})", "Per change: max s", "Changes missed (target 0)",
        "Dead letters", "Ticks sent",
    )  # fmt: skip
    return markdown_table(columns, rows, "llrrrrrrr")


def cost_section(outcomes: Sequence[DeployOutcome]) -> str:
    rows = []
    for g in groups(outcomes):
        best = [o.frontier for o in g.outcomes]
        extra = g.regeneration_extra
        rows.append(
            (
                g.site, g.way, f"{sum(o.paths_billed for o in g.outcomes):,}",
                f"{sum(o.evicted for o in g.outcomes):,}",
                f"{sum(c.paths for c in best):,} ({sum(c.evicted for c in best):,})", f"{g.ratio:.3f}",
                "none" if extra is None else f"{extra:+d}",
                str(sum(o.calls > 1 for o in g.outcomes)),
            )
        )  # fmt: skip
    columns = (
        "Site", "Upload", "Paths billed", "Unchanged objects evicted", "Frontier: paths (evicted)",
        f"Cost / frontier's (target <= {TARGET_RATIO:g})",
        f"Full regenerations: most paths past the frontier's (target <= +{TARGET_REGENERATION_EXTRA_PATHS})",
        "Deploys in two or more invalidations",
    )  # fmt: skip
    return markdown_table(columns, rows, "llrrrrrr")


def summary_section(outcomes: Sequence[DeployOutcome], lone: Sequence[DeployOutcome]) -> str:
    """The README's summary: per site and way, how fresh and how cheap, and the lone edit per site."""
    edits = {o.site.removeprefix("lone-edit."): o.delays[0] for o in lone}
    rows = [
        (
            g.site, g.way, str(len(g.outcomes)), f"{g.settled.median:.1f} / {g.settled.max:.1f}",
            _seconds(edits.get(g.site)), f"{g.ratio:.3f}", str(sum(o.missed for o in g.outcomes)),
        )
        for g in groups(outcomes)
    ]  # fmt: skip
    columns = (
        "Site", "Upload", "Deploys", "Last write to invalidation, s: median / max", "Lone edit, s",
        "Cost / the best cover's", "Changes missed",
    )  # fmt: skip
    return markdown_table(columns, rows, "llrrrrr")


def lone_edit_section(outcomes: Sequence[DeployOutcome]) -> str:
    rows = [
        (o.site.removeprefix("lone-edit."), str(o.tree_size), _seconds(o.delays[0]), str(o.paths_billed))
        for o in outcomes
    ]
    columns = (
        "Site (its tree)",
        "Objects",
        f"Write to invalidation, s (target <= {TARGET_LONE_EDIT_S:g})",
        "Paths",
    )
    return markdown_table(columns, rows, "lrrr")


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


def synthetic_section(outcomes: Sequence[DeployOutcome]) -> str:
    rows = [
        (
            o.site, o.way, f"{o.deploy_number}{' (full)' if o.full_regeneration else ''}",
            f"{o.changed:,} of {o.tree_size:,}", f"{o.paths_billed:,} / {o.wildcards} / {o.evicted:,}",
            f"{o.frontier.paths:,} / {len(o.frontier.wildcards)} / {o.frontier.evicted:,}",
            f"{o.cost / o.frontier.cost:.2f}" if o.frontier.cost else "-", _seconds(o.settled_s),
            str(o.missed),
        )
        for o in outcomes
    ]  # fmt: skip
    columns = (
        "Site", "Upload", "Deploy", "Objects changed", "Module: paths / wildcards / evicted",
        "Frontier: paths / wildcards / evicted", f"Cost / frontier's (target <= {TARGET_RATIO:g})",
        f"Last write to covered, s (target <= {TARGET_MAX_S:g})", "Missed (target 0)",
    )  # fmt: skip
    return markdown_table(columns, rows, "lllrrrrrr")


def print_targets(real: Sequence[DeployOutcome], lone: Sequence[DeployOutcome]) -> None:
    """Issue 20's targets, each beside its figure (never asserted)."""
    for g in groups(real):
        s = g.settled
        print(
            f"target: {g.site}, {g.way}: last write to covered median <= {TARGET_MEDIAN_S:g} s: "
            f"{s.median:.1f} ({_met(s.median <= TARGET_MEDIAN_S)}); max <= {TARGET_MAX_S:g} s: {s.max:.1f} "
            f"({_met(s.max <= TARGET_MAX_S)}); missed 0: {s.missed} ({_met(s.missed == 0)}); cost <= "
            f"{TARGET_RATIO:g}x the frontier's: {g.ratio:.3f}x ({_met(g.ratio <= TARGET_RATIO)})"
        )
        extra = g.regeneration_extra
        if extra is not None:
            print(f"target: {g.site}, {g.way}: full regenerations <= frontier + 1 path: {extra:+d} "
                  f"({_met(extra <= TARGET_REGENERATION_EXTRA_PATHS)})")  # fmt: skip
    for o in lone:
        delay = o.delays[0]
        ok = delay is not None and delay <= TARGET_LONE_EDIT_S
        print(f"target: lone edit, {o.site}: <= {TARGET_LONE_EDIT_S:g} s: {_seconds(delay)} ({_met(ok)})")


def print_deploys(outcomes: Sequence[DeployOutcome]) -> None:
    """One line per deploy: what the module billed and evicted against the optimum, and its settling."""
    for o in outcomes:
        optimum = "reaches its optimum" if o.cost <= o.frontier.cost + 1e-9 else "misses its optimum"
        print(
            f"{o.site:<17} {o.way:<13} deploy {o.deploy_number}: {o.changed} changed, {o.calls} calls, "
            f"{o.paths_billed} paths, {o.wildcards} wildcards, {o.evicted} evicted; frontier "
            f"{o.frontier.paths} paths, {len(o.frontier.wildcards)} wildcards, {o.frontier.evicted} evicted: "
            f"{optimum}; settled {_seconds(o.settled_s)} s, missed {o.missed}"
        )
