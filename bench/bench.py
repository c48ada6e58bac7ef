#!/usr/bin/python3
"""bench.py -- stackd side by side with tini, dumb-init, s6, runit and
supervisord, through the same scenarios, interleaved (A B A B ...).

    make bench                     full run, bounded to about 10 minutes
    make bench BENCH_QUICK=1       quick: tiny sizes, one round, < 1 minute;
                                   only checks that the harness works
    /usr/bin/python3 bench/bench.py --help

Writes bench/results/{latest,quick}.md (the table, the machine, the
versions, the load and the exact command) and .csv (every sample).

How it measures (details in bench/README.md):
  * a tiny static C child (helper.c, built here into a temporary directory)
    reads CLOCK_MONOTONIC first thing after exec and appends "TAG PID NS" to
    a stamp file; that names the pid, and the kernel's own instant of its
    exec (the proc connector's PROC_EVENT_EXEC, CLOCK_MONOTONIC too) is
    "exec'd" for start-up and restart times -- the child's clock only where
    the proc connector cannot be had (not root) or lost the event;
  * exits are seen through pidfds (poll(2) on pidfd_open), not by polling;
  * memory is the sum of Pss from /proc/PID/smaps_rollup over every
    supervisor process (not the supervised children);
  * idle syscalls and context switches come from perf stat on the
    raw_syscalls:sys_enter tracepoint (strace -c when perf cannot), wake-ups
    from /proc/PID/status, CPU time from /proc/PID/schedstat.

Robustness: the harness makes itself a child subreaper, so everything that
any supervisor leaves behind is reparented to it; after every single run
(and on any exception, SIGINT or SIGTERM) every descendant is SIGKILLed and
reaped.  Every wait has a deadline.  Standard library only.
"""

import argparse
import csv
import ctypes
import datetime
import os
import platform
import select
import shlex
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))
import procfs  # noqa: E402  (tests/procfs.py, shared with the tests and soak)
PR_SET_CHILD_SUBREAPER = 36
DEBS = ["tini", "dumb-init", "s6", "runit", "supervisor", "util-linux",
        "linux-perf", "strace"]


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# processes: reaping, the tree below a pid, cleanup

REAPED = {}


def reap():
    """Collect every exited child (we are a subreaper: orphans too)."""
    while True:
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        REAPED[pid] = st


def kill_everything(timeout=10.0):
    """SIGKILL and reap every descendant of the harness."""
    me = os.getpid()
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        reap()
        left = procfs.descendants(me)
        if not left:
            return True
        for p in left:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)
    log("bench: warning: processes left after cleanup:",
        procfs.descendants(me))
    return False


def wait_pidfds(pids, timeout):
    """Poll pidfds until every pid has exited.  Returns (t_last_ns, left):
    the monotonic time at which the last exit was seen, and how many were
    still alive at the deadline."""
    fds = {}
    for p in pids:
        try:
            fds[os.pidfd_open(p)] = p
        except OSError:
            pass
    pl = select.poll()
    for fd in fds:
        pl.register(fd, select.POLLIN)
    last = now_ns()
    end = time.monotonic() + timeout
    while fds:
        rem = end - time.monotonic()
        if rem <= 0:
            break
        ev = pl.poll(max(1, int(rem * 1000)))
        t = now_ns()
        for fd, _ in ev:
            pl.unregister(fd)
            os.close(fd)
            del fds[fd]
            last = t
    left = len(fds)
    for fd in fds:
        os.close(fd)
    return last, left


def wait_until(pred, timeout, step=0.002):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            return v
        reap()
        time.sleep(step)


def read_kv(path, keys):
    out = dict.fromkeys(keys, 0)
    try:
        with open(path) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in out:
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def mem_of(pids):
    """Summed Pss, Rss and USS (private) in KiB, from smaps_rollup."""
    pss = rss = uss = 0
    for p in pids:
        kv = read_kv("/proc/%d/smaps_rollup" % p,
                     ("Pss", "Rss", "Private_Clean", "Private_Dirty"))
        pss += kv["Pss"]
        rss += kv["Rss"]
        uss += kv["Private_Clean"] + kv["Private_Dirty"]
    return pss, rss, uss


def counters_of(pids):
    """Summed CPU ns (schedstat), voluntary and involuntary switches."""
    cpu = vol = invol = 0
    for p in pids:
        try:
            with open("/proc/%d/schedstat" % p) as f:
                cpu += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
        kv = read_kv("/proc/%d/status" % p, ("voluntary_ctxt_switches",
                                             "nonvoluntary_ctxt_switches"))
        vol += kv["voluntary_ctxt_switches"]
        invol += kv["nonvoluntary_ctxt_switches"]
    return cpu, vol, invol


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def runnable():
    """Tasks running or runnable right now, the harness itself excluded:
    unlike the 1-minute load average, not inflated by the bench's own
    bursts (1000 children starting at once) a few seconds earlier."""
    with open("/proc/loadavg") as f:
        return int(f.read().split()[3].split("/")[0]) - 1


# --------------------------------------------------------------------------
# the stamp file written by helper.c

