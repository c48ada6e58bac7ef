"""Command line of stackd and stackctl: options, exit codes, --check and
configuration errors reported as FILE:LINE: message (SPEC sections 2, 4)."""

import os
import re
import socket
import subprocess
import time

import pytest

from conftest import level, proc, marked_pids


def run(cmd, timeout=10, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                          stdin=subprocess.DEVNULL, timeout=timeout, **kw)


# ---- stackd ---------------------------------------------------------------

def test_version(build):
    r = run([build.stackd, "--version"])
    assert r.returncode == 0, r
    assert re.search(r"\d+\.\d+", r.stdout + r.stderr), r


def test_help(build):
    r = run([build.stackd, "--help"])
    assert r.returncode == 0, r
    out = r.stdout + r.stderr
    assert "-f" in out and "--check" in out, out


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_stackctl_help(build, flag):
    # asked for, the summary is no error (as for stackd): stdout, exit 0
    r = run([build.stackctl, flag])
    assert r.returncode == 0, r
    assert r.stdout.startswith("usage: stackctl"), r


@pytest.mark.parametrize("args", [["--bogus"], ["-x"], ["-f"], ["extra-arg"]],
                         ids=["long", "short", "f-without-file", "operand"])
def test_usage_error_exit_2(build, args, tmp_path):
    r = run([build.stackd] + args, cwd=str(tmp_path))
    assert r.returncode == 2, r


GOOD = level("db", description="database", probe="true") + \
    proc("pg", "db", "sleep 300") + \
    level("web") + \
    proc("migrate", "web", "sh -c 'exit 0'", type="oneshot") + \
    proc("app", "web", "sleep 300", restart="transient", stop_signal="INT",
         env=["A=1", "B=two words"], umask="0027")


def test_check_good_file(stack):
    stack.write(GOOD)
    r = run([stack.build.stackd, "-f", stack.ini, "--check"])
    assert r.returncode == 0, r
    assert not os.path.exists(stack.ctl_path), "--check must not start anything"


def test_check_finds_a_name_too_long_for_the_socket(stack):
    # The default socket path is /run/stackd/NAME.sock for root (or under
    # $XDG_RUNTIME_DIR): --check must refuse what stackd would then refuse
    # to start, naming the file.
    stack.write(level("one") + proc("p", "one", "sleep 300"), control=None,
                name="n" * 120)
    for args in (["--check"], []):
        r = run([stack.build.stackd, "-f", stack.ini] + args)
        assert r.returncode == 1, (args, r)
        assert "%s: control socket path too long" % stack.ini in r.stderr, r


def test_check_accepts_continuation_lines_and_long_ok_line(stack):
    # a continued value and a line of 180 characters are both fine
    long_desc = "d" * (180 - len("description = "))
    stack.write(
        "[level db]\ndescription = %s\n\n" % long_desc +
        "[process pg]\nlevel = db\ncommand = sh -c\n  'exec sleep 300'\n")
    r = run([stack.build.stackd, "-f", stack.ini, "--check"])
    assert r.returncode == 0, r


# (name, body after the [stack] section, the bad line's offset in body
#  (1-based) or a tuple of acceptable offsets, message regexp or None)
BAD = [
    ("unknown_key",
     "[level db]\nprobe_intervall = 1s\n", 2, None),
    ("unknown_stack_key",
     "[level db]\n", None, None),       # special-cased below
    ("bad_duration",
     "[level db]\nready_timeout = 10 parsecs\n", 2, None),
    ("bad_strategy",
     "[level db]\nstrategy = one_for_some\n", 2, None),
    ("missing_level",
     "[level db]\n\n[process pg]\nlevel = nosuch\ncommand = sleep 1\n", (3, 4), None),
    ("unknown_section",
     "[level db]\n\n[service x]\n", 3, None),
    ("duplicate_level",
     "[level db]\n\n[level db]\n", 3, None),
    ("duplicate_process",
     "[level db]\n[process a]\nlevel = db\ncommand = sleep 1\n"
     "[process a]\nlevel = db\ncommand = sleep 1\n", 5, None),
    ("oneshot_ready_started",
     "[level db]\n[process a]\nlevel = db\ncommand = true\ntype = oneshot\n"
     "ready = started\n", (2, 6), None),
    ("unterminated_quote",
     "[level db]\n[process a]\nlevel = db\ncommand = sh -c 'exit 0\n", 4, None),
    ("line_too_long",
     "[level db]\ndescription = " + "x" * 250 + "\n", 2, r"too long"),
]


