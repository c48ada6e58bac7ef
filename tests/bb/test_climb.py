"""Climbing: levels in order, readiness, failed attempts with backoff,
oneshots, stackctl wait/ready, and moving the target (SPEC sections 2-4)."""

import os
import subprocess
import time

from conftest import level, proc, alive, stopper, descendants
import procfs  # tests/procfs.py, on the path conftest set


def test_level_2_starts_only_after_level_1_ready(stack):
    d = stack.dir
    stack.write(
        level("one", probe="test -f %s/gate1" % d, ready_timeout="20s") +
        proc("p1", "one", "sleep 300") +
        level("two") +
        proc("p2", "two", "sh -c 'touch %s/p2.started; exec sleep 300'" % d))
    stack.start()
    stack.wait_running("p1")

    def gated():
        st = stack.status()
        assert st["level"] == 0, st
        assert st["levels"][0]["state"] == "climbing", st["levels"][0]
        assert st["levels"][0]["probe"] in ("pending", "failed"), st["levels"][0]
        assert stack.p("p2", st)["pid"] is None, stack.p("p2", st)
        assert not os.path.exists(stack.path("p2.started"))
        return True
    stack.hold_for(gated, 0.8, "level two not started while level one is not ready")

    stack.touch("gate1")
    st = stack.wait_level(2)
    assert st["state"] == "up", st
    assert st["levels"][0]["probe"] == "ok"
    stack.wait_until(lambda: os.path.exists(stack.path("p2.started")), msg="p2 ran")
    assert stack.p("p2", st)["state"] == "running"


def started_at(stack, name):
    """The times (seconds of the day, from stackd's log) of each "process
    NAME started" line: stackd's own view of the exec, which a slow shell
    in the child cannot shift."""
    out = []
    for line in stack.log().splitlines():
        if ": process %s started, pid " % name in line:
            hms = line.split("T", 1)[1].split(" ", 1)[0]
            h, m, sec = hms.split(":")
            out.append(int(h) * 3600 + int(m) * 60 + float(sec))
    return out


def test_climb_order_with_ready_delay(stack):
    stack.write(
        level("one") + proc("p1", "one", "sleep 301", ready_delay="400ms") +
        level("two") + proc("p2", "two", "sleep 302", ready_delay="400ms") +
        level("three") + proc("p3", "three", "sleep 303"))
    stack.start()
    stack.wait_level(3)
    times = [started_at(stack, n) for n in ("p1", "p2", "p3")]
    # each started exactly once
    assert [len(t) for t in times] == [1, 1, 1], times
    (t1,), (t2,), (t3,) = times
    # the log has milliseconds: 400 ms apart at least, less the rounding
    assert t2 - t1 >= 0.3985, "p2 started %.3fs after p1 (ready_delay 400ms)" % (t2 - t1)
    assert t3 - t2 >= 0.3985, "p3 started %.3fs after p2 (ready_delay 400ms)" % (t3 - t2)


def test_failing_probe_stays_below_retries_then_climbs(stack):
    d = stack.dir
    stack.write(
        level("one") + proc("p1", "one", "sleep 300") +
        level("two", probe="test -f %s/gate2" % d, ready_timeout="300ms") +
        proc("p2", "two", "sh -c 'echo $$ >> %s/p2.pids; exec sleep 300'" % d))
    stack.start()
    p1 = stack.wait_running("p1")
    retrying = []

    def attempts():
        st = stack.status()
        assert st["level"] <= 1, "climbed past a failing probe: %r" % st
        if st["state"] == "retrying":
            retrying.append(st)
        return st["levels"][1]["climb_attempts"] >= 3 and retrying and st
    st = stack.wait_until(attempts, timeout=8, msg="3 climb attempts of level two")
    assert st["level"] == 1
    assert st["levels"][0]["state"] == "up"
    assert st["last_failure"] == \
        "two: not ready within ready_timeout (300ms), waiting for probe", st
    r = retrying[-1]
    assert isinstance(r["next_attempt_in"], (int, float)), r
    assert 0 <= r["next_attempt_in"] <= 1.0, r["next_attempt_in"]
    p2 = stack.p("p2", r)
    assert p2["pid"] is None and p2["state"] == "stopped", \
        "level two must be stopped between attempts: %r" % p2
    pids = [int(x) for x in stack.lines("p2.pids")]
    assert len(set(pids)) >= 2, "p2 must be restarted by each attempt: %r" % pids
    assert not any(alive(p) for p in pids[:-1]), "old attempts left processes alive"
    assert stack.pid("p1") == p1, "level one was touched by level two's failures"

    stack.touch("gate2")
    st = stack.wait_level(2)
    assert st["state"] == "up" and st["next_attempt_in"] is None, st
    assert st["levels"][1]["probe"] == "ok"
    assert stack.pid("p1", st) == p1