class ExecWatch:
    """The kernel's instant of every exec: the proc connector's
    PROC_EVENT_EXEC, whose timestamp the kernel takes with ktime_get_ns()
    (CLOCK_MONOTONIC, the helper's clock) once the new program is loaded
    -- before the program's own start-up (the static glibc's, which on a VM
    costs half a millisecond of trapped cpuid), that the helper's stamp
    would include.  A thread reads the events; with CAP_NET_ADMIN only.
    Kernels since 6.6 send exec events alone when asked (proc_input's
    event_type); older ones get a 4-byte request and send everything."""

    NETLINK_CONNECTOR = 11
    CN_IDX_PROC = CN_VAL_PROC = 1
    LISTEN = 1
    PROC_EVENT_EXEC = 0x2

    def __init__(self):
        self.execs = {}         # pid -> [ns of each exec]
        self.lost = 0           # ENOBUFS: the socket dropped events
        self.found = self.missed = 0
        self.lock = threading.Lock()
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM,
                               self.NETLINK_CONNECTOR)
        try:
            self.s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # FORCE
        except OSError:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
        self.s.bind((0, self.CN_IDX_PROC))
        threading.Thread(target=self._read, daemon=True).start()
        self.filtered = True
        self._listen(struct.pack("=II", self.LISTEN, self.PROC_EVENT_EXEC))
        if not self._works():
            self.filtered = False
            self._listen(struct.pack("=I", self.LISTEN))
            if not self._works():
                self.s.close()
                raise OSError("no exec events came")
        self.found = self.missed = 0

    def _listen(self, payload):
        cn = struct.pack("=IIIIHH", self.CN_IDX_PROC, self.CN_VAL_PROC, 0, 0,
                         len(payload), 0) + payload
        self.s.send(struct.pack("=IHHII", 16 + len(cn), 3, 0, 0, 0) + cn)

    def _works(self):
        p = subprocess.Popen(["true"])
        p.wait()
        return self.exec_ns(p.pid, now_ns(), wait=1.0) is not None

    def _read(self):
        while True:
            try:
                data = self.s.recv(1 << 16)
            except OSError as e:
                if e.errno == 105:      # ENOBUFS
                    self.lost += 1
                    continue
                return                  # closed
            off = 0
            # nlmsghdr (16), cn_msg (20), proc_event: what, cpu, ns, ...
            while off + 16 + 20 + 24 <= len(data):
                ln = struct.unpack_from("=I", data, off)[0]
                what, _, ns, _, tgid = struct.unpack_from(
                    "=IIQii", data, off + 36)
                if what == self.PROC_EVENT_EXEC:
                    with self.lock:
                        self.execs.setdefault(tgid, []).append(ns)
                if ln < 16:
                    break
                off += (ln + 3) & ~3

    def exec_ns(self, pid, before, wait=0.2):
        """The latest exec of pid at or before `before` (ns), or None if
        none was seen within `wait` seconds (the thread may lag)."""
        deadline = time.monotonic() + wait
        while True:
            with self.lock:
                c = [t for t in self.execs.get(pid, ()) if t <= before]
            if c:
                self.found += 1
                return max(c)
            if time.monotonic() >= deadline:
                self.missed += 1
                return None
            time.sleep(0.001)

    def of_stamp(self, pid, ns):
        """The exec instant for a stamp: the kernel's, else the stamp."""
        t = self.exec_ns(pid, ns)
        return ns if t is None else t


def exec_instant(watch, pid, ns):
    return ns if watch is None else watch.of_stamp(pid, ns)


class Stamps:
    def __init__(self, path, watch=None):
        self.path, self.off, self.buf = path, 0, b""
        self.watch = watch      # ExecWatch, or None: the child's clock
        self.recs = []          # (tag, pid, ns) in file order
        self.first = {}         # tag -> first exec ns
        self.last = {}          # tag -> (pid, ns) of the latest exec

    def poll(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.off)
                data = f.read()
        except FileNotFoundError:
            return []
        self.off += len(data)
        lines = (self.buf + data).split(b"\n")
        self.buf = lines.pop()
        new = []
        for ln in lines:
            tag, pid, ns = ln.decode().split()
            r = (tag, int(pid), exec_instant(self.watch, int(pid), int(ns)))
            new.append(r)
            self.first.setdefault(tag, r[2])
            self.last[tag] = (r[1], r[2])
        self.recs += new
        return new

    def of(self, tag):
        return [r for r in self.recs if r[0] == tag]


# --------------------------------------------------------------------------
# the tools

class Svc:
    """One supervised service: a tag and the helper's arguments."""

    def __init__(self, tag, args, level=0):
        self.tag, self.args, self.level = tag, args, level


class Tool:
    name = "?"
    pkg = None
    binary = None
    restarts = True         # it restarts a child that exits
    many = True             # it supervises N children itself
    stop_sig = signal.SIGTERM
    how = ""

    def available(self):
        return self.binary is None or shutil.which(self.binary) is not None

    def version(self):
        if self.pkg is None:
            return "?"
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}",
                            self.pkg], capture_output=True, text=True)
        return r.stdout.strip() or "?"

    def argv(self, d, svcs, ctx, opts):
        raise NotImplementedError

    def sup_pids(self, root, child_pids):
        """The supervisor's own processes: everything below (and
        including) root that is not a supervised child."""
        t = procfs.table()
        ds = [root] + procfs.descendants(root, t)
        return [p for p in ds if p not in child_pids and p in t
                and t[p].state != "Z" and t[p].comm != "unshare"]


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class Stackd(Tool):
    pkg = None

    def __init__(self, levels=1, name="stackd"):
        self.levels, self.name = levels, name
        self.stackd = os.path.join(REPO, "build", "stackd")
        self.how = ("build/stackd -f stack.ini: one [process] per child"
                    + (", %d levels" % levels if levels > 1 else "")
                    + "; defaults except stop_timeout = 1s")

    def available(self):
        return os.access(self.stackd, os.X_OK)

    def version(self):
        r = subprocess.run([self.stackd, "--version"], capture_output=True,
                           text=True)
        g = subprocess.run(["git", "-C", REPO, "describe", "--always",
                            "--dirty", "--abbrev=10"], capture_output=True,
                           text=True)
        return "%s (%s)" % (r.stdout.strip(), g.stdout.strip() or "?")

    def argv(self, d, svcs, ctx, opts):
        ini = ["[stack]", "name = bench", "control = %s/ctl.sock" % d,
               "stop_timeout = 1s"]
        if opts.get("intensity"):
            ini += ["intensity = %d" % opts["intensity"], "period = 10s"]
        nlev = opts.get("levels", self.levels)
        for k in range(nlev):
            ini.append("[level l%d]" % (k + 1))
            for p in opts.get("probes", {}).get(k, []):
                ini.append("probe = %s %s" % (ctx.child, " ".join(p)))
        for i, s in enumerate(svcs):
            lvl = s.level if opts.get("probes") else i * nlev // len(svcs)
            ini += ["[process %s]" % s.tag, "level = l%d" % (lvl + 1),
                    "command = %s %s" % (ctx.child, " ".join(s.args))]
        write(os.path.join(d, "stack.ini"), "\n".join(ini) + "\n")
        return [self.stackd, "-f", os.path.join(d, "stack.ini")]


class S6(Tool):
    pkg = "s6"
    binary = "s6-svscan"

    def __init__(self, notify=False):
        self.notify = notify
        self.name = "s6 (notification-fd)" if notify else "s6"
        self.how = ("s6-svscan DIR, one service directory per child "
                    "(./run is the helper itself, timeout-kill = 1000"
                    + (", notification-fd = 3" if notify else "") + ")")

    def argv(self, d, svcs, ctx, opts):
        sv = os.path.join(d, "sv")
        os.mkdir(sv)
        for s in svcs:
            sd = os.path.join(sv, s.tag)
            os.mkdir(sd)
            os.symlink(ctx.child, os.path.join(sd, "run"))
            args = list(s.args)
            if self.notify and args[0] == "run" and args[3] == "wait":
                args[3] = "notify:3"
                write(os.path.join(sd, "notification-fd"), "3\n")
            write(os.path.join(sd, "bench-args"), " ".join(args) + "\n")
            write(os.path.join(sd, "timeout-kill"), "1000\n")
        cmd = ["s6-svscan"]
        if len(svcs) > 900:
            cmd += ["-c", str(len(svcs) + 100)]
        return cmd + [sv]


