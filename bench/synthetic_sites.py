"""Synthetic sites built to break the rules a planner could lean on, and the lone edit of a real site.

Each site is a replay.Site (the tree before its first deploy, and its deploys), so deploy_replay.py
replays it as it replays the real ones. Pages are `<folder>page-NN.html` plus each folder's
`index.html` (two viewer paths: `/folder/` and `/folder/index.html`). Each site's second deploy is a full
regeneration (every object rewritten); its first is the case:
- ten folders: 20 folders of 16 pages and 10 pages at the root; the deploy rewrites 10 folders whole
  and 3 pages elsewhere, so its optimum holds 10 wildcards (more than a planner rationing wildcards per
  batch gives one deploy);
- many folders: 60 folders of 10 pages; the deploy rewrites 40 of them whole, more folders than
  CloudFront's 15 wildcards in progress;
- one deep folder: a folder 5 levels down holding 150 pages, with pages at every level above it and a
  sibling section; the deploy rewrites the deep folder whole;
- flat: 400 pages at the root, no folder at all; the deploy rewrites every fifth page.
The lone edit: the tree of a real site after its last deploy, and one deploy that rewrites one page of
it, into a bucket quiet for a day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from replay import Deploy, Site

FIRST_DEPLOY = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
FULL_REGENERATION = 2  # each synthetic site's second deploy


def pages(folder: str, count: int) -> list[str]:
    """`count` pages in `folder` ("" the root, else ending in "/"), and its index document."""
    return [f"{folder}page-{n:02}.html" for n in range(count)] + [f"{folder}index.html"]


def with_regeneration(name: str, tree: Sequence[str], rewritten: Sequence[str]) -> Site:
    """A site of `tree`: a deploy rewriting `rewritten`, then one rewriting the whole tree."""
    first = Deploy(FIRST_DEPLOY.isoformat(), frozenset(), frozenset(rewritten), frozenset())
    full = Deploy((FIRST_DEPLOY + timedelta(days=1)).isoformat(), frozenset(), frozenset(tree), frozenset())
    return Site(name, tuple(sorted(tree)), (first, full))


def ten_folders() -> Site:
    folders = [pages(f"section-{n:02}/", 15) for n in range(20)]
    tree = [key for folder in folders for key in folder] + pages("", 9)
    elsewhere = ["section-15/page-03.html", "section-17/page-08.html", "page-02.html"]
    return with_regeneration("ten-folders", tree, [k for f in folders[:10] for k in f] + elsewhere)


def many_folders() -> Site:
    folders = [pages(f"topic-{n:02}/", 9) for n in range(60)]
    tree = [key for folder in folders for key in folder] + ["index.html"]
    return with_regeneration("many-folders", tree, [k for f in folders[:40] for k in f])


def deep_folder() -> Site:
    levels = ["docs/", "docs/v2/", "docs/v2/api/", "docs/v2/api/reference/", "docs/v2/api/reference/types/"]
    deep = pages(levels[-1], 149)
    tree = [k for level in levels[:-1] for k in pages(level, 5)] + deep + pages("blog/", 20) + ["index.html"]
    return with_regeneration("deep-folder", tree, deep)


def flat() -> Site:
    tree = pages("", 399)
    return with_regeneration("flat", tree, tree[::5])


SYNTHETIC = {
    "ten-folders": ten_folders,
    "many-folders": many_folders,
    "deep-folder": deep_folder,
    "flat": flat,
}


def lone_edit(site: Site) -> Site:
    """The site's tree after its last deploy, and a deploy a day later rewriting one page of it (the
    middle one of its HTML pages in key order)."""
    *_, (last, tree) = site.trees()
    html = sorted(key for key in tree if key.endswith(".html"))
    edit = Deploy(
        (last.started + timedelta(days=1)).isoformat(),
        frozenset(),
        frozenset({html[len(html) // 2]}),
        frozenset(),
    )
    return Site(f"lone-edit.{site.name}", tuple(sorted(tree)), (edit,))
