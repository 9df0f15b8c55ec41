"""The deploy pipeline's bench (bench/deploy_replay.py, bench/synthetic_sites.py).

GIVEN a deploy's uploads and when each change was covered, WHEN the deploy's settling time is taken,
THEN it runs from the deploy's last write (changed or not) to its last change covered, and is None when
a change never was. GIVEN the synthetic sites, THEN each breaks the rule it was built to break (checked
with the frontier and by counting, not with the module). GIVEN a small site replayed through the deploy
pipeline on the modelled queue, THEN every change is covered, after the quiet time, by a flush its own
ticks started.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from deploy_replay import Run, module_waits, replay_site, settled
from frontier import Problem, frontier
from replay import Change, Deploy, Site, SiteBucket, Uploaded
from synthetic_sites import deep_folder, flat, lone_edit, many_folders, ten_folders

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
MAX_WILDCARDS_IN_PROGRESS = 15  # CloudFront's quota per distribution


def uploaded(*writes: tuple[str, float], changed: frozenset[str]) -> Uploaded:
    """A deploy whose uploads are (key, seconds after START), `changed` the keys it really changed."""
    changes = [
        Change(key, "ObjectCreated:Put", "v", 1, "e", "01", START + timedelta(seconds=at))
        for key, at in writes
    ]
    deploy = Deploy(START.isoformat(), frozenset(), changed, frozenset())
    tree = frozenset(key for key, _ in writes)
    return Uploaded(1, "CI re-upload", cast(SiteBucket, None), changes, deploy, tree, 0)


def test_settling_runs_from_the_last_write_of_any_upload_to_the_last_change_covered() -> None:
    deploy = uploaded(
        ("a.html", 0.0), ("b.html", 1.0), ("c.html", 2.0), changed=frozenset({"a.html", "b.html"})
    )
    # a covered 10 s after its write (at 10), b 3 s after its (at 4); the last write is c's, at 2
    assert settled(deploy, {"a.html": 10.0, "b.html": 3.0}) == pytest.approx(8.0)


def test_settling_is_negative_when_every_change_was_covered_before_the_upload_ended() -> None:
    deploy = uploaded(("a.html", 0.0), ("b.html", 30.0), changed=frozenset({"a.html"}))
    assert settled(deploy, {"a.html": 20.0}) == pytest.approx(-10.0)


def test_settling_is_none_when_a_change_was_never_covered() -> None:
    deploy = uploaded(("a.html", 0.0), ("b.html", 1.0), changed=frozenset({"a.html", "b.html"}))
    assert settled(deploy, {"a.html": 2.0, "b.html": None}) is None


def first_deploy(site: Site) -> tuple[frozenset[str], frozenset[str]]:
    """(the tree after the site's first deploy, what that deploy changed)."""
    deploy, tree = next(site.trees())
    return tree, deploy.changed


def folders_rewritten_whole(site: Site) -> int:
    tree, changed = first_deploy(site)
    folders = {key.rsplit("/", 1)[0] for key in tree if "/" in key}
    return sum(all(k in changed for k in tree if k.rsplit("/", 1)[0] == folder) for folder in folders)


def test_ten_folders_optimum_holds_ten_wildcards_and_evicts_nothing() -> None:
    tree, changed = first_deploy(ten_folders())
    best = frontier(Problem.of(tree, changed), 3.0)
    assert len(best.wildcards) == 10
    assert best.evicted == 0
    assert 300 <= len(tree) < 1000


def test_many_folders_rewrites_more_folders_whole_than_wildcards_may_be_in_progress() -> None:
    assert folders_rewritten_whole(many_folders()) > MAX_WILDCARDS_IN_PROGRESS


def test_deep_folder_rewrites_one_folder_five_levels_down() -> None:
    _, changed = first_deploy(deep_folder())
    assert {key.rsplit("/", 1)[0].count("/") + 1 for key in changed} == {5}


def test_flat_site_has_every_page_at_the_root() -> None:
    tree, _ = first_deploy(flat())
    assert not any("/" in key for key in tree)


def test_each_synthetic_site_ends_with_a_full_regeneration() -> None:
    for site in (ten_folders(), many_folders(), deep_folder(), flat()):
        *_, (last, tree) = site.trees()
        assert last.changed == tree, site.name


def test_lone_edit_rewrites_one_page_of_the_sites_last_tree() -> None:
    site = Site(
        "s",
        ("a.html", "b/index.html", "c.css"),
        (Deploy(START.isoformat(), frozenset({"d.html"}), frozenset(), frozenset()),),
    )
    [(deploy, tree)] = list(lone_edit(site).trees())
    assert tree == {"a.html", "b/index.html", "c.css", "d.html"}
    assert len(deploy.changed) == 1
    assert deploy.changed <= tree


@pytest.fixture
def quiet_log() -> Iterator[None]:
    log = logging.getLogger("cf_invalidator")
    log.addHandler(handler := logging.NullHandler())
    yield
    log.removeHandler(handler)


def test_a_site_replayed_through_the_deploy_pipeline_is_covered_after_the_quiet_time(quiet_log: Any) -> None:
    outcomes = replay_site(deep_folder(), "changes only", (2,), Run.at_defaults())
    quiet = module_waits().quiet_seconds
    assert [o.deploy_number for o in outcomes] == [1, 2]
    for o in outcomes:
        assert o.missed == 0
        assert o.dead_letters == 0
        assert o.ticks >= 1  # the flush was started by a tick the function sent itself
        assert o.settled_s is not None
        assert o.settled_s >= quiet  # never flushed before its deploy went quiet
        assert all(delay is not None for delay in o.delays)
