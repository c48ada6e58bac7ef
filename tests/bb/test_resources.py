"""Resource failures (issue 6, item 5): fork failing, descriptors running
out, a full disk under `log = file:`, a missing workdir, a missing user.
Each is reported clearly (a log line naming the process and the reason,
the last failure in `stackctl status`), and the stack degrades -- it stays
at the level it can hold and keeps trying, with backoff -- instead of
stackd dying; once the resource is back the stack climbs by itself.

How fork is made to fail: RLIMIT_NPROC.  The kernel never applies it to
uid 0 (INIT_USER is exempt in copy_process, whatever the capabilities),
so stackd runs as an unprivileged uid that owns no other process (a
random one without a passwd entry, `setpriv --reuid`), with its control
socket in a directory that uid owns, under `prlimit --nproc`; the limit
is raised on the running daemon with `prlimit --pid`.  A pids cgroup
(pids.max) would do as well as root, but cgroup v1 and v2 are set up
differently from one machine or container to the next, and setpriv and
prlimit (util-linux) are everywhere.  Descriptors: `prlimit --pid
--nofile` on the running daemon.  A full disk: a tiny tmpfs (skipped
where mount(2) is not allowed) and /dev/full.
"""

import grp
import os
import time
import socket
import resource
import pwd
import shutil
import subprocess

import pytest

from conftest import level, proc
import procfs  # tests/procfs.py, on the path conftest set
from loadkit import free_uid, relayed, start_exec_wrapped


def need_root(what):
    if os.geteuid() != 0:
        pytest.skip("%s needs root (to switch to a spare uid)" % what)


def run_as(stack, uid, nproc=None):
    """The prefix that starts stackd as uid (and gid) `uid`, with
    RLIMIT_NPROC = nproc; the stack's directory becomes that uid's."""
    for root, dirs, files in os.walk(stack.dir):
        for n in dirs + files:
            os.chown(os.path.join(root, n), uid, uid)
    os.chown(stack.dir, uid, uid)
    prefix = []
    if nproc is not None:
        # the soft limit only: raising it again up to the hard one needs
        # no privilege (CAP_SYS_RESOURCE may well be missing in a container)
        prefix += ["prlimit", "--nproc=%d:" % nproc]
    return prefix + ["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid,
                     "--clear-groups", "--"]


def climbs_failing(stack, lvl_index, n=2):
    """Wait for n failed climb attempts of the level while stackd stays at
    the one below; returns the status."""
    def ok():
        s = stack.status()
        return (s["level"] == lvl_index and
                s["levels"][lvl_index]["failures"] >= n and s)
    return stack.wait_until(ok, timeout=20,
                            msg="%d failed climbs of level %d" % (n, lvl_index + 1))


# --------------------------------------------------------------------------
# fork

def test_fork_failing_rlimit_nproc(stack):
    need_root("RLIMIT_NPROC")
    uid = free_uid()
    stack.write(level("one") + proc("p1", "one", "sleep 300") +
                level("two") + proc("q1", "two", "sleep 300") +
                proc("q2", "two", "sleep 300") + proc("q3", "two", "sleep 300"),
                retry_min="200ms", retry_max="1s", alarm_after="1s")
    # stackd, its launcher and p1 fit; q1 makes four, q2's fork fails
    # (in the launcher, then in stackd itself)
    start_exec_wrapped(stack, run_as(stack, uid, nproc=4))
    st = stack.status()
    assert st["pid"] == stack.daemon_pid
    assert os.stat("/proc/%d" % stack.daemon_pid).st_uid == uid
    st = climbs_failing(stack, 1, n=2)
    assert "fork: Resource temporarily unavailable" in stack.log(), stack.log()[-3000:]
    assert "q2" in (st["last_failure"] or ""), st["last_failure"]
    stack.wait_until(lambda: stack.status()["alarm"], timeout=10, msg="alarm raised")
    stack.hold_for(lambda: stack.status()["level"] == 1, 1.0, "holds level one")
    assert stack.p("p1")["state"] == "running"
    # the limit is lifted: the next attempt climbs
    # (prlimit on another uid's process would need CAP_SYS_RESOURCE: as it)
    subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % uid, "--clear-groups",
                    "prlimit", "--pid", str(stack.daemon_pid), "--nproc=64:"], check=True)
    stack.wait_level(2, timeout=20)
    stack.wait_until(lambda: not stack.status()["alarm"], msg="alarm cleared")
    assert stack.stop() == 0


# --------------------------------------------------------------------------
# descriptors

