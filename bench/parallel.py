"""The process pool the benches' independent simulations share, one worker a core.

A bench's `start(pool)` submits its simulations (each a picklable call that builds its own state: its
moto S3, its CloudFront model, its virtual clock) and returns `finish()`, which waits for them in the
order they were submitted, prints and returns the docs' sections; so `make bench` can submit every
bench's work before waiting for any, and what is printed and written never depends on which worker ran
what, or when. Nothing measured in CPU or wall time runs in the pool (handler_bench runs before it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

Sections = dict[str, str]  # docs section name -> markdown
Finish = Callable[[], Sections]


def workers() -> int:
    """One worker per core this process may run on (every core where the system cannot tell)."""
    if hasattr(os, "sched_getaffinity"):  # Linux; not macOS
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def pool() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=workers())


def silence_handler_log() -> None:
    """The handler's decision log (one line per call) says nothing a bench reports: drop it."""
    quiet = logging.getLogger("cf_invalidator")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False


def run_alone(start: Callable[[ProcessPoolExecutor], Finish]) -> Sections:
    """A bench's start and finish on a pool of its own (the bench run by itself), the handler's log
    silenced."""
    silence_handler_log()
    with pool() as executor:
        return start(executor)()
