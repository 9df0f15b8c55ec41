"""GIVEN a key's version history WHEN a created version is judged THEN unchanged, new, changed or unverified.

Pure: histories and HeadObject answers are written by hand, as ListObjectVersions and HeadObject give them:
each kind (versions, delete markers) newest first, S3's own order, whatever their LastModified.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cf_invalidator.core.history import (
    TRUST_WINDOW,
    Entry,
    Fingerprint,
    Reason,
    Step,
    Verdict,
    directory,
    fingerprint,
    heads_needed,
    invalidates,
    key_verdict,
    replaced_entry,
    version_verdict,
)

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def at(seconds_ago: int) -> datetime:
    return NOW - timedelta(seconds=seconds_ago)


def version(version_id: str, seconds_ago: int, etag: str = '"e1"', *, latest: bool = False) -> Entry:
    return Entry(version_id, at(seconds_ago), etag, is_latest=latest)


def marker(version_id: str, seconds_ago: int, *, latest: bool = False) -> Entry:
    return Entry(version_id, at(seconds_ago), None, is_latest=latest)


HTML = fingerprint({"ETag": '"e1"', "ContentType": "text/html", "Metadata": {"a": "1", "b": "2"}})


def test_identical_version_is_unchanged() -> None:
    history = (version("v2", 10), version("v1", 100))
    assert heads_needed(history, "v2", NOW) == ("v2", "v1")
    assert version_verdict(history, "v2", {"v2": HTML, "v1": HTML}, NOW) is Verdict.UNCHANGED


def test_other_etag_is_changed_without_looking_at_headers() -> None:
    history = (version("v2", 10, '"e2"'), version("v1", 100))
    assert heads_needed(history, "v2", NOW) == ()
    assert version_verdict(history, "v2", {}, NOW) is Verdict.CHANGED


@pytest.mark.parametrize(
    "other",
    [
        {"ContentType": "text/plain"},
        {"ContentEncoding": "gzip"},
        {"ContentLanguage": "de"},
        {"ContentDisposition": "attachment"},
        {"CacheControl": "max-age=60"},
        {"ExpiresString": "Thu, 01 Dec 2026 16:00:00 GMT"},
        {"WebsiteRedirectLocation": "/new.html"},
        {"Metadata": {"a": "1", "b": "3"}},
    ],
)
def test_same_bytes_with_another_served_header_is_changed(other: dict[str, object]) -> None:
    history = (version("v2", 10), version("v1", 100))
    base = {"ETag": '"e1"', "ContentType": "text/html", "Metadata": {"a": "1", "b": "2"}}
    heads = {"v2": fingerprint({**base, **other}), "v1": HTML}
    assert version_verdict(history, "v2", heads, NOW) is Verdict.CHANGED


def test_metadata_order_does_not_matter() -> None:
    assert fingerprint({"Metadata": {"a": "1", "b": "2"}}) == fingerprint({"Metadata": {"b": "2", "a": "1"}})


def test_headers_not_served_do_not_count() -> None:
    assert fingerprint({"ETag": "x", "VersionId": "v1", "LastModified": NOW}) == fingerprint(
        {"ETag": "x", "VersionId": "v2", "LastModified": at(5)}
    )


def test_first_version_is_new() -> None:
    assert version_verdict((version("v1", 10),), "v1", {}, NOW) is Verdict.NEW


def test_version_after_a_delete_marker_is_new_even_if_the_bytes_are_old() -> None:
    """The marker is newer than v1 by LastModified, but v1's is only the earliest it was written (a
    multipart upload's start): new after the marker, or unchanged after v1, so judged new."""
    history = (version("v2", 10, latest=True), version("v1", 100), marker("d1", 50))
    assert heads_needed(history, "v2", NOW) == ("v2", "v1")
    assert version_verdict(history, "v2", {"v2": HTML, "v1": HTML}, NOW) is Verdict.NEW


def test_multipart_completed_after_a_racing_put_is_compared_with_the_put() -> None:
    """Issue 19: the multipart upload (listed first, current) started before the racing PUT, so its
    LastModified is older; its bytes are those of the version before the race. It replaced the PUT,
    whose content viewers may hold: a change, never compared with v1."""
    history = (
        version("multipart", 60, '"a"', latest=True),
        version("racing-put", 30, '"w"'),
        version("v1", 600, '"a"'),
    )
    assert replaced_entry(history, "multipart") == Step(history[0], history[1], marker_between=False)
    assert heads_needed(history, "multipart", NOW) == ()
    judgement = version_verdict(history, "multipart", {"multipart": HTML, "v1": HTML}, NOW)
    assert judgement is Verdict.CHANGED
    assert invalidates(judgement, invalidate_new_objects=False)


