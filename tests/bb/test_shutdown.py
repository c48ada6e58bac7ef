"""Ordered shutdown: SIGTERM/SIGINT/stackctl shutdown, top level first,
grace periods, a second SIGTERM, on_down hooks, nothing left behind
(SPEC section 3)."""

import os
import signal
import time

import pytest

from conftest import level, proc, alive, stopper


def three_levels(stack, **stack_opts):
    stack.write(
        level("one") + proc("p1", "one", stopper(stack, "p1")) +
        level("two") + proc("p2a", "two", stopper(stack, "p2a", "sleep 0.3; ")) +
        proc("p2b", "two", stopper(stack, "p2b", "sleep 0.3; ")) +
        level("three") + proc("p3", "three", stopper(stack, "p3", "sleep 0.4; ")),
        **stack_opts)
    stack.start()
    st = stack.wait_level(3)
    stack.wait_armed("p1", "p2a", "p2b", "p3")
    return {p["name"]: p["pid"] for p in st["processes"]}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_ordered_shutdown(stack, sig):
    pids = three_levels(stack)
    rc = stack.stop(sig)
    assert rc == 0, "clean shutdown must exit 0"
    order = stack.lines("stop.log")
    assert sorted(order) == ["p1", "p2a", "p2b", "p3"], order
    # the slow top level finished before level two got its signal, and
    # level two finished (both processes) before level one
    assert order[0] == "p3", order
    assert set(order[1:3]) == {"p2a", "p2b"}, order
    assert order[3] == "p1", order
    for n, p in pids.items():
        assert not alive(p), "%s (%d) survived" % (n, p)
    assert not os.path.exists(stack.ctl_path), "control socket left behind"


def test_stackctl_shutdown(stack):
    pids = three_levels(stack)
    r = stack.ctl("shutdown")
    assert r.returncode == 0, r
    rc = stack.wait_exit(timeout=10)
    assert rc == 0
    stack.assert_no_children()
    assert stack.lines("stop.log") in (["p3", "p2a", "p2b", "p1"], ["p3", "p2b", "p2a", "p1"])
    assert not any(alive(p) for p in pids.values())
    assert not os.path.exists(stack.ctl_path)


def test_term_ignored_gets_sigkill_after_stop_timeout(stack):
    d = stack.dir
    stack.write(
        level("one") + proc("nice", "one", "sleep 300") +
        level("two") +
        proc("stubborn", "two",
             "sh -c 'trap \"\" TERM; touch %s/armed; exec sleep 300'" % d,
             stop_timeout="1s"))
    stack.start()
    st = stack.wait_level(2)
    stack.wait_until(lambda: os.path.exists(stack.path("armed")), msg="trap armed")
    pid = stack.pid("stubborn", st)
    t = time.monotonic()
    rc = stack.stop(timeout=10)
    el = time.monotonic() - t
    assert rc == 0
    assert not alive(pid)
    assert 0.8 <= el < 5, "SIGKILL expected after stop_timeout=1s, exit took %.2fs" % el


def test_stack_stop_timeout_is_the_default(stack):
    d = stack.dir
    stack.write(
        level("one") +
        proc("stubborn", "one", "sh -c 'trap \"\" TERM; touch %s/armed; exec sleep 300'" % d),
        stop_timeout="700ms")
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: os.path.exists(stack.path("armed")), msg="trap armed")
    t = time.monotonic()
    rc = stack.stop(timeout=10)
    el = time.monotonic() - t
    assert rc == 0
    assert 0.5 <= el < 4, "stop_timeout=700ms from [stack]: exit took %.2fs" % el


def test_second_sigterm_skips_grace(stack):
    d = stack.dir
    stack.write(
        level("one") +
        proc("stubborn", "one", "sh -c 'trap \"\" TERM; touch %s/armed; exec sleep 300'" % d,
             stop_timeout="30s"),
        stop_timeout="30s")
    stack.start()
    st = stack.wait_level(1)
    stack.wait_until(lambda: os.path.exists(stack.path("armed")), msg="trap armed")
    pid = stack.pid("stubborn", st)
    stack.remember_pids()
    stack.expect_exit = True
    t = time.monotonic()
    stack.send(signal.SIGTERM)

    def stopping():
        s = stack.status()
        return s["state"] == "stopping" and s
    try:
        stack.wait_until(stopping, timeout=3, msg="state stopping")
    except AssertionError:
        pass   # the control socket may already be closed during shutdown
    assert stack.running(), "exited before the grace period with a TERM-ignoring child"
    stack.send(signal.SIGTERM)
    rc = stack.wait_exit(timeout=8)
    el = time.monotonic() - t
    assert rc == 0
    assert el < 6, "second SIGTERM must SIGKILL at once, exit took %.2fs" % el
    assert not alive(pid)
    stack.assert_no_children()