def test_failed_climb_backs_off(stack):
    # a longrun that exits during the attempt (before its ready_delay is
    # over) fails it at once: the only thing between two attempts is the
    # backoff (100ms doubling to 400ms)
    d = stack.dir
    stack.write(
        level("one") +
        proc("bad", "one", "sh -c 'date +%%s.%%N >> %s/runs; exit 1'" % d,
             ready_delay="300ms"))
    stack.start()
    stack.wait_until(lambda: len(stack.lines("runs")) >= 1, msg="first run")
    t0 = time.monotonic()
    stack.wait_until(lambda: time.monotonic() - t0 >= 2.0, timeout=3, msg="2 s")
    st = stack.status()
    runs = [float(x) for x in stack.lines("runs")]
    n = st["levels"][0]["climb_attempts"]
    assert st["level"] == 0
    assert 3 <= n <= 14, "climb attempts in ~2 s with 100ms..400ms backoff: %d" % n
    assert 3 <= len(runs) <= 15, runs
    assert abs(len(runs) - n) <= 1, "one run per attempt: %d runs, %d attempts" % (len(runs), n)
    gaps = [b - a for a, b in zip(runs, runs[1:])]
    assert min(gaps) >= 0.05, "attempts not separated by a backoff: %r" % gaps
    # once at retry_max the gaps stop growing (400ms + jitter, < 1s)
    assert max(gaps) < 1.0, gaps
    assert st["last_failure"]
    assert stack.lvl("one", st)["state"] in ("down", "climbing")


def test_ready_timeout_fails_attempt(stack):
    d = stack.dir
    stack.write(
        level("one", ready_timeout="300ms") +
        proc("p", "one", "sh -c 'echo $$ >> %s/p.pids; exec sleep 300'" % d,
             ready="fd:3"))
    stack.start()
    st = stack.wait_until(
        lambda: (s := stack.status())["levels"][0]["climb_attempts"] >= 2 and s,
        msg="two attempts")
    assert st["level"] == 0
    # the failure says what was still awaited: the level's state no
    # longer does once it is down
    assert st["last_failure"].endswith(
        "not ready within ready_timeout (300ms), waiting for p"), st
    # the second attempt has started; its shell may not have written yet
    pids = stack.wait_until(lambda: len(set(p := [int(x) for x in stack.lines("p.pids")])) >= 2
                            and p, msg="a pid per attempt")
    stack.wait_until(lambda: not alive(pids[0]), timeout=2,
                     msg="process of the failed attempt stopped")


def _gated_readiness(stack, ready, command, extra=None, status_before=None,
                     status_after=None):
    opts = {"ready": ready}
    opts.update(extra or {})
    stack.write(level("one", ready_timeout="20s") + proc("p", "one", command, **opts))
    stack.start()

    def starting():
        st = stack.status()
        p = stack.p("p", st)
        assert st["level"] == 0, st
        assert p["state"] == "starting" and p["pid"], p
        if status_before is not None:
            assert p["status"] == status_before, p
        return True
    stack.wait_until(starting, msg="p starting")
    stack.hold_for(starting, 0.5, "p not ready before its gate")
    stack.touch("gate")
    st = stack.wait_level(1)
    p = stack.p("p", st)
    assert p["state"] == "running"
    if status_after is not None:
        stack.wait_until(lambda: stack.p("p")["status"] == status_after,
                         msg="status text %r" % status_after)


