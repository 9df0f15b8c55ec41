"""The module's defaults, read from variables.tf and main.tf so that tests and benchmarks follow them.

Only the settings the fault tests and the benchmarks model are read: the event source mapping's
batching, the Lambda timeout and memory, the path budget, evictions_per_path, the deploy inbox's waits
(quiet_seconds, max_wait_seconds), and the queue's redrive and visibility.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class ModuleDefaults:
    batch_size: int
    batching_window_seconds: int
    lambda_timeout: int
    lambda_memory_size: int
    max_paths_per_invalidation: int
    maximum_concurrency: int
    max_receive_count: int
    evictions_per_path: float
    quiet_seconds: int
    max_wait_seconds: int

    @property
    def visibility_timeout_seconds(self) -> int:
        """As main.tf computes it: 6 x the Lambda timeout + the batching window."""
        return 6 * self.lambda_timeout + self.batching_window_seconds


def variable_default(variables_tf: str, name: str) -> int:
    """The numeric default of `variable "name"` in variables.tf."""
    block = re.search(rf'^variable "{name}" {{\n(.*?)^}}', variables_tf, re.DOTALL | re.MULTILINE)
    match = re.search(r"^\s*default\s*=\s*(\d+)\s*$", block.group(1), re.MULTILINE) if block else None
    if match is None:
        raise ValueError(f"variables.tf has no numeric default for {name}")
    return int(match.group(1))


def number_default(variables_tf: str, name: str) -> float:
    """The numeric default of `variable "name"` in variables.tf, integer or decimal."""
    block = re.search(rf'^variable "{name}" {{\n(.*?)^}}', variables_tf, re.DOTALL | re.MULTILINE)
    match = (
        re.search(r"^\s*default\s*=\s*(\d+(?:\.\d+)?)\s*$", block.group(1), re.MULTILINE) if block else None
    )
    if match is None:
        raise ValueError(f"variables.tf has no numeric default for {name}")
    return float(match.group(1))


def module_defaults(root: Path = ROOT) -> ModuleDefaults:
    variables_tf = (root / "variables.tf").read_text()
    receive_count = re.search(r"maxReceiveCount\s*=\s*(\d+)", (root / "main.tf").read_text())
    if receive_count is None:
        raise ValueError("main.tf sets no maxReceiveCount in the queue's redrive policy")
    return ModuleDefaults(
        batch_size=variable_default(variables_tf, "batch_size"),
        batching_window_seconds=variable_default(variables_tf, "batching_window_seconds"),
        lambda_timeout=variable_default(variables_tf, "lambda_timeout"),
        lambda_memory_size=variable_default(variables_tf, "lambda_memory_size"),
        max_paths_per_invalidation=variable_default(variables_tf, "max_paths_per_invalidation"),
        maximum_concurrency=variable_default(variables_tf, "maximum_concurrency"),
        max_receive_count=int(receive_count.group(1)),
        evictions_per_path=number_default(variables_tf, "evictions_per_path"),
        quiet_seconds=variable_default(variables_tf, "quiet_seconds"),
        max_wait_seconds=variable_default(variables_tf, "max_wait_seconds"),
    )
