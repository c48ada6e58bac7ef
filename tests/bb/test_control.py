"""The control socket and stackctl status: permissions, peer uid check,
single instance, stale socket, misbehaving clients, JSON validity and
schema, human output, -f FILE, SIGHUP (SPEC sections 4-5)."""

import json
import os
import signal
import socket
import stat
import subprocess
import threading
import time

from conftest import level, proc, needs_root

NOBODY = 65534


def basic(stack, **kw):
    stack.write(level("one", description="first level") + proc("p1", "one", "sleep 300") +
                level("two") + proc("p2", "two", "sleep 300") +
                proc("p3", "two", "sleep 300"), **kw)
    stack.start()
    return stack.wait_level(2)


def test_socket_mode_0600(stack):
    basic(stack)
    s = os.stat(stack.ctl_path)
    assert stat.S_ISSOCK(s.st_mode), "control path is not a socket"
    assert stat.S_IMODE(s.st_mode) == 0o600, "mode %o" % stat.S_IMODE(s.st_mode)
    assert s.st_uid == os.geteuid()


def test_status_json_schema(stack):
    d = stack.dir
    stack.write(level("one", description="first level") + proc("p1", "one", "sleep 300") +
                proc("init", "one", "true", type="oneshot") +
                level("two", probe="test -f %s/gate" % d) + proc("p2", "two", "sleep 300"))
    stack.start()
    stack.wait_level(1)
    st = stack.status()
    assert st["stack"] == "bb"
    assert st["pid"] == stack.daemon_pid
    assert st["state"] in ("climbing", "up", "retrying", "descending", "rewinding", "stopping")
    assert st["level"] == 1 and st["level_name"] == "one"
    assert st["target"] == 2 and st["target_name"] == "two"
    assert st["levels_total"] == 2 and st["ready_level"] == 2
    assert st["alarm"] is False
    assert st["next_attempt_in"] is None or isinstance(st["next_attempt_in"], (int, float))
    assert st["last_failure"] is None or isinstance(st["last_failure"], str)
    assert [l["number"] for l in st["levels"]] == [1, 2]
    assert [l["name"] for l in st["levels"]] == ["one", "two"]
    one, two = st["levels"]
    assert one["description"] == "first level" and two["description"] == ""
    for l in st["levels"]:
        assert l["state"] in ("down", "climbing", "up", "stopping")
        assert l["probe"] in ("none", "pending", "ok", "failed")
        assert isinstance(l["since"], (int, float)) and l["since"] >= 0
        assert isinstance(l["climb_attempts"], int) and isinstance(l["failures"], int)
    assert one["state"] == "up" and one["probe"] == "none" and one["climb_attempts"] == 1
    assert [p["name"] for p in st["processes"]] == ["p1", "init", "p2"]
    p1, init, p2 = st["processes"]
    assert p1["level"] == "one" and p1["type"] == "longrun" and p1["state"] == "running"
    assert isinstance(p1["pid"], int) and isinstance(p1["uptime"], (int, float))
    assert p1["restarts"] == 0 and p1["restarts_total"] == 0 and p1["last_exit"] is None
    assert p1["status"] == ""
    assert init["type"] == "oneshot" and init["state"] == "done" and init["pid"] is None
    assert p2["level"] == "two"
    uptime = p1["uptime"]
    stack.wait_until(lambda: stack.p("p1")["uptime"] > uptime + 0.2, msg="uptime grows")


def test_second_instance_refused(make_stack):
    first = make_stack("first")
    basic(first)
    before = first.snapshot()
    second = make_stack("second", dir=first.dir)
    second.write(level("x") + proc("px", "x", "sh -c 'touch %s/second.started; exec sleep 300'"
                                   % first.dir), control=first.ctl_path)
    second.start(wait_socket=False)
    rc = second.wait_exit(timeout=10)
    assert rc == 1, "a second stackd on a live control socket must refuse (exit 1), got %s" % rc
    first.hold_for(lambda: not os.path.exists(first.path("second.started")), 0.2,
                   "the second stackd starts no child")
    assert os.path.exists(first.ctl_path), "the live socket was removed by the second stackd"
    assert first.running()
    assert first.snapshot() == before


