"""Child output: relayed with "name | line" prefixes, or to a file, or
dropped (SPEC section 2, log_prefix and log =)."""

import os
import resource

import pytest

from conftest import level, proc, proc_status
import procfs  # tests/procfs.py, on the path conftest set


def _read_some(fd, size, wait=0.2):
    """What fd has within wait seconds, b"" if nothing: a loop around it
    keeps its deadline when the lines it waits for never come."""
    if select.select([fd], [], [], wait)[0]:
        return os.read(fd, size)
    return b""


def _all_output(stack):
    return stack.log() + stack.outlog_text()


def test_prefixed_relay(stack):
    stack.write(level("one") +
                proc("pa", "one", "sh -c 'echo hello-from-$((0))a; echo second-$((0))a; exec sleep 300'") +
                proc("pb", "one", "sh -c 'echo hello-from-$((0))b >&2; exec sleep 300'"))
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: "hello-from-0b" in _all_output(stack) and
                     "second-0a" in _all_output(stack), msg="child output relayed")
    out = _all_output(stack).splitlines()
    for want in ("hello-from-0a", "second-0a", "hello-from-0b"):
        line = [l for l in out if want in l][0]
        name = "pa" if want.endswith("a") else "pb"
        assert line.endswith("%s | %s" % (name, want)) or ("%s | %s" % (name, want)) in line, \
            "expected a '%s | %s' line, got %r" % (name, want, line)


def test_no_prefix(stack):
    stack.write(level("one") +
                proc("pa", "one", "sh -c 'echo plain-$((0))a; exec sleep 300'") +
                proc("pb", "one", "sleep 300"), log_prefix="no")
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: "plain-0a" in stack.outlog_text() + stack.log(), msg="output")
    assert "pa | plain-0a" not in _all_output(stack)


def test_log_file_and_null(stack):
    f = stack.path("pa.log")
    stack.write(level("one") +
                proc("pa", "one", "sh -c 'echo to-$((0))file; echo err-to-$((0))file >&2; exec sleep 300'",
                     log="file:%s" % f) +
                proc("pb", "one", "sh -c 'echo to-$((0))nowhere; exec sleep 300'", log="null"))
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: os.path.exists(f) and "err-to-0file" in open(f).read(),
                     msg="output in the log file")
    assert "to-0file" in open(f).read()
    stack.hold_for(lambda: "to-0nowhere" not in _all_output(stack), 0.3, "log = null")
    assert "to-0file" not in _all_output(stack)


def test_log_file_past_the_size_limit(stack):
    # Under an RLIMIT_FSIZE (inherited from whoever started stackd), the
    # write that crosses it fails with EFBIG; it must be a logged write
    # failure, not the SIGXFSZ that kills stackd and orphans the stack.
    f = stack.path("big.log")
    stack.write(level("one") +
                proc("big", "one", "sh -c 'i=0; while [ $i -lt 2000 ]; do "
                     "echo line-$i-of-a-log-that-outgrows-the-limit; i=$((i+1)); done; "
                     "exec sleep 300'", log="file:%s" % f) +
                proc("other", "one", "sleep 300"))
    stack.start(rlimits={resource.RLIMIT_FSIZE: (16384, 16384)})
    stack.wait_level(1)
    stack.wait_until(lambda: "cannot write children's output to %s" % f in stack.log(),
                     msg="the failed write logged")
    stack.check_alive()
    assert stack.lvl("one")["state"] == "up"
    assert os.path.getsize(f) <= 16384


def test_fast_writer_blocks_instead_of_failing(stack):
    # A child writing faster than stackd reads must block on its pipe, not
    # get EAGAIN: seq exits 0 only if every write succeeded.
    stack.write(level("one") +
                proc("burst", "one", "seq 1 300000", type="oneshot") +
                proc("other", "one", "sleep 300"))
    stack.start()
    stack.wait_level(1, timeout=60)
    st = stack.p("burst")
    assert st["state"] == "done" and st["last_exit"] == "exited 0", st
    assert "Resource temporarily unavailable" not in _all_output(stack)


# --------------------------------------------------------------------------
# nothing lost, nothing mixed (issue 4, item 3)

import re
import select
import signal
import socket
import threading
import time


def _lines_of(text, name):
    pre = "%s | " % name
    return [l[len(pre):] for l in text.split("\n") if l.startswith(pre)]


