"""GIVEN the deploy pipeline over moto (S3, SQS, DynamoDB, CloudFront) on a virtual clock WHEN uploads,
edits, crashes and CloudFront's refusals come THEN each change is invalidated once the bucket is quiet,
by one flush at a time, or reaches the dead-letter queue (deploy.py, flush.py, inbox.py, timer.py).

Correctness is judged by the path oracle (support/path_oracle.py) and by S3 bodies read as S3 writes
them, never by the code under test. Delays and visibility timeouts pass on the virtual clock.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from support.deploy_world import Crash, make_world

QUIET_S = 5
MAX_WAIT_S = 120


def site_keys(count: int, folder: str = "docs") -> list[str]:
    return [f"{folder}/page-{n:03}.html" for n in range(count)]


def upload(world: Any, container: Any, keys: list[str], per_second: int = 100) -> None:
    """Write the keys at `per_second`, the event source handing batches over as they arrive."""
    for start in range(0, len(keys), 10):
        world.write(keys[start : start + 10])
        world.clock.advance(10 / per_second)
        container.step()


def test_deploy_of_300_changes_in_many_batches_is_flushed_as_one_invalidation_after_the_quiet_time(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(monkeypatch, quiet=QUIET_S, max_wait=MAX_WAIT_S)
    container = world.container()
    keys = site_keys(300)
    upload(world, container, keys)
    last_write = world.clock()
    container.run(60)
    assert len(world.invalidated_at) == 1
    assert world.invalidated_at[0][0] >= last_write + QUIET_S - 0.1
    assert world.uncovered(keys) == set()
    assert world.inbox_items() == 0
    assert world.dead_letter_keys() == []


def test_lone_edit_is_flushed_once_quiet_without_a_batching_window(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(monkeypatch, quiet=QUIET_S, max_wait=MAX_WAIT_S)
    container = world.container()
    written = world.clock()
    world.write(["about.html"])
    container.run(30)
    at = world.covered_at("about.html")
    assert at is not None
    assert written + QUIET_S <= at <= written + QUIET_S + 2
    assert len(world.invalidated_at) == 1


def test_writer_that_never_stops_is_flushed_within_the_longest_wait(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(monkeypatch, quiet=QUIET_S, max_wait=60)
    container = world.container()
    keys = site_keys(300, folder="logs")
    written: dict[str, float] = {}
    for key in keys:  # one object a second
        written[key] = world.clock()
        world.write([key])
        while container.step():
            pass
        world.clock.advance(1)
    container.run(120)
    assert world.uncovered(keys) == set()
    late = {k: world.covered_at(k) - t for k, t in written.items() if world.covered_at(k) - t > 60 + 10}  # type: ignore[operator]
    assert late == {}
    assert 300 / 60 - 1 <= len(world.invalidated_at) <= 300 / 60 + 2


def test_two_containers_racing_for_the_lease_make_one_invalidation(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(monkeypatch, quiet=QUIET_S, max_wait=MAX_WAIT_S)
    first, second = world.container(), world.container()
    world.write(site_keys(20))
    while first.step():  # accepted: one tick pending
        pass
    world.source.send_message(  # a second tick for the same distribution, as a racing accept sends
        QueueUrl=world.queue_url,
        MessageBody=f'{{"cf_invalidator":"flush","distribution":"{world.distribution.id}"}}',
    )
    world.clock.advance(QUIET_S + 1)
    raced: list[bool] = []
    world.cloudfront.on["create_invalidation"] = lambda: raced.append(second.step())  # while first flushes
    assert first.step(max_messages=1)
    assert raced and raced[0]  # the second container received the other tick during the flush
    world.cloudfront.on.clear()
    first.run(60)
    second.run(60)
    assert len(world.invalidated_at) == 1
    assert world.uncovered(site_keys(20)) == set()


# The upload below is 4 batches of 10 messages: 4 accepts (each BatchWriteItem, UpdateItem `accepted`,
# and for the first only, SendMessage of the tick and UpdateItem `tick_due`), then the flush (UpdateItem
# claim, Query, CreateInvalidation, BatchWriteItem delete, GetItem and Query, UpdateItem release).
def test_changes_accepted_while_a_flush_releases_its_lease_are_flushed_after_it(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(monkeypatch, quiet=QUIET_S, max_wait=MAX_WAIT_S)
    holder, other = world.container(), world.container()
    world.write(site_keys(10))
    holder.run(QUIET_S - 1)
    queries: list[int] = []
    late = site_keys(5, folder="late")

    def accept_late() -> None:  # after the flush's last look at the inbox, before it releases the lease
        if len(queries) == 2:
            queries.append(0)
            world.write(late)
            assert other.step()

    world.dynamodb.on.update({"query": lambda: queries.append(0), "update_item": accept_late})
    holder.run(5)
    assert len(queries) >= 3  # the late changes came in at that moment
    world.dynamodb.on.clear()
    holder.run(60)
    assert world.uncovered(site_keys(10) + late) == set()
    assert world.inbox_items() == 0


CRASH_POINTS = {
    "after accepting, before the tick is sent": ("sqs", Crash("send_message", 1)),
    "after the tick is sent, before it is recorded": ("dynamodb", Crash("update_item", 2)),
    "after claiming the lease": ("dynamodb", Crash("query", 1)),
    "after CreateInvalidation, before the inbox is emptied": (
        "cloudfront",
        Crash("create_invalidation", 1, True),
    ),
    "after the inbox is emptied, before the lease is released": (
        "dynamodb",
        Crash("batch_write_item", 5, True),
    ),
}


@pytest.mark.parametrize("crash", list(CRASH_POINTS.values()), ids=list(CRASH_POINTS))
def test_container_dying_at_any_step_still_invalidates_every_change_without_dead_letters(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch, crash: tuple[str, Crash]
) -> None:
    """A crash repeats at most one CreateInvalidation: the same request when the inbox was not emptied
    (the same CallerReference, billed once), or one more flush when an accept is redelivered."""
    world = make_world(monkeypatch, crash=crash, quiet=QUIET_S, max_wait=MAX_WAIT_S)
    container = world.container()
    keys = site_keys(40)
    upload(world, container, keys)
    container.run(400)
    assert crash[1].fired
    assert world.uncovered(keys) == set()
    assert len(world.invalidated_at) <= 2
    assert world.dead_letter_keys() == []
    assert world.inbox_items() == 0


def test_flush_run_again_after_createinvalidation_asks_for_the_same_invalidation(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    crash = Crash("create_invalidation", 1, after=True)
    world = make_world(monkeypatch, crash=("cloudfront", crash), quiet=QUIET_S, max_wait=MAX_WAIT_S)
    container = world.container()
    keys = site_keys(40)
    upload(world, container, keys)
    container.run(400)
    assert crash.fired
    references = [reference for _, _, reference in world.invalidated_at]
    assert len(references) == 2
    assert len(set(references)) == 1  # CloudFront answers the repeat with the invalidation it made
    assert world.uncovered(keys) == set()


def throttled(**_: Any) -> Any:
    raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "CreateInvalidation")


def denied(**_: Any) -> Any:
    raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "CreateInvalidation")


def test_changes_cloudfront_keeps_throttling_reach_the_dead_letter_queue_after_the_retries(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(monkeypatch, quiet=QUIET_S, max_wait=MAX_WAIT_S)
    world.cloudfront.on["create_invalidation"] = throttled
    container = world.container()
    keys = site_keys(15)
    world.write(keys)
    container.run(30)
    assert world.dead_letter_keys() == []  # still retried
    container.run(4 * 900)
    assert sorted(world.dead_letter_keys()) == sorted(keys)
    assert world.inbox_items() == 0


def test_changes_cloudfront_refuses_reach_the_dead_letter_queue_at_once(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(monkeypatch, quiet=QUIET_S, max_wait=MAX_WAIT_S)
    world.cloudfront.on["create_invalidation"] = denied
    container = world.container()
    world.write(["a.html", "b/c.html"])
    container.run(30)
    assert sorted(world.dead_letter_keys()) == ["a.html", "b/c.html"]
    assert world.inbox_items() == 0


def test_deploy_needing_ten_wildcards_is_flushed_as_that_cover_not_everything(
    mocked_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a site of 372 pages: ten folders and /o0/ .. /o4/ of 20 and 30 pages, two at the root
    world = make_world(monkeypatch, quiet=QUIET_S, max_wait=MAX_WAIT_S)
    folders = [f"f{n:02}" for n in range(10)]
    rewritten = [f"{f}/p{n:02}.html" for f in folders for n in range(20)] + [
        f"o0/p{n}.html" for n in range(3)
    ]
    untouched = [f"o{o}/p{n}.html" for o in range(5) for n in range(30) if f"o{o}/p{n}.html" not in rewritten]
    for key in [*untouched, "index.html", "about.html"]:  # in the bucket before the deploy, no event
        world.s3.put_object(Bucket="example-site", Key=key, Body=b"<p>old</p>", ContentType="text/html")
    container = world.container()
    # WHEN the deploy rewrites the ten folders whole and three pages of /o0/, and the bucket goes quiet
    upload(world, container, rewritten)
    container.run(60)
    # THEN one invalidation, the cheapest cover by the rule (paths + evictions / 3, nothing in progress):
    # each folder's wildcard evicts nothing, /o0/* would evict 27 pages for 3, /* all 149 untouched
    assert [set(paths) for _, paths, _ in world.invalidated_at] == [
        {f"/{f}/*" for f in folders} | {"/o0/p0.html", "/o0/p1.html", "/o0/p2.html"}
    ]
    assert world.uncovered(rewritten) == set()
