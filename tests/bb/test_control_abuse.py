"""Hostile and broken clients of the control socket (SPEC section 5, issue
3): garbage, binary bytes and NUL, over-long lines, silent, slow,
half-closed and non-reading clients, floods, more connections than the
daemon serves, running out of descriptors, and a peer of the wrong uid.

Every test runs the abuse while it checks that the stack keeps
supervising (a process killed meanwhile is restarted, as seen through
`stackctl status --json`) and that a normal `stackctl status` still answers
within ANSWER seconds; afterwards stackd is alive and holds exactly the
descriptors it held before (no leak).  The limits asserted here are the
ones stackctl(1) documents under PROTOCOL: 4096 bytes per request line,
64 clients, 10 seconds of idle time.
"""

import fcntl
import json
import os
import resource
import select
import signal
import socket
import struct
import subprocess
import termios
import threading
import time

from conftest import level, proc, alive, children_of, needs_root
import procfs  # tests/procfs.py, on the path conftest set

REQMAX = 4096        # bytes in a request line, newline included
MAXCLIENTS = 64      # clients served at once
IDLE = 10.0          # seconds a client may take to send or read
ANSWER = 3.0         # a normal stackctl status answers within this (ASan)
REPLY = 5.0          # a raw client gets its reply, or EOF, within this


# --------------------------------------------------------------------------
# helpers

def small(stack, extra="", **kw):
    """One level, one process: stackd holds a fixed set of descriptors
    (no relay pipes, no notify socket, no probes), so a leak shows in the
    count.  extra: more levels, without processes or probes."""
    stack.write(level("one", intensity=1000, period="10s") +
                proc("p1", "one", "sleep 300") + extra, **kw)
    stack.start()
    stack.wait_level(1)
    return baseline(stack)


def fd_count(pid):
    return len(procfs.fds(pid))


def baseline(stack):
    """stackd's descriptor count once it is steady."""
    stack.status()
    n = fd_count(stack.daemon_pid)
    stack.hold_for(lambda: fd_count(stack.daemon_pid) == n, 0.2,
                   "stackd's descriptor count is steady")
    return n


def settle(stack, base):
    """stackd is alive, answers, and is back to its baseline descriptors."""
    stack.wait_until(lambda: fd_count(stack.daemon_pid) == base,
                     timeout=REPLY,
                     msg="stackd back to its %d descriptors (leak?)" % base)
    r = stack.ctl("status")
    assert r.returncode == 0, r
    assert stack.running()


def answers(stack):
    """A normal `stackctl status` succeeds within ANSWER seconds."""
    t = time.monotonic()
    r = stack.ctl("status", timeout=ANSWER + 10)
    took = time.monotonic() - t
    assert r.returncode == 0, "stackctl status failed under abuse: %r" % r
    assert "p1" in r.stdout, r.stdout
    assert took < ANSWER, "stackctl status took %.1fs under abuse" % took


def supervises(stack):
    """A process killed now is restarted (seen through status --json),
    and a normal status answers promptly."""
    old = stack.pid("p1")
    os.kill(old, signal.SIGKILL)
    stack.wait_running("p1", other_than=old)
    answers(stack)


def connect(path, timeout=REPLY):
    """A connected client.  A full listen backlog makes a non-blocking
    connect(2) fail with EAGAIN: retry until stackd accepts, or fail."""
    deadline = time.monotonic() + timeout
    while True:
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(timeout)
        try:
            c.connect(path)
            return c
        except BlockingIOError:
            c.close()
            if time.monotonic() >= deadline:
                raise AssertionError("stackd accepts no connection")
            time.sleep(0.005)


def recv_all(c, timeout=REPLY):
    """Everything the daemon sends until it closes.  Fails if it neither
    answers nor closes within timeout."""
    deadline = time.monotonic() + timeout
    out = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("stackd neither replied nor closed within "
                                 "%.1fs; got %r" % (timeout, out[:200]))
        c.settimeout(left)
        try:
            chunk = c.recv(65536)
        except ConnectionResetError:
            return out
        except socket.timeout:
            continue
        if not chunk:
            return out
        out += chunk


def ask(path, data, shut=False):
    """Send data (a blocking send, so a daemon that stops reading makes
    it fail with EPIPE, which is fine), optionally half-close, and return
    the whole reply."""
    c = connect(path)
    try:
        try:
            c.sendall(data)
            if shut:
                c.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except socket.timeout:
            raise AssertionError("stackd stopped reading %r... without "
                                 "replying or closing" % data[:40])
        return recv_all(c)
    finally:
        c.close()


