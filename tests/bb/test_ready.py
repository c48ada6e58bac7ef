"""Readiness and status reported by the child itself (issue 4, items 1, 2
and 5): ready = notify with the real systemd-notify and with raw sd_notify
datagrams (READY=1, STATUS=, MAINPID=, ERRNO=, STOPPING=1), messages from
strangers, oversized and malformed ones, the per-process watchdog, and
ready = fd:N.  stackd's own sd_notify to systemd is test_notify.py."""

import os
import signal
import socket
import subprocess

import pytest

from conftest import level, proc, alive, proc_stat, read_environ, wait_until

# The children are Python scripts in the stack directory.  No core files:
# the watchdog kills with SIGABRT.
PRELUDE = """#!/usr/bin/python3
import os, resource, signal, socket, subprocess, sys, time
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
D = %(dir)r

def gate(name):
    while not os.path.exists(os.path.join(D, name)):
        time.sleep(0.02)

def note(name, text):
    with open(os.path.join(D, name + ".tmp"), "w") as f:
        f.write(text)
    os.rename(os.path.join(D, name + ".tmp"), os.path.join(D, name))

def runs():
    with open(os.path.join(D, "runs"), "a+") as f:
        f.write("%%d\\n" %% os.getpid())
        f.seek(0)
        return len(f.read().split())

ADDR = os.environ.get("NOTIFY_SOCKET", "")
if ADDR.startswith("@"):
    ADDR = "\\0" + ADDR[1:]
SOCK = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)

def send(data):
    SOCK.sendto(data, ADDR)
"""


def child(stack, name, body):
    return stack.script(name, PRELUDE % {"dir": stack.dir} + body)


def notify_addr(pid):
    addr = read_environ(pid)["NOTIFY_SOCKET"]
    return "\0" + addr[1:] if addr.startswith("@") else addr


