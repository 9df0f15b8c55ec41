"""The replay's figures: printed per site and deploy, and the docs' replay tables (markdown).

A report: it formats what replay.py's simulation returns (Outcome) and is imported by the runner
(cover_replay.py); it never imports the runner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from replay import WAYS, WILDCARD_QUOTA, Outcome, monthly_dollars
from sections import markdown_table


@dataclass(frozen=True)
class Totals:
    """A site's deploys replayed one way, added up."""

    site: str
    way: str
    evictions_per_path: float
    deploys: int
    events: int
    calls: int
    paths_billed: int
    wildcards: int
    peak_wildcards: int
    refusals: int
    evicted: int
    tree_sizes: int  # the objects of every deploy's tree, added up: what `evicted` is a share of
    ideal: int
    missed: int
    dead_letters: int

    @property
    def evicted_share(self) -> float:
        return self.evicted / self.tree_sizes if self.tree_sizes else 0.0


def totals(outcomes: Sequence[Outcome]) -> list[Totals]:
    """One Totals per (site, way, evictions_per_path) in the order they first appear."""
    groups: dict[tuple[str, str, float], list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault((o.site, o.way, o.evictions_per_path), []).append(o)
    return [
        Totals(
            site=site,
            way=way,
            evictions_per_path=epp,
            deploys=len(group),
            events=sum(o.events for o in group),
            calls=sum(o.calls for o in group),
            paths_billed=sum(o.paths_billed for o in group),
            wildcards=sum(o.wildcards for o in group),
            peak_wildcards=max(o.peak_wildcards for o in group),
            refusals=sum(o.refusals for o in group),
            evicted=sum(o.evicted for o in group),
            tree_sizes=sum(o.tree_size for o in group),
            ideal=sum(o.ideal for o in group),
            missed=sum(o.missed for o in group),
            dead_letters=sum(o.dead_letters for o in group),
        )
        for (site, way, epp), group in groups.items()
    ]


def print_replay(outcomes: Sequence[Outcome]) -> None:
    header = (
        f"{'site':<18} {'#':>2} {'way':<13} {'events':>7} {'batches':>7} {'calls':>5} {'refused':>7} "
        f"{'billed':>6} {'wildcards':>9} {'peak':>4} {'evicted':>7} {'ideal':>6} {'missed':>6} {'DLQ':>4} "
        f"{'skipped':>7} {'unverified':>10}"
    )
    print(header)
    for o in outcomes:
        print(
            f"{o.site:<18} {o.deploy_number:>2} {o.way:<13} {o.events:>7,} {o.batches:>7} {o.calls:>5} "
            f"{o.refusals:>7} {o.paths_billed:>6,} {o.wildcards:>9} {o.peak_wildcards:>4} {o.evicted:>7,} "
            f"{o.ideal:>6,} {o.missed:>6} {o.dead_letters:>4} {o.skipped:>7,} {o.unverified:>10,}"
        )
    for t in totals(outcomes):
        print(
            f"{t.site:<18} total {t.way:<13}: {t.events:,} events, {t.calls} calls ({t.refusals} refused), "
            f"{t.paths_billed:,} paths billed (${monthly_dollars(t.paths_billed):,.2f} if in one month), "
            f"{t.wildcards} wildcards (peak {t.peak_wildcards}), {t.evicted:,} unchanged evicted "
            f"({t.evicted_share:.1%}), ideal {t.ideal:,}, missed {t.missed}, DLQ {t.dead_letters}"
        )
    print_targets(outcomes)


def print_targets(outcomes: Sequence[Outcome]) -> None:
    """Reported, for the outcomes of one setting: does a CI re-upload bill and evict what uploading the
    changes only does; at most 15 wildcards in progress."""
    by_deploy = {(o.site, o.deploy_number, o.way): o for o in outcomes}
    same = [
        (site, number)
        for (site, number, way), o in by_deploy.items()
        if way == WAYS[0]
        and (ci := by_deploy.get((site, number, WAYS[1]))) is not None
        and (ci.paths_billed, ci.evicted) == (o.paths_billed, o.evicted)
    ]
    pairs = sum(1 for key in by_deploy if key[2] == WAYS[0])
    print(f"target: CI re-upload bills and evicts what changes only does: {len(same)} of {pairs} deploys")
    worst = max(outcomes, key=lambda o: (o.refusals, o.peak_wildcards))
    print(
        f"target: no deploy needs more than {WILDCARD_QUOTA} wildcards in progress: "
        f"{worst.refusals == 0 and worst.peak_wildcards <= WILDCARD_QUOTA} (worst: {worst.site} deploy "
        f"{worst.deploy_number}, {worst.way}: {worst.peak_wildcards} in progress, "
        f"{worst.refusals} calls refused)"
    )


def replay_section(outcomes: Sequence[Outcome]) -> str:
    """Per deploy, the two ways side by side; then each site's totals."""
    rows = []
    for o in outcomes:
        rows.append(
            (
                o.site if o.deploy_number == 1 and o.way == WAYS[0] else "",
                str(o.deploy_number) if o.way == WAYS[0] else "",
                o.way,
                f"{o.events:,}",
                f"{o.skipped:,} ({o.unverified:,})",
                f"{o.calls} ({o.refusals})",
                f"{o.paths_billed:,}",
                f"{o.wildcards} ({o.peak_wildcards})",
                f"{o.evicted:,}",
                f"{o.ideal:,}",
                str(o.missed),
            )
        )
    columns = (
        "Site", "Deploy", "Upload", "Events", "Skipped as unchanged (unverified)", "Calls (refused)",
        "Paths billed",
        "Wildcards (most in progress)", "Unchanged objects evicted", "Ideal paths", "Changes missed",
    )  # fmt: skip
    per_deploy = markdown_table(columns, rows, "lrlrrrrrrrr")
    total_rows = [
        (
            t.site,
            t.way,
            f"{t.events:,}",
            f"{t.paths_billed:,}",
            f"{monthly_dollars(t.paths_billed):,.2f}",
            f"{t.wildcards} ({t.peak_wildcards})",
            f"{t.evicted:,} ({t.evicted_share:.1%})",
            f"{t.ideal:,}",
            str(t.missed),
        )
        for t in totals(outcomes)
    ]
    total_columns = (
        "Site (all deploys)", "Upload", "Events", "Paths billed", "$ if in one month",
        "Wildcards (most in progress)", "Unchanged objects evicted (% of the trees)", "Ideal paths",
        "Changes missed",
    )  # fmt: skip
    return per_deploy + "\n" + markdown_table(total_columns, total_rows, "llrrrrrrr")