def assert_error_line(reply, data, why=None):
    """One line, `error MESSAGE`, printable: no byte of a hostile request
    is echoed back raw."""
    assert reply.startswith(b"error "), \
        "request %r... got %r, not an error line" % (data[:40], reply[:200])
    assert reply.endswith(b"\n") and reply.count(b"\n") == 1, \
        "request %r...: the error reply is not one line: %r" % (data[:40], reply[:200])
    text = reply[:-1]
    assert all(0x20 <= b < 0x7f for b in text), \
        "request %r...: reply carries raw bytes: %r" % (data[:40], reply[:200])
    if why:
        assert why in reply.decode(), "expected %r in %r" % (why, reply)


def queued(c):
    """Bytes waiting to be read on c (SIOCINQ)."""
    buf = fcntl.ioctl(c.fileno(), termios.FIONREAD, struct.pack("i", 0))
    return struct.unpack("i", buf)[0]


class Meanwhile:
    """Run fn() over and over in a thread until finish(); an exception in
    fn stops it and is raised again by finish()."""

    def __init__(self, fn):
        self.fn = fn
        self.rounds = 0
        self.error = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while not self.stop.is_set():
                self.fn(self.stop)
                self.rounds += 1
        except BaseException as e:  # noqa: BLE001 -- reported by finish()
            self.error = e

    def finish(self):
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive(), "abuse thread is stuck"
        if self.error is not None:
            raise self.error
        return self.rounds


# --------------------------------------------------------------------------
# malformed requests

GARBAGE = [
    (b"\n", None),
    (b"\r\n", None),
    (b" \t \n", None),
    (b"frobnicate the stack\n", "unknown"),
    (b"STATUS\n", "unknown"),
    (b"status verbose\n", "usage"),
    (b"status json extra\n", None),
    (b"target\n", None),
    (b"target 1 2\n", None),
    (b"target nosuchlevel\n", "unknown level"),
    (b"target " + b"9" * 3000 + b"\n", None),
    (b"wait\n", None),
    (b"ready one two\n", None),
    (b"shutdown now\n", None),
    # four and more words: the tokenizer's edge
    (b"a b c d\n", None),
    (b"status json x y\n", None),
    (b"a b c d e f g h i j\n", None),
    # bytes that are not printable text
    (b"status\x00\n", "printable"),
    (b"\x00" * 100 + b"\n", "printable"),
    (b"\x00status json\n", "printable"),
    (b"status\x01\n", "printable"),
    (b"\x1b[2J\x1b[Hstatus\n", "printable"),
    (b"status\x7f\n", "printable"),
    (b"\xff\xfe garbage\n", "printable"),
    (b"st\xc3\xa4tus\n", "printable"),
    (b"target \xe2\x98\x83\n", "printable"),
    (b"status\rjson\n", "printable"),
]


def garbage_round(path, stop):
    for data, why in GARBAGE:
        assert_error_line(ask(path, data), data, why)
    # random binary, NULs included, with and without a final newline
    for n in (1, 7, 300, 4000):
        blob = os.urandom(n).replace(b"\n", b"\x00") + b"\x00"
        assert_error_line(ask(path, blob + b"\n"), blob)
        assert_error_line(ask(path, blob, shut=True), blob)


def test_garbage_and_binary_requests(stack):
    base = small(stack)
    before = _levels(stack)
    abuse = Meanwhile(lambda stop: garbage_round(stack.ctl_path, stop))
    supervises(stack)
    stack.wait_until(lambda: abuse.rounds >= 1 or abuse.error,
                     msg="a full round of garbage answered")
    assert abuse.finish() >= 1
    assert _levels(stack) == before, "garbage moved the stack"
    settle(stack, base)


def _levels(stack):
    st = stack.status()
    return st["level"], st["target"]


def test_request_line_limit(stack):
    base = small(stack)
    # 4096 bytes with the newline: still a request
    line = b"status" + b" " * (REQMAX - len("status") - 1) + b"\n"
    assert len(line) == REQMAX
    assert ask(stack.ctl_path, line).startswith(b"ok\n")
    # one more byte is one too many
    line = b"status" + b" " * (REQMAX - len("status")) + b"\n"
    assert_error_line(ask(stack.ctl_path, line), line, "too long")
    settle(stack, base)


