"""`keep_freed_memory`: a freed block above glibc's mmap threshold is reused, not mapped
afresh, so allocating it again costs no page faults (counted by the kernel, `ru_minflt`)."""

import json
import subprocess
import sys

import pytest

SCRIPT = """
import ctypes, json, resource
from keras_seq.allocator import keep_freed_memory

applied = keep_freed_memory()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
faults = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_minflt
size = 64 * 2**20  # above any mmap threshold


def touched_and_freed():
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)
    libc.free(block)


touched_and_freed()
before = faults()
for _ in range(5):
    touched_and_freed()
print(json.dumps({"applied": applied, "faults": faults() - before}))
"""


def _faults(keep):
    env = {"KERAS_SEQ_KEEP_FREED_MEMORY": "1" if keep else "0", "PATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.backend("torch")  # no backend: run once
def test_a_freed_block_is_reused_without_page_faults():
    kept, system = _faults(True), _faults(False)
    if not kept["applied"]:
        pytest.skip("not glibc: malloc is left as it is")
    assert system["applied"] is False  # KERAS_SEQ_KEEP_FREED_MEMORY=0 turns it off
    pages = 5 * 64 * 2**20 // 4096
    if system["faults"] < pages // 2:
        pytest.skip("this kernel maps the block with huge pages: no faults to save")
    assert kept["faults"] < pages // 100 < system["faults"]
