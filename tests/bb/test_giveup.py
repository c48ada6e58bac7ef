"""give_up_after: N consecutive failed climbs -> exit 3, nothing left
behind; 0 = never give up (SPEC sections 1-4)."""

import time

from conftest import level, proc, alive


def test_give_up_exits_3_and_leaves_no_children(stack):
    d = stack.dir
    stack.write(
        level("one") +
        proc("base", "one", "sh -c 'echo $$ >> %s/pids; sleep 300 & echo $! >> %s/pids; wait'"
             % (d, d)) +
        level("two", probe="false", ready_timeout="300ms") +
        proc("p2", "two", "sh -c 'echo $$ >> %s/pids; exec sleep 300'" % d),
        give_up_after=2)
    t = time.monotonic()
    stack.start(wait_socket=False)
    rc = stack.wait_exit(timeout=15)
    el = time.monotonic() - t
    assert rc == 3, "give_up_after=2 must exit 3, got %s" % rc
    assert el < 10, el
    pids = [int(x) for x in stack.lines("pids")]
    assert len(pids) >= 4, "level one and two attempts should have run: %r" % pids
    stack.assert_no_children()
    left = [p for p in pids if alive(p)]
    assert not left, "children survived give-up: %r" % left


def test_give_up_counts_attempts(stack):
    stack.write(
        level("one", ready_timeout="200ms") +
        proc("p", "one", "sleep 300", ready="fd:3"),
        give_up_after=3)
    stack.start(wait_socket=False)
    rc = stack.wait_exit(timeout=15)
    assert rc == 3
    # stackd's count: under load a run can time out before its shell writes
    assert stack.log().count(": process p started, pid ") == 3, \
        "exactly give_up_after=3 attempts"
    stack.assert_no_children()


def test_give_up_0_never(stack):
    # exits before its ready_delay is over: every attempt fails
    stack.write(level("one") + proc("bad", "one", "sh -c 'exit 1'", ready_delay="300ms"),
                give_up_after=0)
    stack.start()
    stack.wait_until(lambda: stack.status()["levels"][0]["climb_attempts"] >= 5,
                     msg="5 failed attempts")
    assert stack.running(), "give_up_after=0 must never give up"
    assert stack.status()["level"] == 0
    assert stack.stop() == 0


def test_default_never_gives_up(stack):
    stack.write(level("one") + proc("bad", "one", "sh -c 'exit 1'", ready_delay="300ms"))
    stack.start()
    st = stack.wait_until(lambda: (s := stack.status())["levels"][0]["climb_attempts"] >= 5
                          and s, msg="5 failed attempts")
    assert stack.running()
    assert st["level"] == 0 and st["target"] == 1
    assert stack.stop() == 0
