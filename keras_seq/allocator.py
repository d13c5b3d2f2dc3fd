"""Freed memory kept for reuse: a training step that does not fault in fresh pages.

glibc's malloc serves a block above its (capped) mmap threshold with a fresh mapping
and hands it back to the kernel when freed. A compiled training step frees and allocates its
temporaries every step, so every step touches newly mapped pages, and on a CPU the page
faults can cost more than the arithmetic (XLA's temporaries especially: docs/speed.md).
With mmap and trimming off, freed blocks stay in the heap and the next step reuses them,
which is what PyTorch's CPU tuning guide gets from jemalloc or tcmalloc, here without a
preloaded library. The price: the process keeps its peak heap until it exits.

`keras-seq` turns it on for every command and the benchmarks for every implementation;
`KERAS_SEQ_KEEP_FREED_MEMORY=0` leaves malloc as it is. From Python, call
`keep_freed_memory()` before training:

>>> import os
>>> from keras_seq.allocator import keep_freed_memory
>>> os.environ["KERAS_SEQ_KEEP_FREED_MEMORY"] = "0"
>>> keep_freed_memory()  # turned off: malloc left as it is (also False off glibc)
False
>>> del os.environ["KERAS_SEQ_KEEP_FREED_MEMORY"]
"""

import ctypes
import os

# mallopt's parameters (glibc's malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
# The largest trim threshold mallopt takes (an int): the top of the heap is never returned.
NEVER_TRIM = 2**31 - 1


def keep_freed_memory():
    """Turns glibc's mmap and heap trimming off for this process (see the module's
    docstring); True when it did, False off glibc or under
    `KERAS_SEQ_KEEP_FREED_MEMORY=0`. Idempotent; no deep-learning backend is imported."""
    if os.environ.get("KERAS_SEQ_KEEP_FREED_MEMORY", "1") == "0":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, NEVER_TRIM))