def test_the_racing_put_itself_is_compared_with_the_version_listed_after_it() -> None:
    history = (version("multipart", 60, latest=True), version("racing-put", 30), version("v1", 600))
    assert version_verdict(history, "racing-put", {"racing-put": HTML, "v1": HTML}, NOW) is Verdict.UNCHANGED


def test_versions_at_the_same_second_are_ordered_by_the_listing() -> None:
    history = (version("v2", 10, latest=True), version("v1", 10))
    assert replaced_entry(history, "v2") == Step(history[0], history[1], marker_between=False)
    assert version_verdict(history, "v2", {"v2": HTML, "v1": HTML}, NOW) is Verdict.UNCHANGED


@pytest.mark.parametrize(
    "history",
    [
        # a marker made at least a second before the replaced version's LastModified
        (version("v2", 10, latest=True), version("v1", 100), marker("d1", 101)),
        # the current entry is a delete marker: newer than every version
        (marker("d2", 5, latest=True), version("v2", 10), version("v1", 100)),
        # several markers, all older than v1
        (version("v2", 10, latest=True), version("v1", 100), marker("d2", 200), marker("d1", 300)),
    ],
)
def test_delete_markers_certainly_outside_the_pair_do_not_count(history: tuple[Entry, ...]) -> None:
    step = replaced_entry(history, "v2")
    assert isinstance(step, Step)
    assert (step.previous, step.marker_between) == (version("v1", 100), False)
    assert version_verdict(history, "v2", {"v2": HTML, "v1": HTML}, NOW) is Verdict.UNCHANGED


@pytest.mark.parametrize(
    "history",
    [
        (version("v2", 10, latest=True), marker("d1", 100), version("v1", 100)),  # the same second as v1
        (version("v2", 10, latest=True), version("v1", 100), marker("d1", 50)),  # newer than v1
        (version("v3", 5, latest=True), marker("d2", 7), version("v2", 10), version("v1", 100)),  # after v2?
    ],
)
def test_delete_marker_that_may_lie_between_makes_unchanged_new(history: tuple[Entry, ...]) -> None:
    """LastModified is the only order between the two lists and only a lower bound of a version's place:
    either reading (new after the marker, unchanged after v1) is skipped only when new objects are."""
    step = replaced_entry(history, "v2")
    assert isinstance(step, Step) and step.marker_between
    judgement = version_verdict(history, "v2", {"v2": HTML, "v1": HTML}, NOW)
    assert judgement is Verdict.NEW
    assert invalidates(judgement, invalidate_new_objects=True)
    assert not invalidates(judgement, invalidate_new_objects=False)


def test_delete_marker_that_may_lie_between_leaves_a_change_a_change() -> None:
    history = (version("v2", 10, '"e2"', latest=True), version("v1", 100), marker("d1", 50))
    assert version_verdict(history, "v2", {}, NOW) is Verdict.CHANGED


def test_lifecycle_delete_marker_stamped_midnight_may_have_been_made_that_day() -> None:
    """S3 Lifecycle stamps the markers it creates 00:00 UTC of the day it makes them: one stamped
    before v1 may still have been made after it, the same day."""
    midnight = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    v1 = Entry("v1", midnight + timedelta(hours=6), '"e1"')
    v2 = Entry("v2", NOW - timedelta(seconds=10), '"e1"', is_latest=True)
    lifecycle = (v2, v1, Entry("d1", midnight, None))
    assert version_verdict(lifecycle, "v2", {"v2": HTML, "v1": HTML}, NOW) is Verdict.NEW
    a_day_before = (v2, v1, Entry("d1", midnight - timedelta(days=1), None))
    assert version_verdict(a_day_before, "v2", {"v2": HTML, "v1": HTML}, NOW) is Verdict.UNCHANGED
    user_marker = (v2, v1, Entry("d1", midnight + timedelta(seconds=1), None))
    assert version_verdict(user_marker, "v2", {"v2": HTML, "v1": HTML}, NOW) is Verdict.UNCHANGED


def test_a_tie_elsewhere_in_the_history_does_not_matter() -> None:
    history = (version("v3", 10), version("v2", 100), version("v1", 500), marker("d1", 500))
    assert version_verdict(history, "v3", {"v3": HTML, "v2": HTML}, NOW) is Verdict.UNCHANGED


def test_version_missing_from_the_listing_is_unverified() -> None:
    assert version_verdict((version("v1", 100),), "v2", {}, NOW) is Reason.VERSION_NOT_LISTED


