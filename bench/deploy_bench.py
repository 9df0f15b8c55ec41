"""The deploy pipeline's bench (issue 20): real and synthetic deploys planned once, when they go quiet.

The runner: deploy_replay.py's simulation (its docstring states the assumptions) of every deploy of both
real sites (replay.SITES), both ways of uploading (replay.WAYS), of the synthetic sites of
synthetic_sites.py both ways, and of a lone edit of each real site; deploy_report.py prints the figures
beside issue 20's targets and formats docs/deploy-flush.md's sections. Each (site, way) is one work unit
of the bench's process pool (parallel.py): it builds its own moto S3, DynamoDB, CloudFront model and
virtual clock, so what is printed never depends on which worker ran what. Figures are printed, never
asserted.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda_src"), str(ROOT / "tests" / "python"), str(ROOT / "bench")]

from cover_report import FULL_REGENERATIONS  # noqa: E402
from deploy_replay import DeployOutcome, replay_site  # noqa: E402
from deploy_report import (  # noqa: E402
    cost_section,
    freshness_section,
    lone_edit_section,
    print_deploys,
    print_targets,
    summary_section,
    synthetic_section,
)
from parallel import Finish, Sections, run_alone  # noqa: E402
from replay import SITES, WAYS, load_site  # noqa: E402
from sections import write_sections  # noqa: E402
from synthetic_sites import FULL_REGENERATION, SYNTHETIC, lone_edit  # noqa: E402

LONE_EDIT_WAY = WAYS[0]  # one object written: the changes only


def real_part(name: str, way: str) -> list[DeployOutcome]:
    return replay_site(load_site(name), way, FULL_REGENERATIONS.get(name, ()))


def synthetic_part(name: str, way: str) -> list[DeployOutcome]:
    return replay_site(SYNTHETIC[name](), way, (FULL_REGENERATION,))


def lone_edit_part(name: str) -> list[DeployOutcome]:
    return replay_site(lone_edit(load_site(name)), LONE_EDIT_WAY, ())


def start(pool: Executor, sites: Sequence[str] = SITES) -> Finish:
    """Submit every part, the largest real site first; `finish` prints and returns the docs' sections."""
    started = time.perf_counter()
    largest_first = sorted(sites, key=lambda name: -len(load_site(name).before_keys))
    real = [pool.submit(real_part, name, way) for name in largest_first for way in WAYS]
    lone = [pool.submit(lone_edit_part, name) for name in largest_first]
    synthetic = [pool.submit(synthetic_part, name, way) for name in SYNTHETIC for way in WAYS]

    def finish() -> Sections:
        print("== The deploy pipeline: deploys planned once, when quiet (module defaults, interleaved) ==")
        outcomes, lone_edits, built = _results(real), _results(lone), _results(synthetic)
        print_deploys([*outcomes, *built])
        print_targets(outcomes, lone_edits)
        print(f"deploy pipeline bench: {time.perf_counter() - started:.0f} s")
        return {
            "deploy-freshness": freshness_section(outcomes),
            "deploy-cost": cost_section(outcomes),
            "deploy-lone-edit": lone_edit_section(lone_edits),
            "deploy-synthetic": synthetic_section(built),
            "deploy-summary": summary_section(outcomes, lone_edits),
        }

    return finish


def _results(futures: Sequence[Future[list[DeployOutcome]]]) -> list[DeployOutcome]:
    return [outcome for future in futures for outcome in future.result()]


def main() -> Sections:
    """This bench alone, on a pool of its own; its sections (written into the docs when run as a script)."""
    return run_alone(start)


if __name__ == "__main__":
    write_sections(main())
