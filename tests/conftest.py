import os
import threading
import time

import pytest

# torch on 2 cores: one thread per process; nothing may ask a hub at test time
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# a line on the terminal every HEARTBEAT_S seconds that one test (its fixtures included) runs:
# a demo fixture takes 10 minutes, and a suite silent that long looks hung
HEARTBEAT_S = float(os.environ.get("PTB_TEST_HEARTBEAT_S", "120"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    reporter = item.config.pluginmanager.get_plugin("terminalreporter")
    capture = item.config.pluginmanager.get_plugin("capturemanager")
    done = threading.Event()

    def beat():
        start = time.monotonic()
        while not done.wait(HEARTBEAT_S):
            with capture.global_and_fixture_disabled():  # as pytest's live logging writes
                reporter.write_line(
                    f"    ... {item.nodeid}: {(time.monotonic() - start) / 60:.1f} min so far"
                )

    if reporter is not None and capture is not None and HEARTBEAT_S > 0:
        threading.Thread(target=beat, daemon=True).start()
    try:
        yield
    finally:
        done.set()