class Runit(Tool):
    pkg = "runit"
    binary = "runsvdir"
    name = "runit"
    # runsvdir exits at once on TERM and leaves every runsv and child
    # running; HUP is its "stop everything" signal (runsvdir(8)).
    stop_sig = signal.SIGHUP
    how = ("runsvdir -P DIR, one service directory per child (./run is "
           "the helper itself); stopped with SIGHUP, runsvdir's "
           "stop-everything signal (SIGTERM leaves the tree running)")

    def argv(self, d, svcs, ctx, opts):
        sv = os.path.join(d, "sv")
        os.mkdir(sv)
        for s in svcs:
            sd = os.path.join(sv, s.tag)
            os.mkdir(sd)
            os.symlink(ctx.child, os.path.join(sd, "run"))
            write(os.path.join(sd, "bench-args"), " ".join(s.args) + "\n")
        # runsvdir sleeps 1 s before its scan when the directory changed
        # this very second; on a real system it was made long before.
        t = time.time() - 10
        os.utime(sv, (t, t))
        return ["runsvdir", "-P", sv]


class Supervisord(Tool):
    pkg = "supervisor"
    binary = "supervisord"
    name = "supervisord"
    how = ("supervisord -n -c supervisord.conf, one [program:x] per child "
           "(autorestart = true, stopwaitsecs = 1, other keys default)")

    def argv(self, d, svcs, ctx, opts):
        os.mkdir(os.path.join(d, "logs"))
        c = ["[supervisord]", "nodaemon = true",
             "logfile = %s/supervisord.log" % d,
             "pidfile = %s/supervisord.pid" % d,
             "childlogdir = %s/logs" % d, "user = root"]
        for s in svcs:
            c += ["[program:%s]" % s.tag,
                  "command = %s %s" % (ctx.child, " ".join(s.args)),
                  "autorestart = true", "stopwaitsecs = 1"]
        write(os.path.join(d, "supervisord.conf"), "\n".join(c) + "\n")
        return ["supervisord", "-n", "-c",
                os.path.join(d, "supervisord.conf")]


def launcher(d, svcs, ctx):
    """The shell script a tini or dumb-init user would write."""
    lines = ["#!/bin/sh"]
    for s in svcs:
        lines.append("%s %s &" % (ctx.child, " ".join(s.args)))
    lines.append("wait")
    p = os.path.join(d, "launch.sh")
    write(p, "\n".join(lines) + "\n", 0o755)
    return p


class Tini(Tool):
    pkg = "tini"
    binary = "tini"
    name = "tini"
    restarts = False
    many = False
    how = ("tini -g [-s] -- launch.sh (a /bin/sh script that starts the "
           "children in the background and waits)")

    def argv(self, d, svcs, ctx, opts):
        if len(svcs) == 1:
            return ["tini", "-g", "--", ctx.child] + svcs[0].args \
                if opts.get("pid1") else \
                ["tini", "-g", "-s", "--", ctx.child] + svcs[0].args
        return ["tini", "-g"] + ([] if opts.get("pid1") else ["-s"]) + \
            ["--", launcher(d, svcs, ctx)]


class DumbInit(Tool):
    pkg = "dumb-init"
    binary = "dumb-init"
    name = "dumb-init"
    restarts = False
    many = False
    how = "dumb-init launch.sh (the same script; signals go to its group)"

    def argv(self, d, svcs, ctx, opts):
        if len(svcs) == 1:
            return ["dumb-init", ctx.child] + svcs[0].args
        return ["dumb-init", launcher(d, svcs, ctx)]


# --------------------------------------------------------------------------
# one run: start a tool over some services, measure, always clean up

class Run:
    def __init__(self, ctx, tool, svcs, opts=None):
        self.ctx, self.tool, self.svcs = ctx, tool, svcs
        self.opts = opts or {}
        ctx.seq += 1
        self.dir = os.path.join(ctx.tmp, "r%04d" % ctx.seq)
        os.mkdir(self.dir)
        # in a PID namespace the stamps carry the namespace's pids
        self.stamps = Stamps(os.path.join(self.dir, "stamps"),
                             None if self.opts.get("pid1") else ctx.watch)
        self.proc = None

    def svc_args(self, tag, mode="wait", level=0):
        return Svc(tag, ["run", self.stamps.path, tag, mode], level)

    def start(self):
        argv = self.tool.argv(self.dir, self.svcs, self.ctx, self.opts)
        if self.opts.get("pid1"):
            argv = ["unshare", "--pid", "--fork", "--mount-proc",
                    "--kill-child"] + argv
        self.argv = argv
        out = open(os.path.join(self.dir, "out.log"), "wb")
        self.t0 = now_ns()
        self.proc = subprocess.Popen(argv, cwd=self.dir, stdout=out,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        out.close()
        return self

    def wait_all_execd(self, n, timeout):
        ok = wait_until(lambda: (self.stamps.poll() or True) and
                        len(self.stamps.first) >= n, timeout)
        if not ok:
            return None
        return max(self.stamps.first.values()) - self.t0

    def child_pids(self):
        self.stamps.poll()
        return {r[1] for r in self.stamps.recs}

    def sup_pids(self):
        return self.tool.sup_pids(self.proc.pid, self.child_pids())

    def tree(self):
        return [self.proc.pid] + procfs.descendants(self.proc.pid)

    def stop_and_time(self, timeout):
        """Send the tool's stop signal; seconds until the whole tree (as
        it was just before) is gone, or None if it never went."""
        pids = self.tree()
        t = now_ns()
        os.kill(self.proc.pid, self.tool.stop_sig)
        last, left = wait_pidfds(pids, timeout)
        reap()
        return None if left else (last - t) / 1e9

    def close(self):
        kill_everything()


def out_tail(run, n=5):
    try:
        with open(os.path.join(run.dir, "out.log"), errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-n:])
    except OSError:
        return ""


# --------------------------------------------------------------------------
# scenarios; each records samples with ctx.add(scenario, tool, value, ...)

def kill_restart(run, tags, k, up_for, timeout=5.0):
    """SIGKILL k children (each up > up_for s) one after the other; per
    kill the seconds from kill to the new exec.  Also the supervisor's CPU
    time per exit, from schedstat, over the whole batch."""
    lat = []
    sup = run.sup_pids()
    c0 = counters_of(sup)
    for tag in tags[:k]:
        run.stamps.poll()
        pid, t_exec = run.stamps.last[tag]
        wait_until(lambda: now_ns() - t_exec > up_for * 1e9, up_for + 1)
        t = now_ns()
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:      # restarted behind our back
            lat.append(None)
            break
        ok = wait_until(lambda: (run.stamps.poll() or True) and
                        run.stamps.last[tag][0] != pid, timeout, 0.001)
        if not ok:
            lat.append(None)
            break
        lat.append((run.stamps.last[tag][1] - t) / 1e9)
    time.sleep(0.1)     # let the supervisor finish its bookkeeping
    c1 = counters_of(run.sup_pids())
    n = len([x for x in lat if x is not None])
    cpu = (c1[0] - c0[0]) / n / 1e9 if n else None
    return lat, cpu


