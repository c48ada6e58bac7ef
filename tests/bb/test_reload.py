"""Reload (SIGHUP and stackctl reload) and stackctl restart on a live stack
(SPEC section 3 "Reload", section 4; issue 3 items 2 and 3)."""

import os
import signal

from conftest import level, proc, alive, read_environ, stopper


def pids(stack):
    return {p["name"]: p["pid"] for p in stack.status()["processes"]}


def three(extra_one="", extra_two="", c_cmd="sleep 302"):
    return (level("one") + proc("a", "one", "sleep 300") +
            proc("b", "one", "sleep 301") + extra_one +
            level("two") + proc("c", "two", c_cmd) + extra_two)


def start_three(stack):
    stack.write(three())
    stack.start()
    stack.wait_level(2)
    return pids(stack)


def test_invalid_reload_changes_nothing(stack):
    before = start_three(stack)
    text = open(stack.ini).read()
    with open(stack.ini, "a") as f:
        f.write("[process d]\nlevel = one\ncommand = sleep 1\nstop_signal = NOPE\n")
    n_lines = len(text.split("\n")) + 3
    r = stack.ctl("reload")
    assert r.returncode == 1, r
    assert "%s:%d:" % (stack.ini, n_lines) in r.stderr, r.stderr
    assert "stop_signal" in r.stderr or "signal" in r.stderr, r.stderr
    assert "reload failed" in stack.log() and ":%d:" % n_lines in stack.log()
    # SIGHUP with the same broken file: also nothing
    stack.send(signal.SIGHUP)
    stack.wait_until(lambda: stack.log().count("reload failed") >= 2, msg="second failure logged")
    stack.hold_for(lambda: pids(stack) == before and stack.status()["level"] == 2, 0.5,
                   "the running stack untouched")
    assert "d" not in pids(stack)


def test_unchanged_file_keeps_everything(stack):
    before = start_three(stack)
    os.kill(before["a"], signal.SIGKILL)
    stack.wait_until(lambda: stack.p("a")["restarts_total"] == 1 and stack.p("a")["pid"],
                     msg="a restarted once")
    before = pids(stack)
    assert stack.ctl("reload").returncode == 0
    stack.hold_for(lambda: pids(stack) == before, 0.5, "no process restarted")
    assert stack.p("a")["restarts_total"] == 1, "restart history kept"


def test_added_removed_changed(stack):
    before = start_three(stack)
    os.kill(before["a"], signal.SIGKILL)
    stack.wait_until(lambda: stack.p("a")["restarts_total"] == 1 and stack.p("a")["pid"],
                     msg="a restarted once")
    a_pid = stack.p("a")["pid"]
    # b removed, d added to the up level one, c changed
    stack.write(level("one") + proc("a", "one", "sleep 300") +
                proc("d", "one", "sleep 304") +
                level("two") + proc("c", "two", "sleep 305"))
    r = stack.ctl("reload")
    assert r.returncode == 0, r.stderr
    stack.wait_until(lambda: stack.p("d")["pid"] and stack.p("d")["state"] == "running",
                     msg="added process d running")
    stack.wait_until(lambda: not alive(before["b"]), msg="removed process b stopped")
    stack.wait_until(lambda: stack.p("c")["pid"] not in (None, before["c"])
                     and stack.p("c")["state"] == "running", msg="changed process c restarted")
    assert not alive(before["c"])
    st = stack.status()
    assert [p["name"] for p in st["processes"]] == ["a", "d", "c"]
    assert stack.p("a")["pid"] == a_pid, "unchanged process kept running"
    assert stack.p("a")["restarts_total"] == 1, "its restart history kept"
    assert st["level"] == 2
    # the removed process is reaped, not left as a zombie or an orphan
    assert stack.stop() == 0