def test_one_mib_line(stack):
    base = small(stack)
    mib = b"A" * (1 << 20)

    def one(stop):
        for data in (mib, mib + b"\n", b"status json " + mib + b"\n"):
            assert_error_line(ask(stack.ctl_path, data), data, "too long")
    abuse = Meanwhile(one)
    supervises(stack)
    stack.wait_until(lambda: abuse.rounds >= 2 or abuse.error,
                     msg="1 MiB lines refused")
    abuse.finish()
    settle(stack, base)


# --------------------------------------------------------------------------
# silent, slow, half-closed clients

def test_half_line_then_silent(stack):
    base = small(stack)
    held = []
    try:
        for data in (b"", b"stat", b"status json", b"\x00\xff"):
            c = connect(stack.ctl_path)
            c.sendall(data)
            held.append(c)
        supervises(stack)
        supervises(stack)
        for c in held:
            assert queued(c) == 0, "stackd answered a request it never got"
    finally:
        for c in held:
            c.close()
    settle(stack, base)


def test_half_closed_client(stack):
    base = small(stack)

    def one(stop):
        # end of file ends the line: the request is served...
        reply = ask(stack.ctl_path, b"status json", shut=True)
        assert reply.startswith(b"ok\n"), reply[:200]
        assert json.loads(reply[3:])["processes"][0]["name"] == "p1"
        # ...or refused, and the connection closed either way
        assert_error_line(ask(stack.ctl_path, b"stat", shut=True), b"stat")
        assert ask(stack.ctl_path, b"", shut=True) == b""
    abuse = Meanwhile(one)
    supervises(stack)
    stack.wait_until(lambda: abuse.rounds >= 3 or abuse.error,
                     msg="half-closed clients answered")
    abuse.finish()
    settle(stack, base)


# --------------------------------------------------------------------------
# a client that does not read its reply

