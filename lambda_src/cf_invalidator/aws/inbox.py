"""The deploy inbox in DynamoDB: the changes waiting per distribution, and each distribution's state.

One table, partition key `pk`, sort key `sk` (both strings):
- `inbox#<distribution id>` / `<chunk sort key>`: a chunk of changes (accept.py): `body` (an S3
  notification), `oldest` and `newest` write times (epoch seconds), `message_ids` (where they came from).
- `state#<distribution id>` / `state`: `last_write` (the newest write accepted), `oldest_waiting` (the
  oldest change waiting, absent when none waits), `tick_due` (when the pending flush tick is due),
  `lease_until` and `lease_owner` (the flush running, and the tick message that runs it), `attempts`
  (flushes in a row CloudFront turned back for a retryable reason), `accepted` (a counter every accept
  raises, so that a flush releasing its lease knows no change arrived since it last looked).

Every read is strongly consistent; every write that two containers may race on is conditional.
BatchWriteItem takes 25 items a call; what DynamoDB leaves unprocessed is sent again, a few times, then
the call fails (the caller's messages are then retried by SQS, never dropped).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from ..core.accept import Chunk

BATCH_WRITE_ITEMS = 25  # DynamoDB: items per BatchWriteItem
WRITE_TRIES = 5
CONFLICT = "ConditionalCheckFailedException"
STATE_SK = "state"


class DynamoDB(Protocol):
    def get_item(self, **kwargs: Any) -> Mapping[str, Any]: ...
    def update_item(self, **kwargs: Any) -> Mapping[str, Any]: ...
    def query(self, **kwargs: Any) -> Mapping[str, Any]: ...
    def batch_write_item(self, **kwargs: Any) -> Mapping[str, Any]: ...


class InboxWriteError(RuntimeError):
    """DynamoDB left items unprocessed after every try."""


@dataclass(frozen=True)
class State:
    """A distribution's state item, as read (times in epoch seconds)."""

    last_write: float | None = None
    oldest_waiting: float | None = None
    tick_due: float | None = None
    lease_until: float | None = None
    lease_owner: str | None = None
    attempts: int = 0
    accepted: int = 0

    def due(self, quiet_s: int, max_wait_s: int) -> float | None:
        """When the waiting changes are to be flushed: the bucket quiet for `quiet_s` after the newest
        write, or the oldest change waiting `max_wait_s`, whichever comes first; None: nothing waits."""
        if self.oldest_waiting is None:
            return None
        quiet = (self.last_write if self.last_write is not None else self.oldest_waiting) + quiet_s
        return min(quiet, self.oldest_waiting + max_wait_s)


@dataclass(frozen=True)
class Item:
    """A chunk read back from the inbox."""

    sort_key: str
    body: str
    oldest: float