def test_hundred_thousand_lines_in_order_before_exit(stack):
    # stderr shares stdout's file, so the file shows whether p's last
    # lines come before stackd's "process p exited" line
    stack.write(level("one") +
                proc("p", "one", "sh -c 'seq 99999; printf 100000'", type="oneshot") +
                proc("q", "one", "sleep 300"))
    stack.start(merge_stderr=True)
    stack.wait_level(1)
    text = stack.wait_until(lambda: (t := stack.outlog_text()) and "process p exited 0" in t and t,
                            msg="the oneshot's exit logged")
    got = _lines_of(text, "p")
    want = [str(i) for i in range(1, 100001)]
    assert len(got) == len(want), "%d lines, not 100000" % len(got)
    assert got == want, "lines lost, repeated or out of order"
    lines = text.split("\n")
    assert lines.index("p | 100000") < [i for i, l in enumerate(lines)
                                        if "process p exited 0" in l][0], \
        "the last line (no newline) must come before the exit is logged"


FLOOD = """\
#!/usr/bin/python3
# N numbered lines of varying length, written in 64 KiB chunks that cut
# lines anywhere, as fast as the pipe takes them
import os, sys
name, n = sys.argv[1], int(sys.argv[2])
chunk = []
size = 0
for i in range(n):
    body = name * (1 + (i * 7919) % 3000)
    line = ("%s-%d:%s:%d\\n" % (name, i, body, len(body))).encode()
    chunk.append(line)
    size += len(line)
    if size >= 65536:
        data = b"".join(chunk)
        while data:
            data = data[os.write(1, data[:65536]):]
        chunk, size = [], 0
data = b"".join(chunk)
while data:
    data = data[os.write(1, data):]
"""

FLOOD_LINE = re.compile(r"^([ab]) \| \1-(\d+):([ab]*):(\d+)$")


def test_two_floods_never_interleave(stack):
    # stackd's stdout is a pipe read in small bites, so it is full most of
    # the time and both relays keep queueing for it
    flood = stack.script("flood.py", FLOOD)
    n = 2500
    r, w = os.pipe()
    try:
        stack.write(level("one") +
                    proc("a", "one", "%s a %d" % (flood, n), type="oneshot") +
                    proc("b", "one", "%s b %d" % (flood, n), type="oneshot"))
        stack.start(stdout=w)
        os.close(w)
        w = -1
        data = bytearray()
        lines = 0
        deadline = time.monotonic() + 20
        while lines < 2 * n and time.monotonic() < deadline:
            stack.check_alive()
            chunk = _read_some(r, 4096)
            lines += chunk.count(b"\n")
            data += chunk
        stack.wait_level(1)
    finally:
        os.close(r)
        if w != -1:
            os.close(w)
    seen = {"a": [], "b": []}
    for line in data.decode().split("\n")[:-1]:
        m = FLOOD_LINE.match(line)
        assert m, "a mixed or damaged line: %r" % line[:200]
        name, i, body, blen = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
        assert body == name * blen, "line %s-%d damaged" % (name, i)
        seen[name].append(i)
    for name in "ab":
        assert seen[name] == list(range(n)), "lines of %s lost or out of order" % name


def test_partial_line_completed_later_arrives_whole(stack):
    # p writes half a line and waits; meanwhile q's output goes through the
    # relays' shared spare buffers.  The half that p's relay holds must wait
    # for its newline and arrive as one line, unmixed.
    go = stack.path("go")
    stack.write(level("one") +
                proc("p", "one", "sh -c 'printf half-$((0))-; "
                     "while [ ! -e %s ]; do sleep 0.05; done; echo rest; "
                     "exec sleep 300'" % go) +
                proc("q", "one", "sh -c 'seq 20000; exec sleep 300'"))
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: "q | 20000" in _all_output(stack), msg="q's lines relayed")
    stack.hold_for(lambda: "half-0-" not in _all_output(stack), 0.3,
                   "half a line is held back")
    open(go, "w").close()
    stack.wait_until(lambda: "p | half-0-rest" in _all_output(stack).split("\n"),
                     msg="the line arrives whole")
    assert _lines_of(_all_output(stack), "q") == [str(i) for i in range(1, 20001)]


FLOOD_MANY = """\
#!/usr/bin/python3
# N numbered lines of varying length, written in 16 KiB chunks that cut
# lines anywhere
import os, sys
name, n = sys.argv[1], int(sys.argv[2])
lines = []
for i in range(n):
    body = "x" * (1 + (i * 7919 + len(name) * 31) % 1500)
    lines.append("%s-%d:%s:%d\\n" % (name, i, body, len(body)))
data = "".join(lines).encode()
while data:
    data = data[os.write(1, data[:16384]):]
"""