def test_ready_fd(stack):
    g = stack.path("gate")
    _gated_readiness(stack, "fd:3",
                     "sh -c 'while ! test -f %s; do sleep 0.05; done; echo >&3; exec sleep 300'" % g)


def test_ready_probe(stack):
    g = stack.path("gate")
    _gated_readiness(stack, "probe", "sleep 300", extra={"probe": "test -f %s" % g})


NOTIFY_CHILD = """#!/usr/bin/python3
import os, socket, time
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(addr)
s.send(b"STATUS=warming up")
while not os.path.exists(%(gate)r):
    time.sleep(0.05)
s.send(b"READY=1\\nSTATUS=serving")
time.sleep(300)
"""


def test_ready_notify(stack):
    script = stack.script("notify.py", NOTIFY_CHILD % {"gate": stack.path("gate")})
    _gated_readiness(stack, "notify", script, status_before="warming up",
                     status_after="serving")


def test_notify_from_other_process_group_ignored(stack):
    # READY=1 sent by a process outside the child's process group (setsid)
    # does not count
    script = stack.script("notify.py", NOTIFY_CHILD % {"gate": stack.path("gate")})
    stack.write(level("one", ready_timeout="20s") +
                proc("p", "one", "sh -c 'setsid %s & exec sleep 300'" % script,
                     ready="notify"))
    stack.start()
    stack.touch("gate")
    stack.hold_for(lambda: stack.status()["level"] == 0, 1.0,
                   "READY=1 from a foreign process group ignored")
    assert stack.p("p")["state"] == "starting"


def test_oneshot_must_finish_before_level_ready(stack):
    d = stack.dir
    stack.write(
        level("one") +
        proc("setup", "one", "sh -c 'sleep 0.5; touch %s/setup.done'" % d,
             type="oneshot") +
        proc("svc", "one", "sleep 300") +
        level("two") +
        proc("p2", "two",
             "sh -c 'if test -f %s/setup.done; then echo yes; else echo no; fi > %s/p2.saw; "
             "exec sleep 300'" % (d, d)))
    stack.start()
    st = stack.wait_level(2)
    stack.wait_until(lambda: stack.read("p2.saw"), msg="p2 ran")
    assert stack.read("p2.saw") == "yes\n", "level two started before the oneshot finished"
    s = stack.p("setup", st)
    assert s["state"] == "done" and s["pid"] is None, s
    assert s["type"] == "oneshot"
    assert s["last_exit"] in (None, "exited 0"), s


def test_failing_oneshot_fails_climb(stack):
    d = stack.dir
    # fails twice, succeeds on its third run
    stack.write(
        level("one") + proc("base", "one", "sleep 300") +
        level("two") +
        proc("migrate", "two",
             "sh -c 'echo x >> %s/runs; test $(wc -l < %s/runs) -ge 3'" % (d, d),
             type="oneshot") +
        proc("app", "two", "sleep 300"))
    stack.start()
    st = stack.wait_until(
        lambda: (s := stack.status())["levels"][1]["climb_attempts"] >= 2 and s,
        msg="second attempt")
    assert st["levels"][1]["climb_attempts"] >= 2
    st = stack.wait_level(2)
    assert len(stack.lines("runs")) == 3, "a oneshot runs once per climb attempt"
    assert st["levels"][1]["climb_attempts"] == 3, st["levels"][1]
    assert stack.p("migrate", st)["state"] == "done"


