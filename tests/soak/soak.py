#!/usr/bin/python3
"""Chaos soak of stackd (issue 6, item 3).

    tests/soak/soak.py [--build build] [--seconds 60] [--seed N]
                       [--report FILE.md] [--json FILE] [--keep]

A 4-level stack of 50 processes runs under one stackd while, for
--seconds, a driver injects faults: SIGKILL and SIGSTOP (SIGCONT later) of
random supervised processes, probes flipped between passing and failing
(every probe is `test -f FLAGFILE`; the driver removes and restores the
flags), reloads of valid and invalid files (by `reload` request and by
SIGHUP), target changes, operator restarts, a child flooding its output
through stackd's relay, and a separate process hammering the control socket
(status, metrics, malformed, oversized, half-sent and abandoned requests,
short-lived event subscribers).  A `stackctl events` subscriber records
every event for the figures.

Checked at every sample (every ~100 ms), and the run fails on the first
violation:
  * stackd is alive;
  * `status json` answers within LATENCY_MAX (100 ms), measured here as the
    round trip on the control socket.  A late reply says where stackd was:
    from 30 ms on, /proc/PID/wchan is read every 4 ms until it comes, and
    the failure names it.  stackd and the
    sampler run at nice -5 (as root), so that the bound measures stackd
    and not the other jobs of a shared machine;
  * no zombie child of stackd is older than ZOMBIE_MAX (1 s, SPEC 3);
  * every live descendant of stackd is one it knows (see `Tracker`):
    a process `status` lists, or a member of the process group of one
    (a supervised process's own children), or of one listed in the last
    GRACE seconds (being stopped or retired after a reload, or the remnant
    of a group whose leader was killed, which stackd stops: TERM at once,
    KILL after stop_timeout), or a probe or hook (`test -f` / hook.sh)
    younger than its timeout plus slack, or stackd's launcher.  A process
    that is none of these is tolerated for GRACE seconds (just spawned
    before the status it will appear in) and is a violation once it has been unknown for longer.

When the faults stop, the driver continues every stopped process,
restores the flags, reloads the base file and sets the target to top; the
stack must be back at its target, every process running, within
RECOVERY_MAX.  Then stackd's descriptor count must equal the baseline taken
before the faults (the most frequent value over a window of samples, so a
probe in flight does not count) and its RSS must be within RSS_SLACK of
the baseline.  The figures (faults by kind, restarts, rewinds, latencies,
descriptors, RSS) are printed and, with --report, written as Markdown
(tests/soak/RESULTS.md is made by `make soak-report`).  Among the
children are wrapper scripts (`sh -c 'sleep & wait'`): killing the wrapper
leaves its worker in the group, for stackd to stop
(tests/bb/test_strays.py).

Exit status: 0 pass, 1 a check failed (or stackd is not built), 2 usage.
"""

import argparse
import collections
import json
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests"))
import procfs  # noqa: E402  (tests/procfs.py, shared with the bb suite and bench)

LATENCY_MAX = 0.100     # status round trip, seconds (issue 6)
ZOMBIE_MAX = 1.0        # SPEC 3: no zombie outlives a second
GRACE = 5.0             # unknown for longer than this: a stray process
RECOVERY_MAX = 60.0     # faults stopped -> back at target
RSS_SLACK = 1024        # KiB above the baseline RSS that is tolerated
SAMPLE_EVERY = 0.1
WATCH_AFTER = 0.03     # a status reply this late: watch where stackd is
CLK_TCK = os.sysconf("SC_CLK_TCK")

# stackd must not pass these on; keep them out of its environment too.
SYSTEMD_VARS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
                "JOURNAL_STREAM", "RUNTIME_DIRECTORY")


class SoakFailure(Exception):
    pass


def log(fmt, *args):
    sys.stdout.write("soak: " + (fmt % args if args else fmt) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------
# /proc

def cmdline(pid):
    return procfs.cmdline(pid) or "?"


def boot_ticks_now():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0]) * CLK_TCK


def fd_count(pid):
    return len(procfs.fds(pid))


def fd_listing(pid):
    out = []
    for fd in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
        try:
            out.append("%s -> %s" % (fd, os.readlink("/proc/%d/fd/%s" % (pid, fd))))
        except OSError:
            pass
    return out


def rss_kib(pid):
    rss = procfs.status(pid, "VmRSS")
    if rss is None:
        raise SoakFailure("no VmRSS for %d" % pid)
    return int(rss[0])


# --------------------------------------------------------------------------
# the control socket, spoken directly (stackctl(1) PROTOCOL), so that the
# round trip measured is stackd's and not a fork/exec of stackctl