FLOOD_MANY_LINE = re.compile(r"^(f\d+) \| \1-(\d+):(x*):(\d+)$")


def test_fifty_floods_complete_and_unmixed(stack):
    # fifty children flood stackd's stdout at once: every line of each
    # arrives, whole, in order, never mixed with another child's
    flood = stack.script("flood.py", FLOOD_MANY)
    nproc, n = 50, 150
    r, w = os.pipe()
    try:
        stack.write(level("one", ready_timeout="60s") +
                    "".join(proc("f%d" % k, "one", "%s f%d %d" % (flood, k, n),
                                 type="oneshot") for k in range(nproc)))
        stack.start(stdout=w)
        os.close(w)
        w = -1
        data = bytearray()
        deadline = time.monotonic() + 60
        while data.count(b"\n") < nproc * n and time.monotonic() < deadline:
            stack.check_alive()
            if select.select([r], [], [], 0.2)[0]:
                data += os.read(r, 1 << 16)
        stack.wait_level(1, timeout=60)
    finally:
        os.close(r)
        if w != -1:
            os.close(w)
    seen = {}
    for line in data.decode().split("\n")[:-1]:
        m = FLOOD_MANY_LINE.match(line)
        assert m, "a mixed or damaged line: %r" % line[:200]
        name, i, body, blen = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
        assert len(body) == blen, "line %s-%d damaged" % (name, i)
        seen.setdefault(name, []).append(i)
    assert sorted(seen) == sorted("f%d" % k for k in range(nproc)), "a child's lines are missing"
    for name, got in seen.items():
        assert got == list(range(n)), "lines of %s lost or out of order" % name


def test_long_line_cut_in_prefixed_pieces(stack):
    # lines longer than 4000 bytes are cut into pieces, each prefixed
    stack.write(level("one") +
                proc("p", "one", "sh -c 'printf %09000d 0; echo; echo after; exec sleep 300'") +
                proc("q", "one", "sleep 300"))
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: "p | after" in stack.outlog_text(), msg="output")
    got = _lines_of(stack.outlog_text(), "p")
    assert got == ["0" * 4000, "0" * 4000, "0" * 1000, "after"], [len(l) for l in got]


def _rss_kb(pid):
    rss = proc_status(pid, "VmRSS")
    return int(rss[0]) if rss else 0


def _wchan(pid):
    try:
        with open("/proc/%d/wchan" % pid) as f:
            return f.read()
    except OSError:
        return ""


def test_backpressure_when_stdout_blocks(stack):
    # nobody reads stackd's stdout: the pipe fills, stackd stops reading the
    # child, which blocks on its own pipe; stackd's memory stays bounded and
    # it keeps answering; once stdout is read again every line arrives
    flood = stack.script("count.py", "#!/usr/bin/python3\n"
                         "import sys\n"
                         "i = 0\n"
                         "while True:\n"
                         "    i += 1\n"
                         "    sys.stdout.write('%d\\n' % i)\n")
    r, w = os.pipe()
    try:
        stack.write(level("one") + proc("flood", "one", flood) + proc("q", "one", "sleep 300"))
        stack.start(stdout=w)
        os.close(w)
        w = -1
        st = stack.wait_level(1)
        child = stack.pid("flood", st)
        stack.wait_until(lambda: "pipe_write" in _wchan(child), msg="the flooding child blocks")
        rss = _rss_kb(stack.daemon_pid)

        def responsive():
            t = time.monotonic()
            stack.status()
            return time.monotonic() - t < 2.0 and _rss_kb(stack.daemon_pid) < rss + 4096
        stack.hold_for(responsive, 0.5, "stackd answers, memory bounded")
        assert "pipe_write" in _wchan(child)

        got = []
        buf = b""
        deadline = time.monotonic() + 10
        while len(got) < 30000 and time.monotonic() < deadline:
            buf += _read_some(r, 1 << 16)
            *full, buf = buf.split(b"\n")
            got += [l for l in full if l.startswith(b"flood | ")]
        want = [b"flood | %d" % i for i in range(1, len(got) + 1)]
        assert len(got) >= 30000 and got == want, "lines lost or out of order"
    finally:
        os.close(r)
        if w != -1:
            os.close(w)