def test_stale_socket_replaced(stack):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stack.ctl_path)
    s.close()
    assert os.path.exists(stack.ctl_path)
    basic(stack)
    assert stack.ctl("status").returncode == 0


def test_silent_client_does_not_stall_others(stack):
    basic(stack)
    before = stack.snapshot()
    silent = []
    try:
        for _ in range(3):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(stack.ctl_path)
            silent.append(c)
        silent[1].sendall(b"stat")           # a partial line, never finished
        for _ in range(3):
            t = time.monotonic()
            r = stack.ctl("status", "--json", timeout=10)
            assert r.returncode == 0, r
            assert time.monotonic() - t < 2.0, "status stalled by a silent client"
        assert stack.snapshot() == before
    finally:
        for c in silent:
            c.close()
    assert stack.snapshot() == before


def _raw_request(path, data, timeout=5.0, half_close=False, want=None):
    """Send data, optionally shut down writing (PROTOCOL's alternative to
    the newline), and read until stackd closes -- or until want has
    arrived, for a subscriber, which stackd does not close."""
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(timeout)
    c.connect(path)
    try:
        try:
            c.sendall(data)
            if half_close:
                c.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        while want is None or want not in out:
            try:
                chunk = c.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        c.close()


def test_half_closed_wait_and_events_get_replies(stack):
    # a client may half-close instead of sending the newline: a waiter
    # and a subscriber must still get their replies, not a bare EOF
    basic(stack)
    for data in (b"wait top\n", b"wait top"):
        out = _raw_request(stack.ctl_path, data, half_close=True)
        assert out.startswith(b"ok"), (data, out)
    out = _raw_request(stack.ctl_path, b"events\n", half_close=True,
                       want=b'"subscribed"')
    assert out.startswith(b"ok\n") and b'"event":"subscribed"' in out, out
    assert stack.ctl("status").returncode == 0


def test_malformed_and_oversized_requests(stack):
    basic(stack)
    before = stack.snapshot()
    for data in (b"frobnicate the stack\n", b"\x00\xff\xfe garbage\n",
                 b"A" * 8192 + b"\n", b"target " + b"9" * 5000 + b"\n"):
        try:
            reply = _raw_request(stack.ctl_path, data)
        except socket.timeout:
            raise AssertionError("no reply (and no close) to a bad request %r..." % data[:20])
        assert reply, "a bad request %r... must get an error reply" % data[:20]
        assert stack.running()
        assert stack.snapshot() == before
    assert stack.ctl("status").returncode == 0


def test_concurrent_clients(stack):
    basic(stack)
    results = []

    def one():
        results.append(stack.ctl("status", "--json").returncode)
    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert results == [0] * 8


WEIRD_STATUS = """#!/usr/bin/python3
import os, socket, time
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(addr)
s.send(%r)
time.sleep(300)
"""

WEIRD_DESC = 'say "hi" \\ back\\\\slash / \u00fcn\u00efc\u00f8d\u00e9 \u2603 \U0001F600\ttab {}[],:'


def test_json_escaping_config_texts(stack):
    stack.write(
        level("one", description=WEIRD_DESC) + proc("p1", "one", "sleep 300") +
        level("two", probe="sh -c 'exit 1' \"a\\\"b\\\\c \u2603\"", ready_timeout="300ms") +
        proc("p2", "two", "sleep 300"))
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: stack.status()["last_failure"], msg="a failure recorded")
    st = _strict_status(stack)
    assert st["levels"][0]["description"] == WEIRD_DESC
    assert isinstance(st["last_failure"], str)
    r = subprocess.run([stack.build.stackctl, "-s", stack.ctl_path, "status"],
                       capture_output=True, timeout=10)
    assert r.returncode == 0, r


def _strict_status(stack):
    r = subprocess.run([stack.build.stackctl, "-s", stack.ctl_path, "status", "--json"],
                       capture_output=True, timeout=10)
    assert r.returncode == 0, r
    try:
        return json.loads(r.stdout.decode("utf-8"))   # strict: valid UTF-8, valid JSON
    except (UnicodeDecodeError, ValueError) as e:
        raise AssertionError("status --json is not valid JSON/UTF-8 (%s): %r" % (e, r.stdout))