def test_on_down_hooks_run_before_exit(stack):
    d = stack.dir
    hook = "sh -c 'sleep 0.3; echo \"$STACKD_LEVEL $STACKD_EVENT\" >> %s/hooks.log'" % d
    stack.write(
        level("one", on_down=hook) + proc("p1", "one", "sleep 300") +
        level("two", on_down=hook) + proc("p2", "two", "sleep 300"))
    stack.start()
    stack.wait_level(2)
    rc = stack.stop()
    assert rc == 0
    # no polling: the hooks must have finished when stackd exited (hooks
    # run in the background, so the two may finish in either order)
    assert sorted(stack.lines("hooks.log")) == ["one down", "two down"]


def test_shutdown_while_climbing(stack):
    # a SIGTERM in the middle of a climb attempt stops what runs and exits 0
    d = stack.dir
    stack.write(
        level("one") + proc("p1", "one", "sleep 300") +
        level("two", probe="test -f %s/never" % d, ready_timeout="20s") +
        proc("p2", "two", "sleep 300"))
    stack.start()
    st = stack.wait_until(lambda: (s := stack.status())["levels"][1]["state"] == "climbing"
                          and stack.pid("p2", s) and s, msg="climbing level two")
    pids = [p["pid"] for p in st["processes"]]
    rc = stack.stop()
    assert rc == 0
    assert not any(alive(p) for p in pids)


def test_shutdown_from_retrying_is_prompt(stack):
    stack.write(level("one") + proc("bad", "one", "sh -c 'exit 1'", ready_delay="300ms"),
                retry_min="5s", retry_max="10s")
    stack.start()
    stack.wait_until(lambda: stack.status()["state"] == "retrying", msg="retrying")
    t = time.monotonic()
    rc = stack.stop()
    assert rc == 0
    assert time.monotonic() - t < 3, "shutdown must not wait for the backoff"


def test_level_down_only_once_its_whole_group_is(stack):
    # A wrapper whose worker drains on TERM: the wrapper's main process
    # dies at once, but level two is down -- and level one stopped -- only
    # once the worker is gone too (KillMode=control-group, top-down).
    d = stack.dir
    worker = ("sh -c '(trap \"sleep 0.5; echo worker >> %s/stop.log; exit 0\" TERM; "
              "echo worker >> %s/armed; while :; do sleep 0.05; done) & exec sleep 300'"
              % (d, d))
    stack.write(level("one") + proc("p1", "one", stopper(stack, "p1")) +
                level("two") + proc("w", "two", worker))
    stack.start()
    stack.wait_level(2)
    stack.wait_armed("p1")
    stack.wait_until(lambda: stack.read("armed"), msg="the worker's trap is set")
    assert stack.stop() == 0
    assert stack.lines("stop.log") == ["worker", "p1"]
    assert "process w: waiting for what it left in its process group" in stack.log()


def _leftover_with_a_worker(stack, parent, stop_timeout):
    # A oneshot leaves parent running (setsid'd, so out of its group);
    # parent starts the worker in the background where it says %s.  The
    # worker writes "got" to worker_term on SIGTERM.  Returns once the
    # worker's trap is set.
    worker = stack.script("worker.sh", """#!/bin/sh
trap "echo got > %s; exit 0" TERM
echo armed > %s
while :; do sleep 0.05; done
""" % (stack.path("worker_term"), stack.path("worker_armed")))
    parent = stack.script("parent.sh", parent % worker)
    stack.write(level("one") +
                proc("init", "one", "sh -c 'setsid %s & exit 0'" % parent, type="oneshot") +
                proc("p", "one", "sleep 300"), stop_timeout=stop_timeout)
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: stack.read("worker_armed"), msg="the worker's trap is set")


def test_leftover_reparented_during_the_grace_gets_term(stack):
    # At shutdown a leftover gets SIGTERM, takes its time and exits; its
    # child, reparented to stackd only then, gets SIGTERM too (not only the
    # SIGKILL at the end of the grace period).
    _leftover_with_a_worker(stack, """#!/bin/sh
trap "sleep 0.5; exit 0" TERM
%s &
wait
""", "3s")
    assert stack.stop() == 0
    assert stack.read("worker_term") == "got\n"


def test_leftover_ignoring_term_does_not_shield_its_child(stack):
    # The leftover at shutdown ignores SIGTERM; its child wants one to
    # finish cleanly.  Every descendant gets SIGTERM at the start of the
    # grace period, as in one cgroup -- not the child only SIGKILL once
    # its parent was killed and it was reparented to stackd.  (The worker
    # starts before the trap: an ignored TERM would be inherited.)
    _leftover_with_a_worker(stack, """#!/bin/sh
%s &
trap '' TERM
wait
""", "1s")
    assert stack.stop() == 0
    assert stack.read("worker_term") == "got\n"
