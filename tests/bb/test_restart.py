"""Supervision of an up level: the ratchet, restart types, strategies,
restart intensity and failing liveness probes (SPEC sections 2-3)."""

import os
import signal

import pytest

from conftest import level, proc, alive


def exit_script(stack):
    """A longrun that records its pid in NAME.pids and exits with the code
    written (by the test) to NAME.code."""
    d = stack.dir
    return stack.script("exiter.sh", """
        n=$1
        echo $$ >> %(d)s/$n.pids
        while [ ! -f %(d)s/$n.code ]; do sleep 0.05; done
        c=$(cat %(d)s/$n.code)
        rm -f %(d)s/$n.code
        exit $c
        """ % {"d": d})


def test_ratchet_restart_in_place(stack):
    stack.write(level("one") + proc("p1", "one", "sleep 300") +
                level("two") + proc("p2", "two", "sleep 300"))
    stack.start()
    st = stack.wait_level(2)
    p1, p2 = stack.pid("p1", st), stack.pid("p2", st)
    os.kill(p1, signal.SIGKILL)

    def restarted():
        s = stack.status()
        assert s["level"] == 2, "a crashed process must not rewind the stack: %r" % s
        p = stack.p("p1", s)
        return p["state"] == "running" and p["pid"] not in (None, p1) and s
    st = stack.wait_until(restarted, msg="p1 restarted in place")
    new = stack.p("p1", st)
    assert new["restarts"] == 1 and new["restarts_total"] == 1, new
    assert new["last_exit"] == "killed by SIGKILL", new
    assert stack.pid("p2", st) == p2, "level two's process must keep its pid"
    assert st["state"] == "up"
    assert [l["state"] for l in st["levels"]] == ["up", "up"]
    assert st["levels"][0]["failures"] == 0 and st["levels"][1]["failures"] == 0
    stack.hold_for(lambda: stack.status()["level"] == 2, 0.3, "level stays 2")


def _restart_stack(stack, restart):
    ex = exit_script(stack)
    stack.write(level("one") + proc("keep", "one", "sleep 300") +
                proc("p", "one", "%s p" % ex, restart=restart))
    stack.start()
    st = stack.wait_level(1)
    # the level is up once p is exec'd, which can be before its shell has
    # recorded its pid; a kill then would leave one line in p.pids, not two
    stack.wait_until(lambda: stack.lines("p.pids") == [str(stack.pid("p", st))],
                     msg="first run of p recorded")
    return stack.pid("p", st), stack.pid("keep", st)


def _exit_and_wait(stack, code):
    stack.touch("p.code", "%d\n" % code)
    stack.wait_until(lambda: stack.read("p.code") is None, msg="p consumed its exit code")


def _assert_not_restarted(stack, last_exit, keep):
    def stopped():
        p = stack.p("p")
        return p["pid"] is None and p["last_exit"] == last_exit and p
    p = stack.wait_until(stopped, msg="p exited (%s) and not running" % last_exit)
    assert p["state"] in ("exited", "stopped"), p
    n = len(stack.lines("p.pids"))

    def still():
        st = stack.status()
        assert stack.p("p", st)["pid"] is None, stack.p("p", st)
        assert len(stack.lines("p.pids")) == n, "p was restarted"
        assert st["level"] == 1 and st["levels"][0]["state"] == "up", st
        return True
    stack.hold_for(still, 0.7, "p not restarted, level stays up")
    assert stack.pid("keep") == keep


def _assert_restarted(stack, old, last_exit):
    def restarted():
        p = stack.p("p")
        return p["state"] == "running" and p["pid"] not in (None, old) and p
    p = stack.wait_until(restarted, msg="p restarted")
    assert p["last_exit"] == last_exit, p
    assert p["restarts_total"] >= 1, p
    stack.wait_until(lambda: len(stack.lines("p.pids")) == 2, msg="second run of p")
    return p["pid"]


def test_permanent_restarted_after_exit_0(stack):
    old, keep = _restart_stack(stack, "permanent")
    _exit_and_wait(stack, 0)
    new = _assert_restarted(stack, old, "exited 0")
    assert stack.pid("keep") == keep
    os.kill(new, signal.SIGTERM)
    stack.wait_until(lambda: stack.p("p")["pid"] not in (None, new)
                     and stack.p("p")["last_exit"] == "killed by SIGTERM", msg="restart after TERM")


def test_transient_restarted_after_failure_only(stack):
    old, keep = _restart_stack(stack, "transient")
    _exit_and_wait(stack, 1)
    _assert_restarted(stack, old, "exited 1")
    assert stack.pid("keep") == keep
    _exit_and_wait(stack, 0)
    _assert_not_restarted(stack, "exited 0", keep)


def test_transient_restarted_after_signal(stack):
    old, keep = _restart_stack(stack, "transient")
    os.kill(old, signal.SIGKILL)
    _assert_restarted(stack, old, "killed by SIGKILL")


def test_temporary_never_restarted(stack):
    old, keep = _restart_stack(stack, "temporary")
    _exit_and_wait(stack, 1)
    _assert_not_restarted(stack, "exited 1", keep)


