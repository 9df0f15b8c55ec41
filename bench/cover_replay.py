"""The real deploys replayed at several evictions_per_path, each deploy planned as one flush, against the
frontier.

The runner of the cover bench: replay.py's simulation (the real handler, moto's versioned S3, the
CloudFront model; each deploy handed to the handler as ONE batch, as the deploy pipeline's flush hands
it; its docstring states the assumptions and why) of every deploy of both sites, both ways of uploading
(changes only; CI re-upload), and frontier.py's optimum cover of each deploy with the whole tree known.
cover_report.py formats and prints what this returns and writes the docs' sections.

Which settings run (SETTINGS): every value of EVICTIONS_PER_PATH (the docs' table: 0, 1, 3, 10, 100)
and the module's default (variables.tf). The replays of one deploy read the same bucket state, so
backend_s3.RecordedS3 answers the later ones from the first's S3 answers. Deploys run in order, each
replayed at every setting before the next deploy is uploaded.

The replay runs in parts on the bench's process pool (parallel.py; `parts`): one per site and way, each
with its own moto S3 uploading every deploy. A replay leaves the bucket as it found it and each way has
its own bucket, so a part's replays get the answers they get when one process replays everything; the
outcomes are put back in that order (`in_replay_order`), so the tables do not depend on the pool.
Figures are printed, never asserted.
"""

from __future__ import annotations

import functools
import itertools
import sys
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "lambda_src"), str(ROOT / "tests" / "python"), str(ROOT / "bench")]

from backend_s3 import RecordedS3  # noqa: E402
from cover_report import (  # noqa: E402
    FULL_REGENERATIONS,
    cover_section,
    evictions_section,
    print_cover,
    print_frontiers,
    print_targets,
)
from frontier import Cover, Problem, frontier  # noqa: E402
from parallel import Finish, Sections, run_alone  # noqa: E402
from replay import (  # noqa: E402
    SITES,
    WAYS,
    Outcome,
    SiteBucket,
    load_site,
    replay,
    site_s3,
    uploaded_deploys,
)
from replay_report import print_replay, replay_section  # noqa: E402

from support.module_defaults import module_defaults  # noqa: E402

EVICTIONS_PER_PATH = (0.0, 1.0, 3.0, 10.0, 100.0)
DEFAULT_EVICTIONS_PER_PATH = module_defaults().evictions_per_path
SETTINGS = tuple(sorted({*EVICTIONS_PER_PATH, DEFAULT_EVICTIONS_PER_PATH}))  # evictions_per_path
Frontiers = dict[tuple[str, int, float], Cover]  # (site, deploy number, evictions_per_path) -> optimum


def frontiers_of(name: str, values: Sequence[float]) -> tuple[Frontiers, float]:
    """The frontier of every deploy of the site at each of `values`; and the seconds the frontier took
    for the largest deploy (all values)."""
    site = load_site(name)
    found: Frontiers = {}
    slowest = 0.0
    for number, (deploy, tree) in enumerate(site.trees(), start=1):
        started = time.perf_counter()
        problem = Problem.of(tree, deploy.changed)
        for epp in values:
            found[name, number, epp] = frontier(problem, epp)
        slowest = max(slowest, time.perf_counter() - started)
    return found, slowest


def generation(buckets: Sequence[SiteBucket]) -> int:
    """How many times the buckets changed (RecordedS3 forgets its answers when it moves)."""
    return sum(b.generation for b in buckets)


def replay_part(name: str, way: str) -> list[Outcome]:
    """Every deploy of the site uploaded one way, at each evictions_per_path of SETTINGS. One part of the
    replay: the bucket of each way is its own and a replay leaves it as it found it, so a part uploads
    every deploy in turn and replays it, in its own process, with the answers the whole replay in one
    process gives."""
    defaults = module_defaults()
    site = load_site(name)
    outcomes = []
    with site_s3() as s3:
        for uploads in uploaded_deploys(site, (way,)):
            recorded = RecordedS3(s3, functools.partial(generation, [u.bucket for u in uploads]))
            for uploaded, epp in itertools.product(uploads, SETTINGS):
                outcomes.append(replay(site.name, uploaded, recorded, defaults, evictions_per_path=epp))
    return outcomes


def parts(name: str) -> list[tuple[str, str]]:
    """The site's replay cut into parts: one per way."""
    return [(name, way) for way in WAYS]


def in_replay_order(outcomes: Sequence[Outcome]) -> list[Outcome]:
    """One site's outcomes in the order one process replays them: deploy by deploy, each way, each
    evictions_per_path (SETTINGS' order)."""
    ways = {way: index for index, way in enumerate(WAYS)}
    return sorted(
        outcomes, key=lambda o: (o.deploy_number, ways[o.way], SETTINGS.index(o.evictions_per_path))
    )


def start(pool: Executor, sites: Sequence[str] = SITES) -> Finish:
    """Submit every site's frontiers and replay parts, the largest site first; `finish` prints what
    main always printed and returns the docs' replay, cover and evictions sections."""
    started = time.perf_counter()
    replays = {
        name: [pool.submit(replay_part, *part) for part in parts(name)]
        for name in sorted(sites, key=lambda name: -len(load_site(name).before_keys))
    }
    fronts = {name: pool.submit(frontiers_of, name, SETTINGS) for name in sites}

    def finish() -> Sections:
        print(
            "== Replay of real deploys, each planned as one flush, vs the frontier: evictions_per_path "
            f"{SETTINGS} (default {DEFAULT_EVICTIONS_PER_PATH:g}) =="
        )
        frontiers: Frontiers = {}
        for name in sites:
            found, slowest = fronts[name].result()
            frontiers |= found
            print(f"frontier, {name}: {slowest:.1f} s for its largest deploy at every value")
        print_frontiers(frontiers, FULL_REGENERATIONS)
        outcomes: list[Outcome] = []
        for name in sites:
            outcomes += in_replay_order([o for future in replays[name] for o in future.result()])
        sections = report(outcomes, frontiers)
        print(f"replay and frontier: {time.perf_counter() - started:.0f} s")
        return sections

    return finish


def report(outcomes: Sequence[Outcome], frontiers: Frontiers) -> Sections:
    """Print the replay against the frontier; return the docs' sections."""
    default = [o for o in outcomes if o.evictions_per_path == DEFAULT_EVICTIONS_PER_PATH]
    print(f"-- the replay at the default, {DEFAULT_EVICTIONS_PER_PATH:g} --")
    print_replay(default)
    print_cover(outcomes, frontiers)
    sections = {
        "replay": replay_section(default),
        "cover": cover_section(outcomes, frontiers, DEFAULT_EVICTIONS_PER_PATH),
        "evictions": evictions_section(outcomes, frontiers, EVICTIONS_PER_PATH),
    }
    print_targets(outcomes, frontiers, DEFAULT_EVICTIONS_PER_PATH)
    return sections


def main(sites: Sequence[str] = SITES) -> Sections:
    """Replay, compute the frontiers, print everything; return the docs' replay, cover and evictions
    sections."""
    return run_alone(functools.partial(start, sites=sites))


if __name__ == "__main__":
    main()