def test_new_process_in_a_down_level_waits(stack):
    stack.write(three(), target=1)
    stack.start()
    stack.wait_level(1)
    stack.write(three(extra_two=proc("e", "two", "sleep 306")), target=1)
    assert stack.ctl("reload").returncode == 0
    stack.hold_for(lambda: stack.p("e")["pid"] is None and stack.status()["level"] == 1, 0.5,
                   "a new process of a level that is down is not started")
    assert stack.ctl("target", "2").returncode == 0
    stack.wait_until(lambda: stack.p("e")["state"] == "running", msg="e starts with its level")


def test_level_sequence_change_rewinds_from_there(stack):
    before = start_three(stack)
    # insert a level between one and two: two is rewound, then mid and two climb
    stack.write(level("one") + proc("a", "one", "sleep 300") +
                proc("b", "one", "sleep 301") +
                level("mid") + proc("m", "mid", "sleep 307") +
                level("two") + proc("c", "two", "sleep 302"))
    stack.send(signal.SIGHUP)
    stack.wait_until(lambda: stack.status()["levels_total"] == 3 and
                     stack.status()["level"] == 3, msg="climbed the new stack to the top")
    after = pids(stack)
    assert after["a"] == before["a"] and after["b"] == before["b"], "level one untouched"
    assert after["c"] != before["c"] and not alive(before["c"]), "level two rewound"
    log = stack.log()
    assert log.index("level 2 (two) down") < log.index("climbing to level 2 (mid)")


def test_reload_events_and_json(stack):
    from test_events import Events
    start_three(stack)
    ev = Events(stack)
    with open(stack.ini, "a") as f:
        f.write('[level x]\ndescription = ok\n[process "q\\\u00e9]\n')
    assert stack.ctl("reload").returncode == 1
    e = ev.wait_event("reload_failed")
    assert e["reason"].startswith(stack.ini + ":"), e
    stack.write(three(c_cmd="sleep 308"))
    assert stack.ctl("reload").returncode == 0
    ev.wait_event("reload_ok")
    ev.wait_event("process_exited", process="c")
    ev.wait_event("process_started", process="c")
    ev.close()


def start_notified(stack, ns):
    """three() under a stand-in for systemd, up and READY=1 sent."""
    stack.write(three())
    stack.start(env={"NOTIFY_SOCKET": ns.path})
    stack.wait_level(2)
    stack.wait_until(lambda: ns.count("READY=1") == 1, msg="READY=1")


def test_reload_notifies_systemd(stack, notify_socket):
    ns = notify_socket
    start_notified(stack, ns)
    stack.write(three(c_cmd="sleep 309"))
    assert stack.ctl("reload").returncode == 0
    stack.wait_until(lambda: ns.count("READY=1") == 2, msg="READY=1 after the reload")
    lines = ns.lines()
    i = lines.index("RELOADING=1")
    assert lines[i + 1].startswith("MONOTONIC_USEC="), lines
    usec = int(lines[i + 1].split("=", 1)[1])
    assert abs(usec / 1e6 - __import__("time").monotonic()) < 60
    assert i < len(lines) - 1 - lines[::-1].index("READY=1")


def test_reload_that_changes_the_target_says_so(stack):
    from test_events import Events
    start_three(stack)
    ev = Events(stack)
    stack.write(three(), target=1)
    assert stack.ctl("reload").returncode == 0
    ev.wait_event("target_changed", target=1)
    stack.wait_level(1)
    ev.close()


def test_finished_oneshot_made_a_longrun_starts(stack):
    stack.write(level("one") + proc("x", "one", "true", type="oneshot") +
                proc("a", "one", "sleep 300"))
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: stack.p("x")["state"] == "done", msg="oneshot x done")
    stack.write(level("one") + proc("x", "one", "sleep 306") +
                proc("a", "one", "sleep 300"))
    assert stack.ctl("reload").returncode == 0
    stack.wait_until(lambda: stack.p("x")["state"] == "running" and stack.p("x")["pid"],
                     msg="x, a longrun of an up level now, running")
    assert "reload: changed process x is to start" in stack.log()
    assert "reload: starting process x" in stack.log()


