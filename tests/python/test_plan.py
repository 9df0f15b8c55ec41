"""GIVEN a batch's changed keys WHEN planned THEN one request per distribution with a stable reference."""

from __future__ import annotations

from cf_invalidator.aws.tree import Tree
from cf_invalidator.config import Config, Distribution
from cf_invalidator.core.coalesce import InProgress
from cf_invalidator.core.plan import caller_reference, fitted, plan_requests, refit

WWW = Distribution(label="www", id="EWWW", origin_path="")
BLOG = Distribution(label="blog", id="EBLOG", origin_path="/blog")
CONFIG = Config(distributions=(WWW, BLOG), max_paths=100)


def test_one_request_per_distribution_carrying_only_the_messages_it_serves() -> None:
    requests = plan_requests({"m1": ["blog/index.html"], "m2": ["about.html"]}, CONFIG)
    assert [(r.distribution.label, r.paths, r.message_ids) for r in requests] == [
        ("www", ("/about.html", "/blog/", "/blog/index.html"), frozenset({"m1", "m2"})),
        ("blog", ("/", "/index.html"), frozenset({"m1"})),
    ]


def test_distribution_serving_no_changed_key_gets_no_request() -> None:
    requests = plan_requests({"m1": ["about.html"]}, CONFIG)
    assert [r.distribution.label for r in requests] == ["www"]


def test_duplicate_changes_in_a_batch_become_one_path() -> None:
    requests = plan_requests({"m1": ["a.html"], "m2": ["a.html"], "m3": ["a.html"]}, CONFIG)
    assert requests[0].paths == ("/a.html",)
    assert requests[0].changed_paths == 1


def test_request_over_budget_is_coalesced() -> None:
    small = Config(distributions=(WWW,), max_paths=2)
    requests = plan_requests({"m1": [f"docs/{i}.html" for i in range(5)] + ["a.html"]}, small)
    assert requests[0].paths == ("/a.html", "/docs/*")
    assert requests[0].changed_paths == 6


def test_caller_reference_is_the_same_for_the_same_batch_in_any_order() -> None:
    first = caller_reference("E1", ["/b", "/a"], frozenset({"m2", "m1"}))
    again = caller_reference("E1", ["/a", "/b"], frozenset({"m1", "m2"}))
    assert first == again


def test_caller_reference_changes_with_distribution_paths_or_messages() -> None:
    base = caller_reference("E1", ["/a"], frozenset({"m1"}))
    assert caller_reference("E2", ["/a"], frozenset({"m1"})) != base
    assert caller_reference("E1", ["/b"], frozenset({"m1"})) != base
    assert caller_reference("E1", ["/a"], frozenset({"m1", "m2"})) != base


def test_invalidation_batch_has_matching_quantity_and_the_reference() -> None:
    request = plan_requests({"m1": ["a.html", "b.html"]}, CONFIG)[0]
    batch = request.invalidation_batch()
    assert batch == {
        "Paths": {"Quantity": 2, "Items": ["/a.html", "/b.html"]},
        "CallerReference": request.caller_reference,
    }
    assert len(request.caller_reference) <= 128


def whole_tree(below: dict[str, int]) -> Tree:
    """A tree listed whole from the bucket's root: `below` gives each directory's evictions."""
    return Tree(prefix="", origin="", below=below, complete=True, seen_before=None)


def test_with_the_tree_the_request_is_the_cheapest_cover() -> None:
    changed = {f"/guide/{n}.html" for n in range(30)} | {"/about.html"}
    request = fitted(WWW, changed, frozenset({"m1"}), 100, None, tree=whole_tree({"/": 50}))
    assert request.paths == ("/about.html", "/guide/*")
    assert request.fits and request.changed == frozenset(changed)


def test_the_cover_holds_the_wildcards_left_and_the_file_paths_left() -> None:
    changed = {f"/{d}/{n}.html" for d in "abcd" for n in range(5)}
    tree = whole_tree({"/": 100})  # every directory but the root evicts nothing
    idle = fitted(WWW, changed, frozenset({"m1"}), 100, InProgress(), tree=tree)
    assert idle.paths == ("/a/*", "/b/*", "/c/*", "/d/*")
    crowded = fitted(WWW, changed, frozenset({"m1"}), 100, InProgress(wildcards=13, files=2990), tree=tree)
    assert len([p for p in crowded.paths if p.endswith("*")]) == 2  # all that is left
    assert len(crowded.paths) == 12  # and 10 file paths: all that is left


def test_deploy_whose_optimum_needs_ten_wildcards_gets_it_not_everything_on_an_idle_distribution() -> None:
    # GIVEN ten folders rewritten whole (20 pages each), three of the 30 pages of /o0/ rewritten, and
    # 149 pages unchanged: 27 in /o0/, 30 in each of /o1/ .. /o4/, 2 at the root
    folders = [f"f{n:02}" for n in range(10)]
    changed = {f"/{f}/p{n:02}.html" for f in folders for n in range(20)} | {
        f"/o0/p{n}.html" for n in range(3)
    }
    tree = whole_tree({"/": 149, "/o0/": 27})
    # WHEN planned with nothing in progress
    request = fitted(WWW, changed, frozenset({"m1"}), 1000, InProgress(), tree=tree)
    # THEN the cheapest cover by the rule (paths + evictions / 3): the ten folders' wildcards evict
    # nothing (10 + 3 exact pages: 13), where /* costs 1 + 149 / 3 and /o0/* costs 1 + 27 / 3 > 3
    assert set(request.paths) == {f"/{f}/*" for f in folders} | {"/o0/p0.html", "/o0/p1.html", "/o0/p2.html"}


def test_without_a_cover_in_the_limits_the_request_is_coalesced_blind() -> None:
    changed = {f"/docs/{n}.html" for n in range(5)} | {"/a.html"}
    unknown = Tree(prefix="", origin="", below={}, complete=False, seen_before=None)
    request = fitted(WWW, changed, frozenset({"m1"}), 2, None, tree=unknown)
    assert request.paths == ("/a.html", "/docs/*")  # as coalesce() alone gives it


def test_evictions_per_path_zero_keeps_exact_paths_over_a_directory_with_one_unchanged_object() -> None:
    changed = {f"/guide/{n}.html" for n in range(30)}
    tree = whole_tree({"/": 1, "/guide/": 1})
    assert fitted(WWW, changed, frozenset(), 100, None, tree=tree, evictions_per_path=0).paths == tuple(
        sorted(changed)
    )
    assert fitted(WWW, changed, frozenset(), 100, None, tree=tree, evictions_per_path=1).paths == (
        "/guide/*",
    )


def test_refit_keeps_the_tree() -> None:
    changed = {f"/guide/{n}.html" for n in range(30)}
    request = fitted(WWW, changed, frozenset({"m1"}), 100, None, tree=whole_tree({"/": 5}))
    assert refit(request, 100, InProgress(wildcards=15)).paths == tuple(sorted(changed))  # no wildcard left
    assert not refit(request, 10, InProgress(wildcards=15)).fits
    assert refit(request, 10, InProgress(wildcards=12)).paths == ("/guide/*",)
