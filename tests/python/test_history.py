"""GIVEN a key's version history WHEN a created version is judged THEN unchanged, new, changed or unverified.

Pure: histories and HeadObject answers are written by hand, as ListObjectVersions and HeadObject give them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cf_invalidator.history import (
    TRUST_WINDOW,
    Entry,
    Fingerprint,
    Reason,
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


def version(version_id: str, seconds_ago: int, etag: str = '"e1"') -> Entry:
    return Entry(version_id, at(seconds_ago), etag)


def marker(version_id: str, seconds_ago: int) -> Entry:
    return Entry(version_id, at(seconds_ago), None)


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
    history = (version("v2", 10), marker("d1", 50), version("v1", 100))
    assert heads_needed(history, "v2", NOW) == ()
    assert version_verdict(history, "v2", {}, NOW) is Verdict.NEW


def test_entries_are_ordered_by_last_modified_whatever_their_list() -> None:
    """boto3 returns versions and delete markers in two lists: a marker older than the version's
    predecessor does not count, one between them does."""
    older_marker = (version("v2", 10), version("v1", 100), marker("d1", 200))
    assert replaced_entry(older_marker, "v2") == (version("v2", 10), version("v1", 100))
    newer_entries = (version("v3", 5, '"e3"'), marker("d2", 7), version("v2", 10), version("v1", 100))
    assert replaced_entry(newer_entries, "v2") == (version("v2", 10), version("v1", 100))


@pytest.mark.parametrize(
    "history",
    [
        (version("v2", 10), marker("d1", 10), version("v1", 100)),  # a marker at the same second
        (version("v2", 10), version("v1", 10)),  # two versions at the same second
        (version("v2", 10), marker("d1", 100), version("v1", 100)),  # predecessor unclear
    ],
)
def test_equal_last_modified_around_the_version_is_ambiguous(history: tuple[Entry, ...]) -> None:
    assert replaced_entry(history, "v2") is Reason.AMBIGUOUS_ORDER
    assert heads_needed(history, "v2", NOW) == ()
    assert version_verdict(history, "v2", {"v2": HTML, "v1": HTML}, NOW) is Reason.AMBIGUOUS_ORDER


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
        ([Reason.NO_TIME, Reason.AMBIGUOUS_ORDER], Reason.AMBIGUOUS_ORDER),
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