def idle_window(run, secs, ctx):
    """Syscalls, context switches and CPU of the supervisor processes
    over secs seconds with nothing to do."""
    pids = run.sup_pids()
    c0 = counters_of(pids)
    sysc = None
    if ctx.perf:
        out = os.path.join(run.dir, "perf.csv")
        r = subprocess.run(["perf", "stat", "-x,", "--no-inherit", "-o", out,
                            "-e", "raw_syscalls:sys_enter,context-switches",
                            "-p", ",".join(map(str, pids)), "--",
                            "sleep", str(secs)], capture_output=True,
                           timeout=secs + 30)
        vals = {}
        if r.returncode == 0:
            with open(out) as f:
                for line in f:
                    p = line.strip().split(",")
                    if len(p) > 2 and not line.startswith("#"):
                        vals[p[2]] = int(p[0]) if p[0].isdigit() else 0
        sysc = vals.get("raw_syscalls:sys_enter")
    elif ctx.strace:
        out = os.path.join(run.dir, "strace.txt")
        cmd = ["strace", "-c", "-q", "-o", out]
        for p in pids:
            cmd += ["-p", str(p)]
        s = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
        time.sleep(secs)
        s.send_signal(signal.SIGINT)
        try:
            s.wait(10)
        except subprocess.TimeoutExpired:
            s.kill()
        sysc = 0
        with open(out) as f:
            for line in f:
                p = line.split()
                if p and p[-1] == "total":
                    sysc = int(p[3]) if len(p) >= 5 else int(p[2])
    else:
        time.sleep(secs)
    c1 = counters_of(pids)
    return sysc, c1[1] - c0[1], (c1[0] - c0[0]) / 1e9


