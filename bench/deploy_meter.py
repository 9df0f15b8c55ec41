"""What the deploy pipeline's calls cost: DynamoDB request units, SQS requests, Lambda time, at list prices.

The units follow AWS's documented rules (DynamoDB developer guide, "Read/write capacity mode" and
"Item sizes"; SQS pricing; Lambda pricing):
- an item's size is the UTF-8 length of its attribute names plus their values: a string its UTF-8
  length, a binary its length, a number 1 byte per 2 significant digits plus 1, a boolean or null 1
  byte, a list or map 3 bytes plus its elements (1 byte each) and, for a map, its names;
- a write costs 1 unit per started KB of the larger of the item before and after (a delete: the item
  deleted; a write whose condition failed: 1 unit); a read costs 1 unit per started 4 KB strongly
  consistent, half of that eventually consistent, and a Query sums the sizes of the items it read (their
  full size, whatever it projects) before rounding, at least 1 unit;
- every SQS request is billed per started 64 KB of payload (a SendMessage of an S3 event, a tick, a
  ReceiveMessage of up to 10 of them, a DeleteMessageBatch: one request each);
- Lambda bills each invocation and its duration rounded up to the millisecond, times its memory.
The meter sees each call with its arguments and answer (deploy_world's `Client.observers`); it
remembers the size of each inbox item written so that a delete or a projected Query is charged for
the whole item.

`Stopwatch` puts an invocation's time on the virtual clock: the handler's own CPU time (moto's is left
out: it stands in for the service's latency), scaled by `cpu_factor` for the Lambda's share of a core,
plus a fixed latency per call of each service.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KB = 1024
READ_UNIT_BYTES = 4 * KB
SQS_PAYLOAD_BYTES = 64 * KB
FULL_VCPU_MB = 1769  # Lambda docs: at 1,769 MB a function has the equivalent of one vCPU


def value_size(value: Mapping[str, Any]) -> int:
    """The bytes of one typed DynamoDB value (`{"S": ...}`, `{"N": ...}`, ...), as AWS counts them."""
    (kind, content), *_ = value.items()
    if kind == "S":
        return len(str(content).encode("utf-8"))
    if kind == "B":
        return len(content)
    if kind == "N":
        digits = str(content).lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + value_size(v) for name, v in content.items())
    raise ValueError(f"no size rule for DynamoDB type {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


@dataclass
class DynamoDBMeter:
    """The read and write request units of the DynamoDB calls it observes, on one table's items."""

    write: int = 0
    read: float = 0.0
    sizes: dict[tuple[str, str], int] = field(default_factory=dict)

    def __call__(self, operation: str, arguments: Mapping[str, Any], answer: Any) -> None:
        if isinstance(answer, Exception):
            self.write += 1 if operation in ("update_item", "put_item", "delete_item") else 0
            return
        if operation == "batch_write_item":
            for requests in arguments["RequestItems"].values():
                self.write += sum(self._written(request) for request in requests)
        elif operation == "update_item":
            self.write += write_units(item_size(answer.get("Attributes", {})))
        elif operation == "get_item":
            size = item_size(answer.get("Item", {}))
            self.read += read_units(size, consistent=bool(arguments.get("ConsistentRead")))
        elif operation == "query":
            size = sum(self.sizes.get(_key(item), item_size(item)) for item in answer.get("Items", []))
            self.read += read_units(size, consistent=bool(arguments.get("ConsistentRead")))

    def _written(self, request: Mapping[str, Any]) -> int:
        if "PutRequest" in request:
            item = request["PutRequest"]["Item"]
            size = item_size(item)
            before = self.sizes.get(_key(item), 0)
            self.sizes[_key(item)] = size
            return write_units(max(size, before))
        return write_units(self.sizes.pop(_key(request["DeleteRequest"]["Key"]), 0))


def _key(item: Mapping[str, Mapping[str, Any]]) -> tuple[str, str]:
    return str(item["pk"]["S"]), str(item["sk"]["S"])


def sqs_requests(operation: str, arguments: Mapping[str, Any]) -> int:
    """The billed requests of one SQS call the pipeline makes: one per started 64 KB it sends."""
    if operation == "send_message":
        return max(1, math.ceil(len(arguments["MessageBody"].encode("utf-8")) / SQS_PAYLOAD_BYTES))
    if operation == "send_message_batch":
        sent = sum(len(entry["MessageBody"].encode("utf-8")) for entry in arguments["Entries"])
        return max(1, math.ceil(sent / SQS_PAYLOAD_BYTES))
    return 1


