"""Giving the memory a job freed back to the system, so the daemon's resident size falls
back after each poll and each digest (docs/performance.md, daemon memory)."""

from __future__ import annotations

import ctypes
import functools


@functools.cache
def _malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return None


def return_free_memory() -> None:
    """Give the heap memory a job freed back to the system (glibc's malloc_trim). Each
    job thread's malloc arena otherwise stays at the largest job it ran, and the
    daemon's resident size with it."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
