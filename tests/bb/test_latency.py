"""The control socket must answer while processes start (issue 6, item 3:
"status answers within 100 ms at every sample").

The chaos soak (tests/soak) sees `status` replies of several hundred
milliseconds whenever a level or a strategy restart starts a dozen
processes on a slow machine, with stackd found blocked in a pipe read.
This test makes that deterministic: under `strace --seccomp-bpf -e
inject=execve:delay_enter=...` every exec of a child takes EXEC_DELAY, as
it does for a binary on a slow or cold filesystem, and `status` is asked
for continuously while a level of four processes climbs.
"""

import shutil
import socket
import threading
import time

import pytest

from conftest import level, proc

EXEC_DELAY = 0.3       # seconds added to every execve of a child
CLONE_DELAY = 0.03     # seconds added to every clone (the launcher's)
# A loop blocked through the burst answers after 300 ms or more (ten 30 ms
# clones, one 300 ms exec); one handed back every 20 ms in tens of ms.  The
# bound sits between, with room for a loaded host: issue 6's 100 ms is the
# soak's to hold, as a measure, not this test's.
LIMIT = 0.200


def status_rtt(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    t = time.monotonic()
    try:
        s.connect(path)
        s.sendall(b"status json\n")
        while s.recv(65536):
            pass
    finally:
        s.close()
    return time.monotonic() - t


def climb_asking_status(stack, nprocs, trace, inject, every):
    """Start the stack under strace (trace=..., inject=...) at level one of
    two, with nprocs processes in level two; climb to two while a thread
    asks `status` every `every` seconds.  Returns the round trips and how
    long the climb took."""
    if shutil.which("strace") is None:
        pytest.skip("strace is not installed (make check-deps installs it)")
    # Absolute paths: a PATH search would pay an exec delay once per entry.
    stack.write(level("one") + proc("base", "one", "/bin/sleep 300") +
                level("two") +
                "".join(proc("p%d" % i, "two", "/bin/sleep 300")
                        for i in range(nprocs)),
                target=1)
    stack.start(wrapper=["strace", "-f", "-qq", "--seccomp-bpf", "-o", "/dev/null",
                         "-e", "trace=" + trace, "-e", "inject=" + inject],
                # LeakSanitizer cannot run under ptrace
                env={"ASAN_OPTIONS": "abort_on_error=0:detect_leaks=0"})
    stack.wait_level(1, timeout=15)
    rtts = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            rtts.append(status_rtt(stack.ctl_path))
            time.sleep(every)
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        time.sleep(0.2)
        t0 = time.monotonic()
        assert stack.ctl("target", "top").returncode == 0
        stack.wait_level(2, timeout=30)
        took = time.monotonic() - t0
    finally:
        done.set()
        t.join(15)
    return rtts, took


def test_status_answers_while_a_slow_exec_starts(stack):
    rtts, _ = climb_asking_status(
        stack, 4, "execve", "execve:delay_enter=%d" % (EXEC_DELAY * 1e6), 0.02)
    worst = max(rtts)
    assert worst <= LIMIT, ("status took %.0f ms at worst (%d samples) while four "
                            "processes started, each exec taking %.0f ms"
                            % (worst * 1000, len(rtts), EXEC_DELAY * 1000))
    assert stack.stop() == 0


def test_status_answers_during_a_burst_of_spawns(stack):
    # Ten processes of one level are started one after the other, each
    # waiting for the launcher's answer; here every clone takes CLONE_DELAY
    # (strace inject), so the burst lasts 300 ms or more.  stackd hands the
    # loop back every 20 ms of it: status must still answer in time.
    rtts, burst = climb_asking_status(
        stack, 10, "clone,clone3",
        "clone,clone3:delay_exit=%d" % (CLONE_DELAY * 1e6), 0.01)
    assert burst >= 10 * CLONE_DELAY, "test bug: the clones were not slowed"
    worst = max(rtts)
    assert worst <= LIMIT, ("status took %.0f ms at worst (%d samples) while ten "
                            "processes started, each clone taking %.0f ms"
                            % (worst * 1000, len(rtts), CLONE_DELAY * 1000))
    assert stack.stop() == 0
