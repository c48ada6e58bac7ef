"""sd_notify towards systemd: READY=1 exactly when ready_level is first
reached, STATUS= on changes, STOPPING=1 at shutdown (SPEC section 3)."""

import os
import shutil
import subprocess

import pytest

from conftest import level, proc, stopper


def gated_stack(stack, ready_level):
    d = stack.dir
    body = level("alpha") + proc("pa", "alpha", "sleep 300") + \
        level("beta", probe="test -f %s/gate" % d, ready_timeout="20s") + \
        proc("pb", "beta", "sleep 300")
    stack.write(body, ready_level=ready_level)


def test_ready_only_when_ready_level_reached(stack, notify_socket):
    ns = notify_socket
    gated_stack(stack, "beta")
    stack.start(env={"NOTIFY_SOCKET": ns.path})
    stack.wait_level(1)
    stack.wait_until(lambda: stack.lvl("beta")["state"] == "climbing", msg="climbing beta")
    stack.hold_for(lambda: ns.count("READY=1") == 0, 0.6, "no READY=1 below ready_level")
    assert ns.statuses(), "STATUS= expected while climbing"
    stack.touch("gate")
    stack.wait_until(lambda: ns.count("READY=1") == 1, msg="READY=1")
    st = stack.status()
    assert st["level"] == 2 and st["ready_level"] == 2
    # reaching ready_level again later does not send READY=1 again
    assert stack.ctl("target", "1").returncode == 0
    stack.wait_level(1)
    assert stack.ctl("target", "top").returncode == 0
    stack.wait_level(2)
    stack.wait_until(lambda: any("beta" in s for s in ns.statuses()[-3:]),
                     timeout=3, msg="STATUS= naming the level reached")
    assert ns.count("READY=1") == 1, "READY=1 only when first reached: %r" % ns.lines()
    assert stack.stop() == 0
    lines = ns.lines()
    assert "STOPPING=1" in lines, lines
    assert lines.index("STOPPING=1") > lines.index("READY=1")


def test_status_on_level_changes(stack, notify_socket):
    ns = notify_socket
    gated_stack(stack, "top")
    stack.start(env={"NOTIFY_SOCKET": ns.path})
    stack.wait_level(1)
    stack.wait_until(lambda: ns.statuses(), msg="a STATUS= message")
    n = len(ns.statuses())
    stack.touch("gate")
    stack.wait_level(2)
    stack.wait_until(lambda: len(ns.statuses()) > n, msg="a new STATUS= after level change")
    stack.wait_until(lambda: "beta" in ns.statuses()[-1], timeout=3,
                     msg="last STATUS= names level beta: %r" % ns.statuses()[-3:])
    for s in ns.statuses():
        assert s.strip(), "empty STATUS="


def test_ready_level_0_ready_at_once(stack, notify_socket):
    ns = notify_socket
    d = stack.dir
    stack.write(level("alpha", probe="test -f %s/gate" % d, ready_timeout="20s") +
                proc("pa", "alpha", "sleep 300"), ready_level=0)
    stack.start(env={"NOTIFY_SOCKET": ns.path})
    stack.wait_until(lambda: ns.count("READY=1") == 1, timeout=4, msg="READY=1 at once")
    assert stack.status()["level"] == 0
    assert stack.ctl("ready").returncode == 0, "ready with ready_level 0"
    assert stack.stop() == 0
    assert "STOPPING=1" in ns.lines()
    assert ns.count("READY=1") == 1


def test_ready_level_by_number(stack, notify_socket):
    ns = notify_socket
    gated_stack(stack, 1)
    stack.start(env={"NOTIFY_SOCKET": ns.path})
    stack.wait_level(1)
    stack.wait_until(lambda: ns.count("READY=1") == 1, msg="READY=1 at level 1")
    st = stack.status()
    assert st["ready_level"] == 1 and st["level"] == 1 and st["target"] == 2
    assert stack.ctl("ready").returncode == 0
    assert stack.ctl("ready", "2").returncode == 1


def test_stopping_sent_before_children_stop(stack, notify_socket):
    ns = notify_socket
    stack.write(level("alpha") + proc("pa", "alpha", stopper(stack, "pa", pre="sleep 2; "),
                                      stop_timeout="10s"))
    stack.start(env={"NOTIFY_SOCKET": ns.path})
    stack.wait_level(1)
    stack.wait_armed("pa")
    stack.wait_until(lambda: ns.count("READY=1") == 1, msg="READY=1")
    stack.expect_exit = True
    stack.send(15)
    # STOPPING=1 is announced at the start of the shutdown, not at its end:
    # pa takes 2 s over its TERM
    stack.wait_until(lambda: "STOPPING=1" in ns.lines(), timeout=3, msg="STOPPING=1")
    assert "pa" not in stack.lines("stop.log"), "STOPPING=1 came after pa had stopped"
    assert stack.wait_exit() == 0
    assert stack.lines("stop.log") == ["pa"]