def test_rejected_reload_still_ends_the_reload_for_systemd(stack, notify_socket):
    # Type=notify-reload: systemd waits for RELOADING=1 then READY=1 after
    # its SIGHUP, whatever the file holds
    ns = notify_socket
    start_notified(stack, ns)
    with open(stack.ini, "a") as f:
        f.write("[level broken\n")
    stack.send(signal.SIGHUP)
    stack.wait_until(lambda: ns.count("READY=1") == 2,
                     msg="READY=1 after the rejected reload")
    lines = ns.lines()
    assert lines.index("RELOADING=1") < len(lines) - 1 - lines[::-1].index("READY=1")
    assert "reload failed, nothing changed: %s:" % stack.ini in stack.log()
    assert stack.status()["level"] == 2


def test_restart_one_process(stack):
    before = start_three(stack)
    r = stack.ctl("restart", "b")
    assert r.returncode == 0, r.stderr
    stack.wait_until(lambda: stack.p("b")["pid"] not in (None, before["b"]) and
                     stack.p("b")["state"] == "running", msg="b restarted")
    assert not alive(before["b"])
    now = pids(stack)
    assert now["a"] == before["a"] and now["c"] == before["c"]
    assert stack.status()["level"] == 2


def test_restart_errors(stack):
    stack.write(three(), target=1)
    stack.start()
    stack.wait_level(1)
    r = stack.ctl("restart", "nosuch")
    assert r.returncode == 1 and "nosuch" in r.stderr, r
    r = stack.ctl("restart", "c")
    assert r.returncode == 1 and "not up" in r.stderr, r
    r = stack.ctl("restart")
    assert r.returncode == 2, r
    assert stack.p("c")["pid"] is None


def test_changed_processes_restart_top_down_then_bottom_up(stack):
    # a (bottom) and c (top) change: c is stopped first, a only once c is
    # gone; a starts again first, c once a is ready.  b is left alone.
    def body(pre):
        return (level("one") + proc("a", "one", stopper(stack, "a", pre)) +
                level("two") + proc("b", "two", "sleep 300") +
                level("three") + proc("c", "three", stopper(stack, "c", pre)))
    stack.write(body(""))
    stack.start()
    stack.wait_level(3)
    st = stack.wait_armed("a", "c")
    b_pid = stack.pid("b", st)
    stack.write(body("true; "))
    assert stack.ctl("reload").returncode == 0
    stack.wait_until(lambda: len(stack.lines("start.log")) == 4, msg="a and c started again")
    assert stack.lines("stop.log") == ["c", "a"]
    log = stack.log()
    assert log.index("reload: starting process a") < log.index("reload: starting process c")
    assert stack.pid("b") == b_pid
    stack.wait_armed("a", "c")
    assert stack.status()["level"] == 3


def test_restart_refused_in_a_level_on_its_way_down(stack):
    # c takes its time over TERM: level one is still up, but above the
    # target, until c is gone.  Restarting a there would start what is
    # about to be stopped.
    stack.write(three(c_cmd=stopper(stack, "c", "sleep 30; "),
                      extra_two="stop_timeout = 60s\n"))
    stack.start()
    stack.wait_level(2)
    st = stack.wait_armed("c")
    a_pid = stack.pid("a", st)
    assert stack.ctl("target", "0").returncode == 0
    stack.wait_until(lambda: stack.p("c")["state"] == "stopping", msg="c stopping")
    r = stack.ctl("restart", "a")
    assert r.returncode == 1 and "level is on its way down" in r.stderr, r
    assert stack.p("a")["pid"] == a_pid and alive(a_pid)
    os.killpg(stack.pid("c"), signal.SIGKILL)
    stack.wait_level(0)
    assert not alive(a_pid)


