"""stackd under valgrind memcheck (issue 6, item 2): one run through
climb, rewind, reload (valid and invalid), a lower and a higher target,
an events subscriber, metrics and status requests, and SIGTERM, with zero
memory errors, zero leaks (definite, indirect or possible) and no
descriptor left open at exit.

valgrind runs the plain build (it cannot run an ASan binary: that is what
the other build is for); children are not traced (--trace-children=no,
and --child-silent-after-fork keeps what a forked child does before its
exec out of the report).  `--error-exitcode` turns any error or leak into
stackd's exit status, and the log is checked as well, so that a wrong
exit status cannot hide one.
"""

import json
import os
import re
import shutil
import signal
import subprocess

import pytest

from conftest import level, proc, _ctl_env
from loadkit import start_exec_wrapped

ERROR_EXIT = 97
SLOW = 60.0          # deadlines: valgrind makes stackd 20-50 times slower


def stack_text(stack, variant="a"):
    d = stack.dir
    hook = "sh %s/hook.sh" % d
    body = level("one", probe="test -f %s/flag1" % d, on_up=hook, on_down=hook,
                 ready_timeout="20s")
    body += proc("p1", "one", "sleep 1000" if variant == "a" else "sleep 1001")
    body += proc("n1", "one", "sh %s/notify.sh" % d, ready="notify")
    body += proc("f1", "one", "sh -c 'echo >&3; exec sleep 1000'", ready="fd:3")
    body += level("two", strategy="one_for_all", intensity=1, period="60s",
                  ready_timeout="20s")
    body += proc("a", "two", "sleep 1000") + proc("b", "two", "sleep 1000")
    body += proc("mig", "two", "true", type="oneshot")
    body += level("three", ready_timeout="20s")
    if variant == "a":
        body += proc("c", "three", "sleep 1000")
    body += proc("pr", "three", "sleep 1000", ready="probe",
                 probe="test -f %s/flag3" % d)
    if variant == "b":
        body += proc("d", "three", "sh -c 'echo d here; exec sleep 1000'")
    return body