@pytest.mark.parametrize("name,body,bad_line,pattern", BAD, ids=[b[0] for b in BAD])
def test_check_bad_file(stack, name, body, bad_line, pattern):
    head = ("[stack]\nname = bb\ncontrol = %s\n" % stack.ctl_path)
    if name == "unknown_stack_key":
        head += "retry_minimum = 1s\n"
        bad_line = 4
        offset = 0
    else:
        offset = head.count("\n")
    stack.write(head + body, raw=True)
    r = run([stack.build.stackd, "-f", stack.ini, "--check"])
    out = r.stdout + r.stderr
    assert r.returncode == 1, r
    lines = bad_line if isinstance(bad_line, tuple) else (bad_line,)
    want = "|".join(str(offset + l) for l in lines)
    assert re.search(r"%s:(%s):" % (re.escape(stack.ini), want), out), \
        "expected %s:%s: message in output, got: %r" % (stack.ini, want, out)
    if pattern:
        assert re.search(pattern, out), out
    assert not os.path.exists(stack.ctl_path)


def test_missing_file_exit_1(build, tmp_path):
    missing = str(tmp_path / "nope.ini")
    for args in (["-f", missing], ["-f", missing, "--check"]):
        r = run([build.stackd] + args, cwd=str(tmp_path))
        assert r.returncode == 1, r
        assert "nope.ini" in r.stdout + r.stderr, r


def test_bad_config_starts_nothing(stack):
    body = (level("db") +
            proc("pg", "db", "sh -c 'touch %s; exec sleep 300'" % stack.path("started")) +
            level("web", ready_timeout="forever"))
    stack.write(body)
    stack.start(wait_socket=False)
    rc = stack.wait_exit(timeout=10)
    assert rc == 1, "a config error must exit 1, got %s" % rc
    err = stack.log()
    assert re.search(re.escape(stack.ini) + r":\d+:", err), err
    stack.hold_for(lambda: not os.path.exists(stack.path("started")), 0.3,
                   "no process started")
    assert not os.path.exists(stack.ctl_path), "the control socket was created"
    assert marked_pids(stack.marker) == []


# ---- stackctl -------------------------------------------------------------

def test_stackctl_no_daemon_exit_4(stack):
    r = stack.ctl("status")
    assert r.returncode == 4, r
    r = stack.ctl("status", "--json")
    assert r.returncode == 4, r


def test_stackctl_stale_socket_exit_4(stack):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stack.ctl_path)
    s.close()                       # the file stays, nobody listens
    r = stack.ctl("status")
    assert r.returncode == 4, r


def test_stackctl_file_option_no_daemon_exit_4(stack):
    stack.write(GOOD)
    r = stack.ctl("-f", stack.ini, "status", sock=False)
    assert r.returncode == 4, r


def test_stackctl_file_option_with_a_broken_file(stack):
    # The file is read only for the socket: a typo in it must not cut
    # stackctl -f off from the stackd still running the old file (the
    # container HEALTHCHECK and the pod probes use -f); reload reports the
    # typo, as SPEC says, with exit 1.
    stack.write(level("one") + proc("p", "one", "sleep 300"))
    stack.start()
    stack.wait_level(1)
    with open(stack.ini, "a") as f:
        f.write("bogus = 1\n")
    r = stack.ctl("-f", stack.ini, "ready", "0", sock=False)
    assert r.returncode == 0, r
    r = stack.ctl("-f", stack.ini, "reload", sock=False)
    assert r.returncode == 1, r
    assert "%s:" % stack.ini in r.stdout + r.stderr, r
    assert "unknown key 'bogus'" in r.stdout + r.stderr, r
    assert stack.lvl("one")["state"] == "up"


@pytest.mark.parametrize("args,why", [
    ([], "missing COMMAND"), (["frobnicate"], "unknown command 'frobnicate'"),
    (["target"], "wrong arguments for 'target'"),
    (["wait"], "wrong arguments for 'wait'"),
    (["status", "--xml"], "wrong arguments for 'status'"),
    (["wait", "1", "--timeout", "soon"], "bad duration 'soon'"),
    (["--bogus", "status"], "invalid option"),
    (["target", ""], "bad name"), (["wait", "--timeout"], "bad name '--timeout'"),
    (["wait", "--bogus"], "bad name '--bogus'"),
    (["target", "a" * 5000], "request too long")],
    ids=["no-command", "unknown-command", "target-no-arg", "wait-no-arg",
         "status-bad-flag", "wait-bad-duration", "bad-option",
         "target-empty", "wait-timeout-no-value", "wait-option-as-level",
         "request-too-long"])
def test_stackctl_usage_exit_2(stack, args, why):
    # usage errors are found before trying to reach the daemon (a request
    # cut short would leave stackd waiting for the rest of its line), and
    # say what was wrong
    t = time.monotonic()
    r = stack.ctl(*args)
    assert r.returncode == 2, r
    assert why in r.stderr, r.stderr
    assert time.monotonic() - t < 5, "a usage error must not wait"


def test_stackctl_wait_timeout_zero_is_a_check(stack):
    # --timeout 0 does not wait for the level, but does wait for the answer
    stack.write(level("one") + proc("p", "one", "sleep 300") + level("two"),
                target="1")
    stack.start()
    stack.wait_level(1)
    for lvl, code in (("0", 0), ("1", 0), ("two", 1)):
        r = stack.ctl("wait", lvl, "--timeout", "0")
        assert r.returncode == code, (lvl, r)