def sc_tree(ctx, tool, n, rnd):
    """N children: start-up, PSS; with N = 100 also idle and SIGTERM;
    with the largest N also the cost of one exit (kills)."""
    big = n == ctx.N[1]
    run = Run(ctx, tool, [], {"levels": getattr(tool, "levels", 1)})
    run.svcs = [run.svc_args("c%d" % i) for i in range(1, n + 1)]
    try:
        run.start()
        t = run.wait_all_execd(n, ctx.start_timeout(n))
        if t is None:
            ctx.fail("start%d" % n, tool, rnd, "only %d of %d exec'd: %s" % (
                len(run.stamps.first), n, out_tail(run)))
            return
        sz = "1000" if big else "100"      # the row, whatever n is
        start_key = "start" + sz
        if tool.name == "stackd (4 levels)":
            start_key += "_4lvl"
        ctx.add(start_key, tool, rnd, t / 1e9, "n=%d" % n)
        time.sleep(ctx.settle)
        sup = run.sup_pids()
        pss, rss, uss = mem_of(sup)
        ctx.add("pss" + sz, tool, rnd, pss / 1024.0,
                "n=%d rss=%.1fMiB uss=%.1fMiB procs=%d" % (
                    n, rss / 1024.0, uss / 1024.0, len(sup)))
        if not big and tool.name != "stackd (4 levels)":
            sysc, wake, cpu = idle_window(run, ctx.idle, ctx)
            if sysc is not None:
                ctx.add("idle_syscalls", tool, rnd, sysc,
                        "window=%gs" % ctx.idle)
            ctx.add("idle_wakeups", tool, rnd, wake,
                    "voluntary ctxt switches; cpu=%.6fs" % cpu)
        if big and tool.restarts:
            tags = ["c%d" % i for i in range(1, n + 1, max(1, n // ctx.kills))]
            lat, cpu = kill_restart(run, tags, ctx.kills, ctx.up_for)
            for x in lat:
                ctx.add("restart_kill_n1000", tool, rnd, x, "n=%d" % n)
            if cpu is not None:
                ctx.add("exit_cpu_n1000", tool, rnd, cpu * 1e6,
                        "n=%d" % n)
        if not big:
            key = "term100" + ("_4lvl" if tool.name ==
                               "stackd (4 levels)" else "")
            ctx.add(key, tool, rnd, run.stop_and_time(ctx.term_cap),
                    "n=%d" % n)
    finally:
        run.close()


def sc_restart(ctx, tool, rnd):
    """10 children, the last ignores SIGTERM: kill -> new exec latency
    and CPU per exit, then SIGTERM -> tree gone (stop_timeout = 1 s)."""
    n = 10
    run = Run(ctx, tool, [])
    run.svcs = [run.svc_args("c%d" % i, "ignore" if i == n else "wait")
                for i in range(1, n + 1)]
    try:
        run.start()
        if run.wait_all_execd(n, 20) is None:
            ctx.fail("restart_kill", tool, rnd, out_tail(run))
            return
        if tool.restarts:
            lat, cpu = kill_restart(run, ["c%d" % i for i in range(1, n)],
                                    ctx.kills, ctx.up_for)
            for x in lat:
                ctx.add("restart_kill", tool, rnd, x)
            if cpu is not None:
                ctx.add("exit_cpu_n10", tool, rnd, cpu * 1e6)
        if tool.name != "s6 (notification-fd)":
            ctx.add("term_ignore", tool, rnd,
                    run.stop_and_time(ctx.ignore_cap))
    finally:
        run.close()


def sc_crash(ctx, tool, rnd):
    """One child that exits right after exec: gaps between its execs."""
    run = Run(ctx, tool, [])
    run.svcs = [run.svc_args("c1", "exit")]
    try:
        run.start()
        wait_until(lambda: (run.stamps.poll() or True) and
                   len(run.stamps.of("c1")) > ctx.crashes, ctx.crash_window,
                   0.005)
        ts = [r[2] for r in run.stamps.of("c1")][:ctx.crashes + 1]
        if len(ts) < 2:
            ctx.add("restart_crash", tool, rnd, None,
                    "no restart within %gs" % ctx.crash_window)
        for a, b in zip(ts, ts[1:]):
            ctx.add("restart_crash", tool, rnd, (b - a) / 1e9)
    finally:
        run.close()


def sc_orphans(ctx, tool, rnd):
    """As PID 1 of a new PID namespace, one service that makes N
    double-forked orphans and releases them at once, in up to
    ctx.orphan_bursts bursts: from the last one's exit (pidfds) until the
    last one is reaped (kill(pid, 0) fails), as the service itself
    measures it; also from the release.  A tool whose tail is over 100 ms
    gets one burst (the helper stops there)."""
    run = Run(ctx, tool, [], {"pid1": True})
    res = os.path.join(run.dir, "orphans")
    run.svcs = [Svc("o1", ["orphans", res, str(ctx.orphans),
                           str(ctx.orphan_bursts)])]
    try:
        run.start()
        ok = wait_until(lambda: os.path.exists(res),
                        60 * ctx.orphan_bursts, 0.005)
        if not ok:
            ctx.fail("orphans", tool, rnd, out_tail(run))
            return
        for line in open(res).read().splitlines():
            _orphan_burst(ctx, tool, rnd, line)
    finally:
        run.close()


def _orphan_burst(ctx, tool, rnd, line):
    t0, tx, t1, got, left = map(int, line.split())
    if got != ctx.orphans:
        ctx.fail("orphans", tool, rnd, "made %d of %d" % (got, ctx.orphans))
        return
    if left:
        ctx.add("orphans", tool, rnd, None, "%d left after 30 s" % left)
        ctx.add("orphans_total", tool, rnd, None)
        return
    ctx.add("orphans_total", tool, rnd, (t1 - t0) / 1e9)
    if tx > 0:
        ctx.add("orphans", tool, rnd, max(0, t1 - tx) / 1e9,
                "last exit %.1f ms after release" % ((tx - t0) / 1e6))


def sc_climb(ctx, tool, rnd):
    """stackd only: 10 levels, each with one probe (the helper in probe
    mode, which stamps and exits 0, like `true`).  The gap between two
    probe execs is one level's climb; the probe's own cost is measured
    again right before, as the host's load drifts over a run."""
    cost = probe_cost(ctx.child, ctx.tmp, 15)[0]
    run = Run(ctx, tool, [])
    probes = {k: [["probe", run.stamps.path, "L%d" % (k + 1)]]
              for k in range(10)}
    run.opts = {"levels": 10, "probes": probes}
    try:
        run.start()
        if not wait_until(lambda: (run.stamps.poll() or True) and
                          len(run.stamps.first) >= 10, 20):
            ctx.fail("climb", tool, rnd, out_tail(run))
            return
        ts = [run.stamps.first["L%d" % (k + 1)] for k in range(10)]
        for a, b in zip(ts, ts[1:]):
            ctx.add("climb_gap", tool, rnd, (b - a) / 1e9)
            ctx.add("climb", tool, rnd, (b - a) / 1e9 - cost)
    finally:
        run.close()


def helper_rows(child, mode, path, n, timeout):
    """Run the helper in one of its timing modes, writing to path; its
    lines split into words, or None if it failed."""
    try:
        subprocess.run([child, mode, path, str(n)], timeout=timeout,
                       check=True)
        return [l.split() for l in open(path).read().splitlines()]
    except (OSError, subprocess.SubprocessError):
        return None


def restart_floor(child, tmp, watch, n=15):
    """Kill -> new exec for a parent that does nothing but wait for its
    child and posix_spawn it again (the helper's floor mode): below this
    no supervisor can restart.  Median ms, or None."""
    rows = helper_rows(child, "floor", os.path.join(tmp, "floor.stamps"), n,
                       30)
    if rows is None:
        return None
    v = [exec_instant(watch, int(b[1]), int(b[2])) - int(a[2])
         for a, b in zip(rows, rows[1:]) if a[0] == "kill" and b[0] == "f"]
    return statistics.median(v) / 1e6 if v else None


def start_floor(child, tmp, watch, n, reps=3):
    """Start -> all n exec'd for a C loop that does nothing but
    posix_spawn them one after the other (the helper's startfloor mode):
    what a supervisor that starts its children one at a time cannot beat.
    Median ms over reps, or None."""
    v = []
    for i in range(reps):
        rows = helper_rows(child, "startfloor", os.path.join(
            tmp, "startfloor.%d.%d" % (n, i)), n, 60)
        if rows is None:
            return None
        t0 = [int(r[2]) for r in rows if r[0] == "t0"]
        ts = [exec_instant(watch, int(r[1]), int(r[2])) for r in rows
              if r[0] == "s"]
        if len(t0) != 1 or len(ts) != n:
            return None
        v.append((max(ts) - t0[0]) / 1e6)
    return statistics.median(v)


def probe_cost(child, tmp, n=30):
    """The probe's own fork/exec/exit/wait, timed by the helper in C
    (probecost mode); from here, through the interpreter, if that fails --
    which costs more than the probe on a slow host and makes the climb row
    read low.  Also the CPU one probe takes itself (exec, C start-up,
    exit), from the helper's getrusage, or None: (seconds, seconds)."""
    rows = helper_rows(child, "probecost", os.path.join(tmp, "probecost"),
                       n, 30)
    cpu = [r[1] for r in rows or [] if len(r) == 2 and r[0] == "cpu"]
    try:
        v = [int(w) / 1e9 for r in rows or [] if r[0] != "cpu" for w in r]
        cpu = int(cpu[0]) / 1e9 / n if cpu else None
    except ValueError:
        v, cpu = [], None
    if len(v) == n:
        return statistics.median(v), cpu
    v = []
    for _ in range(n):
        t = now_ns()
        pid = os.posix_spawn(child, [child, "probe", os.devnull, "x"],
                             os.environ)
        os.waitpid(pid, 0)
        v.append((now_ns() - t) / 1e9)
    return statistics.median(v), None


def child_cpu_text(ctx):
    """The CPU the children of the start row take themselves, which every
    supervisor's start competes with for the host's CPUs."""
    if ctx.child_cpu is None:
        return "children's own CPU: not measured"
    ncpu = os.cpu_count() or 1
    return ("one child's own CPU (exec, C start-up and exit of a probe, "
            "the kernel's count for waited children): %.3f ms, so N "
            "children take N × that / %d CPUs of the host's time: %s"
            % (ctx.child_cpu * 1e3, ncpu, ", ".join(
                "%.1f ms with %d" % (n * ctx.child_cpu * 1e3 / ncpu, n)
                for n in ctx.N)))


# --------------------------------------------------------------------------
# the table

# key: (label, unit, scale, fmt, target text, target check(stackd, anchors))
def _ratio(k, r):
    return lambda s, a: (s <= a[k] * r) if a.get(k) is not None else None


ROWS = [
    ("pss100", "supervisor PSS, {n0} children", "MiB", 1, "%.2f",
     "≤ 1/10 of runit's", _ratio("runit", 0.1)),
    ("pss1000", "supervisor PSS, {n1} children", "MiB", 1, "%.2f",
     "≤ 1/30 of runit's", _ratio("runit", 1 / 30)),
    ("restart_kill", "restart after SIGKILL (child up > 1 s, 10 children),"
     " kill → new exec", "ms", 1e3, "%.2f", "≤ 1/3 of runit's",
     _ratio("runit", 1 / 3)),
    ("restart_kill_n1000", "same, {n1} children", "ms", 1e3, "%.2f",
     "≤ 1/3 of runit's", _ratio("runit", 1 / 3)),
    ("restart_crash", "restart of a child that exits at once: gap between "
     "execs (first restarts)", "ms", 1e3, "%.1f",
     "no fixed pause (≤ 50 ms)", lambda s, a: s <= 0.050),
    ("start100", "start → all {n0} exec'd", "ms", 1e3, "%.1f",
     "≤ 1/4 of s6's", _ratio("s6", 0.25)),
    ("start1000", "start → all {n1} exec'd", "ms", 1e3, "%.1f",
     "≤ 1/4 of s6's", _ratio("s6", 0.25)),
    ("idle_syscalls", "idle {idle} s, {n0} children: syscalls",
     "calls", 1, "%.0f", "0", lambda s, a: s == 0),
    ("idle_wakeups", "idle {idle} s, {n0} children: wake-ups (voluntary "
     "context switches)", "", 1, "%.0f", "0", lambda s, a: s == 0),
    ("orphans", "as PID 1: {orph} double-forked orphans released at once: "
     "last exit → none left", "ms", 1e3, "%.2f", "≤ s6's",
     _ratio("s6", 1)),
    ("orphans_total", "same, release → none left (mostly the kernel's "
     "{orph} exits)", "ms", 1e3, "%.1f", "—", None),
    ("term100", "SIGTERM → tree gone, {n0} children obeying TERM",
     "ms", 1e3, "%.1f", "≤ 1/2 of s6's", _ratio("s6", 0.5)),
    ("term100_4lvl", "same, stackd with 4 levels (anchors: their "
     "one-level figure)", "ms", 1e3, "%.1f", "≤ 1/2 of s6's",
     _ratio("s6", 0.5)),
    ("term_ignore", "SIGTERM → tree gone, 10 children, one ignores TERM, "
     "stop timeout 1 s", "ms", 1e3, "%.1f", "≤ 1020 ms",
     lambda s, a: s <= 1.020),
    ("climb", "climb: one level with one probe, beyond the probe's own "
     "spawn+exit", "ms", 1e3, "%.2f", "≤ 2 ms", lambda s, a: s <= 0.002),
    ("exit_cpu_n10", "supervisor CPU per child exit+restart, 10 children",
     "µs", 1, "%.0f", "—", None),
    ("exit_cpu_n1000", "same, {n1} children", "µs", 1, "%.0f",
     "flat: ≤ 1.5 × the 10-children figure",
     "flat"),
]


# Rows where tini and dumb-init (a shell script starting N children under
# a PID-1 wrapper: nothing restarts them) are shown for reference only and
# are not candidates for "best anchor".
REF_ONLY = {"pss100", "pss1000", "start100", "start1000"}
NOT_SUPERVISORS = {"tini", "dumb-init"}


def raw_unit(key):
    if key.startswith("pss"):
        return "MiB"
    if key.startswith("idle_"):
        return "count"
    if key.startswith("exit_cpu"):
        return "us"
    return "s"


def fmt_cell(vals, scale, fmt, cap=None):
    ok = [v for v in vals if v is not None]
    nev = len(vals) - len(ok)
    if not vals:
        return "", None
    if not ok:
        return "never%s" % (" (> %g s)" % cap if cap else ""), None
    med = statistics.median(ok)
    s = (fmt % (med * scale)) + " [" + (fmt % (min(ok) * scale)) + "–" + \
        (fmt % (max(ok) * scale)) + "]"
    if nev:
        s += " +%d never" % nev
    return s, med


# --------------------------------------------------------------------------
# the run as a whole

class Ctx:
    def __init__(self, args):
        self.args = args
        q = args.quick
        self.quick = q
        self.N = (10, 20) if q else (100, 1000)
        self.rounds = 1 if q else args.rounds
        self.idle = 1.0 if q else 10.0
        self.kills = 2 if q else 5
        self.up_for = 0.2 if q else 1.1   # a killed child was up this long
        self.settle = 0.3 if q else 1.0
        self.term_cap = 3.0 if q else 10.0
        self.ignore_cap = 1.3 if q else 3.0
        self.crashes = 1 if q else 3
        self.crash_window = 1.3 if q else 4.5
        self.orphans = 50 if q else 1000
        self.orphan_bursts = 1 if q else 5
        self.samples = []
        self.skipped = []
        self.failures = []
        self.loads = []
        self.running = []
        self.seq = 0

    def start_timeout(self, n):
        return 20 + n * 0.1

    def add(self, scen, tool, rnd, value, note=""):
        self.samples.append((scen, tool.name, rnd, value, note,
                             loadavg()[0]))

    def fail(self, scen, tool, rnd, why):
        self.failures.append((scen, tool.name, rnd, why))
        log("bench: FAILED %s / %s (round %d): %s" % (scen, tool.name, rnd,
                                                       why))


def build_child(tmp):
    src = os.path.join(HERE, "helper.c")
    out = os.path.join(tmp, "bchild")
    cc = os.environ.get("CC", "cc")
    for extra in (["-static"], []):
        r = subprocess.run([cc, "-O2", "-std=c11", "-D_GNU_SOURCE", "-Wall",
                            "-Wextra", "-o", out, src] + extra,
                           capture_output=True, text=True)
        if r.returncode == 0:
            return out, bool(extra)
    sys.exit("bench: cannot build helper.c:\n" + r.stderr)


def ensure_debs():
    """Install the anchors as root (packaging/need-debs.sh), else say
    which command to run; the tools that are missing are skipped."""
    r = subprocess.run(["sh", os.path.join(REPO, "packaging",
                                           "need-debs.sh")] + DEBS)
    return r.returncode == 0


def can_perf():
    if shutil.which("perf") is None:
        return False
    r = subprocess.run(["perf", "stat", "-x,", "--no-inherit", "-e",
                        "raw_syscalls:sys_enter", "--", "true"],
                       capture_output=True, text=True)
    return r.returncode == 0 and "raw_syscalls" in r.stderr and \
        "not supported" not in r.stderr


def machine_info():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = read_kv("/proc/meminfo", ("MemTotal",))["MemTotal"]
    try:
        deb = open("/etc/debian_version").read().strip()
    except OSError:
        deb = "?"
    return ("%s, %d CPUs (%s), %.1f GiB RAM, Debian %s, kernel %s" % (
        platform.node(), os.cpu_count(), cpu, mem / 1048576, deb,
        platform.release()))


def report(ctx, tools, meta):
    by = {}
    for scen, tool, rnd, v, note, ld in ctx.samples:
        by.setdefault(scen, {}).setdefault(tool, []).append(v)
    names = [t.name for t in tools if t.name != "stackd (4 levels)"]
    anchors = [n for n in names if n != "stackd"]
    hdr = ["scenario", "unit"] + names + ["best anchor", "stackd / best",
                                          "target", "met"]
    lines = ["| " + " | ".join(hdr) + " |",
             "|" + "|".join(["---"] * len(hdr)) + "|"]
    meds_all = {}
    for key, label, unit, scale, fmt, ttext, check in ROWS:
        if key not in by:
            continue
        cap = {"term100": ctx.term_cap, "term100_4lvl": ctx.term_cap,
               "term_ignore": ctx.ignore_cap}.get(key)
        cells, meds = [], {}
        for n in names:
            src = n
            if key == "term100_4lvl" and n == "stackd":
                src = "stackd (4 levels)"
            elif key == "term100_4lvl":
                vals = by.get("term100", {}).get(n)
                c, m = fmt_cell(vals or [], scale, fmt, cap)
                cells.append(c or "N/A")
                meds[n] = m
                continue
            vals = by[key].get(src)
            if vals is None:
                cells.append("N/A")
                meds[n] = None
                continue
            c, m = fmt_cell(vals, scale, fmt, cap)
            if key in REF_ONLY and n in NOT_SUPERVISORS:
                c += " †"
            cells.append(c)
            meds[n] = m
        meds_all[key] = meds
        am = {n: meds[n] for n in anchors if meds.get(n) is not None and
              not (key in REF_ONLY and n in NOT_SUPERVISORS)}
        best = min(am, key=am.get) if am else None
        s = meds.get("stackd")
        ratio = ""
        if best and s is not None:
            ratio = ("%.2f" % (s / am[best])) if am[best] else \
                ("0 vs 0" if s == 0 else "∞ (best is 0)")
        met = ""
        if check == "flat":
            a = meds_all.get("exit_cpu_n10", {}).get("stackd")
            if a and s is not None:
                met = ("yes" if s <= 1.5 * a else "no") + \
                    " (%.2f×)" % (s / a)
        elif check is not None and s is not None:
            r = check(s, am)
            met = "?" if r is None else ("yes" if r else "no")
        elif check is not None:
            met = "no (never)" if key in by and "stackd" in by[key] else ""
        label = label.format(n0=ctx.N[0], n1=ctx.N[1], orph=ctx.orphans,
                             idle="%g" % ctx.idle)
        lines.append("| " + " | ".join(
            [label, unit] + cells + [best or "—", ratio, ttext, met]) + " |")
    out = ["# stackd benchmark%s" % (" (quick mode: checks the harness "
                                     "only, the figures mean nothing)"
                                     if ctx.quick else ""), ""]
    out += ["- date: %s" % meta["date"], "- machine: %s" % meta["machine"],
            "- load average (1 min) before each run: min %.2f, median %.2f, "
            "max %.2f; at start %s, at end %s (the 1-minute average also "
            "counts the bench's own bursts: 1000 children starting at once)"
            % meta["load"],
            "- tasks runnable besides the harness, sampled before each run "
            "(other users' load): min %d, median %g, max %d" % meta["running"],
            "- command: `%s`" % meta["command"],
            "- duration: %.0f s, up to %d rounds (1000 children and orphans: "
            "up to 2), tools interleaved A B A B within each scenario, "
            "order rotated each round" % (meta["elapsed"], ctx.rounds),
            "- sizes: %d and %d children, %d orphans (up to %d bursts per "
            "run), %d kills per run, idle window %g s"
            % (ctx.N[0], ctx.N[1], ctx.orphans, ctx.orphan_bursts,
               ctx.kills, ctx.idle),
            "- child: %s" % meta["child"],
            "- exec instants: %s" % meta["execs"],
            "- idle syscalls from: %s" % meta["sysc"], ""]
    out += ["Cells: median [min–max] over every sample of every round "
            "(n per cell in the CSV). N/A: the tool cannot do the "
            "scenario. never: the tree was still there at the cap. "
            "†: tini and dumb-init run a shell script that starts the "
            "children and restarts none of them; shown for reference, "
            "not counted as best anchor.", ""]
    out += lines + [""]
    out += ["## Versions and how each tool was used", ""]
    for t in tools:
        out.append("- **%s** %s: %s" % (t.name, meta["versions"][t.name],
                                         t.how))
    if ctx.skipped:
        out += ["", "## Skipped: the time budget (--budget %g s) was spent"
                % ctx.args.budget, ""]
        out += ["- " + x for x in ctx.skipped]
    if ctx.failures:
        out += ["", "## Failed runs", ""]
        for f in ctx.failures:
            out.append("- %s / %s, round %d: %s" % f)
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="tiny sizes, one round: checks the harness works")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--budget", type=float, default=560,
                    help="no new round after this many seconds")
    ap.add_argument("--only", default="",
                    help="comma list of scenarios (tree,restart,crash,"
                    "orphans,climb)")
    ap.add_argument("--tools", default="",
                    help="comma list of tool names to run")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--child-clock", action="store_true",
                    help="time execs by the child's first line of main, "
                    "not by the kernel's exec event")
    args = ap.parse_args()

    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0,
                                             0, 0)

    def on_signal(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)

    t_begin = time.monotonic()
    load0 = loadavg()
    if not ensure_debs():
        log("bench: anchors that are not installed are skipped")
    tools = [Stackd(), Tini(), DumbInit(), S6(), S6(notify=True), Runit(),
             Supervisord(), Stackd(levels=4, name="stackd (4 levels)")]
    if args.tools:
        want = args.tools.split(",")
        tools = [t for t in tools if t.name in want]
    missing = [t.name for t in tools if not t.available()]
    if "stackd" in missing:
        sys.exit("bench: build/stackd is missing: run `make` first")
    for m in missing:
        log("bench: %s is not installed: skipped" % m)
    tools = [t for t in tools if t.name not in missing]
    ctx = Ctx(args)
    ctx.watch, ctx.watch_why = None, "--child-clock"
    if not args.child_clock:
        try:
            ctx.watch = ExecWatch()
        except OSError as e:
            ctx.watch_why = "no proc connector: %s" % e
            log("bench: %s; exec instants from the child's clock"
                % ctx.watch_why)
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    ctx.tmp = tempfile.mkdtemp(prefix="stackd-bench-", dir=base)
    try:
        ctx.child, static = build_child(ctx.tmp)
        if not os.access(ctx.child, os.X_OK) or subprocess.run(
                [ctx.child, "probe", os.devnull, "x"]).returncode != 0:
            shutil.rmtree(ctx.tmp)
            ctx.tmp = tempfile.mkdtemp(prefix="stackd-bench-")
            ctx.child, static = build_child(ctx.tmp)
        ctx.perf = can_perf()
        ctx.strace = shutil.which("strace") is not None
        ctx.probe_cost, ctx.child_cpu = probe_cost(ctx.child, ctx.tmp)
        ctx.floor = restart_floor(ctx.child, ctx.tmp, ctx.watch)
        ctx.start_floor = [(n, start_floor(ctx.child, ctx.tmp, ctx.watch, n))
                           for n in ctx.N]
        only = set(args.only.split(",")) if args.only else None
        sup = [t for t in tools if t.many and t.restarts and
               t.name not in ("s6 (notification-fd)",)]
        # (name, function, tools, rounds): the heavy blocks (1000
        # children, 1000 orphans) run in fewer rounds; every block is
        # skipped once the time budget is spent.
        plan = [
            ("tree", lambda t, r: sc_tree(ctx, t, ctx.N[0], r),
             [t for t in tools if t.name != "s6 (notification-fd)"], 3),
            ("restart", lambda t, r: sc_restart(ctx, t, r),
             [t for t in tools if t.name != "stackd (4 levels)"], 3),
            ("crash", lambda t, r: sc_crash(ctx, t, r),
             [t for t in sup if t.name != "stackd (4 levels)"], 3),
            ("climb", lambda t, r: sc_climb(ctx, t, r),
             [t for t in tools if t.name == "stackd"], 3),
            ("orphans", lambda t, r: sc_orphans(ctx, t, r),
             [t for t in tools if t.name not in ("stackd (4 levels)",
                                                 "s6 (notification-fd)")],
             2),
            # quick mode: the big tree only for stackd (the anchors went
            # through the same code with the small one)
            ("tree", lambda t, r: sc_tree(ctx, t, ctx.N[1], r),
             [t for t in sup if t.name != "stackd (4 levels)" and
              (t.name == "stackd" or not ctx.quick)], 2),
        ]
        done = 0
        took = {}       # block index -> seconds it took in round 1
        for rnd in range(ctx.rounds):
            for bi, (name, fn, ts, maxr) in enumerate(plan):
                if (only and name not in only) or rnd >= maxr:
                    continue
                el = time.monotonic() - t_begin
                if el + took.get(bi, 0) > args.budget:
                    ctx.skipped.append("round %d: %s%s" % (
                        rnd + 1, name, "" if name != "tree" else
                        " (%d children)" % (ctx.N[0] if bi == 0
                                            else ctx.N[1])))
                    continue
                t_block = time.monotonic()
                k = rnd % len(ts) if ts else 0
                for t in ts[k:] + ts[:k]:
                    ctx.loads.append(loadavg()[0])
                    ctx.running.append(runnable())
                    log("bench: round %d: %s / %s" % (rnd + 1, name,
                                                     t.name))
                    try:
                        fn(t, rnd + 1)
                    except KeyboardInterrupt:
                        raise
                    except Exception as e:      # keep going, say so
                        ctx.fail(name, t, rnd + 1, "%s: %s" % (
                            type(e).__name__, e))
                        kill_everything()
                took.setdefault(bi, time.monotonic() - t_block)
            done += 1
        ctx.rounds = done
    except KeyboardInterrupt:
        log("bench: interrupted; cleaning up")
        kill_everything()
        shutil.rmtree(ctx.tmp, ignore_errors=True)
        return 130
    finally:
        kill_everything()
    shutil.rmtree(ctx.tmp, ignore_errors=True)

    load1 = loadavg()
    lds = ctx.loads or [load0[0]]
    meta = {
        "date": datetime.datetime.now().astimezone().isoformat(
            timespec="seconds"),
        "machine": machine_info(),
        "load": (min(lds), statistics.median(lds), max(lds),
                 "%.2f %.2f %.2f" % tuple(load0),
                 "%.2f %.2f %.2f" % tuple(load1)),
        "running": (min(ctx.running or [0]),
                    statistics.median(ctx.running or [0]),
                    max(ctx.running or [0])),
        "command": os.environ.get("BENCH_COMMAND") or " ".join(
            shlex.quote(a) for a in [sys.executable] + sys.argv),
        "elapsed": time.monotonic() - t_begin,
        "child": "bench/helper.c built %s; probe spawn+exit+wait (timed "
                 "in C): %.3f ms; restart floor (a bare waitpid + "
                 "posix_spawn loop in C, kill → new exec): %s; start floor "
                 "(a bare posix_spawn loop in C, start → all N exec'd): %s; "
                 "%s"
                 % ("static" if static else "dynamic", ctx.probe_cost * 1e3,
                    "%.2f ms" % ctx.floor if ctx.floor is not None
                    else "not measured",
                    ", ".join("%s with %d" % (
                        "%.1f ms" % f if f is not None else "not measured",
                        n) for n, f in ctx.start_floor),
                    child_cpu_text(ctx)),
        "execs": ("the kernel's: proc connector PROC_EVENT_EXEC "
                  "timestamps (%s), %d found, %d not (the child's clock "
                  "instead), %d receive overruns"
                  % ("exec events only" if ctx.watch.filtered else
                     "all events", ctx.watch.found, ctx.watch.missed,
                     ctx.watch.lost)) if ctx.watch else
                 ("the child's first line of main (%s)" % ctx.watch_why),
        "sysc": "perf stat -e raw_syscalls:sys_enter --no-inherit -p "
                "(supervisor pids)" if ctx.perf else
                ("strace -c -p (supervisor pids)" if ctx.strace else
                 "nothing (no perf, no strace)"),
        "versions": {t.name: t.version() for t in tools},
    }
    os.makedirs(args.out, exist_ok=True)
    stem = "quick" if ctx.quick else "latest"
    md = report(ctx, tools, meta)
    with open(os.path.join(args.out, stem + ".md"), "w") as f:
        f.write(md)
    with open(os.path.join(args.out, stem + ".csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["scenario", "tool", "round", "value", "unit", "note",
                    "loadavg1"])
        for s in ctx.samples:
            w.writerow(list(s[:4]) + [raw_unit(s[0])] + list(s[4:]))
        for s in ctx.failures:
            w.writerow([s[0], s[1], s[2], "FAILED", "", s[3], ""])
    print(md)
    log("bench: wrote %s/%s.md and .csv" % (args.out, stem))
    return 1 if ctx.failures and ctx.quick else 0


if __name__ == "__main__":
    sys.exit(main())
