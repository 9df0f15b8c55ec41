"""The spend guard: past max_paths_per_day in 24 hours, a distribution gets at most one `/*` an interval.

Every request's paths are reserved in a DynamoDB table before CreateInvalidation, one item per
distribution (partition key `distribution_id`) holding a count per hour (`h<hours since the epoch>`), a
`revision`, the time of the last `/*` the guard sent (`wildcard_at`, epoch seconds) and a TTL attribute
`expires_at` (an item idle for two days goes). The window is the current hour and the 23 before it. A
reservation reads the item (GetItem, strongly consistent), and writes with UpdateItem on the condition
that `revision` is still the one read: of two containers racing, one write wins and the other reads
again and counts on top of it, so every path is counted once whatever the concurrency.

Past the ceiling, the request is sent as `/*` (one path, counted) only if no `/*` was sent in the last
`interval_s`; otherwise it waits (`Admission.wait_s`): its messages fail, and the flush keeps their
changes in the deploy inbox until the interval ends (flush.py), when the next flush plans every change
waiting then and sends the interval's `/*` for them. So a writer that never stops bills at most one
path an interval beyond the ceiling, and no change is dropped.

Paths count when CloudFront accepts them: a reservation CloudFront refused (`release`) is taken back,
and with it the interval's `/*`. A request the table cannot be read or written for (fail safe: a count
that cannot be read is taken as spent), or that loses MAX_ATTEMPTS races in a row, is sent as `/*`, as
the guard cannot tell what was spent.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ..core.plan import Request
from .invalidate import classify

logger = logging.getLogger(__name__)

WILDCARD = ("/*",)
HOUR_S = 3600
WINDOW_HOURS = 24
EXPIRES_AFTER_S = 2 * 24 * HOUR_S
MAX_ATTEMPTS = 4
KEY = "distribution_id"
CONFLICT = "ConditionalCheckFailedException"
DEFAULT_INTERVAL_S = 300  # the default of config.DEFAULT_SPEND_GUARD_INTERVAL_SECONDS, with its reasons


class DynamoDB(Protocol):
    def get_item(self, **kwargs: Any) -> Mapping[str, Any]: ...
    def update_item(self, **kwargs: Any) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Reservation:
    """Paths counted in an hour for a request CloudFront has not accepted yet; `wildcard_at`: the
    interval's `/*` it claimed (epoch seconds), given back with it."""

    distribution_id: str
    hour: int
    paths: int
    wildcard_at: int | None = None


@dataclass(frozen=True)
class Admission:
    """What the guard says of a request: send `request` (itself, or `/*` when `guarded`), or, when
    `wait_s` > 0, send nothing and retry its changes in that many seconds (the next `/*` is due)."""

    request: Request
    reservation: Reservation | None = None  # None: nothing counted for it
    guarded: bool = False
    wait_s: int = 0


@dataclass(frozen=True)
class _Item:
    revision: int | None  # None: no item yet
    hours: dict[int, int]
    wildcard_at: int | None