def test_stopping_sent_whatever_began_the_shutdown(stack, notify_socket):
    # stackctl shutdown and give_up_after stop the stack as SIGTERM does:
    # systemd must hear STOPPING=1, once, before the STATUS= of the stop
    ns = notify_socket
    stack.write(level("alpha") + proc("pa", "alpha", "sleep 300"))
    stack.start(env={"NOTIFY_SOCKET": ns.path})
    stack.wait_level(1)
    stack.wait_until(lambda: ns.count("READY=1") == 1, msg="READY=1")
    stack.expect_exit = True
    assert stack.ctl("shutdown").returncode == 0
    assert stack.wait_exit() == 0
    lines = ns.lines()
    assert lines.count("STOPPING=1") == 1, lines
    after = lines[lines.index("STOPPING=1"):]
    assert any(l.startswith("STATUS=") and "stopping" in l for l in after), lines


# --------------------------------------------------------------------------
# libsystemd is loaded on first use (src/sdlib.c)

def _mapped(pid, name):
    with open("/proc/%d/maps" % pid) as f:
        return name in f.read()


def test_libsystemd_not_loaded_unless_needed(stack):
    stack.write(level("one") + proc("p", "one", "sleep 300"))
    stack.start()
    stack.wait_level(1)
    for lib in ("libsystemd", "liblzma", "libgcrypt", "libzstd"):
        assert not _mapped(stack.daemon_pid, lib), "%s mapped without need" % lib


def test_libsystemd_loaded_for_notify_socket(stack, notify_socket):
    stack.write(level("one") + proc("p", "one", "sleep 300"))
    stack.start(env={"NOTIFY_SOCKET": notify_socket.path})
    stack.wait_until(lambda: notify_socket.count("READY=1") == 1, msg="READY=1")
    assert _mapped(stack.daemon_pid, "libsystemd.so")


def _linked_library(binary, name):
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if name in line and "=>" in line:
            return line.split("=>")[1].split()[0]
    pytest.fail("%s is not linked with %s: %s" % (binary, name, out))


@pytest.mark.parametrize("fake", ["not-a-library", "without-the-functions"])
def test_without_libsystemd(stack, notify_socket, fake):
    # libsystemd.so.0 found first on LD_LIBRARY_PATH is not a library, or
    # is another library under that name: one error in the log, nothing on
    # NOTIFY_SOCKET, and the stack runs as usual.  (log = journal does not
    # need the library: stackd makes the stream itself, test_logs.)
    ns = notify_socket
    libdir = stack.path("lib")
    os.makedirs(libdir)
    fake_lib = os.path.join(libdir, "libsystemd.so.0")
    if fake == "not-a-library":
        with open(fake_lib, "w") as f:
            f.write("not a library\n")
    else:
        shutil.copy(_linked_library(stack.build.stackd, "libinih"), fake_lib)
    stack.write(level("one") + proc("q", "one", "sleep 300") +
                level("two") + proc("r", "two", "sleep 300"))
    stack.start(env={"NOTIFY_SOCKET": ns.path, "LD_LIBRARY_PATH": libdir})
    stack.wait_level(2)
    log = stack.log()
    assert log.count("cannot load libsystemd.so.0: ") == 1, log
    assert stack.stop() == 0
    assert ns.lines() == [], "nothing may reach NOTIFY_SOCKET: %r" % ns.lines()
    assert stack.log().count("cannot load libsystemd.so.0: ") == 1


def test_watchdog_pings_from_the_loop(stack, notify_socket):
    # WATCHDOG_USEC set for stackd: WATCHDOG=1 at half of it, again and
    # again; for another process (WATCHDOG_PID), none.
    ns = notify_socket
    stack.write(level("one") + proc("p", "one", "sleep 300"))
    stack.start(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "400000"})
    stack.wait_level(1)
    stack.wait_until(lambda: ns.count("WATCHDOG=1") >= 5, msg="WATCHDOG=1 pings")
    assert stack.stop() == 0


def test_no_watchdog_pings_for_another_pid(stack, notify_socket):
    ns = notify_socket
    stack.write(level("one") + proc("p", "one", "sleep 300"))
    stack.start(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "200000",
                     "WATCHDOG_PID": str(os.getpid())})
    stack.wait_level(1)
    stack.wait_until(lambda: ns.count("READY=1") == 1, msg="READY=1")
    stack.hold_for(lambda: ns.count("WATCHDOG=1") == 0, 0.6,
                   "no WATCHDOG=1 when WATCHDOG_PID names another process")