def test_flood_starves_no_one(stack):
    # stdout is read as fast as the test can; a flooding child must not hold
    # up a quiet one, nor the control socket
    body = "x" * 150
    flood = stack.script("yes.sh", "exec yes %s" % body)
    r, w = os.pipe()
    ticks = []
    stop = threading.Event()

    def reader():
        buf = b""
        while not stop.is_set():
            try:
                data = os.read(r, 1 << 20)
            except OSError:
                return
            if not data:
                return
            buf += data
            *full, buf = buf.split(b"\n")
            ticks.extend(time.monotonic() for l in full if l.startswith(b"tick | "))
    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        stack.write(level("one") + proc("flood", "one", flood) +
                    proc("tick", "one", "sh -c 'while :; do echo t; sleep 0.1; done'"))
        stack.start(stdout=w)
        os.close(w)
        w = -1
        stack.wait_level(1)
        n = len(ticks)
        stack.wait_until(lambda: len(ticks) >= n + 5, msg="the quiet child's lines get through")
        t0 = time.monotonic()
        stack.status()
        assert time.monotonic() - t0 < 2.0, "control socket slow during a flood"
    finally:
        stop.set()
        stack.stop()
        if w != -1:
            os.close(w)
        t.join(5)
        os.close(r)


def test_log_file_reopened_on_reload(stack):
    f = stack.path("p.log")
    stack.write(level("one") +
                proc("p", "one", "sh -c 'i=0; while :; do i=$((i+1)); echo n$i; sleep 0.05; done'",
                     log="file:%s" % f))
    stack.start()
    st = stack.wait_level(1)
    pid = stack.pid("p", st)
    stack.wait_until(lambda: "n3\n" in (stack.read("p.log") or ""), msg="lines in the file")
    os.rename(f, f + ".1")           # what logrotate does
    stack.send(signal.SIGHUP)        # ... and its postrotate
    stack.wait_until(lambda: len(stack.lines("p.log")) >= 3, msg="lines in the new file")
    old = stack.lines("p.log.1")
    new = stack.lines("p.log")
    nums = [int(l[1:]) for l in old + new]
    assert nums == list(range(1, len(nums) + 1)), "a line lost or repeated across the rotation"
    assert stack.pid("p") == pid, "the process keeps running"


def test_log_file_reopened_on_sigusr2_without_a_reload(stack):
    # logrotate's postrotate runs at night; an edit of stack.ini saved
    # meanwhile (here: a new process) must wait for the operator's reload.
    f = stack.path("p.log")
    body = level("one") + proc(
        "p", "one", "sh -c 'i=0; while :; do i=$((i+1)); echo n$i; sleep 0.05; done'",
        log="file:%s" % f)
    stack.write(body)
    stack.start()
    st = stack.wait_level(1)
    pid = stack.pid("p", st)
    stack.wait_until(lambda: "n3\n" in (stack.read("p.log") or ""), msg="lines in the file")
    stack.write(body + proc("q", "one", "sleep 300"))
    os.rename(f, f + ".1")
    stack.send(signal.SIGUSR2)
    stack.wait_until(lambda: len(stack.lines("p.log")) >= 3, msg="lines in the new file")
    nums = [int(l[1:]) for l in stack.lines("p.log.1") + stack.lines("p.log")]
    assert nums == list(range(1, len(nums) + 1)), "a line lost or repeated across the rotation"
    st = stack.status()
    assert [p["name"] for p in st["processes"]] == ["p"], "the edited file was applied"
    assert stack.pid("p", st) == pid, "the process keeps running"
    assert "reloading" not in stack.log()