class SpendGuard:
    """Reserves each request's paths in the table; says when a request must become `/*` or wait."""

    def __init__(
        self,
        dynamodb: DynamoDB,
        table: str,
        max_paths_per_day: int,
        *,
        interval_s: int = DEFAULT_INTERVAL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._dynamodb, self._table, self._max = dynamodb, table, max_paths_per_day
        self._interval_s, self._clock = interval_s, clock

    def admit(self, request: Request, reserved: int = 0) -> Admission:
        """The admission of the request; `reserved`: paths already reserved for the same changes (a
        request fitted again), so only the paths it adds are counted."""
        needed = len(request.paths) - reserved
        if needed <= 0:
            return Admission(request)
        try:
            for _ in range(MAX_ATTEMPTS):
                item = self._read(request.distribution.id)
                used = self._in_window(item.hours)
                if used + needed > self._max:
                    admission = self._past_ceiling(request, item, used)
                elif self._reserve(request.distribution.id, item, needed, None):
                    admission = Admission(request, Reservation(request.distribution.id, self._hour(), needed))
                else:
                    admission = None
                if admission is not None:
                    return admission
            return self._fallback(request, f"lost {MAX_ATTEMPTS} races for the count")
        except (ClientError, BotoCoreError, KeyError, ValueError) as error:
            return self._fallback(request, f"count unreadable: {classify(error)[0]}")

    def release(self, reservations: Sequence[Reservation], keep: int = 0) -> None:
        """Take back what CloudFront did not accept: every reserved path beyond `keep` (the paths of the
        invalidations it created), oldest reservation first (a refit supersedes what was reserved before
        it), and, when it accepted nothing, the `/*` claimed. A failure only logs: the count then errs
        toward spent."""
        excess = sum(r.paths for r in reservations) - keep
        for reservation in reservations:
            paths = min(reservation.paths, max(excess, 0))
            excess -= paths
            try:
                self._give_back(reservation, paths, slot=keep == 0)
            except (ClientError, BotoCoreError) as error:
                _log_not_released(reservation, classify(error)[0])

    def _past_ceiling(self, request: Request, item: _Item, used: int) -> Admission | None:
        """`/*` if the interval's is not sent yet and this container claims it (None: lost the race,
        read again); else wait until the interval ends."""
        now = int(self._clock())
        if item.wildcard_at is not None and now < item.wildcard_at + self._interval_s:
            wait_s = item.wildcard_at + self._interval_s - now
            _log_waiting(request, used, self._max, wait_s)
            return Admission(request, wait_s=wait_s)
        if not self._reserve(request.distribution.id, item, 1, now):
            return None
        reservation = Reservation(request.distribution.id, self._hour(), 1, now)
        reason = f"{used} paths in the last 24 h"
        return Admission(self._wildcard(request, reason, used), reservation, guarded=True)

    def _read(self, distribution_id: str) -> _Item:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={KEY: {"S": distribution_id}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return _Item(None, {}, None)
        hours = {int(name[1:]): int(value["N"]) for name, value in item.items() if name.startswith("h")}
        wildcard_at = int(item["wildcard_at"]["N"]) if "wildcard_at" in item else None
        return _Item(int(item["revision"]["N"]), hours, wildcard_at)

    def _hour(self) -> int:
        return int(self._clock() // HOUR_S)

    def _in_window(self, hours: Mapping[int, int]) -> int:
        now = self._hour()
        return sum(count for hour, count in hours.items() if now - WINDOW_HOURS < hour <= now)

    def _reserve(self, distribution_id: str, item: _Item, paths: int, wildcard_at: int | None) -> bool:
        """Add `paths` to this hour (and set `wildcard_at` when given) if nobody wrote since `item` was
        read; False when somebody did."""
        now = self._hour()
        expired = [f"h{hour}" for hour in item.hours if hour <= now - WINDOW_HOURS]
        names = {"#h": f"h{now}"} | {f"#x{i}": name for i, name in enumerate(expired)}
        remove = (" REMOVE " + ", ".join(f"#x{i}" for i in range(len(expired)))) if expired else ""
        values = self._count_values(paths, wildcard_at)
        condition = "attribute_not_exists(revision)"
        if item.revision is not None:
            condition, values[":revision"] = "revision = :revision", {"N": str(item.revision)}
        try:
            self._update(distribution_id, names, values, remove, condition)
        except ClientError as error:
            if classify(error)[0] == CONFLICT:
                return False
            raise
        return True

    def _count_values(self, paths: int, wildcard_at: int | None) -> dict[str, Any]:
        values = {
            ":n": {"N": str(paths)},
            ":zero": {"N": "0"},
            ":expires": {"N": str(int(self._clock()) + EXPIRES_AFTER_S)},
        }
        return values if wildcard_at is None else values | {":wildcard_at": {"N": str(wildcard_at)}}

    def _update(
        self,
        distribution_id: str,
        names: dict[str, str],
        values: dict[str, Any],
        remove: str,
        condition: str | None,
    ) -> None:
        update = "SET #h = if_not_exists(#h, :zero) + :n, revision = if_not_exists(revision, :zero) + :one"
        update += ", expires_at = :expires"
        update += ", wildcard_at = :wildcard_at" if ":wildcard_at" in values else ""
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "Key": {KEY: {"S": distribution_id}},
            "UpdateExpression": update + remove,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":one": {"N": "1"}, **values},
        }
        if condition is not None:
            arguments["ConditionExpression"] = condition
        self._dynamodb.update_item(**arguments)

    def _give_back(self, reservation: Reservation, paths: int, *, slot: bool) -> None:
        """Lower the reservation's hour by `paths` (if that hour is still held) and, with `slot`, clear
        `wildcard_at` if it is still the reservation's own. Neither changes `revision`: a release only
        lowers the count, so a reservation judged on the count before it stays within the ceiling."""
        key = {KEY: {"S": reservation.distribution_id}}
        calls: list[dict[str, Any]] = []
        if paths > 0:
            calls.append(
                {
                    "UpdateExpression": "ADD #h :minus",
                    "ConditionExpression": "attribute_exists(#h)",
                    "ExpressionAttributeNames": {"#h": f"h{reservation.hour}"},
                    "ExpressionAttributeValues": {":minus": {"N": str(-paths)}},
                }
            )
        if slot and reservation.wildcard_at is not None:
            calls.append(
                {
                    "UpdateExpression": "REMOVE wildcard_at",
                    "ConditionExpression": "wildcard_at = :mine",
                    "ExpressionAttributeValues": {":mine": {"N": str(reservation.wildcard_at)}},
                }
            )
        for call in calls:
            try:
                self._dynamodb.update_item(TableName=self._table, Key=key, **call)
            except ClientError as error:
                if classify(error)[0] != CONFLICT:  # a conflict: nothing of ours is left to take back
                    raise

    def _fallback(self, request: Request, reason: str) -> Admission:
        """`/*` when the count cannot be judged, counted (and marked as the interval's) without
        condition; a failure to count it is only logged."""
        now = int(self._clock())
        try:
            values = self._count_values(1, now)
            self._update(request.distribution.id, {"#h": f"h{self._hour()}"}, values, "", None)
            reservation: Reservation | None = Reservation(request.distribution.id, self._hour(), 1, now)
        except (ClientError, BotoCoreError) as error:
            reason += f"; /* not counted: {classify(error)[0]}"
            reservation = None
        return Admission(self._wildcard(request, reason, None), reservation, guarded=True)

    def _wildcard(self, request: Request, reason: str, used: int | None) -> Request:
        """`/*` in place of the request, with a WARNING `spend_guard` line."""
        logger.warning(
            "spend_guard",
            extra={
                "decision": "spend_guard",
                "distribution": request.distribution.label,
                "distribution_id": request.distribution.id,
                "path_count": len(request.paths),
                "paths_in_window": used,
                "max_paths_per_day": self._max,
                "interval_s": self._interval_s,
                "reason": reason,
                "outcome": "invalidated as /*; further changes wait for the next interval's /*",
            },
        )
        return dataclasses.replace(request, paths=WILDCARD)


def _log_waiting(request: Request, used: int, ceiling: int, wait_s: int) -> None:
    logger.info(
        "spend_guard_waiting",
        extra={
            "decision": "spend_guard_waiting",
            "distribution": request.distribution.label,
            "distribution_id": request.distribution.id,
            "path_count": len(request.paths),
            "messages": len(request.message_ids),
            "paths_in_window": used,
            "max_paths_per_day": ceiling,
            "wait_s": wait_s,
            "outcome": "redelivered when the interval's /* is due, then covered by it",
        },
    )


def _log_not_released(reservation: Reservation, code: str) -> None:
    logger.warning(
        "spend_guard_not_released",
        extra={
            "decision": "spend_guard_not_released",
            "distribution_id": reservation.distribution_id,
            "path_count": reservation.paths,
            "error_code": code,
            "outcome": "paths CloudFront refused stay counted as spent",
        },
    )
