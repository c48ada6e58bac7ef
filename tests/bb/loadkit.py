"""Helpers for the load, resource and valgrind tests (issue 6): starting
stackd behind a wrapper that execs it (valgrind, setpriv, prlimit), so
that the daemon's pid is the one started; and reading what a stack printed
on its standard output.

conftest.Stack.start(wrapper=...) expects the wrapper to fork stackd as its
child (like unshare --fork); these wrappers replace themselves with it.
"""

import os
import subprocess
import time


def start_exec_wrapped(stack, prefix, env=None, stdout=None, stderr=None,
                       wait_socket=True, timeout=20.0):
    """Start PREFIX... stackd -f INI for `stack`, where PREFIX execs stackd
    in the same process.  stdout/stderr: a path to open for writing instead
    of the stack's own capture files (e.g. /dev/full)."""
    assert stack.proc is None, "test bug: stack already started"
    cmd = list(prefix) + [stack.build.stackd, "-f", stack.ini]
    stack._err = open(stderr or stack.errlog, "wb")
    stack._out = open(stdout or stack.outlog, "wb")
    stack.t_start = time.monotonic()
    stack.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                  stdout=stack._out, stderr=stack._err,
                                  env=stack.env(env), cwd=stack.dir,
                                  start_new_session=True)
    stack.daemon_pid = stack.proc.pid
    if wait_socket:
        stack.wait_until(lambda: stack.status(), timeout=timeout,
                         msg="control socket answers")
    return stack


def relayed(stack, name):
    """Lines stackd relayed to its stdout for process `name` (prefixed
    "name | ")."""
    pre = name + " | "
    return [l[len(pre):] for l in stack.outlog_text().split("\n")
            if l.startswith(pre)]


def relayed_all(stack):
    """{process name: [lines]} of everything relayed with a prefix."""
    out = {}
    for l in stack.outlog_text().split("\n"):
        name, sep, rest = l.partition(" | ")
        if sep:
            out.setdefault(name, []).append(rest)
    return out


def free_uid():
    """A uid with no passwd entry and no process, so that RLIMIT_NPROC
    counts only what the test starts under it."""
    import pwd
    import random
    used = set()
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                used.add(os.stat("/proc/" + d).st_uid)
            except OSError:
                pass
    rng = random.Random()
    while True:
        uid = rng.randrange(200000, 1 << 30)
        if uid in used:
            continue
        try:
            pwd.getpwuid(uid)
            continue
        except KeyError:
            return uid