def test_json_escaping_status_text(stack):
    # STATUS= text comes from the child: anything, even control characters
    # and invalid UTF-8
    text = 'q "quoted" \\b\\ \u2603 ctl\x01\x1f\x7f end'
    good = stack.script("good.py", WEIRD_STATUS % (b"READY=1\nSTATUS=" + text.encode()))
    bad = stack.script("bad.py", WEIRD_STATUS % b"READY=1\nSTATUS=bad \xff\xfe utf8 \xc3")
    stack.write(
        level("one") +
        proc("good", "one", good, ready="notify") +
        proc("bad", "one", bad, ready="notify"))
    stack.start()
    stack.wait_level(1)
    st = _strict_status(stack)
    got = stack.p("good", st)["status"]
    # control characters may be kept (escaped) or replaced, the rest is kept
    assert got.startswith('q "quoted" \\b\\ \u2603 ctl') and got.endswith(" end"), got
    assert "bad" in stack.p("bad", st)["status"]
    r = subprocess.run([stack.build.stackctl, "-s", stack.ctl_path, "status"],
                       capture_output=True, timeout=10)
    assert r.returncode == 0, r


def test_human_status(stack):
    basic(stack)
    r = stack.ctl("status")
    assert r.returncode == 0, r
    for word in ("one", "two", "p1", "p2", "p3", "first level"):
        assert word in r.stdout, "%r missing from status:\n%s" % (word, r.stdout)
    assert str(stack.pid("p1")) in r.stdout


def test_stackctl_file_option(stack):
    basic(stack)
    r = stack.ctl("-f", stack.ini, "status", "--json", sock=False)
    assert r.returncode == 0, r
    assert json.loads(r.stdout)["level"] == 2
    r = stack.ctl("-f", stack.ini, "ready", sock=False)
    assert r.returncode == 0, r


def _as_nobody_connect(path, data):
    """Fork, drop to uid/gid 65534, connect and send data; return
    ("connect-error", errno) or ("reply", bytes)."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.settimeout(5)
            try:
                c.connect(path)
            except OSError as e:
                os.write(wfd, b"E%d" % e.errno)
                os._exit(0)
            try:
                c.sendall(data)
                out = b""
                while True:
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    out += chunk
            except OSError:
                pass
            os.write(wfd, b"R" + out[:4000])
        finally:
            os._exit(0)
    os.close(wfd)
    chunks = []
    while True:
        b = os.read(rfd, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(rfd)
    os.waitpid(pid, 0)
    res = b"".join(chunks)
    if res.startswith(b"E"):
        return "connect-error", int(res[1:])
    return "reply", res[1:]


@needs_root
def test_foreign_uid_refused(stack):
    basic(stack)
    os.chmod(stack.dir, 0o755)     # let uid 65534 reach the socket file
    before = stack.snapshot()

    # with the socket's own mode 0600 the kernel refuses the connection
    kind, val = _as_nobody_connect(stack.ctl_path, b"status\n")
    assert kind == "connect-error", "uid 65534 connected to a 0600 socket: %r" % (val,)
    r = stack.ctl("status", user=NOBODY, cwd="/")
    assert r.returncode in (1, 4), r

    # even if the mode is opened up, SO_PEERCRED must refuse the peer
    os.chmod(stack.ctl_path, 0o666)
    for cmd in (["shutdown"], ["target", "0"], ["status", "--json"]):
        r = stack.ctl(*cmd, user=NOBODY, cwd="/")
        assert r.returncode == 1, "stackctl %s as uid 65534: %r" % (cmd, r)
        assert stack.running()
        assert stack.snapshot() == before
    for line in (b"shutdown\n", b"target 0\n", b"status\n"):
        kind, val = _as_nobody_connect(stack.ctl_path, line)
        assert stack.running(), "stackd obeyed uid 65534"
        assert stack.snapshot() == before
        if kind == "reply":
            assert b'"level"' not in val, "status was served to uid 65534: %r" % val
    stack.hold_for(lambda: stack.snapshot() == before, 0.5, "stack untouched")
    assert stack.stop() == 0


def test_sighup_unchanged_file_keeps_processes(stack):
    basic(stack)
    before = stack.snapshot()
    stack.send(signal.SIGHUP)
    stack.hold_for(lambda: stack.running() and stack.snapshot() == before, 1.0,
                   "SIGHUP with an unchanged file keeps every process")
    assert stack.stop() == 0


def test_shutdown_at_level_zero_gets_its_reply(stack):
    # nothing is running, so stackd exits at once: the reply must still
    # reach stackctl before the socket goes away
    stack.write(level("one") + proc("p1", "one", "sleep 300"), target=0)
    stack.start()
    stack.expect_exit = True
    r = stack.ctl("shutdown")
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert stack.wait_exit() == 0


@needs_root
def test_default_socket_dir_of_another_user_refused(stack):
    # Whoever owns the directory of a default socket path could replace
    # the socket (the /tmp/stackd-UID fallback is anyone's to create
    # first): stackd refuses to start there, and stackctl to connect.
    rt = stack.path("rt")
    os.mkdir(rt)
    os.chown(rt, 4343, 4343)
    os.chmod(rt, 0o777)
    stack.write(level("one") + proc("p", "one", "sleep 300"), control=None)
    stack.start(env={"RUNTIME_DIRECTORY": rt}, wait_socket=False)
    assert stack.wait_exit(timeout=10) == 1
    assert "control socket directory %s belongs to uid 4343" % rt in stack.log()
    assert os.listdir(rt) == []
    env = dict(os.environ, RUNTIME_DIRECTORY=rt)
    r = subprocess.run([stack.build.stackctl, "-f", stack.ini, "status"],
                       capture_output=True, text=True, env=env, timeout=10)
    assert r.returncode == 4, r
    assert "belongs to uid 4343" in r.stderr, r


def _default_path_stack(stack, env):
    """stack under a default socket path (no control =); stackctl -f with
    the same environment finds it.  Returns the stack's name."""
    name = "bbdef%d" % os.getpid()
    stack.write(level("one") + proc("p", "one", "sleep 300"), control=None, name=name)
    stack.start(env=env, wait_socket=False)
    return name


