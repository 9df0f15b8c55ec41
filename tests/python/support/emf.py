"""A reader of CloudWatch Embedded Metric Format lines, written from AWS's specification, not the handler.

The specification ("Specification: Embedded metric format", CloudWatch User Guide): a log event is a JSON
object whose `_aws` member holds `Timestamp` (a number: milliseconds since the epoch) and
`CloudWatchMetrics`, a list of directives. A directive has `Namespace` (a string), `Dimensions` (a list of
dimension sets, each a list of at most 30 dimension names) and `Metrics` (a list of at most 100 metric
definitions: `Name`, and optionally `Unit`, one of CloudWatch's units, and `StorageResolution`). Every
dimension name must be a member of the root object with a string value, and every metric name a member
with a number (or a list of at most 100 numbers). Anything else makes CloudWatch reject the line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# CloudWatch's StandardUnit values (MetricDatum.Unit in the CloudWatch API reference).
UNITS = frozenset(
    {
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
        "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
        "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
        "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
        "Count/Second", "None",
    }
)  # fmt: skip


class NotEmfError(ValueError):
    """The line is not a valid EMF log event; the message says which rule it breaks."""


@dataclass(frozen=True)
class Datum:
    namespace: str
    dimensions: tuple[tuple[str, str], ...]  # (name, value), in the dimension set's order
    name: str
    unit: str
    value: float
    timestamp_ms: int


def is_emf(line: str) -> bool:
    try:
        document = json.loads(line)
    except json.JSONDecodeError:
        return False
    return isinstance(document, dict) and "_aws" in document


def data(line: str) -> list[Datum]:
    """The metric data CloudWatch extracts from the line; raises NotEmfError for an invalid one."""
    document = json.loads(line)
    metadata = _member(document, "_aws", dict)
    timestamp = _member(metadata, "Timestamp", int)
    directives = _member(metadata, "CloudWatchMetrics", list)
    found = []
    for directive in directives:
        namespace = _member(directive, "Namespace", str)
        sets = _member(directive, "Dimensions", list)
        metrics = _member(directive, "Metrics", list)
        if not 1 <= len(metrics) <= 100:
            raise NotEmfError(f"{len(metrics)} metrics in a directive (1 to 100)")
        for dimension_set in sets:
            if not isinstance(dimension_set, list) or len(dimension_set) > 30:
                raise NotEmfError(f"dimension set {dimension_set!r} is not a list of at most 30 names")
            dimensions = tuple((name, _member(document, name, str)) for name in dimension_set)
            for metric in metrics:
                found.append(_datum(document, namespace, dimensions, metric, timestamp))
    return found


def _datum(
    document: dict[str, Any], namespace: str, dimensions: tuple[tuple[str, str], ...], metric: Any, ts: int
) -> Datum:
    name = _member(metric, "Name", str)
    unit = metric.get("Unit", "None")
    if unit not in UNITS:
        raise NotEmfError(f"metric {name}: unit {unit!r} is not a CloudWatch unit")
    value = document.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise NotEmfError(f"metric {name}: the root holds {value!r}, not a number")
    return Datum(namespace, dimensions, name, unit, float(value), ts)


def _member(container: Any, name: str, kind: type) -> Any:
    if not isinstance(container, dict) or name not in container:
        raise NotEmfError(f"missing member {name!r}")
    value = container[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise NotEmfError(f"member {name!r} is {value!r}, not a {kind.__name__}")
    return value