@pytest.mark.parametrize("strategy,expect_restarted", [
    ("one_for_one", {"b"}),
    ("one_for_all", {"a", "b", "c"}),
    ("rest_for_one", {"b", "c"}),
])
def test_strategy(stack, strategy, expect_restarted):
    # intensity = 1: one restart event, however many processes it
    # restarts, counts once and must not fail the level
    stack.write(level("base") + proc("z", "base", "sleep 300") +
                level("one", strategy=strategy, intensity=1, period="30s") +
                proc("a", "one", "sleep 300") +
                proc("b", "one", "sleep 300") +
                proc("c", "one", "sleep 300"))
    stack.start()
    st = stack.wait_level(2)
    before = {n: stack.pid(n, st) for n in "abcz"}
    os.kill(before["b"], signal.SIGKILL)

    def settled():
        s = stack.status()
        assert s["level"] == 2, "a restart must not rewind: %r" % s
        now = {n: stack.pid(n, s) for n in "abcz"}
        if any(p is None for p in now.values()):
            return False
        if any(stack.p(n, s)["state"] != "running" for n in "abc"):
            return False
        changed = {n for n in "abcz" if now[n] != before[n]}
        return changed >= expect_restarted and (s, changed)
    st, changed = stack.wait_until(settled, msg="%s restart done" % strategy)
    assert changed == expect_restarted, \
        "%s: killed b, restarted %s, expected %s" % (strategy, sorted(changed),
                                                     sorted(expect_restarted))
    for n in expect_restarted:
        assert not alive(before[n]), "old %s (pid %d) still alive" % (n, before[n])
    lv = stack.lvl("one", st)
    assert lv["state"] == "up" and lv["failures"] == 0, \
        "one restart event must count once against intensity 1: %r" % lv
    stack.hold_for(lambda: stack.status()["levels"][1]["failures"] == 0, 0.5,
                   "level one does not fail after one restart event")


def test_intensity_exceeded_rewinds_and_reclimbs(stack):
    stack.write(
        level("one") + proc("p1", "one", "sleep 300") +
        level("two", intensity=2, period="10s") +
        proc("flap", "two", "sh -c 'sleep 0.3; exit 1'") +
        level("three") +
        proc("p3", "three", "sh -c 'echo $$ >> %s/p3.pids; exec sleep 300'" % stack.dir))
    stack.start()
    st = stack.wait_level(3, timeout=5)
    p1, p3 = stack.pid("p1", st), stack.pid("p3", st)
    levels_seen = []

    def failed():
        s = stack.status()
        levels_seen.append(s["level"])
        assert s["level"] >= 1, "level one must never be rewound: %r" % s
        return stack.lvl("two", s)["failures"] >= 1 and s
    st = stack.wait_until(failed, timeout=6, msg="level two fails (intensity 2 in 10s)")
    assert st["last_failure"], st
    assert not alive(p3), "level three must be stopped when level two fails"
    assert stack.pid("p1", st) == p1, "level one must keep running"
    assert stack.lvl("one", st)["failures"] == 0

    def reclimbed():
        s = stack.status()
        assert s["level"] >= 1
        return (stack.lvl("two", s)["climb_attempts"] >= 2
                and len(stack.lines("p3.pids")) >= 2 and s)
    st = stack.wait_until(reclimbed, timeout=6, msg="levels two and three climbed again")
    assert stack.pid("p1", st) == p1


def test_failing_liveness_probe_fails_level(stack):
    d = stack.dir
    stack.touch("gate")
    stack.write(
        level("one") + proc("p1", "one", "sleep 300") +
        level("two", probe="test -f %s/gate" % d, failure_threshold=3,
              ready_timeout="300ms") +
        proc("p2", "two", "sleep 300"))
    stack.start()
    st = stack.wait_level(2)
    p1, p2 = stack.pid("p1", st), stack.pid("p2", st)
    os.unlink(stack.path("gate"))
    st = stack.wait_until(lambda: (s := stack.status())["levels"][1]["failures"] >= 1 and s,
                          msg="level two fails on its probe")
    stack.wait_until(lambda: not alive(p2), timeout=3, msg="p2 stopped")
    st = stack.status()
    assert st["level"] == 1
    assert stack.pid("p1", st) == p1
    assert st["last_failure"]
    stack.touch("gate")
    st = stack.wait_level(2)
    assert stack.pid("p2", st) not in (None, p2)
    assert stack.pid("p1", st) == p1


def test_single_probe_failure_below_threshold_tolerated(stack):
    # the probe fails for ~1 interval (< failure_threshold=5 consecutive)
    d = stack.dir
    stack.touch("gate")
    stack.write(
        level("one", probe="test -f %s/gate" % d, failure_threshold=5,
              probe_interval="200ms") +
        proc("p1", "one", "sleep 300"))
    stack.start()
    st = stack.wait_level(1)
    p1 = stack.pid("p1", st)
    os.unlink(stack.path("gate"))
    stack.wait_until(lambda: stack.lvl("one")["probe"] == "failed", msg="probe failed")
    stack.touch("gate")
    stack.wait_until(lambda: stack.lvl("one")["probe"] == "ok", msg="probe ok again")
    st = stack.status()
    assert st["levels"][0]["failures"] == 0 and st["level"] == 1
    assert stack.pid("p1", st) == p1


def test_restart_waits_for_the_rest_of_the_group(stack):
    # The main process of a wrapper crashes; its worker gets the stop
    # signal and drains: the successor starts only once it is gone, never
    # beside it.
    log = stack.path("runs.log")
    cmd = stack.script("wrapper", """#!/bin/sh
(trap "sleep 0.5; echo drained >> %s; exit 0" TERM
 echo armed >> %s
 while :; do sleep 0.05; done) &
echo run >> %s
exec sleep 300
""" % (log, log, log))
    stack.write(level("one") + proc("w", "one", cmd))
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: "armed" in stack.lines("runs.log"), msg="worker armed")
    os.kill(stack.pid("w"), signal.SIGKILL)
    stack.wait_until(lambda: stack.lines("runs.log").count("run") == 2,
                     msg="the restart")
    lines = [l for l in stack.lines("runs.log") if l != "armed"]
    assert lines == ["run", "drained", "run"], lines