def big(stack, levels=10, kib=48):
    """A stack whose status reply (about 480 KiB) is far more than a Unix
    socket buffers (about 200 KiB), so a client that does not read it
    leaves stackd with a reply half sent."""
    chunk = "x" * 150
    desc = "\n    ".join([chunk] * (kib * 1024 // 150))
    body = ""
    for i in range(levels):
        body += level("l%d" % i, description=desc, intensity=1000, period="10s")
        if i == 0:
            body += proc("p1", "l0", "sleep 300")
    stack.write(body)
    stack.start()
    stack.wait_level(levels)
    full = stack.ctl("status", "--json")
    assert full.returncode == 0, full
    assert len(full.stdout) > 400 * 1024, \
        "test bug: the reply (%d bytes) is not large" % len(full.stdout)
    return baseline(stack), len(full.stdout)


def test_status_reply_never_read(stack):
    base, size = big(stack)
    readers = []
    try:
        for _ in range(3):
            c = connect(stack.ctl_path)
            c.sendall(b"status json\n")
            readers.append(c)
        # stackd is stuck part way through each reply...
        stack.wait_until(lambda: all(queued(c) > 0 for c in readers),
                         msg="replies on their way")
        stack.hold_for(lambda: all(queued(c) < size for c in readers), 0.3,
                       "replies only partly sent")
        assert fd_count(stack.daemon_pid) == base + len(readers)
        # ...and supervises, and serves others, meanwhile
        supervises(stack)
        # a slow reader still gets its whole reply, within the idle time
        reply = recv_all(readers[0])
        assert reply.startswith(b"ok\n")
        assert len(json.loads(reply[3:])["levels"]) == 10
    finally:
        for c in readers:
            c.close()
    settle(stack, base)


# --------------------------------------------------------------------------
# idle clients are dropped

def test_idle_clients_are_dropped(stack):
    """Silent, half a line, a byte at a time (slowloris), not reading:
    each is dropped IDLE seconds after it came, however it trickles."""
    base, _ = big(stack)
    path = stack.ctl_path
    silent = connect(path)
    half = connect(path)
    half.sendall(b"status js")
    trickle = connect(path)
    nonreader = connect(path)
    nonreader.sendall(b"status json\n")
    t0 = time.monotonic()
    clients = [silent, half, trickle, nonreader]
    try:
        stack.wait_until(lambda: queued(nonreader) > 0, msg="reply on its way")
        stack.wait_until(lambda: fd_count(stack.daemon_pid) == base + 4,
                         msg="4 clients held")

        def drip(stop):
            try:
                trickle.send(b"s")
            except OSError:
                stop.set()
                return
            stop.wait(0.3)
        dripper = Meanwhile(drip)
        supervises(stack)
        stack.wait_until(lambda: fd_count(stack.daemon_pid) == base,
                         timeout=IDLE + 5, msg="idle clients dropped")
        took = time.monotonic() - t0
        dripper.finish()
        assert took > IDLE / 2, "idle clients dropped after %.1fs" % took
        for c in (silent, half, trickle):
            reply = recv_all(c, timeout=1)
            assert reply == b"" or reply.startswith(b"error "), reply
        answers(stack)
    finally:
        for c in clients:
            c.close()
    settle(stack, base)


# --------------------------------------------------------------------------
# more clients than slots

def test_200_connections_held_open(stack):
    base = small(stack)
    # +1: the connection being accepted, before it or another is dropped
    bound = base + MAXCLIENTS + 1
    held = []
    try:
        for _ in range(200):
            held.append(connect(stack.ctl_path))
            assert fd_count(stack.daemon_pid) <= bound
        # connection 65 and up: stackd holds no more than 64...
        stack.hold_for(lambda: fd_count(stack.daemon_pid) <= bound, 0.3,
                       "at most %d clients held" % MAXCLIENTS)
        # ...but the operator is not locked out by them
        supervises(stack)
        assert fd_count(stack.daemon_pid) <= bound
        # whoever was dropped was told so, at once
        dropped = [c for c in held if select.select([c], [], [], 0)[0]]
        assert len(dropped) >= 200 - MAXCLIENTS
        for c in dropped:
            assert_error_line(recv_all(c, timeout=1), b"", "too many clients")
    finally:
        for c in held:
            c.close()
    settle(stack, base)
    supervises(stack)


def _sleepers(pid):
    out = []
    for p in children_of(pid):
        if (procfs.cmdline(p) or "").split(" ")[0] == "sleep" and alive(p):
            out.append(p)
    return out


def test_waiters_fill_every_slot(stack):
    """Waiters are never dropped to make room: a 65th client is refused
    at once with an error, and served again once a waiter goes."""
    base = small(stack, extra=level("two"), target="one")
    waiters = []
    try:
        for _ in range(MAXCLIENTS):
            c = connect(stack.ctl_path)
            c.sendall(b"wait two\n")
            waiters.append(c)
        stack.wait_until(lambda: fd_count(stack.daemon_pid) == base + MAXCLIENTS,
                         msg="all waiters held")
        t = time.monotonic()
        r = stack.ctl("status")
        assert r.returncode == 1 and "too many clients" in r.stderr, r
        assert time.monotonic() - t < ANSWER
        # supervision goes on: seen in /proc, as the socket is full
        old = _sleepers(stack.daemon_pid)
        assert len(old) == 1, old
        os.kill(old[0], signal.SIGKILL)
        stack.wait_until(lambda: [p for p in _sleepers(stack.daemon_pid)
                                  if p != old[0]], msg="p1 restarted")
        # a waiter that gives up frees its slot
        waiters.pop().close()
        stack.wait_until(lambda: stack.ctl("status").returncode == 0,
                         msg="served again once a slot is free")
        supervises(stack)
        # and the waiters still get their answer
        r = stack.ctl("target", "two")
        assert r.returncode == 0, r
        for c in waiters:
            assert recv_all(c).startswith(b"ok"), "a waiter was not answered"
    finally:
        for c in waiters:
            c.close()
    settle(stack, base)


# --------------------------------------------------------------------------
# floods

def test_waiter_that_hangs_up_is_let_go(stack):
    # a waiter that closes (stackctl wait, Ctrl-C) is gone: its descriptor
    # and slot are given back at once; one that only half-closes still
    # waits for its reply
    base = small(stack, extra=level("two"), target="one")
    for _ in range(5):
        c = connect(stack.ctl_path)
        c.sendall(b"wait two\n")
        time.sleep(0.05)
        c.close()
    settle(stack, base)
    c = connect(stack.ctl_path)
    try:
        c.sendall(b"wait two\n")
        c.shutdown(socket.SHUT_WR)
        stack.wait_until(lambda: fd_count(stack.daemon_pid) == base + 1,
                         msg="the half-closed waiter waits")
        assert stack.ctl("target", "two").returncode == 0
        assert c.recv(4096).startswith(b"ok")
    finally:
        c.close()
    settle(stack, base)


def test_flooding_clients(stack):
    base = small(stack, extra=level("two"), target="one")
    path = stack.ctl_path
    binary = os.urandom(65536)          # newlines, NULs, anything
    text = b"A" * 65536                 # one endless line

    def flood(c, stop, junk, until=None):
        """Write junk to c as fast as it takes, until stackd closes it."""
        try:
            while not stop.is_set() and (until is None or time.monotonic() < until):
                c.sendall(junk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except socket.timeout:
            raise AssertionError("stackd stopped reading a flood without "
                                 "closing it")

    def writer(junk):
        """junk on one connection: refused, and closed."""
        def one(stop):
            c = connect(path)
            try:
                flood(c, stop, junk)
            finally:
                c.close()
        return one

    def connector(stop):
        """Requests as fast as connections can be made."""
        for req in (b"status json\n", b"ready\n", b"nonsense\n"):
            assert ask(path, req)

    def waiter(stop):
        """A waiter that keeps talking after its request."""
        c = connect(path)
        try:
            c.sendall(b"wait two\n")
            flood(c, stop, binary, until=time.monotonic() + 0.5)
        finally:
            c.close()

    floods = [Meanwhile(writer(binary)), Meanwhile(writer(text)),
              Meanwhile(connector), Meanwhile(waiter)]
    try:
        supervises(stack)
        supervises(stack)
        stack.wait_until(lambda: all(f.rounds >= 2 or f.error for f in floods),
                         msg="every flood made progress")
    finally:
        for f in floods:
            f.finish()
    settle(stack, base)


# --------------------------------------------------------------------------
# out of descriptors

def test_out_of_descriptors_does_not_spin(stack):
    """When accept(2) fails for want of descriptors, stackd pauses
    accepting instead of retrying (and logging) at once, forever."""
    base = small(stack)
    pid = stack.daemon_pid
    fds = set(procfs.fds(pid))
    lowest_free = min(set(range(len(fds) + 1)) - fds)
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    lines = len(stack.log().splitlines())
    cpu0 = _cpu(pid)
    pending = []
    try:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (lowest_free, hard))
        for _ in range(3):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.setblocking(False)
            c.connect(stack.ctl_path)
            pending.append(c)
        stack.wait_until(lambda: "control_accept" in stack.log(),
                         msg="the accept failure logged")
        stack.hold_for(lambda: True, 1.5, "out of descriptors")
        logged = len(stack.log().splitlines()) - lines
        cpu = _cpu(pid) - cpu0
        assert logged <= 10, "%d log lines in 1.5s out of descriptors" % logged
        assert cpu < 0.75, "stackd spun for %.2fs of CPU in 1.5s" % cpu
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
        for c in pending:
            c.close()
    stack.wait_until(lambda: stack.ctl("status").returncode == 0,
                     msg="serving again with descriptors back")
    supervises(stack)
    settle(stack, base)


def _cpu(pid):
    st = procfs.stat(pid)
    return (st.utime + st.stime) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------
# a peer of another uid

def _as_nobody(stack, *args):
    cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
           stack.build.stackctl, "-s", stack.ctl_path] + list(args)
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, errors="replace", timeout=10, cwd="/")


