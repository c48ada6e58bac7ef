"""The launcher (src/launcher.c): children are forked by a small helper
process, yet they are stackd's own children, start with every signal at
its default, and stackd goes on starting them itself when the launcher is
killed or stops answering.  Nothing of this may show: no leftover process
at shutdown, no child orphaned."""

import os
import shutil
import signal
import subprocess
import sys

import pytest

from conftest import level, proc, children_of, proc_stat, comm_of, proc_status
import procfs  # tests/procfs.py, on the path conftest set
from loadkit import start_exec_wrapped


def launcher_of(stack):
    for pid in children_of(stack.daemon_pid):
        if comm_of(pid) == "stackd-launcher":
            return pid
    return None


def status_mask(pid, key):
    mask = proc_status(pid, key)
    assert mask is not None, "no %s in /proc/%d/status" % (key, pid)
    return int(mask[0], 16)


def ppid_of(pid):
    return procfs.stat(pid).ppid


def two_procs(stack):
    stack.write(level("one") + proc("a", "one", "sleep 300") +
                proc("b", "one", "sleep 300"))


def started(stack):
    """Start two processes; the status once up, and the launcher's pid."""
    two_procs(stack)
    stack.start()
    st = stack.wait_level(1)
    return st, stack.wait_until(lambda: launcher_of(stack), msg="launcher runs")


def test_children_are_stackds_and_launcher_leaves_quietly(stack):
    st, launcher = started(stack)
    for name in ("a", "b"):
        assert ppid_of(stack.pid(name, st)) == stack.daemon_pid
    # it holds nothing of stackd's: the socket to stackd and stdio only
    assert len(os.listdir("/proc/%d/fd" % launcher)) == 4
    assert stack.stop() == 0
    assert "leftover process %d" % launcher not in stack.log(), stack.log()[-2000:]
    assert proc_stat(launcher) is None


# Execs its arguments with SIGINT, SIGQUIT, SIGHUP, SIGUSR1 and signal 32
# ignored -- 32 with the raw system call: the C library refuses it, but a
# process can inherit it ignored all the same (seen under `make check`).
IGNORING = r"""
import ctypes, os, signal, sys
for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGUSR1):
    signal.signal(s, signal.SIG_IGN)
act = (ctypes.c_ulong * 8)(1)          # handler SIG_IGN, the rest zero
libc = ctypes.CDLL(None, use_errno=True)
SYS_rt_sigaction = {"x86_64": 13, "aarch64": 134}.get(os.uname().machine)
if SYS_rt_sigaction is not None:
    libc.syscall(SYS_rt_sigaction, 32, act, None, 8)
os.execv(sys.argv[1], sys.argv[1:])
"""


def test_children_start_with_default_signals(stack):
    two_procs(stack)
    # stackd inherits ignored signals, as under nohup or a shell's trap ''
    start_exec_wrapped(stack, [sys.executable, "-c", IGNORING])
    st = stack.wait_level(1)
    ign = status_mask(stack.daemon_pid, "SigIgn")
    assert ign & (1 << (signal.SIGUSR1 - 1))
    if os.uname().machine in ("x86_64", "aarch64"):
        assert ign & (1 << 31), "signal 32 is ignored in stackd"
    for name in ("a", "b"):
        pid = stack.pid(name, st)
        assert status_mask(pid, "SigIgn") == 0, name
        assert status_mask(pid, "SigBlk") == 0, name
    assert stack.stop() == 0


def restarts_as_stackds_child(stack, name):
    old = stack.pid(name)
    os.kill(old, signal.SIGKILL)
    new = stack.wait_running(name, other_than=old)
    assert ppid_of(new) == stack.daemon_pid
    return new


def test_launcher_killed_stackd_forks_itself(stack):
    _, launcher = started(stack)
    os.kill(launcher, signal.SIGKILL)
    stack.wait_until(lambda: "stackd forks its children itself" in stack.log(),
                     msg="stackd notices the launcher is gone")
    restarts_as_stackds_child(stack, "a")
    assert stack.status()["level"] == 1
    assert stack.stop() == 0


def test_stopped_launcher_is_given_up(stack):
    _, launcher = started(stack)
    os.kill(launcher, signal.SIGSTOP)
    try:
        # stackd waits a bounded time for the answer, then kills it
        restarts_as_stackds_child(stack, "b")
        assert "launcher: not answering" in stack.log(), stack.log()[-2000:]
        stack.wait_until(lambda: proc_stat(launcher) is None,
                         msg="the stopped launcher is killed and reaped")
    finally:
        try:
            os.kill(launcher, signal.SIGCONT)
        except ProcessLookupError:
            pass
    restarts_as_stackds_child(stack, "a")
    assert stack.stop() == 0


def test_launcher_stalled_after_clone_leaves_no_second_child(stack):
    # The launcher clones p and then stalls before its answer reaches
    # stackd (strace holds the send 3 s: a stopped launcher, a VM paused
    # at the wrong moment).  stackd gives it up after 2 s and forks p
    # itself; the clone must not run beside that one, unsupervised.
    if shutil.which("strace") is None:
        pytest.skip("needs strace")
    d = stack.dir
    stack.write(level("one") +
                proc("p", "one", "sh -c 'echo $$ >> %s/p.pids; exec sleep 300'" % d),
                target=0)
    stack.start()
    stack.wait_level(0)
    launcher = stack.wait_until(lambda: launcher_of(stack), msg="launcher runs")
    tracer = subprocess.Popen(
        ["strace", "-qq", "-p", str(launcher), "-e", "trace=sendto",
         "-e", "inject=sendto:delay_enter=3000000", "-o", os.devnull],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        stack.wait_until(lambda: tracer.poll() is not None or
                         proc_status(launcher, "TracerPid") == [str(tracer.pid)],
                         msg="strace attached")
        if tracer.poll() is not None:
            pytest.skip("strace cannot attach here (ptrace refused)")
        assert stack.ctl("target", "1").returncode == 0
        st = stack.wait_level(1, timeout=10)
        assert "launcher: not answering" in stack.log(), stack.log()[-2000:]
        pid = stack.pid("p", st)
        assert ppid_of(pid) == stack.daemon_pid
        stack.wait_until(lambda: str(pid) in stack.lines("p.pids"), msg="p ran")

        def one_p():
            sleeps = [c for c in children_of(stack.daemon_pid)
                      if comm_of(c) == "sleep"]
            assert sleeps == [pid], "p runs twice: %r" % sleeps
            assert stack.lines("p.pids") == [str(pid)], stack.lines("p.pids")
            return True
        # the clone, let go or not, would have run by now
        stack.hold_for(one_p, 1.0, "one p only")
    finally:
        tracer.kill()
        tracer.wait()
    assert stack.stop() == 0
