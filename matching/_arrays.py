"""Small numpy helpers shared by the engine's modules.

`np.unique` is avoided on purpose: on large int64 arrays NumPy 2.4's hash-based path measured
~200× slower than sorting (3 s against 16 ms for 1.8 million keys).
"""

import numpy as np


def run_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Indices where a new run of equal keys begins in a sorted array."""
    if len(sorted_keys) == 0:
        return np.zeros(0, dtype=np.int64)
    flags = np.empty(len(sorted_keys), dtype=bool)
    flags[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=flags[1:])
    return np.flatnonzero(flags)


def unique(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values."""
    ordered = np.sort(values)
    return ordered[run_starts(ordered)]


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, index of each value among them)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = run_starts(ordered)
    ids = np.zeros(len(values), dtype=np.int64)
    if len(values):
        step = np.zeros(len(values), dtype=np.int64)
        step[starts[1:]] = 1
        ids[order] = np.cumsum(step)
    return ordered[starts], ids
