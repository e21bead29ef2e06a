"""The benchmark's CPU clock: every thread of a process counts, exited ones too, finer than a tick."""

from __future__ import annotations

import subprocess
import sys
import time

import procs

# a thread burns CPU for about 0.3 s and ends; the process then waits to be read
CHILD = """
import sys, threading, time
def burn():
    end = time.thread_time() + 0.3
    while time.thread_time() < end:
        pass
worker = threading.Thread(target=burn)
worker.start()
worker.join()
print("done", flush=True)
time.sleep(30)
"""


def test_cpu_seconds_counts_an_exited_thread_to_below_a_tick() -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"done\n"
        first = procs.cpu_seconds([child.pid])
        time.sleep(0.05)
        assert 0.3 <= first < 5.0  # the exited thread's 0.3 s is in
        assert procs.cpu_seconds([child.pid]) - first < 0.02  # asleep: the clock stands still
        ticks = first * procs.TICKS
        assert abs(ticks - round(ticks)) > 1e-9  # not /proc's whole ticks
    finally:
        child.kill()
        child.communicate()
    assert procs.cpu_seconds([child.pid]) == 0.0  # a process gone costs nothing
