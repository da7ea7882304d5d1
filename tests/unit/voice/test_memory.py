"""The encoder lock and glibc tuning that keep two notes at once under the memory target."""

import platform
import threading
import time

from core.voice.faster import one_at_a_time
from core.voice.memory import trim, tune_malloc


def test_encoder_passes_run_one_at_a_time():
    running, most = [0], [0]
    guard = threading.Lock()

    def encode(features):
        with guard:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02)
        with guard:
            running[0] -= 1
        return features * 2

    locked = one_at_a_time(encode)
    results = []
    threads = [threading.Thread(target=lambda i=i: results.append(locked(i))) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
    assert sorted(results) == [0, 2, 4, 6]


def test_malloc_tuning_applies_on_glibc_only():
    assert tune_malloc() is (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")
    trim()  # a no-op elsewhere; never raises
