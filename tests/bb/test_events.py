"""stackctl events: JSON lines for what happens, several subscribers at
once, a subscriber that stops reading is dropped without hurting anyone
(issue 3, item 4)."""

import json
import os
import signal
import socket
import subprocess
import threading
import time

from conftest import level, proc, _ctl_env
import procfs  # tests/procfs.py, on the path conftest set


class Events:
    """A running `stackctl events`, its lines parsed as they arrive."""

    def __init__(self, stack):
        self.stack = stack
        self.p = subprocess.Popen([stack.build.stackctl, "-s", stack.ctl_path, "events"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=_ctl_env())
        self.events = []
        self.bad = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        # the first line tells where the stack is: from then on we are
        # subscribed and nothing is missed
        first = self.wait_event("subscribed")
        assert first["stack"] == stack.name

    def _read(self):
        for raw in self.p.stdout:
            try:
                self.events.append(json.loads(raw.decode("utf-8")))
            except ValueError:
                self.bad.append(raw)

    def names(self):
        return [e["event"] for e in self.events]

    def wait(self, pred, msg, timeout=15):
        def ok():
            assert not self.bad, "invalid JSON lines: %r" % self.bad
            return next((e for e in self.events if pred(e)), None)
        return self.stack.wait_until(ok, timeout=timeout, msg=msg)

    def wait_event(self, name, timeout=15, **fields):
        return self.wait(lambda e: e["event"] == name and
                         all(e.get(k) == v for k, v in fields.items()),
                         "event %s %s" % (name, fields), timeout)

    def close(self):
        # SIGTERM, not SIGINT: under a shell's background job (CI's
        # `make check &`) SIGINT arrives ignored and stays so across exec
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(timeout=5)


def subscribe(stack):
    return Events(stack)


def two_levels(stack, **kw):
    stack.write(level("one") + proc("a", "one", "sleep 300") +
                level("two", intensity=1, period="30s") +
                proc("b", "two", "sleep 300"), **kw)
    stack.start()
    stack.wait_level(2)


def test_event_fields_and_clocks(stack):
    two_levels(stack)
    ev = subscribe(stack)
    assert ev.events[0]["current"] == 2 and ev.events[0]["target"] == 2
    assert stack.ctl("target", "1").returncode == 0
    e = ev.wait_event("target_changed")
    assert e["target"] == 1
    assert abs(e["time"] - time.time()) < 30, e
    assert e["timestamp"].endswith("Z") and e["timestamp"][:4].isdigit(), e
    assert abs(e["monotonic"] - time.monotonic()) < 30, e
    d = ev.wait_event("level_down", level="two")
    assert d["level_number"] == 2
    x = ev.wait_event("process_exited", process="b")
    assert x["requested"] is True and x["level"] == "two"
    assert x["signal"] == "SIGTERM" and x["status"] is None, x
    ev.close()


def test_events_during_rewind(stack):
    two_levels(stack)
    ev = subscribe(stack)
    b = stack.pid("b")
    def crashed():
        # the first kill is a restart in place, the second exceeds intensity 1
        pid = stack.p("b")["pid"]
        if pid:
            os.kill(pid, signal.SIGKILL)
        return next((e for e in ev.events if e["event"] == "level_failed"), None)
    stack.wait_until(crashed, msg="level two fails after two crashes")
    ev.wait_event("level_down", level="two")
    ev.wait_event("climb_started", level="two")
    up = ev.wait_event("level_up", level="two")
    names = ev.names()
    ex = [e for e in ev.events if e["event"] == "process_exited" and not e["requested"]]
    assert ex and ex[0]["process"] == "b" and ex[0]["signal"] == "SIGKILL", ev.events
    assert ex[0]["pid"] == b
    i_fail = names.index("level_failed")
    assert "restart" in ev.events[i_fail]["reason"]
    i_down = names.index("level_down", i_fail)
    assert i_fail < i_down < names.index("climb_started", i_down) < ev.events.index(up)
    # level one was never touched
    assert not [e for e in ev.events if e.get("level") == "one"
                and e["event"] in ("level_down", "level_failed")]
    ev.close()


def test_climb_failed_has_reason(stack):
    stack.write(level("one") + proc("a", "one", "sleep 300") +
                level("two", ready_timeout="300ms") +
                proc("b", "two", "sleep 300", ready="notify"),
                retry_min="1s", retry_max="2s")
    stack.start()
    ev = subscribe(stack)
    e = ev.wait_event("climb_failed", level="two")
    assert "ready_timeout" in e["reason"]
    ev.close()


def test_several_subscribers_and_shutdown(stack):
    two_levels(stack)
    subs = [subscribe(stack) for _ in range(3)]
    assert stack.ctl("target", "1").returncode == 0
    for s in subs:
        s.wait_event("target_changed", target=1)
    stack.expect_exit = True
    assert stack.ctl("shutdown").returncode == 0
    for s in subs:
        s.wait_event("shutdown")
        s.p.wait(timeout=15)
        assert s.p.returncode == 0, s.p.stderr.read()
    stack.wait_exit()


def test_subscriber_that_never_reads_is_dropped(stack):
    stack.write(level("one") + proc("a", "one", "sleep 300") +
                level("two", intensity=1000000, period="1s") +
                proc("flap", "two", "sh -c 'sleep 0.01'"),
                retry_min="50ms", retry_max="50ms")
    stack.start()
    # sockets only: the flapping process's pipes and pidfd come and go
    base = procfs.sockets(stack.daemon_pid)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(stack.ctl_path)
    s.sendall(b"events\n")
    good = subscribe(stack)
    # the flapping process generates events; the silent subscriber's
    # buffer fills up and stackd drops it, while the reading one goes on
    def dropped():
        return "dropping an events subscriber" in stack.log()
    stack.wait_until(dropped, timeout=60, msg="stackd drops the silent subscriber")
    n = len(good.events)
    good.wait(lambda e: len(good.events) > n + 5, "the reading subscriber keeps receiving")
    st = stack.status()
    assert st["level"] >= 1
    s.close()
    good.close()
    stack.wait_until(lambda: procfs.sockets(stack.daemon_pid) == base,
                     msg="stackd back to its %d sockets" % base)