def _ctl_f(stack, env, *args):
    return subprocess.run([stack.build.stackctl, "-f", stack.ini] + list(args),
                          capture_output=True, text=True, timeout=10,
                          env=dict(os.environ, **env))


def test_default_socket_in_runtime_directory(stack):
    # systemd's RuntimeDirectory=: the first of its directories
    rt = stack.path("rt")
    os.mkdir(rt)
    env = {"RUNTIME_DIRECTORY": rt + ":/nonexistent"}
    name = _default_path_stack(stack, env)
    stack.ctl_path = os.path.join(rt, name + ".sock")
    stack.wait_until(lambda: os.path.exists(stack.ctl_path), msg="the socket")
    stack.wait_level(1)
    r = _ctl_f(stack, env, "ready", "1")
    assert r.returncode == 0, r
    assert stack.stop() == 0
    assert not os.path.exists(stack.ctl_path)


@needs_root
def test_default_socket_for_root_in_run_stackd(stack):
    env = {"RUNTIME_DIRECTORY": ""}
    name = _default_path_stack(stack, env)
    stack.ctl_path = "/run/stackd/%s.sock" % name
    stack.wait_until(lambda: os.path.exists(stack.ctl_path), msg="the socket")
    stack.wait_level(1)
    r = _ctl_f(stack, env, "ready", "1")
    assert r.returncode == 0, r
    assert stack.stop() == 0
    assert not os.path.exists(stack.ctl_path)


def test_replies_and_text_status_carry_no_control_bytes(stack):
    # A value quoted from the file in an error reply, a level description
    # in the text status: an escape sequence in either reaches the
    # operator's terminal as '?', not as a command to it.
    stack.write(level("one", description="in \x1b[31mred\x1b[0m") +
                proc("p", "one", "sleep 300"))
    stack.start()
    stack.wait_level(1)
    r = stack.ctl("status")
    assert r.returncode == 0, r
    assert "\x1b" not in r.stdout and "in ?[31mred?[0m" in r.stdout, r.stdout
    with open(stack.ini, "a") as f:
        f.write("stop_signal = \x1b[31mRED\n")
    r = stack.ctl("reload")
    assert r.returncode == 1, r
    assert "\x1b" not in r.stdout + r.stderr, r
    assert "?[31mRED" in r.stdout + r.stderr, r