def soft_nofile(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                return line.split()[3]
    raise AssertionError("no Max open files in /proc/%d/limits" % pid)


def test_soft_nofile_raised_for_stackd_not_its_children(stack):
    # About three descriptors per process: under a soft limit of 256 a
    # level of 120 could not start.  stackd raises its own soft limit to
    # the hard one; its children keep the limit it was given.
    n = 120
    stack.write(level("one") +
                "".join(proc("p%d" % i, "one", "sleep 300") for i in range(n)))
    stack.start(rlimits={resource.RLIMIT_NOFILE: (256, 4096)})
    st = stack.wait_level(1, timeout=60)
    assert soft_nofile(stack.daemon_pid) == "4096"
    for p in st["processes"][:3] + st["processes"][-3:]:
        assert soft_nofile(p["pid"]) == "256", p
    assert "Too many open files" not in stack.log()


def test_descriptors_exhausted_rlimit_nofile(stack):
    stack.write(level("one") + proc("p1", "one", "sleep 300") +
                level("two") +
                "".join(proc("q%d" % i, "two", "sleep 300") for i in range(4)),
                retry_min="200ms", retry_max="1s", target=1)
    stack.start()
    stack.wait_level(1)
    pid = stack.daemon_pid
    soft = soft_nofile(pid)
    before = procfs.fds(pid)          # idle at level one: nothing opens or closes
    free = [n for n in range(before[-1] + 3) if n not in before][:2]

    def limit(n):
        # RLIMIT_NOFILE is one above the highest descriptor number that may
        # be opened.  The soft limit only, so that it can be raised again
        # without CAP_SYS_RESOURCE.
        subprocess.run(["prlimit", "--pid", str(pid), "--nofile=%d:" % n], check=True)

    # Not one descriptor left: a request waits in the socket's queue while
    # accept(2) fails, and is answered once there is room.
    limit(free[0])
    mark = len(stack.log())
    waiting = subprocess.Popen([stack.build.stackctl, "-s", stack.ctl_path, "status"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stack.wait_until(lambda: "control_accept: not accepting for 1s: Too many open files"
                     in stack.log()[mark:], timeout=10, msg="accept failure logged")
    assert waiting.poll() is None
    # One descriptor: enough for a control connection, not for a pipe.
    limit(free[1])
    out, err = waiting.communicate(timeout=20)
    assert waiting.returncode == 0 and "two" in out, (waiting.returncode, out, err)
    mark = len(stack.log())
    assert stack.ctl("target", "top").returncode == 0
    st = climbs_failing(stack, 1, n=2)
    new = stack.log()[mark:]
    assert "process q0: pipe: Too many open files" in new, new[-3000:]
    assert "q0" in (st["last_failure"] or ""), st
    stack.hold_for(lambda: stack.status()["level"] == 1, 0.5, "holds level one")
    # Descriptors again: it climbs.
    limit(int(soft))
    stack.wait_level(2, timeout=20)
    # back down to where we measured: every descriptor the failures took
    # was given back
    assert stack.ctl("target", "1").returncode == 0
    stack.wait_level(1)
    stack.wait_until(lambda: procfs.fds(pid) == before, timeout=10,
                     msg="the descriptors of level one alone again (%s)" % before)
    assert stack.stop() == 0


def test_silent_clients_give_way_when_descriptors_run_out(stack):
    # Out of descriptors, with connections that say nothing holding some:
    # the idlest gives its descriptor up to the next request at once, as at
    # 64 clients, rather than every request waiting for their 10 s timeout.
    stack.write(level("one") + proc("p1", "one", "sleep 300"))
    stack.start()
    stack.wait_level(1)
    pid = stack.daemon_pid
    soft = soft_nofile(pid)
    n0 = len(procfs.fds(pid))
    silent = []
    try:
        for _ in range(3):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(stack.ctl_path)
            silent.append(s)
        stack.wait_until(lambda: len(procfs.fds(pid)) == n0 + 3, msg="three accepted")
        fds = procfs.fds(pid)
        lowest_free = min(n for n in range(fds[-1] + 2) if n not in fds)
        subprocess.run(["prlimit", "--pid", str(pid), "--nofile=%d:" % lowest_free],
                       check=True)
        t = time.monotonic()
        r = stack.ctl("status")
        took = time.monotonic() - t
        assert r.returncode == 0, r
        assert took < 5, "status waited %.1f s for a silent client's timeout" % took
    finally:
        for s in silent:
            s.close()
        subprocess.run(["prlimit", "--pid", str(pid), "--nofile=%s:" % soft], check=True)
    assert stack.stop() == 0


# --------------------------------------------------------------------------
# a full disk

def test_log_file_on_dev_full(stack):
    # every write of the child fails (ENOSPC): the child's problem, not
    # stackd's -- the stack stays up and nothing is restarted
    talk = "sh -c 'while :; do echo tick; sleep 0.1; done'"
    stack.write(level("one") + proc("full", "one", talk, log="file:/dev/full") +
                proc("fine", "one", talk))
    stack.start()
    st = stack.wait_level(1)
    pid = stack.pid("full", st)
    stack.wait_until(lambda: "tick" in relayed(stack, "fine"), msg="fine relayed")
    stack.hold_for(lambda: stack.pid("full") == pid and stack.status()["level"] == 1,
                   1.0, "full keeps running")
    assert stack.p("full")["restarts_total"] == 0
    assert stack.stop() == 0


@pytest.fixture
def tiny_tmpfs(stack):
    mnt = stack.path("mnt")
    os.mkdir(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k,nr_inodes=8,mode=755",
                        "tmpfs", mnt], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % r.stderr.strip())
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", mnt])


def fill(mnt):
    """Use up every block and every inode of the filesystem."""
    with open(os.path.join(mnt, "old.log"), "w"):
        pass
    try:
        with open(os.path.join(mnt, "blob"), "wb") as f:
            while True:
                f.write(b"x" * 4096)
                f.flush()
    except OSError:
        pass
    i = 0
    while True:
        try:
            open(os.path.join(mnt, "inode%d" % i), "w").close()
        except OSError:
            break
        i += 1


def test_log_file_on_full_tmpfs(stack, tiny_tmpfs):
    fill(tiny_tmpfs)
    talk = "sh -c 'echo hello from %s; exec sleep 300'"
    stack.write(level("one") +
                proc("newlog", "one", talk % "newlog", log="file:%s/new.log" % tiny_tmpfs) +
                proc("oldlog", "one", talk % "oldlog", log="file:%s/old.log" % tiny_tmpfs) +
                level("two") + proc("later", "two", "sleep 300"))
    stack.start()
    stack.wait_level(2)
    # new.log cannot be created: said so, and the output goes to stackd's
    # own stdout instead of being lost
    def open_failure_logged():
        return any("process newlog:" in l and "new.log" in l and
                   "No space left on device" in l for l in stack.log().splitlines())
    stack.wait_until(open_failure_logged, msg="the open failure logged")
    stack.wait_until(lambda: "hello from newlog" in stack.outlog_text(),
                     msg="newlog's output on stackd's stdout")
    # old.log exists but is full: the child's writes fail, it runs on
    assert stack.p("oldlog")["state"] == "running"
    assert stack.p("oldlog")["restarts_total"] == 0
    assert stack.stop() == 0


def test_stackd_own_output_on_dev_full(stack):
    # stackd's log and the relayed output cannot be written at all
    stack.write(level("one") + proc("a", "one", "sh -c 'echo a; exec sleep 300'") +
                proc("b", "one", "sh -c 'echo b; exec sleep 300'"))
    start_exec_wrapped(stack, [], stdout="/dev/full", stderr="/dev/full")
    stack.wait_level(1)
    assert stack.ctl("target", "0").returncode == 0
    stack.wait_level(0)
    assert stack.ctl("target", "top").returncode == 0
    stack.wait_level(1)
    assert stack.stop() == 0


# --------------------------------------------------------------------------
# no memory for the output buffers

# Fails malloc of a relay's buffer (src/relay.c: struct relay_buf, the
# 8000-byte read buffer, the PIPE_BUF output buffer and a small header:
# 12128 bytes on x86-64, checked loosely) while the flag file exists.
FAILBUF = r"""
#include <stddef.h>
#include <unistd.h>
void *__libc_malloc(size_t);
void *
malloc(size_t n)
{
	if (n > 12000 && n < 12400 && access(FLAG, F_OK) == 0)
		return NULL;
	return __libc_malloc(n);
}
"""


def _cpu_ticks(pid):
    st = procfs.stat(pid)
    return st.utime + st.stime


def test_no_memory_for_output_buffers(stack):
    # no buffer can be had: stackd stops reading (the child blocks on its
    # full pipe) without spinning, says so once, and once memory is back
    # every line arrives, in order
    if "asan" in stack.build.name:
        pytest.skip("the sanitizer's malloc cannot be interposed")
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the malloc interposer")
    flag = stack.path("no-memory")
    src = stack.path("failbuf.c")
    lib = stack.path("failbuf.so")
    with open(src, "w") as f:
        f.write(FAILBUF)
    subprocess.run([cc, "-shared", "-fPIC", "-DFLAG=\"%s\"" % flag, "-o", lib, src],
                   check=True)
    open(flag, "w").close()
    n = 20000
    stack.write(level("one") +
                proc("p", "one", "sh -c 'seq %d; exec sleep 300'" % n) +
                proc("q", "one", "sleep 300"))
    stack.start(env={"LD_PRELOAD": lib})
    stack.wait_level(1)
    stack.wait_until(lambda: "no memory to relay children's output" in stack.log(),
                     msg="the missing buffer logged")
    ticks = _cpu_ticks(stack.daemon_pid)
    stack.hold_for(lambda: relayed(stack, "p") == [] and
                   _cpu_ticks(stack.daemon_pid) - ticks < 30,
                   1.5, "nothing relayed, and no busy loop")
    os.unlink(flag)
    want = [str(i) for i in range(1, n + 1)]
    stack.wait_until(lambda: len(relayed(stack, "p")) >= n, timeout=15,
                     msg="every line once memory is back")
    assert relayed(stack, "p") == want, "lines lost, repeated or out of order"
    log = stack.log()
    assert log.count("no memory to relay children's output") == 1, log
    assert "children's output is read again" in log
    assert stack.stop() == 0


# --------------------------------------------------------------------------
# workdir and user

def test_missing_workdir_degrades_and_recovers(stack):
    wd = stack.path("not-yet")
    stack.write(level("one") + proc("p1", "one", "sleep 300") +
                level("two") + proc("w", "two", "sleep 300", workdir=wd),
                retry_min="200ms", retry_max="1s", alarm_after="1s")
    stack.start()
    st = climbs_failing(stack, 1, n=2)
    assert "process w: chdir %s: No such file or directory" % wd in stack.log()
    assert "w" in (st["last_failure"] or ""), st
    stack.wait_until(lambda: stack.status()["alarm"], timeout=10, msg="alarm raised")
    os.mkdir(wd)
    stack.wait_level(2, timeout=15)
    assert os.readlink("/proc/%d/cwd" % stack.pid("w")) == wd
    stack.wait_until(lambda: not stack.status()["alarm"], msg="alarm cleared")
    assert stack.stop() == 0


def test_missing_user_at_start_refused(stack):
    stack.write(level("one") + proc("p1", "one", "sleep 300", user="no-such-user-6"))
    stack.start(wait_socket=False)
    rc = stack.wait_exit(timeout=10)
    assert rc == 1
    assert "%s:" % stack.ini in stack.log() and "unknown user 'no-such-user-6'" in stack.log()


def test_missing_user_at_reload_refused(stack):
    stack.write(level("one") + proc("p1", "one", "sleep 300"))
    stack.start()
    pid = stack.pid("p1", stack.wait_level(1))
    stack.write(level("one") + proc("p1", "one", "sleep 300") +
                proc("p2", "one", "sleep 300", user="no-such-user-6"))
    r = stack.ctl("reload")
    assert r.returncode == 1 and "unknown user 'no-such-user-6'" in r.stderr, r
    assert "%s:" % stack.ini in r.stderr
    stack.hold_for(lambda: [p["name"] for p in stack.status()["processes"]] == ["p1"]
                   and stack.pid("p1") == pid, 0.5, "the running stack untouched")
    assert stack.stop() == 0


def test_unprivileged_stackd_may_name_its_own_user(stack):
    # user = the user stackd already runs as is no switch: it must not fail
    # on setgroups, which only root may call
    need_root("starting stackd as nobody")
    pw = pwd.getpwnam("nobody")
    stack.write(level("one") +
                proc("p", "one", "sleep 300", user="nobody",
                     group=grp.getgrgid(pw.pw_gid).gr_name))
    start_exec_wrapped(stack, run_as(stack, pw.pw_uid))
    st = stack.wait_level(1)
    assert procfs.status(stack.pid("p", st), "Uid")[0] == str(pw.pw_uid)
    assert stack.stop() == 0


def test_user_switch_failing_degrades(stack):
    # stackd without privileges cannot become another user: every start of
    # that process fails, reported, and the stack holds level one
    need_root("starting stackd as a spare uid")
    uid = free_uid()
    stack.write(level("one") + proc("p1", "one", "sleep 300") +
                level("two") + proc("priv", "two", "sleep 300", user="root"),
                retry_min="200ms", retry_max="1s")
    start_exec_wrapped(stack, run_as(stack, uid))
    climbs_failing(stack, 1, n=2)
    assert "process priv: cannot switch to user/group: Operation not permitted" in stack.log()
    assert stack.p("p1")["state"] == "running"
    assert stack.stop() == 0
