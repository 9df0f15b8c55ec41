"""The storm bench's chart (docs/storm.png): paths billed, calls and changes lost against deploy size."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")  # before pyplot: files only, no display
import matplotlib.pyplot as plt

if TYPE_CHECKING:
    from storm import Result


def write_chart(
    results: Sequence[Result],
    path: Path,
    scenarios: Sequence[str],
    distribution_counts: Sequence[int],
    completion_seconds: float,
) -> None:
    """Three log-scale panels; the first scenario is the documented quotas, the others are dotted."""
    documented = scenarios[0]
    figure, axes = plt.subplots(1, 3, figsize=(15, 5.4))
    panels = (
        ("paths_billed", "Paths billed (documented quotas)"),
        ("calls", "CreateInvalidation calls (documented quotas)"),
        ("lost", "Changes lost (dotted: assumed rate limit)"),
    )
    for axis, (metric, title) in zip(axes, panels, strict=True):
        for strategy, count in itertools.product(("per object", "module"), distribution_counts):
            for scenario in scenarios if metric == "lost" else (documented,):
                rows = [
                    r
                    for r in results
                    if (r.strategy, r.distributions, r.scenario) == (strategy, count, scenario)
                ]
                label = f"{strategy}, {count} distribution{'s' if count > 1 else ''}"
                if metric == "lost":
                    label += "" if scenario == documented else ", rate-limited"
                axis.plot(
                    [r.changes for r in rows],
                    [getattr(r, metric) for r in rows],
                    marker="o" if strategy == "module" else "s",
                    linestyle="-" if scenario == documented else ":",
                    color={"per object": "tab:red", "module": "tab:blue"}[strategy],
                    alpha=1.0 if count == 1 else 0.55,
                    label=label,
                )
        axis.set_xscale("log")
        if metric == "lost":  # zero must show: linear up to 1, log above
            axis.set_yscale("symlog", linthresh=1)
            axis.set_ylim(bottom=0)
        else:
            axis.set_yscale("log")
        axis.set_xlabel("changed objects in the deploy")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    handles, labels = axes[2].get_legend_handles_labels()  # the lost panel has every line
    figure.legend(handles, labels, loc="lower center", ncol=4, fontsize=8, frameon=False)
    figure.suptitle(
        f"Deploy storms: per-object invalidation vs this module (CloudFront quota model, "
        f"invalidations complete in {completion_seconds:g} s)"
    )
    figure.tight_layout(rect=(0, 0.1, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