def test_version_older_than_the_trust_window_is_unverified() -> None:
    """Its predecessor may have been removed by a noncurrent-version expiration (a day at the least)."""
    history = (version("v2", 13 * 3600), version("v1", 14 * 3600))
    assert heads_needed(history, "v2", NOW) == ()
    assert version_verdict(history, "v2", {"v2": HTML, "v1": HTML}, NOW) is Reason.HISTORY_MAY_HAVE_EXPIRED


def test_version_exactly_at_the_trust_window_is_still_compared() -> None:
    edge = int(TRUST_WINDOW.total_seconds())
    history = (version("v2", edge), version("v1", edge + 100))
    assert heads_needed(history, "v2", NOW) == ("v2", "v1")
    assert version_verdict(history, "v2", {"v2": HTML, "v1": HTML}, NOW) is Verdict.UNCHANGED
    late = (version("v2", edge + 1), version("v1", edge + 100))
    assert version_verdict(late, "v2", {"v2": HTML, "v1": HTML}, NOW) is Reason.HISTORY_MAY_HAVE_EXPIRED


def test_version_id_of_a_delete_marker_is_not_a_listed_version() -> None:
    history = (marker("d1", 10), version("v1", 100))
    assert replaced_entry(history, "d1") is Reason.VERSION_NOT_LISTED
    assert version_verdict(history, "d1", {}, NOW) is Reason.VERSION_NOT_LISTED


def test_failed_listing_or_head_is_unverified() -> None:
    assert version_verdict(Reason.LOOKUP_ERROR, "v2", {}, NOW) is Reason.LOOKUP_ERROR
    history = (version("v2", 10), version("v1", 100))
    assert version_verdict(history, "v2", {"v2": HTML, "v1": Reason.NO_TIME}, NOW) is Reason.NO_TIME
    assert version_verdict(history, "v2", {"v2": HTML}, NOW) is Reason.LOOKUP_ERROR


def test_a_to_b_to_a_in_one_batch_is_changed() -> None:
    """B may have been cached while it was current: both transitions count, not only first and last."""
    history = (version("v3", 10, '"a"'), version("v2", 20, '"b"'), version("v1", 100, '"a"'))
    judgements = [version_verdict(history, v, {}, NOW) for v in ("v2", "v3")]
    assert judgements == [Verdict.CHANGED, Verdict.CHANGED]
    assert key_verdict(judgements) is Verdict.CHANGED


@pytest.mark.parametrize(
    ("judgements", "expected"),
    [
        ([Verdict.UNCHANGED, Verdict.UNCHANGED], Verdict.UNCHANGED),
        ([Verdict.NEW, Verdict.UNCHANGED], Verdict.NEW),
        ([Verdict.NEW, Verdict.CHANGED], Verdict.CHANGED),
        ([Verdict.UNCHANGED, Reason.NO_TIME], Reason.NO_TIME),
        ([Reason.NO_TIME, Reason.LOOKUP_ERROR], Reason.LOOKUP_ERROR),
        ([Reason.VERSION_NOT_LISTED, Verdict.CHANGED, Reason.LOOKUP_ERROR], Reason.LOOKUP_ERROR),
        ([Verdict.CHANGED, Verdict.UNCHANGED], Verdict.CHANGED),
        ([Verdict.UNCHANGED, Verdict.NEW, Verdict.UNCHANGED], Verdict.NEW),
        ([], Verdict.CHANGED),
    ],
)
def test_a_key_is_skipped_only_when_each_of_its_versions_is(
    judgements: list[Verdict | Reason], expected: object
) -> None:
    assert key_verdict(judgements) == expected


@pytest.mark.parametrize(
    ("judgement", "invalidate_new", "expected"),
    [
        (Verdict.UNCHANGED, True, False),
        (Verdict.NEW, True, True),
        (Verdict.NEW, False, False),
        (Verdict.CHANGED, False, True),
        (Reason.NO_VERSION_ID, False, True),
    ],
)
def test_what_invalidates(judgement: Verdict | Reason, invalidate_new: bool, expected: bool) -> None:
    assert invalidates(judgement, invalidate_new) is expected


@pytest.mark.parametrize(("key", "prefix"), [("docs/a/b.html", "docs/a/"), ("a.html", ""), ("dir/", "dir/")])
def test_directory_is_the_listing_prefix(key: str, prefix: str) -> None:
    assert directory(key) == prefix


def test_fingerprints_of_equal_heads_are_equal() -> None:
    first: Fingerprint = fingerprint({"ETag": '"e1"', "ContentType": "text/html", "Metadata": {}})
    assert first == fingerprint({"ETag": '"e1"', "ContentType": "text/html", "Metadata": {}})
