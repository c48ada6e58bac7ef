"""Reaping: stackd as child subreaper and as PID 1 of a PID namespace reaps
orphans it never started (no zombie outlives a second) and does not exit
while a descendant is alive (SPEC section 3, "As PID 1 and as a subreaper")."""

import os
import time

from conftest import (level, proc, alive, children_of, zombies_of, proc_stat,
                      comm_of, stopper, need_pid_namespace)
import procfs  # tests/procfs.py, on the path conftest set


def watch_zombies(stack, duration, known=()):
    """Sample stackd's children for `duration` seconds.  Return (orphans
    seen alive as stackd's children, worst zombie age, zombies at the end)."""
    dpid = stack.daemon_pid
    first_seen = {}
    orphans = set()
    worst = 0.0
    end = time.monotonic() + duration
    while time.monotonic() < end:
        stack.check_alive()
        now = time.monotonic()
        for pid in children_of(dpid):
            st = proc_stat(pid)
            if st is None:
                continue
            if st[0] == "Z":
                first_seen.setdefault(pid, now)
                worst = max(worst, now - first_seen[pid])
            elif pid not in known and comm_of(pid) == "sleep":
                orphans.add(pid)
        for pid in list(first_seen):
            # one read: the zombie may be reaped between two
            st = proc_stat(pid)
            if st is None or st[0] != "Z":
                del first_seen[pid]
        time.sleep(0.05)
    return orphans, worst, zombies_of(dpid)


ORPHANER = """
    while :; do
      (sleep 0.2 &)
      (sh -c 'exit 0' &)
      sleep 0.05
    done
    """


def test_subreaper_reaps_orphans(stack):
    script = stack.script("orphaner.sh", ORPHANER)
    stack.write(level("one") + proc("orphaner", "one", script))
    stack.start()
    st = stack.wait_level(1)
    assert st["pid"] == stack.daemon_pid, "status pid must be stackd's pid"
    known = {p["pid"] for p in st["processes"]}
    orphans, worst, left = watch_zombies(stack, 2.0, known)
    assert orphans, ("no orphan was ever reparented to stackd: "
                     "it must be the child subreaper (PR_SET_CHILD_SUBREAPER)")
    assert worst < 1.0, "a zombie child of stackd lived %.2fs" % worst
    assert len(left) < 10, "zombies accumulate: %r" % left
    assert stack.stop() == 0


def test_orphans_killed_at_shutdown(stack):
    d = stack.dir
    stack.write(
        level("one") +
        proc("spawner", "one", "sh -c 'sleep 300 & echo $! > %s/o1.pid'" % d,
             type="oneshot") +
        proc("escaper", "one",
             "sh -c '(setsid sleep 300 & echo $! > %s/o2.pid); exec sleep 300'" % d) +
        proc("stubborn", "one",
             "sh -c '(trap \"\" TERM; sleep 300 & echo $! > %s/o3.pid); exec sleep 300'" % d),
        stop_timeout="1s")
    stack.start()
    stack.wait_level(1)
    opids = stack.wait_until(
        lambda: all(stack.read("o%d.pid" % i) for i in (1, 2, 3)) and
        [int(stack.read("o%d.pid" % i)) for i in (1, 2, 3)], msg="orphans recorded")
    for pid in opids:
        stack.wait_until(lambda: proc_stat(pid) and proc_stat(pid)[1] == stack.daemon_pid,
                         timeout=3, msg="orphan %d reparented to stackd" % pid)
    # setsid(1) may not have called setsid() yet when its pid was recorded
    stack.wait_until(lambda: os.getsid(opids[1]) == opids[1], timeout=3,
                     msg="setsid orphan has its own session")
    t = time.monotonic()
    rc = stack.stop(timeout=10)
    el = time.monotonic() - t
    assert rc == 0
    left = [p for p in opids if alive(p)]
    assert not left, "orphans outlived stackd: %r" % left
    assert el >= 0.7, ("the TERM-ignoring orphan needs a SIGKILL after stop_timeout=1s; "
                       "exit after %.2fs means it was not waited for" % el)
    assert el < 6, el


def test_pid1_reaps_orphan_zombies(stack):
    need_pid_namespace()
    script = stack.script("orphaner.sh", ORPHANER)
    stack.write(level("one") + proc("orphaner", "one", script))
    stack.start(wrapper=["unshare", "--pid", "--fork", "--mount-proc"])
    st = stack.wait_level(1)
    assert st["pid"] == 1, "stackd should be PID 1 in its namespace: %r" % st["pid"]
    known = set(_host_pid_of_ns_children(stack.daemon_pid))
    orphans, worst, left = watch_zombies(stack, 2.0, known)
    assert orphans, "no orphan reparented to stackd as PID 1?"
    assert worst < 1.0, "a zombie in the namespace lived %.2fs" % worst
    assert len(left) < 10, "zombies accumulate under PID 1: %r" % left
    rc = stack.stop(timeout=10)
    assert rc == 0, "SIGTERM to stackd as PID 1 must shut down cleanly (exit 0)"


def _host_pid_of_ns_children(dpid):
    # the longrun itself (not an orphan): stackd's child running orphaner.sh
    out = []
    for pid in children_of(dpid):
        if "orphaner.sh" in (procfs.cmdline(pid) or ""):
            out.append(pid)
    return out


def test_pid1_sigterm_stops_children(stack):
    need_pid_namespace()
    stack.write(
        level("one") + proc("p1", "one", stopper(stack, "p1")) +
        level("two") + proc("p2", "two", stopper(stack, "p2")))
    stack.start(wrapper=["unshare", "--pid", "--fork", "--mount-proc"])
    stack.wait_level(2)
    stack.wait_armed("p1", "p2")
    rc = stack.stop(timeout=10)
    assert rc == 0
    assert stack.lines("stop.log") == ["p2", "p1"], \
        "as PID 1, stackd must still stop its children in order (not leave it to the kernel)"
