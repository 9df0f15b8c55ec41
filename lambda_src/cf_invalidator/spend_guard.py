"""The spend guard: once a distribution's paths in the last 24 hours would pass max_paths_per_day, `/*`.

Every request's paths are reserved in a DynamoDB table before CreateInvalidation, one item per
distribution (partition key `distribution_id`) holding a count per hour (`h<hours since the epoch>`), a
`revision` and a TTL attribute `expires_at` (an item idle for two days goes). The window is the current
hour and the 23 before it. A reservation reads the item (GetItem, strongly consistent), and writes the
new hour count with UpdateItem on the condition that `revision` is still the one read: of two
containers racing, one write wins and the other reads again and counts on top of it, so every path is
counted once whatever the concurrency and however many cold starts. A request that would pass the
ceiling, or that the table cannot be read or written for (fail safe: a count that cannot be read is
taken as spent), or that loses MAX_ATTEMPTS races in a row, is sent as `/*` instead (one path, counted
too) with a WARNING `spend_guard` line. Paths are counted when reserved, so a request CloudFront then
refuses still counts: the guard errs toward `/*`, never toward spending more.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from .invalidate import classify
from .plan import Request

logger = logging.getLogger(__name__)

WILDCARD = ("/*",)
HOUR_S = 3600
WINDOW_HOURS = 24
EXPIRES_AFTER_S = 2 * 24 * HOUR_S
MAX_ATTEMPTS = 4
KEY = "distribution_id"
CONFLICT = "ConditionalCheckFailedException"


class DynamoDB(Protocol):
    def get_item(self, **kwargs: Any) -> Mapping[str, Any]: ...
    def update_item(self, **kwargs: Any) -> Mapping[str, Any]: ...


class SpendGuard:
    """Reserves each request's paths in the table; says when a request must become `/*`."""

    def __init__(
        self,
        dynamodb: DynamoDB,
        table: str,
        max_paths_per_day: int,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._dynamodb, self._table, self._max = dynamodb, table, max_paths_per_day
        self._clock = clock

    def admit(self, request: Request, reserved: int = 0) -> tuple[Request, bool]:
        """The request to send (itself, or `/*` when the guard holds), and whether the guard turned it.
        `reserved`: paths already reserved for the same changes (a request fitted again)."""
        needed = len(request.paths) - reserved
        if needed <= 0:
            return request, False
        try:
            for _ in range(MAX_ATTEMPTS):
                revision, hours = self._read(request.distribution.id)
                used = self._in_window(hours)
                if used + needed > self._max:
                    return self._guard(request, f"{used} paths in the last 24 h", used), True
                if self._reserve(request.distribution.id, revision, hours, needed):
                    return request, False
            return self._guard(request, f"lost {MAX_ATTEMPTS} races for the count", None), True
        except (ClientError, BotoCoreError, KeyError, ValueError) as error:
            return self._guard(request, f"count unreadable: {classify(error)[0]}", None), True

    def _read(self, distribution_id: str) -> tuple[int | None, dict[int, int]]:
        item = self._dynamodb.get_item(
            TableName=self._table, Key={KEY: {"S": distribution_id}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return None, {}
        hours = {int(name[1:]): int(value["N"]) for name, value in item.items() if name.startswith("h")}
        return int(item["revision"]["N"]), hours

    def _hour(self) -> int:
        return int(self._clock() // HOUR_S)

    def _in_window(self, hours: Mapping[int, int]) -> int:
        now = self._hour()
        return sum(count for hour, count in hours.items() if now - WINDOW_HOURS < hour <= now)

    def _reserve(
        self, distribution_id: str, revision: int | None, hours: Mapping[int, int], paths: int
    ) -> bool:
        """Add `paths` to this hour if nobody wrote since `revision` was read (None: no item yet)."""
        now = self._hour()
        expired = [f"h{hour}" for hour in hours if hour <= now - WINDOW_HOURS]
        names = {"#h": f"h{now}"} | {f"#x{i}": name for i, name in enumerate(expired)}
        remove = (" REMOVE " + ", ".join(f"#x{i}" for i in range(len(expired)))) if expired else ""
        values = {
            ":n": {"N": str(paths)},
            ":zero": {"N": "0"},
            ":expires": {"N": str(int(self._clock()) + EXPIRES_AFTER_S)},
        }
        condition = "attribute_not_exists(revision)"
        if revision is not None:
            condition, values[":revision"] = "revision = :revision", {"N": str(revision)}
        try:
            self._update(distribution_id, names, values, remove, condition)
        except ClientError as error:
            if classify(error)[0] == CONFLICT:
                return False
            raise
        return True

    def _update(
        self,
        distribution_id: str,
        names: dict[str, str],
        values: dict[str, Any],
        remove: str,
        condition: str | None,
    ) -> None:
        update = "SET #h = if_not_exists(#h, :zero) + :n, revision = if_not_exists(revision, :zero) + :one"
        update += ", expires_at = :expires" + remove
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "Key": {KEY: {"S": distribution_id}},
            "UpdateExpression": update,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {":one": {"N": "1"}, **values},
        }
        if condition is not None:
            arguments["ConditionExpression"] = condition
        self._dynamodb.update_item(**arguments)

    def _guard(self, request: Request, reason: str, used: int | None) -> Request:
        """`/*` in place of the request, counted without condition (a failure to count it is only logged)."""
        guarded = dataclasses.replace(request, paths=WILDCARD)
        try:
            values = {
                ":n": {"N": "1"},
                ":zero": {"N": "0"},
                ":expires": {"N": str(int(self._clock()) + EXPIRES_AFTER_S)},
            }
            self._update(request.distribution.id, {"#h": f"h{self._hour()}"}, values, "", None)
        except (ClientError, BotoCoreError) as error:
            reason += f"; /* not counted: {classify(error)[0]}"
        logger.warning(
            "spend_guard",
            extra={
                "decision": "spend_guard",
                "distribution": request.distribution.label,
                "distribution_id": request.distribution.id,
                "path_count": len(request.paths),
                "paths_in_window": used,
                "max_paths_per_day": self._max,
                "reason": reason,
                "outcome": "invalidated as /* until the last 24 hours allow more paths",
            },
        )
        return guarded