class Inbox:
    """Reads and writes one table's inbox and state items (see above)."""

    def __init__(
        self, dynamodb: DynamoDB, table: str, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._dynamodb, self._table, self._sleep = dynamodb, table, sleep

    def write(self, distribution_id: str, chunks: Sequence[Chunk]) -> None:
        """Put the chunks as inbox items (a chunk written again is overwritten with itself)."""
        requests = [{"PutRequest": {"Item": _item(distribution_id, chunk)}} for chunk in chunks]
        self._batch_write(requests)

    def delete(self, distribution_id: str, sort_keys: Sequence[str]) -> None:
        keys = [{"DeleteRequest": {"Key": _key(f"inbox#{distribution_id}", sk)}} for sk in sort_keys]
        self._batch_write(keys)

    def accepted(self, distribution_id: str, oldest: float, newest: float) -> State:
        """Record changes written from `oldest` to `newest` as waiting; the state after it."""
        values = {":oldest": _n(oldest), ":newest": _n(newest), ":zero": _n(0), ":one": _n(1)}
        update = "SET oldest_waiting = if_not_exists(oldest_waiting, :oldest), "
        update += "accepted = if_not_exists(accepted, :zero) + :one"
        try:
            return self._update(
                distribution_id,
                update + ", last_write = :newest",
                values,
                condition="attribute_not_exists(last_write) OR last_write < :newest",
            )
        except ClientError as error:
            if _code(error) != CONFLICT:
                raise
        return self._update(distribution_id, update, {k: v for k, v in values.items() if k != ":newest"})

    def state(self, distribution_id: str) -> State:
        response = self._dynamodb.get_item(
            TableName=self._table, Key=_key(f"state#{distribution_id}", STATE_SK), ConsistentRead=True
        )
        return _state(response.get("Item", {}))

    def tick_due(self, distribution_id: str, due: float) -> None:
        self._update(distribution_id, "SET tick_due = :due", {":due": _n(due)})

    def claim(self, distribution_id: str, owner: str, now: float, lease_s: int) -> bool:
        """Take the flush lease (free, expired, or already this owner's: a redelivered tick): True when
        taken. The pending tick is forgotten, so that a change accepted from now on sends its own."""
        try:
            self._update(
                distribution_id,
                "SET lease_until = :until, lease_owner = :owner, accepted = if_not_exists(accepted, :zero) "
                "REMOVE tick_due",
                {":until": _n(now + lease_s), ":owner": {"S": owner}, ":now": _n(now), ":zero": _n(0)},
                condition="attribute_not_exists(lease_until) OR lease_until < :now OR lease_owner = :owner",
            )
        except ClientError as error:
            if _code(error) == CONFLICT:
                return False
            raise
        return True

    def release(
        self, distribution_id: str, owner: str, seen: State, oldest: float | None, attempts: int
    ) -> bool:
        """Give the lease back, with the oldest change still waiting (None: none) and the attempts count,
        unless a change was accepted since `seen` was read (False: read again)."""
        values: dict[str, Any] = {
            ":owner": {"S": owner},
            ":seen": _n(seen.accepted),
            ":attempts": _n(attempts),
        }
        update = "SET attempts = :attempts"
        if oldest is None:
            removed = "REMOVE lease_until, lease_owner, oldest_waiting"
        else:
            update += ", oldest_waiting = :oldest"
            values[":oldest"] = _n(oldest)
            removed = "REMOVE lease_until, lease_owner"
        condition = "lease_owner = :owner AND accepted = :seen"
        try:
            self._update(distribution_id, f"{update} {removed}", values, condition=condition)
        except ClientError as error:
            if _code(error) == CONFLICT:
                return False
            raise
        return True

    def items(self, distribution_id: str, *, bodies: bool = True) -> list[Item]:
        """Every chunk waiting for the distribution, in sort key order (all pages)."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"inbox#{distribution_id}"}},
            "ConsistentRead": True,
        }
        if not bodies:
            query["ProjectionExpression"] = "sk, oldest"
        found: list[Item] = []
        while True:
            page = self._dynamodb.query(**query)
            found += [_read_item(item) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _update(
        self, distribution_id: str, update: str, values: Mapping[str, Any], *, condition: str | None = None
    ) -> State:
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": _key(f"state#{distribution_id}", STATE_SK),
            "UpdateExpression": update,
            "ExpressionAttributeValues": dict(values),
            "ReturnValues": "ALL_NEW",
        }
        if condition is not None:
            kwargs["ConditionExpression"] = condition
        return _state(self._dynamodb.update_item(**kwargs).get("Attributes", {}))

    def _batch_write(self, requests: Sequence[Mapping[str, Any]]) -> None:
        for start in range(0, len(requests), BATCH_WRITE_ITEMS):
            pending: Any = {self._table: list(requests[start : start + BATCH_WRITE_ITEMS])}
            for attempt in range(WRITE_TRIES):
                pending = self._dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                self._sleep(0.05 * 2**attempt)
            if pending:
                raise InboxWriteError(f"{len(pending.get(self._table, []))} items left unprocessed")


def _item(distribution_id: str, chunk: Chunk) -> dict[str, Any]:
    return {
        **_key(f"inbox#{distribution_id}", chunk.sort_key),
        "body": {"S": chunk.body},
        "oldest": _n(chunk.oldest),
        "newest": _n(chunk.newest),
        "message_ids": {"L": [{"S": m} for m in chunk.message_ids]},
    }


def _read_item(item: Mapping[str, Any]) -> Item:
    return Item(item["sk"]["S"], item.get("body", {}).get("S", ""), float(item["oldest"]["N"]))


def _state(item: Mapping[str, Any]) -> State:
    def number(name: str) -> float | None:
        return float(item[name]["N"]) if name in item else None

    return State(
        last_write=number("last_write"),
        oldest_waiting=number("oldest_waiting"),
        tick_due=number("tick_due"),
        lease_until=number("lease_until"),
        lease_owner=item["lease_owner"]["S"] if "lease_owner" in item else None,
        attempts=int(number("attempts") or 0),
        accepted=int(number("accepted") or 0),
    )


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _n(value: float) -> dict[str, str]:
    return {"N": repr(round(value, 3))}


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