@needs_root
def test_foreign_uid_refused_on_open_socket(stack):
    base = small(stack)
    os.chmod(stack.dir, 0o777)
    os.chmod(stack.ctl_path, 0o777)
    before = stack.snapshot()
    for args in (["status"], ["status", "--json"], ["target", "0"],
                 ["shutdown"], ["ready"]):
        r = _as_nobody(stack, *args)
        assert r.returncode == 1, "stackctl %s as nobody: %r" % (args, r)
        assert "permission denied" in r.stderr, r
        assert '"level"' not in r.stdout and "p1" not in r.stdout, r
    stack.hold_for(lambda: stack.snapshot() == before, 0.5, "stack untouched")
    assert "refused peer uid 65534" in stack.log()
    supervises(stack)
    settle(stack, base)


def test_waiter_that_keeps_talking_is_dropped(stack):
    # one request per connection: a `wait` client that sends more is told
    # so and dropped, instead of being read for as long as it sends
    base = small(stack, extra=level("two"), target=1)
    c = connect(stack.ctl_path)
    c.sendall(b"wait two\n")
    stack.wait_until(lambda: fd_count(stack.daemon_pid) == base + 1,
                     msg="stackd accepted the waiter")
    stack.hold_for(lambda: fd_count(stack.daemon_pid) == base + 1, 0.2,
                   "the waiter holds its connection")
    c.sendall(b"status\n" * 100)
    out = recv_all(c)
    assert out.startswith(b"error unexpected input"), out
    c.close()
    settle(stack, base)
    supervises(stack)