def request(path, line, timeout=10.0):
    """Send one request line, return (first line, rest) of the reply."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(line.encode() + b"\n")
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    data = b"".join(chunks).decode(errors="replace")
    first, _, rest = data.partition("\n")
    return first, rest


def status(path, timeout=10.0):
    """(status dict, round-trip seconds)."""
    st, took, _ = status_watched(path, None, timeout)
    return st, took


def status_watched(path, daemon_pid, timeout=10.0):
    """`status json` round trip: (status dict, seconds, wchans).  While the
    reply is more than WATCH_AFTER late, stackd's /proc/PID/wchan is read
    every few milliseconds, so a slow reply says where stackd was: blocked
    in a pipe read ("anon_pipe_read": spawn() waiting for a child's exec),
    on the run queue ("0": busy, or starved by the machine), ..."""
    wchans = collections.Counter()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    chunks = []
    t = time.monotonic()
    try:
        s.connect(path)
        s.sendall(b"status json\n")
        s.setblocking(False)
        while True:
            r, _, _ = select.select([s], [], [], 0.004)
            if r:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
                continue
            late = time.monotonic() - t
            if late > timeout:
                raise SoakFailure("no status reply within %.0fs" % timeout)
            if daemon_pid and late > WATCH_AFTER:
                try:
                    with open("/proc/%d/wchan" % daemon_pid) as f:
                        wchans[f.read().strip() or "?"] += 1
                except OSError:
                    pass
    finally:
        s.close()
    took = time.monotonic() - t
    data = b"".join(chunks).decode(errors="replace")
    first, _, rest = data.partition("\n")
    if first != "ok":
        raise SoakFailure("status json: %r" % first)
    return json.loads(rest), took, wchans


# --------------------------------------------------------------------------
# the stack: 4 levels, 50 processes

LEVELS = ("base", "mid", "app", "edge")


def stack_ini(d, variant):
    """The stack file.  variant "A" is the base; "B" adds, removes and
    changes processes and level settings (a valid reload that moves
    things); "bad1".."bad4" are invalid in different ways."""
    F = lambda n: "test -f %s/flag.%s" % (d, n)   # noqa: E731
    out = ["[stack]", "name = soak", "control = %s/ctl.sock" % d,
           "retry_min = 200ms", "retry_max = 2s", "alarm_after = 4s",
           "stop_timeout = 1s", "hook_timeout = 3s", "intensity = 5",
           "period = 10s", "on_alarm = sh %s/hook.sh" % d, ""]

    def level(name, **kv):
        out.append("[level %s]" % name)
        kv.setdefault("probe_interval", "300ms")
        kv.setdefault("probe_timeout", "1s")
        kv.setdefault("ready_timeout", "5s")
        kv.setdefault("failure_threshold", "2")
        for k, v in kv.items():
            out.append("%s = %s" % (k, v))
        out.append("")

    def proc(name, lvl, command, **kv):
        out.append("[process %s]" % name)
        out.append("level = %s" % lvl)
        out.append("command = %s" % command)
        for k, v in kv.items():
            out.append("%s = %s" % (k, v))
        out.append("")

    SLEEP = "sleep infinity"
    NOTIFY = "sh %s/notify.sh" % d
    FD = "sh -c 'echo >&3; exec sleep infinity'"
    DEAF = "sh -c 'trap \"\" TERM; exec sleep infinity'"
    # wrapper scripts: their worker stays in the group when they die
    WRAP = "sh -c 'sleep infinity & wait'"
    WRAP_DEAF = "sh -c '(trap \"\" TERM; exec sleep infinity) & wait'"

    # level 1: 12 processes, one_for_one
    level("base", probe=F("base"), strategy="one_for_one")
    for i in range(1, 6):
        proc("b_sleep%d" % i, "base", SLEEP)
    proc("b_fd1", "base", FD, ready="fd:3")
    proc("b_fd2", "base", FD, ready="fd:3")
    proc("b_notify1", "base", NOTIFY, ready="notify")
    proc("b_notify2", "base", NOTIFY, ready="notify")
    proc("b_deaf", "base", DEAF, stop_timeout="700ms")
    proc("b_init", "base", "true", type="oneshot")
    proc("b_wrap", "base", WRAP)

    # level 2: 13 processes, rest_for_one, with the output flood
    level("mid", probe=F("mid"), strategy="rest_for_one", intensity=6)
    proc("m_flood", "mid", "nice -n 10 sh %s/flood.sh" % d)
    for i in range(1, 9):
        proc("m_sleep%d" % i, "mid", SLEEP)
    proc("m_probed1", "mid", SLEEP, ready="probe", probe=F("probed"))
    proc("m_probed2", "mid", SLEEP, ready="probe", probe=F("probed"))
    proc("m_flaky", "mid", "sleep 23", restart="permanent")
    proc("m_migrate", "mid", "true", type="oneshot")
    if variant == "B":
        proc("m_extra", "mid", SLEEP, env="SOAK_EXTRA=1")

    # level 3: 13 processes (12 in B), one_for_all, with hooks
    hook = "sh %s/hook.sh" % d
    level("app", strategy="one_for_all", intensity=6, on_up=hook, on_down=hook)
    for i in range(1, 6):
        if variant == "B" and i == 5:
            continue
        proc("a_sleep%d" % i, "app", SLEEP)
    proc("a_notify1", "app", NOTIFY, ready="notify")
    proc("a_notify2", "app", NOTIFY, ready="notify")
    proc("a_fd1", "app", FD, ready="fd:3")
    proc("a_fd2", "app", FD, ready="fd:3")
    proc("a_deaf", "app", DEAF, stop_timeout="500ms")
    proc("a_int1", "app", SLEEP, stop_signal="INT")
    proc("a_int2", "app", SLEEP, stop_signal="INT", log="null")
    proc("a_wrap", "app", WRAP_DEAF, stop_timeout="500ms")

    # level 4: 12 processes, one_for_one, probe changed in B
    level("edge", probe=F("edge"), strategy="one_for_one",
          probe_interval="200ms" if variant == "B" else "300ms")
    for i in range(1, 10):
        env = "SOAK_CHANGED=1" if (variant == "B" and i == 2) else None
        kv = {"env": env} if env else {}
        proc("e_sleep%d" % i, "edge", SLEEP, **kv)
    proc("e_flaky", "edge", "sleep 31")
    proc("e_file", "edge", "sh -c 'echo edge up; exec sleep infinity'",
         log="file:%s/e_file.log" % d)
    proc("e_warm", "edge", "true", type="oneshot")

    text = "\n".join(out) + "\n"
    if variant == "bad1":
        text += "[process broken]\nlevel = nowhere\ncommand = true\n"
    elif variant == "bad2":
        text = text.replace("intensity = 5\n", "intensity = 5\nintensify = 3\n", 1)
    elif variant == "bad3":
        text = text.replace("stop_timeout = 1s\n", "stop_timeout = soon\n", 1)
    elif variant == "bad4":
        text += "this line is not ini at all\n"
    return text


NPROCS = 50
FLAGS = ("base", "mid", "probed", "edge")

SCRIPTS = {
    "notify.sh": "systemd-notify --ready\nexec sleep infinity\n",
    # ~1000 lines in a burst, 20 bursts a second, and a 5000-byte line
    # without a newline in between (longer than the relay's buffer).
    "flood.sh": ("n=0\nwhile :; do\n"
                 "  yes \"flood $n 0123456789abcdefghijklmnopqrstuvwxyz\" | head -n 1000\n"
                 "  n=$((n + 1))\n"
                 "  [ $((n % 50)) = 0 ] && head -c 5000 /dev/zero | tr '\\0' x && echo\n"
                 "  sleep 0.05\ndone\n"),
    "hook.sh": "echo \"$STACKD_LEVEL $STACKD_EVENT\" >> \"$(dirname \"$0\")/hooks.log\"\n",
}


# --------------------------------------------------------------------------
# which processes stackd knows

class Tracker:
    """Decides, sample after sample, whether every descendant of stackd is
    one it knows.  Known: the pid of a process in the latest status, a
    member of its process group, or of the group of a pid status listed in
    the last GRACE seconds (stopping, retired by a reload); a probe or a
    hook (by its command line) younger than its timeout + slack.  Anything
    else gets GRACE seconds (a process spawned after the status we hold, a
    remnant of a killed group on its way out) before it is a stray."""

    PROBE_MAX = 1.0 + 2.0    # probe_timeout + slack
    HOOK_MAX = 3.0 + 2.0     # hook_timeout + slack

    def __init__(self, daemon_pid, dirpath):
        self.daemon = daemon_pid
        self.dir = dirpath
        self.recent = {}          # pid listed by status -> last time seen
        self.unknown_since = {}   # (pid, starttime) -> first time unknown
        self.zombie_since = {}    # (pid, starttime) -> first time zombie
        self.max_zombie_age = 0.0
        self.max_unknown_age = 0.0
        self.max_descendants = 0
        self.samples = 0

    def classify(self, pid, st, now_ticks):
        cmd = cmdline(pid)
        age = (now_ticks - st.starttime) / CLK_TCK
        # stackd's launcher (and a child it cloned, before its exec)
        if st.ppid == self.daemon and st.comm == "stackd-launcher":
            return "launcher", age, float("inf")
        if cmd.startswith("test -f %s/flag." % self.dir):
            return "probe", age, self.PROBE_MAX
        if "%s/hook.sh" % self.dir in cmd:
            return "hook", age, self.HOOK_MAX
        return None, age, None

    def check(self, table, st_json, now):
        self.samples += 1
        for p in st_json["processes"]:
            if isinstance(p.get("pid"), int):
                self.recent[p["pid"]] = now
        for pid, t in list(self.recent.items()):
            if now - t > GRACE:
                del self.recent[pid]
        known = set(self.recent)
        now_ticks = boot_ticks_now()
        desc = procfs.descendants(self.daemon, table)
        self.max_descendants = max(self.max_descendants, len(desc))
        problems = []
        seen_unknown, seen_zombie = set(), set()
        for pid in desc:
            st = table[pid]
            key = (pid, st.starttime)
            if st.state == "Z":
                if st.ppid == self.daemon:
                    seen_zombie.add(key)
                    first = self.zombie_since.setdefault(key, now)
                    self.max_zombie_age = max(self.max_zombie_age, now - first)
                    if now - first > ZOMBIE_MAX:
                        problems.append("zombie child %d of stackd for %.2fs"
                                        % (pid, now - first))
                continue
            if pid in known or st.pgid in known:
                continue
            kind, age, limit = self.classify(pid, st, now_ticks)
            if kind is not None:
                if age > limit:
                    problems.append("%s %d (%s) still running after %.1fs"
                                    % (kind, pid, cmdline(pid), age))
                continue
            seen_unknown.add(key)
            first = self.unknown_since.setdefault(key, now)
            self.max_unknown_age = max(self.max_unknown_age, now - first)
            if now - first > GRACE:
                problems.append("stray process %d (ppid %d, pgid %d: %s), "
                                "unknown to stackd for %.1fs"
                                % (pid, st.ppid, st.pgid, cmdline(pid),
                                   now - first))
        for k in list(self.unknown_since):
            if k not in seen_unknown:
                del self.unknown_since[k]
        for k in list(self.zombie_since):
            if k not in seen_zombie:
                del self.zombie_since[k]
        return problems


# --------------------------------------------------------------------------
# the run

class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.build = os.path.join(REPO, args.build)
        self.stackd = os.path.join(self.build, "stackd")
        self.stackctl = os.path.join(self.build, "stackctl")
        for b in (self.stackd, self.stackctl):
            if not os.access(b, os.X_OK):
                raise SystemExit("soak: %s is missing: build it first (make)" % b)
        self.dir = tempfile.mkdtemp(prefix="soak", dir="/tmp")
        self.ini = os.path.join(self.dir, "stack.ini")
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.tag = uuid.uuid4().hex[:12]
        self.proc = None
        self.events_proc = None
        self.hammer_proc = None
        self.faults = collections.Counter()
        self.latencies = []
        self.max_latency = (0.0, "")
        self.fd_series = []
        self.rss_series = []
        self.stopped = {}            # pid -> (starttime, continue at)
        self.variant = "A"
        self.lock = threading.Lock()
        self.failures = []
        self.faulting = threading.Event()
        self.last_status = None
        self.figures = {}

    # ---- set-up ------------------------------------------------------

    def write_file(self, name, text, mode=0o644):
        p = os.path.join(self.dir, name)
        tmp = p + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.rename(tmp, p)
        return p

    def write_ini(self, variant):
        self.write_file("stack.ini", stack_ini(self.dir, variant))

    def set_flag(self, name, on):
        p = os.path.join(self.dir, "flag." + name)
        if on:
            with open(p, "w"):
                pass
        else:
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass

    def env(self):
        env = {k: v for k, v in os.environ.items() if k not in SYSTEMD_VARS}
        env["SOAK_MARK"] = self.tag
        return env

    def start(self):
        for name, body in SCRIPTS.items():
            self.write_file(name, "#!/bin/sh\n" + body, 0o755)
        for f in FLAGS:
            self.set_flag(f, True)
        self.write_ini("A")
        r = subprocess.run([self.stackd, "--check", "-f", self.ini],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SoakFailure("the base stack file is invalid: %s%s"
                              % (r.stdout, r.stderr))
        self.errlog = os.path.join(self.dir, "stackd.err")
        # The flood goes to stackd's stdout: /dev/null, so that a long run
        # does not fill the disk; stackd's own log is kept.
        self.proc = subprocess.Popen(
            [self.stackd, "-f", self.ini], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=open(self.errlog, "wb"),
            env=self.env(), cwd=self.dir, start_new_session=True)
        self.pid = self.proc.pid
        self.tracker = Tracker(self.pid, self.dir)
        self.wait(lambda: status(self.sock)[0], 10, "control socket")

    def wait(self, pred, timeout, what):
        """Poll pred every 100 ms until it is true; a failed check inside
        pred (SoakFailure) is a failure, not a "not yet"."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self.alive()
            try:
                v = pred()
                if v:
                    return v
                last = v
            except (OSError, ValueError) as e:
                last = e
            time.sleep(SAMPLE_EVERY)
        raise SoakFailure("timed out after %.0fs waiting for %s; last: %r"
                          % (timeout, what, last))

    def alive(self):
        if self.proc.poll() is not None:
            raise SoakFailure("stackd exited with %s" % self.proc.returncode)

    def at_target(self, st):
        """Back where it belongs: top level up, every longrun running, every
        oneshot done."""
        if st["level"] != len(LEVELS) or st["state"] != "up":
            return False
        bad = [p["name"] for p in st["processes"]
               if p["state"] not in ("running", "done")]
        return not bad and len(st["processes"]) == NPROCS

    # ---- sampling ------------------------------------------------------

    def sample(self, check_tree=True):
        """One sample: status round trip (checked), then the process tree
        (checked), the descriptor count and the RSS (recorded)."""
        self.alive()
        try:
            st, took, wchans = status_watched(self.sock, self.pid, timeout=10.0)
        except (OSError, ValueError) as e:
            self.alive()
            raise SoakFailure("status json failed: %r" % e)
        now = time.monotonic()
        self.latencies.append(took)
        where = "%s at level %s" % (st["state"], st["level"])
        if took > self.max_latency[0]:
            self.max_latency = (took, where)
        self.last_status = st
        if took > LATENCY_MAX:
            self.failures.append("status took %.0f ms (limit %.0f ms) "
                                 "while %s; stackd seen in %s"
                                 % (took * 1000, LATENCY_MAX * 1000,
                                    where, dict(wchans)))
        if check_tree:
            problems = self.tracker.check(procfs.table(), st, now)
            self.failures.extend(problems)
        try:
            self.fd_series.append(fd_count(self.pid))
            self.rss_series.append(rss_kib(self.pid))
        except OSError:
            self.alive()
        if self.failures:
            raise SoakFailure(self.failures[0])
        return st

    def steady(self, seconds):
        """The most frequent descriptor count and the median RSS over a
        window of samples (a probe in flight holds a descriptor for a few
        milliseconds; it must not count)."""
        fds, rss = [], []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            st = self.sample()
            if self.at_target(st):
                fds.append(fd_count(self.pid))
                rss.append(rss_kib(self.pid))
            time.sleep(SAMPLE_EVERY)
        if len(fds) < 5:
            raise SoakFailure("the stack did not stay at its target while "
                              "measuring (%d good samples)" % len(fds))
        mode = collections.Counter(fds).most_common(1)[0][0]
        return mode, sorted(rss)[len(rss) // 2], fd_listing(self.pid)

    # ---- faults --------------------------------------------------------

    def pick_process(self):
        st = self.last_status
        if st is None:
            return None
        cands = [(p["name"], p["pid"]) for p in st["processes"]
                 if isinstance(p.get("pid"), int)]
        if not cands:
            return None
        name, pid = self.rng.choice(cands)
        s = procfs.stat(pid)
        # Still stackd's child (not a recycled pid)?
        if s is None or s.ppid != self.pid or s.state == "Z":
            return None
        return name, pid, s.starttime

    def fault_kill(self):
        p = self.pick_process()
        if p:
            os.kill(p[1], signal.SIGKILL)
            self.faults["SIGKILL"] += 1

    def fault_stop(self):
        p = self.pick_process()
        if p:
            os.kill(p[1], signal.SIGSTOP)
            with self.lock:
                self.stopped[p[1]] = (p[2], time.monotonic() +
                                      self.rng.uniform(0.3, 3.0))
            self.faults["SIGSTOP (SIGCONT later)"] += 1

    def continue_due(self, everything=False):
        now = time.monotonic()
        with self.lock:
            for pid, (start, at) in list(self.stopped.items()):
                if everything or now >= at:
                    s = procfs.stat(pid)
                    if s is not None and s.starttime == start:
                        os.kill(pid, signal.SIGCONT)
                    del self.stopped[pid]

    def fault_probe(self):
        flag = self.rng.choice(FLAGS)
        self.set_flag(flag, False)
        self.faults["probe flipped to failing"] += 1
        t = threading.Timer(self.rng.uniform(0.3, 4.0), self.set_flag,
                            (flag, True))
        t.daemon = True
        t.start()

    def fault_reload(self):
        self.variant = "B" if self.variant == "A" else "A"
        self.write_ini(self.variant)
        if self.rng.random() < 0.3:
            os.kill(self.pid, signal.SIGHUP)
            self.faults["reload, valid (SIGHUP)"] += 1
            return
        first, _ = request(self.sock, "reload")
        if not first.startswith("ok"):
            raise SoakFailure("valid reload refused: %s" % first)
        self.faults["reload, valid"] += 1

    def fault_bad_reload(self):
        bad = self.rng.choice(("bad1", "bad2", "bad3", "bad4"))
        self.write_ini(bad)
        if self.rng.random() < 0.3:
            os.kill(self.pid, signal.SIGHUP)
            # Give stackd the file before the good one is back.
            time.sleep(0.05)
            self.faults["reload, invalid (SIGHUP)"] += 1
        else:
            first, _ = request(self.sock, "reload")
            if not first.startswith("error") or "stack.ini:" not in first:
                raise SoakFailure("invalid reload (%s) not refused with "
                                  "FILE:LINE: %r" % (bad, first))
            self.faults["reload, invalid"] += 1
        self.write_ini(self.variant)

    def fault_target(self):
        t = self.rng.choice(("1", "2", "3", "top", "top", "top"))
        first, _ = request(self.sock, "target %s" % t)
        if not first.startswith("ok"):
            raise SoakFailure("target %s: %s" % (t, first))
        self.faults["target changed"] += 1

    def fault_restart(self):
        st = self.last_status
        if not st:
            return
        name = self.rng.choice(st["processes"])["name"]
        request(self.sock, "restart %s" % name)   # refused when not up: fine
        self.faults["operator restart"] += 1

    def injector(self):
        kinds = [(self.fault_kill, 6), (self.fault_stop, 3),
                 (self.fault_probe, 3), (self.fault_reload, 1),
                 (self.fault_bad_reload, 1), (self.fault_target, 1),
                 (self.fault_restart, 1)]
        funcs = [k for k, _ in kinds]
        weights = [w for _, w in kinds]
        try:
            while self.faulting.is_set():
                self.continue_due()
                self.rng.choices(funcs, weights)[0]()
                time.sleep(self.rng.uniform(0.05, 0.4))
        except Exception as e:  # noqa: BLE001 -- reported by the main loop
            self.failures.append("fault injector: %r" % e)
        finally:
            self.continue_due(everything=True)

    # ---- helpers running beside -----------------------------------------

    def start_events(self):
        self.events_file = os.path.join(self.dir, "events.jsonl")
        self.events_proc = subprocess.Popen(
            [self.stackctl, "-s", self.sock, "events"], stdin=subprocess.DEVNULL,
            stdout=open(self.events_file, "wb"), stderr=subprocess.DEVNULL)

    def start_hammer(self, seconds):
        self.hammer_out = os.path.join(self.dir, "hammer.json")
        self.hammer_proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--hammer", self.sock,
             "--seconds", str(seconds), "--json", self.hammer_out],
            stdin=subprocess.DEVNULL)

    # ---- the whole run ---------------------------------------------------

    def run(self):
        a = self.args
        self.niced = False
        if not a.no_nice and os.geteuid() == 0:
            # stackd (inheriting it) and the sampler run at nice -5, so that
            # the 100 ms bound measures stackd, not the other jobs of a
            # shared machine; the hammer and the flood drop back.
            os.nice(-5)
            self.niced = True
        log("stack in %s, stackd %s, %d s of faults, seed %s",
            self.dir, self.stackd, a.seconds, a.seed)
        self.start()
        t0 = time.monotonic()
        self.wait(lambda: self.at_target(self.sample()) and self.last_status,
                  60, "the first climb to the top")
        self.figures["first_climb_s"] = time.monotonic() - t0
        self.start_events()
        self.wait(lambda: os.path.getsize(self.events_file) > 0, 10,
                  "the events subscriber")
        # Warm up (every process once through its relay, malloc arenas
        # settled), then the baseline.
        self.steady(2.0)
        base_fd, base_rss, base_listing = self.steady(3.0)
        log("baseline: %d descriptors, RSS %d KiB", base_fd, base_rss)

        self.faulting.set()
        self.start_hammer(a.seconds)
        inj = threading.Thread(target=self.injector, daemon=True)
        inj.start()
        t_fault = time.monotonic()
        end = t_fault + a.seconds
        next_report = t_fault + 30
        try:
            while time.monotonic() < end:
                self.sample()
                if time.monotonic() >= next_report:
                    next_report += 30
                    log("%3.0f s: %d faults, max status %.1f ms, fds %d, "
                        "RSS %d KiB", time.monotonic() - t_fault,
                        sum(self.faults.values()), self.max_latency[0] * 1000,
                        self.fd_series[-1], self.rss_series[-1])
                time.sleep(SAMPLE_EVERY)
        finally:
            self.faulting.clear()
            inj.join(10)
        fault_seconds = time.monotonic() - t_fault
        self.hammer_proc.wait(30)

        # Recovery: nothing stopped, every probe passing, the base file,
        # the top target.
        self.continue_due(everything=True)
        for f in FLAGS:
            self.set_flag(f, True)
        self.write_ini("A")
        self.variant = "A"
        first, _ = request(self.sock, "reload")
        if not first.startswith("ok"):
            raise SoakFailure("recovery reload refused: %s" % first)
        first, _ = request(self.sock, "target top")
        t_rec = time.monotonic()
        self.wait(lambda: self.at_target(self.sample()), RECOVERY_MAX,
                  "the stack back at its target after the faults")
        self.figures["recovery_s"] = time.monotonic() - t_rec
        log("back at target in %.1f s", self.figures["recovery_s"])

        # Let the last retired processes and probes go, then measure.
        self.steady(GRACE + 1.0)
        end_fd, end_rss, end_listing = self.steady(3.0)
        log("after: %d descriptors, RSS %d KiB", end_fd, end_rss)
        metrics = request(self.sock, "metrics")[1]

        # Ordered shutdown, nothing left behind.
        self.proc.send_signal(signal.SIGTERM)
        t_stop = time.monotonic()
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            raise SoakFailure("stackd did not exit within 30 s of SIGTERM")
        self.figures["shutdown_s"] = time.monotonic() - t_stop
        left = self.marked()
        self.events_proc.wait(10)

        self.collect(fault_seconds, base_fd, base_rss, end_fd, end_rss, metrics)
        problems = []
        if rc != 0:
            problems.append("stackd exited with %d after SIGTERM" % rc)
        if left:
            problems.append("processes left after stackd exited: %s"
                            % [(p, cmdline(p)) for p in left])
        if end_fd != base_fd:
            problems.append("descriptors: %d before, %d after\n  before: %s\n  after: %s"
                            % (base_fd, end_fd, base_listing, end_listing))
        if end_rss > base_rss + RSS_SLACK:
            problems.append("RSS: %d KiB before, %d KiB after (slack %d KiB)"
                            % (base_rss, end_rss, RSS_SLACK))
        if problems:
            raise SoakFailure("; ".join(problems))

    def marked(self):
        mark = ("SOAK_MARK=%s" % self.tag).encode()
        me = os.getpid()
        return [pid for pid in procfs.pids()
                if pid != me and mark in (procfs.environ(pid) or b"")
                and procfs.alive(pid)]

    def cleanup(self, keep):
        for p in (self.hammer_proc, self.events_proc):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for _ in range(3):
            left = self.marked()
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if not left:
                break
            time.sleep(0.1)
        if keep:
            log("kept %s", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- figures -----------------------------------------------------------

    def collect(self, fault_seconds, base_fd, base_rss, end_fd, end_rss, metrics):
        ev = collections.Counter()
        unrequested = 0
        dropped = True
        try:
            with open(self.events_file) as f:
                for line in f:
                    line = line.strip()
                    if not line or line == "ok":
                        continue
                    e = json.loads(line)
                    ev[e["event"]] += 1
                    if e["event"] == "process_exited" and not e.get("requested"):
                        unrequested += 1
                    if e["event"] == "shutdown":
                        dropped = False
        except (OSError, ValueError) as e:
            log("events file unreadable: %r", e)
        restarts = 0
        for line in metrics.split("\n"):
            if line.startswith("stackd_process_restarts_total{"):
                restarts += int(float(line.rsplit(None, 1)[1]))
        hammer = {}
        try:
            with open(self.hammer_out) as f:
                hammer = json.load(f)
        except (OSError, ValueError):
            pass
        lat = sorted(self.latencies)
        self.figures.update({
            "seconds": round(fault_seconds, 1),
            "seed": self.args.seed,
            "build": self.args.build,
            "faults": dict(self.faults),
            "faults_total": sum(self.faults.values()),
            "hammer": hammer,
            "events": dict(ev),
            "events_subscriber_kept": not dropped,
            "unrequested_exits": unrequested,
            "restarts_metrics_end": restarts,
            "rewinds": ev["level_failed"],
            "climb_failures": ev["climb_failed"],
            "samples": len(lat),
            "latency_max_ms": round(lat[-1] * 1000, 1),
            "latency_max_when": self.max_latency[1],
            "latency_p50_ms": round(lat[len(lat) // 2] * 1000, 2),
            "latency_p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2),
            "fd_before": base_fd, "fd_after": end_fd,
            "fd_max": max(self.fd_series),
            "rss_before_kib": base_rss, "rss_after_kib": end_rss,
            "rss_max_kib": max(self.rss_series),
            "max_descendants": self.tracker.max_descendants,
            "niced": self.niced,
            "max_zombie_age_s": round(self.tracker.max_zombie_age, 3),
            "max_unknown_age_s": round(self.tracker.max_unknown_age, 3),
        })

    def report(self, ok, why):
        f = self.figures
        lines = []
        lines.append("result: %s%s" % ("PASS" if ok else "FAIL", "" if ok else " -- " + why))
        for k in ("seconds", "faults_total", "rewinds", "climb_failures",
                  "unrequested_exits", "restarts_metrics_end",
                  "latency_max_ms", "latency_p99_ms", "fd_before", "fd_after",
                  "rss_before_kib", "rss_after_kib", "recovery_s"):
            if k in f:
                lines.append("  %-22s %s" % (k, f[k]))
        log("\n".join(lines))
        if self.args.json:
            with open(self.args.json, "w") as out:
                json.dump(dict(f, ok=ok, why=why), out, indent=1, sort_keys=True)
        if self.args.report and ok:
            write_markdown(self.args.report, f, self.args)


def write_markdown(path, f, args):
    h = f.get("hammer", {})
    L = []
    L.append("# Chaos soak: results of one run")
    L.append("")
    L.append("Regenerate with `make soak-report` (600 s of faults; "
             "`SOAK_SECONDS=N` for another length).  The driver is "
             "`tests/soak/soak.py`; its header says what is injected and "
             "checked.")
    L.append("")
    L.append("Run: %s s of faults against `%s/stackd`, seed %s (`--seed` "
             "repeats the fault sequence), %d CPUs, load average %.1f at the "
             "end; stackd and the sampler at nice %s."
             % (f["seconds"], f["build"], f["seed"], os.cpu_count(),
                os.getloadavg()[0], "-5" if f["niced"] else "0"))
    L.append("Stack: 4 levels, 50 processes (one_for_one, rest_for_one, "
             "one_for_all; started, notify, fd:3, probe readiness; oneshots; "
             "TERM-deaf processes; wrapper scripts whose worker stays in the "
             "group; hooks).")
    L.append("")
    L.append("## Faults injected")
    L.append("")
    L.append("| kind | count |")
    L.append("|---|---:|")
    for k, v in sorted(f["faults"].items(), key=lambda kv: -kv[1]):
        L.append("| %s | %d |" % (k, v))
    L.append("| **total** | **%d** |" % f["faults_total"])
    L.append("")
    L.append("Control socket hammer (a separate process, %d connections at "
             "once): %d requests (%s)."
             % (h.get("threads", 0), h.get("total", 0),
                ", ".join("%s %d" % kv for kv in sorted(h.get("kinds", {}).items()))))
    L.append("Output flood: one child writes ~20 bursts of 1000 lines a "
             "second, and a 5000-byte line now and then, through stackd's "
             "prefixing relay.")
    L.append("")
    L.append("## What stackd did")
    L.append("")
    ev = f["events"]
    L.append("| figure | value |")
    L.append("|---|---:|")
    rows = [
        ("processes that exited on their own (killed, flaky)", f["unrequested_exits"]),
        ("process starts (`process_started`)", ev.get("process_started", 0)),
        ("restarts counted by the end (sum of `stackd_process_restarts_total`)",
         f["restarts_metrics_end"]),
        ("rewinds (`level_failed`)", f["rewinds"]),
        ("failed climb attempts (`climb_failed`)", f["climb_failures"]),
        ("climb attempts (`climb_started`)", ev.get("climb_started", 0)),
        ("levels up (`level_up`)", ev.get("level_up", 0)),
        ("probe failures (`probe_failed`)", ev.get("probe_failed", 0)),
        ("reloads accepted / refused", "%d / %d" % (ev.get("reload_ok", 0),
                                                    ev.get("reload_failed", 0))),
        ("alarms raised / cleared", "%d / %d" % (ev.get("alarm_raised", 0),
                                                 ev.get("alarm_cleared", 0))),
        ("events streamed to the subscriber", sum(ev.values())),
    ]
    for k, v in rows:
        L.append("| %s | %s |" % (k, v))
    L.append("")
    L.append("## Checks")
    L.append("")
    L.append("| check | limit | measured |")
    L.append("|---|---|---|")
    L.append("| `status json` round trip, every sample (%d samples) | %d ms "
             "| max %.1f ms (while %s), p99 %.2f ms, median %.2f ms |"
             % (f["samples"], LATENCY_MAX * 1000, f["latency_max_ms"],
                f["latency_max_when"], f["latency_p99_ms"], f["latency_p50_ms"]))
    L.append("| zombie children of stackd | none older than %.0f s | oldest "
             "seen %.2f s |" % (ZOMBIE_MAX, f["max_zombie_age_s"]))
    L.append("| processes under stackd it does not know | none for more than "
             "%.0f s | longest unknown %.2f s (up to %d descendants) |"
             % (GRACE, f["max_unknown_age_s"], f["max_descendants"]))
    L.append("| back at target after the faults | %.0f s | %.1f s |"
             % (RECOVERY_MAX, f["recovery_s"]))
    L.append("| stackd's descriptors | equal to the baseline | %d before, %d "
             "after (%d at most during the run) |"
             % (f["fd_before"], f["fd_after"], f["fd_max"]))
    L.append("| stackd's RSS | baseline + %d KiB | %d KiB before, %d KiB "
             "after (%d KiB at most) |"
             % (RSS_SLACK, f["rss_before_kib"], f["rss_after_kib"], f["rss_max_kib"]))
    L.append("| SIGTERM at the end | exit 0, nothing left | exit 0 in %.1f s, "
             "nothing left |" % f["shutdown_s"])
    L.append("")
    L.append("First climb to the top (50 processes): %.1f s." % f["first_climb_s"])
    L.append("")
    with open(path, "w") as out:
        out.write("\n".join(L))


# --------------------------------------------------------------------------
# the control socket hammer (run as its own process: --hammer SOCK)

def hammer(sock, seconds, json_out, threads=4):
    kinds = collections.Counter()
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def once(rng):
        k = rng.choice(("status", "status json", "metrics", "ready", "bogus",
                        "oversized", "abandon", "half", "binary", "events",
                        "wait", "status", "status json"))
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(sock)
            if k in ("status", "status json", "metrics", "ready"):
                s.sendall(k.encode() + b"\n")
            elif k == "bogus":
                s.sendall(b"frobnicate the stack now please\n")
            elif k == "oversized":
                s.sendall(b"status " + b"x" * 5000 + b"\n")
            elif k == "abandon":
                pass                              # connect, say nothing, go
            elif k == "half":
                s.sendall(b"stat")                # part of a request, go
            elif k == "binary":
                s.sendall(b"\x00\xff\x01status\n")
            elif k == "events":
                s.sendall(b"events\n")
                s.recv(4096)                      # subscribe, read a bit, go
            elif k == "wait":
                s.sendall(b"wait top\n")          # then give up at once
            if k not in ("abandon", "half", "events", "wait"):
                while s.recv(65536):
                    pass
        except OSError:
            pass   # dropped ("too many clients") or reset: allowed
        finally:
            s.close()
        with lock:
            kinds[k] += 1

    def loop(seed):
        rng = random.Random(seed)
        while time.monotonic() < stop:
            once(rng)

    ts = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if json_out:
        with open(json_out, "w") as f:
            json.dump({"threads": threads, "total": sum(kinds.values()),
                       "kinds": dict(kinds)}, f)


# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--report", help="write the figures as Markdown here")
    ap.add_argument("--json", help="write the figures as JSON here")
    ap.add_argument("--keep", action="store_true", help="keep the directory")
    ap.add_argument("--no-nice", action="store_true",
                    help="do not raise the priority of stackd and the sampler")
    ap.add_argument("--hammer", metavar="SOCK", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.hammer:
        if os.nice(0) < 0:
            os.nice(-os.nice(0))
        hammer(a.hammer, a.seconds, a.json)
        return 0
    if a.seed is None:
        a.seed = random.randrange(1 << 30)
    s = Soak(a)
    ok, why = False, ""
    try:
        s.run()
        ok = True
    except SoakFailure as e:
        why = str(e)
    except KeyboardInterrupt:
        why = "interrupted"
    finally:
        keep = a.keep or not ok
        if not ok and s.proc is not None:
            try:
                with open(s.errlog, errors="replace") as f:
                    tail = f.read()[-6000:]
                log("last lines of stackd's log:\n%s", tail)
            except OSError:
                pass
        s.cleanup(keep)
    s.report(ok, why)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
