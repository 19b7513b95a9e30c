"""The peak of Python's allocations while a read runs, for the store's memory tests."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable


def peak_bytes(read: Callable[[], object]) -> int:
    """The peak of Python allocations made while `read` runs, above what was held before."""
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        result = read()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak - before