def test_reload_and_restart_exit_4_without_daemon(stack):
    stack.write(three())
    for cmd in (["reload"], ["restart", "a"], ["events"], ["metrics"]):
        r = stack.ctl(*cmd)
        assert r.returncode == 4, (cmd, r)


def test_moved_process_never_runs_twice(stack):
    # svc moves from level two to level one: its old run is stopped (here
    # it takes half a second to go) before the new one starts, never beside it
    def body(svc_level):
        return (level("one") + proc("a", "one", "sleep 300") +
                (proc("svc", "one", stopper(stack, "svc", "sleep 0.5; "))
                 if svc_level == "one" else "") +
                level("two") +
                (proc("svc", "two", stopper(stack, "svc", "sleep 0.5; "))
                 if svc_level == "two" else ""))
    stack.write(body("two"))
    stack.start()
    st = stack.wait_armed("svc")
    old = stack.pid("svc", st)
    stack.write(body("one"))
    assert stack.ctl("reload").returncode == 0
    starts = stack.wait_until(lambda: len(stack.lines("start.log")) >= 2 and
                              stack.lines("start.log"), msg="svc started again")
    # the new run set its trap: the old one must have gone before it began
    assert not alive(old), "the moved process ran twice at once: %s" % starts
    assert stack.lines("stop.log") == ["svc"]
    stack.wait_until(lambda: stack.p("svc")["level"] == "one" and
                     stack.p("svc")["state"] == "running", msg="svc runs in one")


def test_removed_from_a_level_coming_down(stack):
    # level two is coming down (target 1) when a reload removes the process
    # it waits for: the level still comes down, and stackd can still stop
    stack.write(level("one") + proc("a", "one", "sleep 300") +
                level("two") + proc("svc", "two", stopper(stack, "svc", "sleep 0.5; ")))
    stack.start()
    stack.wait_armed("svc")
    assert stack.ctl("target", "1").returncode == 0
    stack.wait_until(lambda: stack.status()["levels"][1]["state"] == "stopping",
                     msg="level two stopping")
    stack.write(level("one") + proc("a", "one", "sleep 300") + level("two"))
    assert stack.ctl("reload").returncode == 0
    stack.wait_until(lambda: stack.status()["levels"][1]["state"] == "down",
                     msg="level two down")
    assert stack.stop() == 0


def test_operator_target_survives_a_level_added(stack):
    # the file sets no target ("top"): adding a level is no new target, so
    # the one set with stackctl target stays
    start_three(stack)
    assert stack.ctl("target", "1").returncode == 0
    stack.wait_level(1)
    stack.write(three() + level("three"))
    assert stack.ctl("reload").returncode == 0
    stack.wait_until(lambda: "new configuration in force" in stack.log(),
                     msg="reload committed")
    stack.hold_for(lambda: stack.status()["target"] == 1, 0.5,
                   "the operator's target kept")


def test_inherited_stop_timeout_restarts_nothing(stack):
    before = start_three(stack)
    stack.write(three(), stop_timeout="7s")
    assert stack.ctl("reload").returncode == 0
    stack.wait_until(lambda: "new configuration in force" in stack.log(),
                     msg="reload committed")
    stack.hold_for(lambda: pids(stack) == before, 0.5, "no process restarted")


def test_new_name_waits_for_the_next_start(stack):
    # the name, like the socket, stays until stackd starts again: status
    # and the children started after the reload keep telling the same story
    before = start_three(stack)
    old = stack.status()["stack"]
    stack.write(three(c_cmd="sleep 303"), name="renamed")
    stack.name = old
    assert stack.ctl("reload").returncode == 0
    stack.wait_until(lambda: stack.p("c")["pid"] not in (None, before["c"])
                     and stack.p("c")["state"] == "running", msg="c restarted")
    assert stack.status()["stack"] == old
    env = read_environ(stack.p("c")["pid"])
    assert env["STACKD_STACK"] == old, env["STACKD_STACK"]
    assert "the name stays %s" % old in stack.log()