@dataclass(frozen=True)
class Prices:
    """On-demand list prices, us-east-1, as docs/deploy-flush.md states them (free tiers left out)."""

    sqs_per_million: Decimal = Decimal("0.40")
    lambda_per_million: Decimal = Decimal("0.20")
    lambda_per_gb_second: Decimal = Decimal("0.0000133334")  # arm64
    write_unit_per_million: Decimal = Decimal("0.625")
    read_unit_per_million: Decimal = Decimal("0.125")
    s3_list_per_thousand: Decimal = Decimal("0.005")  # LIST requests (ListObjectVersions, ListObjectsV2)
    s3_get_per_thousand: Decimal = Decimal("0.0004")  # GET and HEAD requests


@dataclass(frozen=True)
class DeployRequests:
    """What one deploy made the pipeline ask of AWS, beside CloudFront."""

    s3_events: int  # SendMessage by S3, one per change
    event_source: int  # the Lambda event source's ReceiveMessage and DeleteMessageBatch
    pipeline_sqs: int  # the function's own: ticks sent, dead letters
    invocations: int
    billed_ms: int  # durations, each rounded up to the millisecond
    memory_mb: int
    write_units: int
    read_units: float
    s3_lists: int
    s3_gets: int

    @property
    def sqs(self) -> int:
        return self.s3_events + self.event_source + self.pipeline_sqs

    @property
    def gb_seconds(self) -> Decimal:
        return Decimal(self.billed_ms) / 1000 * Decimal(self.memory_mb) / 1024


def priced(requests: DeployRequests, prices: Prices = Prices()) -> dict[str, Decimal]:
    """Dollars per service for the deploy."""
    million, thousand = Decimal(1_000_000), Decimal(1000)
    return {
        "SQS": requests.sqs * prices.sqs_per_million / million,
        "Lambda requests": requests.invocations * prices.lambda_per_million / million,
        "Lambda duration": requests.gb_seconds * prices.lambda_per_gb_second,
        "DynamoDB writes": requests.write_units * prices.write_unit_per_million / million,
        "DynamoDB reads": Decimal(str(requests.read_units)) * prices.read_unit_per_million / million,
        "S3 lists": requests.s3_lists * prices.s3_list_per_thousand / thousand,
        "S3 gets and heads": requests.s3_gets * prices.s3_get_per_thousand / thousand,
    }


def billed_ms(durations_s: Sequence[float]) -> int:
    return sum(max(1, math.ceil(round(seconds * 1000, 6))) for seconds in durations_s)


def cpu_factor(memory_mb: int, core_ratio: float = 1.0) -> float:
    """How much longer the handler's CPU work takes in a Lambda of `memory_mb` than on one core here:
    the function gets memory_mb / 1,769 of a vCPU (at most 1 for a single thread), and `core_ratio` is
    how much slower a Lambda vCPU is than this machine's core (an assumption)."""
    return max(1.0, FULL_VCPU_MB / memory_mb) * core_ratio


@dataclass
class Stopwatch:
    """An invocation's time on the virtual clock (`advance`): the handler's CPU since the last call,
    times `factor`, then the call's latency; the service's own work (moto's CPU) is not charged."""

    advance: Callable[[float], None]
    factor: float
    active: bool = False
    cpu_s: float = 0.0
    _mark: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)

    def begin(self) -> None:
        self.active, self.cpu_s, self._mark = True, 0.0, time.process_time()

    def end(self) -> float:
        """Charge the handler's CPU since the last call; the invocation's CPU seconds (here)."""
        self._charge()
        self.active = False
        return self.cpu_s

    def call(self, service: str, latency_s: float, method: Callable[..., Any], arguments: Any) -> Any:
        if not self.active:
            return method(**arguments)
        self._charge()
        self.calls[service] += 1
        self.advance(latency_s)
        try:
            return method(**arguments)
        finally:
            self._mark = time.process_time()

    def _charge(self) -> None:
        spent = time.process_time() - self._mark
        self.cpu_s += spent
        self.advance(spent * self.factor)


class Timed:
    """A client whose calls, inside an invocation, take the stopwatch's time (`latency_s` each) and are
    counted as "service:operation"."""

    def __init__(self, client: Any, stopwatch: Stopwatch, service: str, latency_s: float) -> None:
        self._client, self._stopwatch, self._service, self._latency = client, stopwatch, service, latency_s

    @property
    def meta(self) -> Any:
        return self._client.meta

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        operation = f"{self._service}:{name}"
        return lambda **arguments: self._stopwatch.call(operation, self._latency, method, arguments)