def events_of(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and line != "ok":
                out.append(json.loads(line))
    return out


def test_memcheck_climb_rewind_reload_shutdown(make_stack, build):
    if "asan" in build.name:
        pytest.skip("valgrind cannot run a sanitizer build")
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed (make check-deps installs it)")
    stack = make_stack()
    stack.script("hook.sh", 'echo "hook $STACKD_LEVEL $STACKD_EVENT"\n')
    stack.script("notify.sh", "systemd-notify --ready\nexec sleep 1000\n")
    stack.touch("flag1")
    stack.touch("flag3")
    stack.write(stack_text(stack), retry_min="200ms", retry_max="1s",
                alarm_after="1s", on_alarm="sh %s/hook.sh" % stack.dir)
    vlog = stack.path("valgrind.log")
    start_exec_wrapped(stack, [
        "valgrind", "--tool=memcheck", "--leak-check=full",
        "--show-leak-kinds=definite,indirect,possible",
        "--errors-for-leak-kinds=definite,indirect,possible",
        "--error-exitcode=%d" % ERROR_EXIT, "--track-fds=yes",
        "--trace-children=no", "--child-silent-after-fork=yes",
        "--log-file=%s" % vlog], timeout=SLOW)

    evfile = stack.path("events.jsonl")
    with open(evfile, "wb") as out:
        events = subprocess.Popen([build.stackctl, "-s", stack.ctl_path, "events"],
                                  stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, env=_ctl_env())
    try:
        # climb three levels
        stack.wait_level(3, timeout=SLOW)

        # two crashes in level two (intensity 1): the level fails, the
        # stack rewinds and climbs again
        a1 = stack.pid("a")
        os.kill(a1, signal.SIGKILL)
        stack.wait_until(lambda: stack.p("a")["pid"] not in (None, a1) and
                         stack.p("a")["state"] == "running", timeout=SLOW,
                         msg="a restarted once")
        os.kill(stack.pid("a"), signal.SIGKILL)
        stack.wait_until(lambda: any(e["event"] == "level_failed" and e["level"] == "two"
                                     for e in events_of(evfile)),
                         timeout=SLOW, msg="level two failed (rewind)")
        stack.wait_level(3, timeout=SLOW)

        # a valid reload: c removed, d added, p1 changed
        p1 = stack.pid("p1")
        c = stack.pid("c")
        stack.write(stack_text(stack, "b"), retry_min="200ms", retry_max="1s",
                    alarm_after="1s", on_alarm="sh %s/hook.sh" % stack.dir)
        r = stack.ctl("reload", timeout=SLOW)
        assert r.returncode == 0, r.stderr
        stack.wait_until(lambda: stack.p("d")["state"] == "running" and
                         stack.p("p1")["pid"] not in (None, p1) and
                         stack.p("p1")["state"] == "running" and
                         not os.path.exists("/proc/%d" % c),
                         timeout=SLOW, msg="reload applied (d up, p1 restarted, c gone)")

        # an invalid one: refused, nothing changes
        good = open(stack.ini).read()
        with open(stack.ini, "a") as f:
            f.write("[process e]\nlevel = three\ncommand = true\nbogus_key = 1\n")
        r = stack.ctl("reload", timeout=SLOW)
        assert r.returncode == 1 and "%s:" % stack.ini in r.stderr, r
        with open(stack.ini, "w") as f:
            f.write(good)

        # a lower target, then the top again
        assert stack.ctl("target", "1", timeout=SLOW).returncode == 0
        stack.wait_level(1, timeout=SLOW)
        assert stack.ctl("target", "top", timeout=SLOW).returncode == 0
        stack.wait_level(3, timeout=SLOW)

        # what operators ask for
        r = stack.ctl("metrics", timeout=SLOW)
        assert r.returncode == 0 and "stackd_level_current 3" in r.stdout, r
        r = stack.ctl("status", timeout=SLOW)
        assert r.returncode == 0 and "three" in r.stdout, r
        assert stack.ctl("restart", "d", timeout=SLOW).returncode == 0

        rc = stack.stop(signal.SIGTERM, timeout=SLOW)
    finally:
        try:
            events.wait(timeout=SLOW)
        except subprocess.TimeoutExpired:
            events.kill()
            events.wait()

    report = open(vlog).read()
    assert rc == 0, ("stackd under valgrind exited %d (%d = valgrind found errors):\n%s"
                     % (rc, ERROR_EXIT, report[-6000:]))
    assert events.returncode == 0, "stackctl events did not end cleanly with stackd"
    names = [e["event"] for e in events_of(evfile)]
    for want in ("level_failed", "reload_ok", "reload_failed", "target_changed", "shutdown"):
        assert want in names, "no %s event: the scenario did not happen" % want

    m = re.search(r"ERROR SUMMARY: (\d+) errors", report)
    assert m and m.group(1) == "0", "valgrind errors:\n%s" % report[-6000:]
    if "All heap blocks were freed -- no leaks are possible" not in report:
        for kind in ("definitely lost", "indirectly lost", "possibly lost"):
            m = re.search(r"%s: ([\d,]+) bytes" % kind, report)
            assert m and m.group(1) == "0", "%s:\n%s" % (kind, report[-6000:])
    # --track-fds: nothing stackd opened may be open at exit (what it
    # inherited, valgrind's own log among them, is not its to close)
    assert "FILE DESCRIPTORS:" in report, \
        "no descriptor report from --track-fds:\n%s" % report[-3000:]
    opened = re.findall(r"Open (?:file descriptor|AF_UNIX socket) (\d+): (.*)\n(.*)\n",
                        report)
    left = ["%s: %s" % (fd, what) for fd, what, nxt in opened
            if "<inherited from parent>" not in nxt]
    assert not left, "descriptors stackd left open at exit: %s\n%s" % (left, report[-6000:])