def test_failing_oneshot_reports_exit(stack):
    stack.write(level("one") + proc("migrate", "one", "sh -c 'exit 7'", type="oneshot"))
    stack.start()
    st = stack.wait_until(
        lambda: (s := stack.status())["levels"][0]["climb_attempts"] >= 2
        and stack.p("migrate", s)["last_exit"] == "exited 7" and s,
        msg="second attempt, last_exit 'exited 7'")
    assert st["level"] == 0
    assert st["last_failure"]


def test_wait_and_ready_exit_codes(stack):
    d = stack.dir
    stack.write(
        level("one") + proc("p1", "one", "sleep 300") +
        level("two", probe="test -f %s/gate" % d, ready_timeout="20s") +
        proc("p2", "two", "sleep 300"))
    stack.start()
    stack.wait_level(1)
    assert stack.ctl("ready").returncode == 1, "ready_level (top) not reached"
    assert stack.ctl("ready", "2").returncode == 1
    assert stack.ctl("ready", "two").returncode == 1
    assert stack.ctl("ready", "1").returncode == 0
    assert stack.ctl("ready", "one").returncode == 0
    assert stack.ctl("ready", "0").returncode == 0
    assert stack.ctl("wait", "1").returncode == 0
    assert stack.ctl("wait", "one", "--timeout", "1s").returncode == 0

    t = time.monotonic()
    r = stack.ctl("wait", "2", "--timeout", "400ms")
    el = time.monotonic() - t
    assert r.returncode == 1, r
    assert 0.3 <= el < 3, "wait --timeout 400ms took %.2fs" % el

    w = subprocess.Popen([stack.build.stackctl, "-s", stack.ctl_path, "wait", "two",
                          "--timeout", "20s"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        stack.hold_for(lambda: w.poll() is None, 0.3,
                       "wait does not return before level two is up")
        stack.touch("gate")
        rc = w.wait(timeout=8)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    assert rc == 0
    assert stack.status()["level"] == 2
    assert stack.ctl("ready").returncode == 0
    assert stack.ctl("ready", "2").returncode == 0
    # a level that does not exist is refused, not waited for
    assert stack.ctl("ready", "nosuch").returncode in (1, 2)
    assert stack.ctl("wait", "nosuch", "--timeout", "5s").returncode in (1, 2)


def test_target_descend_and_climb_again(stack):
    stack.write(
        level("one") + proc("p1", "one", stopper(stack, "p1")) +
        level("two") + proc("p2", "two", stopper(stack, "p2")) +
        level("three") + proc("p3", "three", stopper(stack, "p3", "sleep 0.3; ")))
    stack.start()
    st = stack.wait_level(3)
    stack.wait_armed("p1", "p2", "p3")
    assert st["target"] == 3 and st["target_name"] == "three" and st["levels_total"] == 3
    old = {n: stack.pid(n, st) for n in ("p1", "p2", "p3")}

    r = stack.ctl("target", "1")
    assert r.returncode == 0, r
    st = stack.wait_level(1)
    stack.wait_until(lambda: stack.status()["state"] == "up", msg="state up at target 1")
    st = stack.status()
    assert st["target"] == 1 and st["level_name"] == "one"
    assert stack.lines("stop.log") == ["p3", "p2"], "top level must stop first"
    for n in ("p2", "p3"):
        p = stack.p(n, st)
        assert p["state"] == "stopped" and p["pid"] is None, p
        assert not alive(old[n]), "%s (pid %d) still alive" % (n, old[n])
    assert stack.pid("p1", st) == old["p1"], "level one must keep running"
    assert [l["state"] for l in st["levels"]] == ["up", "down", "down"]

    r = stack.ctl("target", "top")
    assert r.returncode == 0, r
    st = stack.wait_level(3)
    stack.wait_armed("p2", "p3")
    assert st["target"] == 3
    assert stack.pid("p1", st) == old["p1"]
    for n in ("p2", "p3"):
        assert stack.pid(n, st) not in (None, old[n])

    r = stack.ctl("target", "0")
    assert r.returncode == 0, r
    st = stack.wait_level(0)
    assert st["target"] == 0 and st["level_name"] == ""
    assert all(p["pid"] is None for p in st["processes"]), st["processes"]
    assert stack.lines("stop.log") == ["p3", "p2", "p3", "p2", "p1"]
    stack.hold_for(lambda: stack.running() and stack.status()["level"] == 0, 0.5,
                   "stackd keeps running at target 0")

    r = stack.ctl("target", "two")
    assert r.returncode == 0, r
    st = stack.wait_level(2)
    assert st["target"] == 2 and st["target_name"] == "two"


def test_target_unknown_level_refused(stack):
    stack.write(level("one") + proc("p1", "one", "sleep 300"))
    stack.start()
    stack.wait_level(1)
    r = stack.ctl("target", "nosuch")
    assert r.returncode == 1, r
    r = stack.ctl("target", "7")
    assert r.returncode == 1, r
    st = stack.status()
    assert st["target"] == 1 and st["level"] == 1


def test_probe_timeout_kills_the_probe(stack):
    # A probe still running at probe_timeout is killed and counts as failed.
    stack.write(level("one") + proc("p", "one", "sleep 300") +
                level("two", probe="sleep 37", probe_timeout="300ms",
                      probe_interval="30s", ready_timeout="20s") +
                proc("q", "two", "sleep 300"))
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: "probe of level two timed out after" in stack.log(),
                     msg="the probe timed out")

    def probes():
        return [p for p in descendants(stack.daemon_pid) if procfs.cmdline(p) == "sleep 37"]
    stack.wait_until(lambda: probes() == [], msg="the probe killed")
    assert stack.lvl("two")["state"] == "climbing"
    assert stack.lvl("two")["probe"] == "failed"


def test_next_attempt_while_the_failed_level_still_stops(stack):
    # The wait after a failure runs from when the failed level is down;
    # while it is still being stopped, status gives the whole wait (and
    # says after what), not a countdown that reaches 0 with nothing due.
    stack.write(level("one") + proc("a", "one", "sleep 300") +
                level("two", intensity=0) +
                proc("crash", "two", "sh -c 'while [ ! -e %s/crash ]; do sleep 0.05; done; exit 1'"
                     % stack.dir) +
                proc("slow", "two", stopper(stack, "slow", "sleep 4; "),
                     stop_timeout="10s"),
                retry_min="2s", retry_max="2s")
    stack.start()
    stack.wait_level(2)
    stack.wait_armed("slow")
    stack.touch("crash")
    stack.wait_until(lambda: stack.p("slow")["state"] == "stopping", msg="slow stopping")
    t = time.monotonic()
    stack.wait_until(lambda: time.monotonic() - t > 2.5, msg="2.5 s")
    st = stack.status()
    assert stack.p("slow", st)["state"] == "stopping", "slow stopped too soon: %r" % st
    assert st["next_attempt_in"] is not None and st["next_attempt_in"] >= 1.9, st
    r = stack.ctl("status")
    assert "after level 2 (two) is down" in r.stdout, r.stdout
    st = stack.wait_until(lambda: (lambda s: s["levels"][1]["state"] == "down" and s)(stack.status()),
                          msg="level two down")
    assert st["next_attempt_in"] is not None and st["next_attempt_in"] <= 2.0, st


def test_a_command_that_cannot_run_is_never_started(stack):
    # "process NAME started" means its exec succeeded: a command that
    # cannot run gets its exec error and exit 127 instead
    stack.write(level("one") + proc("missing", "one", "/nonexistent/bin") +
                proc("ok", "one", "sleep 300"))
    stack.start(wait_socket=False)
    stack.wait_until(lambda: stack.log().count("process missing exited 127") >= 2,
                     msg="two attempts")
    log = stack.log()
    assert "process missing: exec /nonexistent/bin: No such file or directory" in log
    assert "process missing started" not in log
    assert "process ok started, pid " in log