def cmdline(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        return f.read()


def log_lines(stack, text):
    return [l for l in stack.log().splitlines() if text in l]


def wait_log(stack, text, timeout=6):
    return stack.wait_until(lambda: log_lines(stack, text), timeout=timeout,
                            msg="log line %r" % text)


# --------------------------------------------------------------------------
# ready = notify


def test_real_systemd_notify_from_wrapper(stack):
    # the Debian package systemd provides it (Makefile CHECK_DEBS)
    assert os.access("/usr/bin/systemd-notify", os.X_OK), "systemd-notify missing"
    g = stack.path("gate")
    stack.write(level("one", ready_timeout="20s") + proc(
        "svc", "one",
        "sh -c 'while ! test -f %s; do sleep 0.05; done; "
        "systemd-notify --ready --status=\"warm and ready\"; exec sleep 300'" % g,
        ready="notify"))
    stack.start()
    pid = stack.wait_until(lambda: stack.p("svc")["pid"], msg="svc started")
    stack.hold_for(lambda: stack.p("svc")["state"] == "starting", 0.5,
                   "not ready before systemd-notify ran")
    stack.touch("gate")
    st = stack.wait_level(1)
    p = stack.p("svc", st)
    assert p["pid"] == pid and p["state"] == "running", p
    stack.wait_until(lambda: stack.p("svc")["status"] == "warm and ready",
                     msg="STATUS= from systemd-notify")
    # systemd-notify waits (BARRIER=1) until its message was processed;
    # stackd acknowledges at once, so the wrapper goes on to exec sleep
    # long before systemd-notify's own 5 s timeout
    stack.wait_until(lambda: cmdline(pid).startswith(b"sleep"), timeout=4,
                     msg="wrapper past systemd-notify")
    assert not log_lines(stack, "ignoring"), stack.log()


RAW = """
n = runs()
helper = subprocess.Popen(["sleep", "300"])      # same process group
send(b"STATUS=starting")
gate("go")
send(b"MAINPID=%d" % os.getppid())               # stackd: not in our group
send(b"READY=1\\nSTATUS=serving\\nMAINPID=%d" % helper.pid)
note("helper", str(helper.pid))
if n > 1:
    time.sleep(300)
gate("fail")
helper.kill()
helper.wait()
send(b"STATUS=shutting down")
send(b"ERRNO=98")
send(b"STOPPING=1")
os._exit(1)                 # at once: stackd reads them before the exit
"""


MAINPID_GONE = """
helper = subprocess.Popen(["sleep", "300"])      # same process group
send(b"READY=1\\nMAINPID=%d" % helper.pid)
note("helper", str(helper.pid))
gate("kill")
helper.kill()
helper.wait()                                   # reaped here, not by stackd
time.sleep(300)
"""


def test_main_pid_cleared_when_it_exits(stack):
    script = child(stack, "mp.py", MAINPID_GONE)
    stack.write(level("one") + proc("p", "one", script, ready="notify"))
    stack.start()
    stack.wait_level(1)
    leader = stack.p("p")["pid"]
    helper = int(stack.wait_until(lambda: stack.read("helper"), msg="helper pid"))
    stack.wait_until(lambda: stack.p("p")["main_pid"] == helper, msg="MAINPID= shown")
    stack.touch("kill")
    stack.wait_until(lambda: stack.p("p")["main_pid"] == leader,
                     msg="main_pid back to the leader once %d exited" % helper)
    wait_log(stack, "process p: main pid %d exited" % helper)
    assert stack.p("p")["pid"] == leader, "the process itself keeps running"


def test_raw_datagrams(stack):
    from test_events import Events
    script = child(stack, "raw.py", RAW)
    stack.write(level("one", ready_timeout="20s") +
                proc("p", "one", script, ready="notify"))
    stack.start()
    ev = Events(stack)
    stack.wait_until(lambda: stack.p("p")["status"] == "starting", msg="STATUS=starting")
    leader = stack.p("p")["pid"]
    assert stack.p("p")["state"] == "starting"
    stack.touch("go")
    stack.wait_level(1)
    helper = int(stack.wait_until(lambda: stack.read("helper"), msg="helper pid"))
    p = stack.wait_until(lambda: (q := stack.p("p"))["main_pid"] == helper and q,
                         msg="MAINPID= shown")
    assert p["pid"] == leader, "pid stays the process stackd started (signals go there)"
    assert p["status"] == "serving" and p["state"] == "running", p
    assert p["last_errno"] is None
    # MAINPID= of a process outside the group is refused and logged
    wait_log(stack, "ignoring MAINPID=%d: not in its process group %d"
             % (stack.daemon_pid, leader))
    # the human status shows the main pid
    assert str(helper) in stack.ctl("status").stdout
    ev.wait_event("process_status", process="p", status="serving", pid=leader)

    # stackd is held while the child sends and exits: the exit and the
    # datagrams are then pending together, and the datagrams must win
    os.kill(stack.daemon_pid, signal.SIGSTOP)
    try:
        stack.touch("fail")
        wait_until(lambda: (proc_stat(leader) or "Z")[0] == "Z", msg="child exited")
    finally:
        os.kill(stack.daemon_pid, signal.SIGCONT)
    p = stack.wait_until(lambda: (q := stack.p("p"))["restarts_total"] == 1 and
                         q["state"] == "running" and q, msg="restarted after its exit")
    assert p["pid"] != leader
    assert p["last_exit"] == "exited 1" and p["last_errno"] == 98, p
    # sent just before the exit, still read before the exit was handled
    wait_log(stack, "process p reports ERRNO=98: Address already in use")
    wait_log(stack, "process p is stopping (STOPPING=1)")
    wait_log(stack, "process p exited 1, ERRNO=98: Address already in use "
             "(announced by STOPPING=1)")
    ev.wait_event("process_status", process="p", status="shutting down")
    ex = ev.wait_event("process_exited", process="p")
    assert ex["requested"] is False and ex["status"] == 1 and ex["errno"] == 98, ex
    ev.close()
    assert not alive(helper)


STRANGER = """
note("ready-to-forge", "")
gate("go")
send(b"READY=1\\nSTATUS=genuine")
time.sleep(300)
"""


def test_datagram_from_unrelated_process_ignored(stack):
    script = child(stack, "c.py", STRANGER)
    stack.write(level("one", ready_timeout="20s") +
                proc("p", "one", script, ready="notify"))
    stack.start()
    stack.wait_until(lambda: stack.read("ready-to-forge") is not None, msg="child up")
    pid = stack.p("p")["pid"]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    addr = notify_addr(pid)
    for _ in range(40):
        s.sendto(b"READY=1\nSTATUS=forged", addr)
    s.close()
    wait_log(stack, "ignoring a notify message from pid %d: not in its process "
             "group %d" % (os.getpid(), pid))
    stack.hold_for(lambda: (q := stack.p("p"))["state"] == "starting" and
                   q["status"] == "", 0.8, "forged READY=1 and STATUS= ignored")
    # rate-limited: 40 forgeries, a handful of lines
    n = len(log_lines(stack, "ignoring a notify message from pid"))
    assert 1 <= n <= 5, stack.log()
    assert log_lines(stack, "more within 10s are only counted")
    stack.touch("go")
    st = stack.wait_level(1)
    assert stack.p("p", st)["state"] == "running"
    stack.wait_until(lambda: stack.p("p")["status"] == "genuine", msg="own STATUS=")
    assert stack.stop() == 0
    assert log_lines(stack, "process p: 35 more lines about its notify messages "
                     "were not logged"), stack.log()


BAD = """
send(b"READY=1\\n" + b"x" * 5000)                 # oversized
send(b"READY=1\\0")                               # NUL byte
send(b"READY=1\\ngarbage")                        # not KEY=VALUE
send(b"READY=2")                                 # bad value
send(b"READY=1\\nMAINPID=abc")                    # whole or nothing
send(b"")                                        # empty
for i in range(200):                             # a flood
    send(b"junk %d" % i)
note("sent", "")
gate("go")
send(b"FDSTORE=1\\nX_UNKNOWN=whatever\\nREADY=1\\nSTATUS=fine")
time.sleep(300)
"""


def test_oversized_and_malformed_datagrams(stack):
    script = child(stack, "bad.py", BAD)
    stack.write(level("one", ready_timeout="20s") +
                proc("p", "one", script, ready="notify"))
    stack.start()
    stack.wait_until(lambda: stack.read("sent") is not None, msg="all sent")
    stack.hold_for(lambda: stack.p("p")["state"] == "starting", 0.5,
                   "no bad datagram counted")
    # the fifth line says that the rest is only counted
    log = stack.wait_until(lambda: "more within 10s are only counted" in stack.log()
                           and stack.log(), msg="five lines about the bad datagrams")
    assert "ignoring a notify message of 5008 bytes" in log and "more than 4096" in log, log
    assert "a NUL byte at offset 7" in log, log
    assert 'line 2 is not KEY=VALUE: "garbage"' in log, log
    assert 'line 1 has a bad value: "READY=2"' in log, log
    assert 'line 2 has a bad value: "MAINPID=abc"' in log, log
    # five lines within 10 s: the rest is counted, not logged
    assert len([l for l in log.splitlines() if "process p: ignoring" in l]) == 5, log
    assert "more within 10s are only counted" in log
    stack.touch("go")
    st = stack.wait_level(1)
    assert stack.p("p", st)["state"] == "running"
    stack.wait_until(lambda: stack.p("p")["status"] == "fine", msg="STATUS=fine")
    assert stack.stop() == 0
    # 206 bad datagrams, 5 logged, 201 counted
    assert log_lines(stack, "process p: 201 more lines about its notify messages "
                     "were not logged"), stack.log()


# --------------------------------------------------------------------------
# watchdog = DURATION


PINGER = """
note("env", "%s %s %d" % (os.environ.get("WATCHDOG_USEC"),
                         os.environ.get("WATCHDOG_PID"), os.getpid()))
n = runs()
send(b"READY=1")
i = 0
while n > 1 or not os.path.exists(os.path.join(D, "hang")):
    i += 1
    send(b"WATCHDOG=1\\nSTATUS=tick %d" % i)
    time.sleep(0.1)
time.sleep(300)                                  # hung: no more pings
"""


def test_watchdog_kills_a_hung_process(stack):
    script = child(stack, "ping.py", PINGER)
    stack.write(level("one") + proc("w", "one", script, ready="notify",
                                    watchdog="600ms"))
    stack.start()
    st = stack.wait_level(1)
    pid = stack.p("w", st)["pid"]
    env = stack.wait_until(lambda: stack.read("env"), msg="env noted")
    assert env == "600000 %d %d" % (pid, pid), "WATCHDOG_USEC and WATCHDOG_PID: %r" % env
    # pinging every 100 ms: well past 600 ms, nothing happens
    stack.hold_for(lambda: stack.p("w")["pid"] == pid, 1.5, "pinged process left alone")
    assert not log_lines(stack, "watchdog")
    stack.touch("hang")
    p = stack.wait_until(lambda: (q := stack.p("w"))["restarts_total"] == 1 and
                         q["state"] == "running" and q, msg="restarted after the watchdog")
    assert p["last_exit"] == "killed by SIGABRT", p
    assert not alive(pid)
    assert log_lines(stack, "process w: watchdog: no WATCHDOG=1 within 600ms; "
                     "sending SIGABRT, SIGKILL after 1000ms")
    assert stack.status()["level"] == 1


TRIGGER = """
signal.signal(signal.SIGABRT, signal.SIG_IGN)    # SIGKILL must follow
send(b"READY=1")
gate("go")
for _ in range(%(n)d):                           # a second must not cancel it
    send(b"WATCHDOG=trigger")
    time.sleep(0.2)
time.sleep(300)
"""


@pytest.mark.parametrize("n", [1, 2], ids=["once", "twice"])
def test_watchdog_trigger_then_sigkill(stack, n):
    script = child(stack, "trig.py", TRIGGER % {"n": n})
    stack.write(level("one") + proc("t", "one", script, ready="notify",
                                    watchdog="1h", restart="temporary"),
                stop_timeout="700ms")
    stack.start()
    pid = stack.wait_level(1)["processes"][0]["pid"]
    stack.touch("go")
    p = stack.wait_until(lambda: (q := stack.p("t"))["state"] == "exited" and q,
                         msg="killed after WATCHDOG=trigger")
    assert p["last_exit"] == "killed by SIGKILL", p
    assert not alive(pid)
    log = stack.log()
    assert "process t: watchdog: WATCHDOG=trigger; sending SIGABRT" in log, log
    assert "process t did not exit within 700ms of SIGABRT, sending SIGKILL" in log, log
    assert stack.status()["level"] == 1, "a temporary process: the level stays up"


def test_watchdog_across_reload(stack):
    # the process keeps its place: a reload that moves it to another index
    # keeps its socket and its watchdog working; a new watchdog = restarts it
    script = child(stack, "ping.py", PINGER)

    def w(watchdog):
        return proc("w", "one", script, ready="notify", watchdog=watchdog)
    stack.write(level("one") + w("600ms"))
    stack.start()
    pid = stack.wait_level(1)["processes"][0]["pid"]
    stack.write(level("one") + proc("first", "one", "sleep 300") + w("600ms"))
    assert stack.ctl("reload").returncode == 0
    stack.wait_until(lambda: stack.p("first")["state"] == "running", msg="new process")
    seen = stack.p("w")["status"]
    stack.hold_for(lambda: stack.p("w")["pid"] == pid, 1.5,
                   "watchdog still fed after the reload")
    assert stack.p("w")["status"] != seen, "STATUS= still read after the reload"
    assert not log_lines(stack, "watchdog")
    stack.write(level("one") + proc("first", "one", "sleep 300") + w("800ms"))
    assert stack.ctl("reload").returncode == 0
    new = stack.wait_running("w", other_than=pid)
    stack.wait_until(lambda: stack.read("env") == "800000 %d %d" % (new, new),
                     msg="new WATCHDOG_USEC")


def test_watchdog_needs_notify(stack):
    stack.write(level("one") + proc("p", "one", "sleep 300", watchdog="5s"))
    r = subprocess.run([stack.build.stackd, "--check", "-f", stack.ini],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1
    line = [n for n, l in enumerate(stack.ini_text().split("\n"), 1)
            if l.startswith("watchdog")][0]
    assert r.stderr.strip() == "%s:%d: watchdog: only used with ready = notify" % (
        stack.ini, line), r.stderr


# --------------------------------------------------------------------------
# ready = fd:N


FD_CHILD = """
signal.signal(signal.SIGPIPE, signal.SIG_IGN)
fd = %(fd)d
note("kind", "fifo" if stat.S_ISFIFO(os.fstat(fd).st_mode) else "other")
os.write(fd, b"not yet")                          # no newline: not ready
gate("go")
os.write(fd, b" ready\\n")
while True:                                      # stackd closes its end
    try:
        os.write(fd, b"x")
    except BrokenPipeError:
        note("closed", "")
        break
    time.sleep(0.05)
time.sleep(300)
"""


# fd 4 is where the launcher's children hold their exec-status pipe; the
# others are there in case that ever moves.
@pytest.mark.parametrize("n", [3, 4, 5, 6])
def test_ready_fd_exec_error_reported(stack, n):
    # fd N becomes the readiness pipe: whatever stackd's child held there
    # must not be lost, or the exec error is written into the readiness
    # pipe and stackd takes the exec for a success
    stack.write(level("one", ready_timeout="20s") +
                proc("p", "one", "/nonexistent/stackd-test", ready="fd:%d" % n),
                retry_min="30s", retry_max="30s")
    stack.start()
    wait_log(stack, "process p: exec /nonexistent/stackd-test: "
             "No such file or directory")
    wait_log(stack, "process p exited 127")
    assert stack.status()["level"] == 0


@pytest.mark.parametrize("n", [3, 7])
def test_ready_fd_newline_then_closed(stack, n):
    script = child(stack, "fd.py", "import stat\n" + FD_CHILD % {"fd": n})
    stack.write(level("one", ready_timeout="20s") +
                proc("p", "one", script, ready="fd:%d" % n))
    stack.start()
    stack.wait_until(lambda: stack.read("kind") == "fifo", msg="fd %d is a pipe" % n)
    stack.hold_for(lambda: stack.p("p")["state"] == "starting", 0.5,
                   "no newline yet: not ready")
    stack.touch("go")
    st = stack.wait_level(1)
    assert stack.p("p", st)["state"] == "running"
    stack.wait_until(lambda: stack.read("closed") is not None,
                     msg="stackd closed the pipe after the newline")
    assert alive(stack.p("p")["pid"])


def test_status_text_cannot_drive_the_terminal(stack):
    # a child's STATUS= reaches an operator's terminal through `stackctl
    # status`: its control bytes (escape sequences, \r) must not
    script = child(stack, "evil.py",
                   'send(b"READY=1\\nSTATUS=evil\\x1b[2J\\x1b]0;pwned\\x07\\rOVER")\n'
                   "time.sleep(300)\n")
    stack.write(level("one") + proc("p", "one", script, ready="notify"))
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: stack.p("p")["status"], msg="STATUS= kept")
    assert stack.p("p")["status"] == "evil\x1b[2J\x1b]0;pwned\x07\rOVER", \
        "the JSON status keeps the text as sent"
    out = stack.ctl("status").stdout
    assert "evil?[2J?]0;pwned??OVER" in out, out
    assert not any(ord(ch) < 0x20 and ch != "\n" for ch in out), repr(out)
