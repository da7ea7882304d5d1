"""Keep Whisper's transient buffers from piling up in RSS (glibc on Linux only; elsewhere a no-op).

An encoder pass over a 30-s window needs about 150 MB of float buffers for a moment. glibc's dynamic mmap
threshold rises after the first big free, so later buffers of 4-32 MB land in per-thread heaps that are
kept after use; a fixed threshold sends them to mmap (given back at free), and `malloc_trim` returns
what the heaps still hold after each note.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from functools import cache

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter numbers (malloc.h)
MMAP_THRESHOLD = 4 * 2**20  # the 12-MB feed-forward and 72-MB attention buffers go to mmap; 3-MB ones stay (measured faster)


@cache
def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def tune_malloc() -> bool:
    """Fix glibc's mmap threshold (once, before the model loads); False where there is no glibc."""
    libc = _glibc()
    return bool(libc and libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1)


def trim() -> None:
    """Give the heaps' free memory back to the OS (after a note)."""
    if (libc := _glibc()) is not None:
        libc.malloc_trim(0)