class JournalStdout:
    """A stream socket standing in for journald's /run/systemd/journal/stdout:
    records, per connection, the header sd_journal_stream_fd() sends and the
    lines that follow."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.streams = []    # [header fields, bytearray]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            s = [None, bytearray()]
            self.streams.append(s)
            threading.Thread(target=self._read, args=(c, s), daemon=True).start()

    def _read(self, c, s):
        with c:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                s[1] += data
                if s[0] is None and s[1].count(b"\n") >= 7:
                    parts = bytes(s[1]).split(b"\n", 7)
                    s[0] = [p.decode() for p in parts[:7]]
                    s[1] = bytearray(parts[7])

    def lines(self, ident, prio):
        out = []
        for head, data in self.streams:
            if head and head[0] == ident and head[2] == str(prio):
                out += bytes(data).decode(errors="replace").split("\n")
        return [l for l in out if l]

    def close(self):
        self.stop.set()
        self.sock.close()


def test_journal_stream_per_child(stack):
    # sd_journal_stream_fd() connects to /run/systemd/journal/stdout.  stackd
    # runs in a mount namespace of its own where /run/systemd is a directory
    # of the test holding a stand-in socket; whether a journald runs on the
    # machine or not, nothing reaches the real one.
    jdir = stack.path("sd")
    os.makedirs(os.path.join(jdir, "journal"))
    journal = JournalStdout(os.path.join(jdir, "journal", "stdout"))
    try:
        stack.write(level("one") +
                    proc("jp", "one", "sh -c 'echo to-$((0))out; echo to-$((0))err >&2; "
                         "exec sleep 300'", log="journal") +
                    proc("q", "one", "sleep 300"))
        stack.start(wrapper=["unshare", "--mount", "--propagation", "private", "--fork",
                             "sh", "-c", 'mount --bind "$0" /run/systemd && exec "$@"', jdir])
        stack.wait_level(1)
        stack.wait_until(lambda: journal.lines("jp", 6) == ["to-0out"] and
                         journal.lines("jp", 4) == ["to-0err"],
                         msg="stdout at info (6), stderr at warning (4), identifier jp")
        heads = [h for h, _ in journal.streams if h and h[0] == "jp"]
        assert len(heads) == 2
        for h in heads:
            assert h[1] == "" and h[3] == "1", "no unit id; <N> level prefixes parsed: %r" % h
        assert "to-0out" not in stack.outlog_text() + stack.log()
    finally:
        journal.close()


def test_journal_taking_no_stream_holds_up_nothing(stack):
    # A hung journald: its socket's accept queue is full.  A blocking
    # connect (sd_journal_stream_fd's) would wait there with stackd's whole
    # event loop; stackd's own fails at once, the process's output goes to
    # stackd's instead, and the stack climbs on.
    jdir = stack.path("sd")
    os.makedirs(os.path.join(jdir, "journal"))
    path = os.path.join(jdir, "journal", "stdout")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(0)
    queued = []
    try:
        for _ in range(8):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.setblocking(False)
            queued.append(c)
            try:
                c.connect(path)
            except BlockingIOError:
                break               # the queue is full
        else:
            pytest.fail("the stand-in journald's accept queue never filled")
        stack.write(level("one") +
                    proc("jp", "one", "sh -c 'echo to-$((0))out; exec sleep 300'",
                         log="journal") +
                    level("two") + proc("q", "two", "sleep 300"))
        stack.start(wrapper=["unshare", "--mount", "--propagation", "private", "--fork",
                             "sh", "-c", 'mount --bind "$0" /run/systemd && exec "$@"', jdir])
        stack.wait_level(2, timeout=15)
        stack.wait_until(lambda: "to-0out" in stack.outlog_text() + stack.log(),
                         msg="jp's output in stackd's")
        assert "process jp: journald takes no new stream" in stack.log()
    finally:
        for c in queued:
            c.close()
        listener.close()


def test_stuck_stderr_does_not_stop_supervision(stack):
    # stackd's own lines go to stderr.  With nobody reading it (a wedged
    # log collector), stackd -- maybe PID 1 -- must keep supervising: lines
    # that do not fit are dropped and counted, and the count is told once
    # stderr drains.
    import fcntl
    import termios
    r, w = os.pipe()
    stack.write(level("one", intensity="1000000", period="1s") +
                proc("spin", "one", "true") +          # restarted at once, forever
                proc("p", "one", "sleep 300"))
    try:
        stack.start(stderr=w)
    finally:
        os.close(w)

    def queued():
        buf = bytearray(4)
        fcntl.ioctl(r, termios.FIONREAD, buf)
        return int.from_bytes(buf, "little")
    stack.wait_until(lambda: queued() >= 60000, timeout=20, msg="stderr pipe full")
    # stderr stays full while spin restarts a thousand times more (some
    # three log lines each: more than stackd's queue holds), and stackd
    # still answers and still restarts
    n0 = stack.p("spin")["restarts_total"]
    stack.wait_until(lambda: stack.p("spin")["restarts_total"] > n0 + 1000,
                     timeout=30, msg="spin restarted 1000 times with stderr full")
    assert queued() >= 60000
    for _ in range(3):
        old = stack.wait_until(lambda: stack.pid("p"), msg="p running")
        os.kill(old, signal.SIGKILL)
        stack.wait_running("p", other_than=old)
    # drain stderr: the dropped lines are counted there
    got = b""
    total = 0
    deadline = time.monotonic() + 20
    while b"log lines dropped: stderr was full" not in got:
        assert time.monotonic() < deadline, (total, got[-600:])
        rl, _, _ = select.select([r], [], [], 0.5)
        if rl:
            chunk = os.read(r, 65536)
            total += len(chunk)
            got = got[-100000:] + chunk
    # keep draining while it stops, so the stop is not held up by the test
    def drain():
        while os.read(r, 65536):
            pass
    t = threading.Thread(target=drain, daemon=True)
    t.start()
    assert stack.stop() == 0
    t.join(10)
    os.close(r)


def test_syslog_priority_prefixes_when_stderr_is_the_journal(stack):
    # JOURNAL_STREAM names the very file stderr is: every line carries a
    # <N> priority for the journal, and no timestamp of its own.
    open(stack.errlog, "wb").close()
    st = os.stat(stack.errlog)
    stack.write(level("one") + proc("p", "one", "sleep 300"))
    stack.start(env={"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)})
    stack.wait_level(1)
    assert stack.stop() == 0
    lines = [l for l in stack.log().splitlines() if l]
    assert lines and all(re.match(r"<[0-7]>", l) for l in lines), lines[:5]
    assert any(l.startswith("<5>level 1/1 (one) up") for l in lines), lines


def test_no_prefixes_when_journal_stream_is_another_file(stack):
    stack.write(level("one") + proc("p", "one", "sleep 300"))
    stack.start(env={"JOURNAL_STREAM": "1:1"})
    stack.wait_level(1)
    assert stack.stop() == 0
    assert not any(re.match(r"<[0-7]>", l) for l in stack.log().splitlines())


def _write_flapping_stack(stack, **flap_opts):
    # A process in a restart loop that leaves a full pipe behind at every run.
    flap = stack.script("flap.sh", "#!/bin/sh\n"
                        "head -c 30000 /dev/zero | tr '\\\\0' x | fold -w 100\n"
                        "exit 1\n")
    stack.write(level("one", intensity="100000", period="1s") +
                proc("flap", "one", flap, **flap_opts) + proc("q", "one", "sleep 300"))


def _assert_backlog_stays_bounded(stack):
    # Once the sink has taken nothing for 5 s, stackd keeps what at most 32
    # exited children left, however many more runs follow.
    stack.wait_level(1)
    base = len(procfs.fds(stack.daemon_pid))
    # the stalled bound, not the 1024 one a fast host may reach first
    stack.wait_until(lambda: "as it has taken no writes for 5 s" in stack.log(),
                     timeout=60, msg="the backlog cut")
    runs = stack.p("flap")["restarts_total"]
    stack.wait_until(lambda: stack.p("flap")["restarts_total"] >= runs + 50,
                     timeout=60, msg="fifty more runs of flap")
    assert len(procfs.fds(stack.daemon_pid)) < base + 2 * 32 + 8
    stack.check_alive()


def test_stalled_log_file_keeps_a_bounded_backlog_of_exited_children(stack):
    # The same bound for log = file: on a FIFO whose reader has stopped
    # reading: every run of the restart loop opened a sink of its own, so
    # no sink ever had more than one run's output waiting, and the pipes
    # of all the runs piled up.
    fifo = stack.path("out.fifo")
    os.mkfifo(fifo)
    r = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)    # a reader that never reads
    try:
        _write_flapping_stack(stack, log="file:%s" % fifo)
        stack.start()
        _assert_backlog_stays_bounded(stack)
    finally:
        os.close(r)


def test_stalled_stdout_keeps_a_bounded_backlog_of_exited_children(stack):
    # Nobody reads stackd's stdout any more, and a process in a restart
    # loop leaves a full pipe behind at every run: once stdout has taken
    # nothing for 5 s, stackd keeps the output of at most 32 exited
    # children, not one pipe and buffer per run until it runs out of
    # descriptors.  (A sink that drains keeps far more: test_fifty_floods.)
    r, w = os.pipe()
    try:
        _write_flapping_stack(stack)
        stack.start(stdout=w)
        os.close(w)
        w = -1
        _assert_backlog_stays_bounded(stack)
    finally:
        os.close(r)
        if w != -1:
            os.close(w)
