"""Black-box test harness for stackd / stackctl.

Every daemon test runs once per build directory named in $STACKD_BUILDS
(space separated, relative to the repository root; default "build").  A
missing binary fails the test loudly: it is a defect, never a skip.

The harness in one paragraph: a `Stack` owns a short private directory under
/tmp (Unix socket paths must stay under 108 bytes), writes stack.ini there
with fast timings, starts stackd with stderr/stdout captured to files, talks
to it with the build's own stackctl, and polls with `wait_until` (50 ms
steps, hard deadline) instead of sleeping.  stackd is started with a unique
marker variable in its environment; children inherit it, so at teardown
every process carrying the marker (even an orphan that escaped its process
group or session) is found in /proc and killed.  On a failure the daemon's
logs and the ini are attached to the pytest report.
"""

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests"))
import procfs  # noqa: E402  (tests/procfs.py, shared with the soak and bench)
BUILDS = os.environ.get("STACKD_BUILDS", "build").split() or ["build"]

POLL = 0.05          # seconds between two polls of wait_until
DEFAULT_WAIT = 6.0   # default deadline of wait_until (ASan builds are slow)

# stackd must never pass these on to its children (SPEC section 3).
SYSTEMD_VARS = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")

SANITIZER_PATTERNS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                      "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")


# --------------------------------------------------------------------------
# builds

class Build:
    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(REPO, name)
        self.stackd = os.path.join(self.dir, "stackd")
        self.stackctl = os.path.join(self.dir, "stackctl")

    def check(self):
        missing = [p for p in (self.stackd, self.stackctl)
                   if not (os.path.isfile(p) and os.access(p, os.X_OK))]
        if missing:
            msg = ("STACKD BUILD MISSING: build directory %r (from STACKD_BUILDS=%r) "
                   "has no executable %s -- build it first (make all, or "
                   "make B=%s ...); a missing binary is a defect, not a skip"
                   % (self.name, os.environ.get("STACKD_BUILDS", "build"),
                      " and ".join(missing), self.name))
            print(msg)
            pytest.fail(msg, pytrace=False)
        return self

    def __repr__(self):
        return "Build(%s)" % self.name


# For tests that switch to another uid (or chown to one): skipped, not
# failed, when the suite runs unprivileged.
needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="needs root (switches to another uid)")


# stackd as PID 1 of a new PID namespace (the container tests).
UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc"]


def need_pid_namespace():
    """Skip (EPERM) or fail (no unshare) unless UNSHARE works here."""
    try:
        r = subprocess.run(UNSHARE + ["true"], capture_output=True, text=True,
                           timeout=10)
    except FileNotFoundError:
        pytest.fail("unshare (util-linux) is not installed")
    if r.returncode != 0 and ("Operation not permitted" in r.stderr
                              or "EPERM" in r.stderr):
        pytest.skip("cannot create a PID namespace here: %s" % r.stderr.strip())
    assert r.returncode == 0, "%s true: %r" % (" ".join(UNSHARE), r)


# No test may hang the suite (a blocking read whose data never comes):
# past this it fails, SIGALRM raising out of whatever call it waits in, and
# the fixtures' teardown still stops every stackd it started.
TEST_TIMEOUT = int(os.environ.get("STACKD_TEST_TIMEOUT", "300"))


@pytest.fixture(autouse=True)
def _test_deadline():
    def expire(signum, frame):
        raise Timeout("the test was still running after %d s" % TEST_TIMEOUT)
    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(params=BUILDS, ids=BUILDS)
def build(request):
    return Build(request.param).check()


# --------------------------------------------------------------------------
# /proc helpers (tests/procfs.py reads; these say what the tests ask)

proc_stat = procfs.stat      # (state, ppid, pgid, sid, ...) or None
comm_of = procfs.comm
proc_status = procfs.status
alive = procfs.alive
all_pids = procfs.pids


def descendants(root):
    return procfs.descendants(root)


def children_of(ppid):
    return [pid for pid, st in procfs.table().items() if st.ppid == ppid]


def zombies_of(ppid):
    return [pid for pid, st in procfs.table().items()
            if st.state == "Z" and st.ppid == ppid]


def read_environ(pid):
    data = procfs.environ(pid)
    if data is None:
        return None
    env = {}
    for item in data.split(b"\0"):
        if b"=" in item:
            k, v = item.split(b"=", 1)
            env[k.decode(errors="replace")] = v.decode(errors="replace")
    return env


def marked_pids(marker, include_zombies=False):
    """Live processes whose environment carries marker (bytes)."""
    me = os.getpid()
    return [pid for pid in procfs.pids()
            if pid != me and marker in (procfs.environ(pid) or b"")
            and (include_zombies or procfs.alive(pid))]


def kill_quiet(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


# --------------------------------------------------------------------------
# polling

class Timeout(AssertionError):
    pass


def wait_until(pred, timeout=DEFAULT_WAIT, msg="condition", interval=POLL,
               on_poll=None):
    """Poll pred() every `interval` until it returns a truthy value (which is
    returned) or the deadline passes (AssertionError naming msg and the last
    value or exception).  Exceptions raised by pred count as "not yet".
    on_poll, if given, runs before every poll and may raise to abort."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        if on_poll:
            on_poll()
        try:
            v = pred()
            if v:
                return v
            last = v
        except AssertionError as e:
            last = e
        except Exception as e:  # noqa: BLE001 -- "not yet", reported at the end
            last = e
        if time.monotonic() >= deadline:
            raise Timeout("timed out after %.1fs waiting for %s; last: %r"
                          % (timeout, msg, last))
        time.sleep(interval)


def hold_for(pred, duration, msg="condition", interval=POLL, on_poll=None):
    """Assert pred() stays true for `duration` seconds (polled): used to
    check that something does NOT happen, never to wait for something."""
    deadline = time.monotonic() + duration
    while True:
        if on_poll:
            on_poll()
        v = pred()
        assert v, "%s became false: %r" % (msg, v)
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


# --------------------------------------------------------------------------
# ini building

def _fmt(v):
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def section(header, opts):
    lines = ["[%s]" % header]
    for k, v in opts.items():
        if v is None:
            continue
        vals = v if isinstance(v, (list, tuple)) else [v]
        for one in vals:
            lines.append("%s = %s" % (k, _fmt(one)))
    return "\n".join(lines) + "\n\n"


LEVEL_DEFAULTS = {"probe_interval": "100ms", "probe_timeout": "1s",
                  "ready_timeout": "3s"}


def level(name, **opts):
    """A [level NAME] section with fast defaults (probe_interval 100ms...).
    A list value repeats the key (probe = ...)."""
    o = dict(LEVEL_DEFAULTS)
    o.update(opts)
    return section("level %s" % name, o)


def proc(name, lvl, command, **opts):
    """A [process NAME] section (key order: level, command, then opts)."""
    o = {"level": lvl, "command": command}
    o.update(opts)
    return section("process %s" % name, o)


def stopper(stack, name, pre=""):
    """A longrun that appends "NAME PID" to start.log once its TERM trap is
    set, and on TERM runs PRE, appends NAME to stop.log and exits 0.  A level
    is up as soon as its processes are exec'd, before their shells have set
    any trap: a test that stops them must first wait_armed()."""
    return ("sh -c 'trap \"%secho %s >> %s/stop.log; exit 0\" TERM; "
            "echo %s $$ >> %s/start.log; sleep 300 & wait'"
            % (pre, name, stack.dir, name, stack.dir))


# --------------------------------------------------------------------------
# the stack under test

class StatusError(Exception):
    pass


def _preexec(rlimits, ignored):
    """A preexec_fn that applies rlimits and sets the signals in ignored to
    SIG_IGN (which exec keeps), or None when there is nothing to do."""
    if not rlimits and not ignored:
        return None

    def apply():
        for res, lim in (rlimits or {}).items():
            resource.setrlimit(res, lim)
        for sig in ignored:
            signal.signal(sig, signal.SIG_IGN)
    return apply


class Stack:
    """One stackd instance (or a config for one) in its own directory."""

    def __init__(self, build, registry, label="stack", dir=None):
        self.build = build
        self.label = "%s/%s" % (build.name, label)
        self.own_dir = dir is None
        self.dir = dir or tempfile.mkdtemp(prefix="sbb", dir="/tmp")
        self.tag = uuid.uuid4().hex[:12]
        self.ini = os.path.join(self.dir, "stack-%s.ini" % label)
        self.ctl_path = os.path.join(self.dir, "ctl.sock")
        self.name = "bb"
        self.errlog = os.path.join(self.dir, "stackd-%s.err" % label)
        self.outlog = os.path.join(self.dir, "stackd-%s.out" % label)
        self.marker = ("BBTEST_MARK=%s" % self.tag).encode()
        self.proc = None
        self.daemon_pid = None
        self.wrapper = None
        self.seen_pids = set()
        self.expect_exit = False
        self.rc = None
        self._cached = None
        registry.append(self)

    # ---- files -------------------------------------------------------

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def script(self, name, body, mode=0o755):
        """Write an executable /bin/sh script into the stack dir."""
        p = self.path(name)
        text = body if body.startswith("#!") else "#!/bin/sh\n" + textwrap.dedent(body).lstrip("\n")
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def write(self, body="", raw=False, **stack_opts):
        """Write stack.ini: a [stack] section with fast defaults (overridable
        with keyword arguments, None removes a key) followed by body."""
        if raw:
            text = body
        else:
            opts = {
                "name": self.name,
                "control": self.ctl_path,
                "retry_min": "100ms",
                "retry_max": "400ms",
                "stop_timeout": "1s",
                "hook_timeout": "3s",
            }
            opts.update(stack_opts)
            if opts.get("name"):
                self.name = opts["name"]
            text = section("stack", opts) + textwrap.dedent(body)
        for n, line in enumerate(text.split("\n"), 1):
            assert len(line) < 190 or raw, \
                "test bug: ini line %d is %d chars long: %r" % (n, len(line), line)
        with open(self.ini, "w") as f:
            f.write(text)
        return self.ini

    def touch(self, name, content=""):
        p = self.path(name)
        tmp = p + ".tmp"
        with open(tmp, "w") as f:
            f.write(content)
        os.rename(tmp, p)
        return p

    def read(self, name, default=None):
        try:
            with open(self.path(name)) as f:
                return f.read()
        except FileNotFoundError:
            return default

    def lines(self, name):
        return [l for l in (self.read(name) or "").split("\n") if l]

    # ---- running -----------------------------------------------------

    def env(self, extra=None):
        env = {k: v for k, v in os.environ.items() if k not in SYSTEMD_VARS
               and k not in ("JOURNAL_STREAM", "RUNTIME_DIRECTORY")}
        env["BBTEST_MARK"] = self.tag
        if "build-asan" in self.build.name or "asan" in self.build.name:
            env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        if extra:
            env.update(extra)
        return env

    def start(self, args=None, env=None, wrapper=None, wait_socket=True,
              stdout=None, merge_stderr=False, pass_fds=(), stderr=None,
              rlimits=None, ignored=()):
        """Start stackd -f INI [args] in the background.  stdout, stderr: a
        file descriptor to use instead of the captured file; merge_stderr:
        stderr goes where stdout goes (one file shows the order of both);
        pass_fds: descriptors stackd inherits; rlimits: {RLIMIT_X: (soft,
        hard)} set in stackd (or its wrapper) before exec; ignored: signals
        it inherits ignored."""
        assert self.proc is None, "test bug: stack already started"
        self.wrapper = wrapper
        cmd = list(wrapper or []) + [self.build.stackd, "-f", self.ini] + list(args or [])
        self._err = open(self.errlog, "wb")
        self._out = open(self.outlog, "wb")
        self.t_start = time.monotonic()
        out = self._out if stdout is None else stdout
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT if merge_stderr else
                                     self._err if stderr is None else stderr,
                                     env=self.env(env), cwd=self.dir,
                                     start_new_session=True, pass_fds=pass_fds,
                                     preexec_fn=_preexec(rlimits, ignored))
        if wrapper:
            self.daemon_pid = wait_until(self._find_wrapped, timeout=5,
                                         msg="stackd under %s" % wrapper[0])
        else:
            self.daemon_pid = self.proc.pid
        if wait_socket:
            self.wait_until(lambda: self.status(), msg="control socket answers")
        return self

    def _find_wrapped(self):
        for pid in children_of(self.proc.pid):
            try:
                exe = os.readlink("/proc/%d/exe" % pid)
            except OSError:
                continue
            if os.path.basename(exe) == "stackd" or exe == os.path.realpath(self.build.stackd):
                return pid
        return None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self):
        if self.proc is not None and not self.expect_exit and self.proc.poll() is not None:
            raise AssertionError("stackd [%s] exited unexpectedly with %s\n--- stderr ---\n%s"
                                 % (self.label, self.proc.returncode, self.log()[-4000:]))

    def wait_until(self, pred, timeout=DEFAULT_WAIT, msg="condition"):
        return wait_until(pred, timeout=timeout, msg=msg, on_poll=self.check_alive)

    def hold_for(self, pred, duration, msg="condition"):
        return hold_for(pred, duration, msg=msg, on_poll=self.check_alive)

    def wait_exit(self, timeout=10):
        self.expect_exit = True
        try:
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("stackd [%s] did not exit within %.1fs" % (self.label, timeout))
        return self.rc

    def send(self, sig):
        os.kill(self.daemon_pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=10, check_clean=True):
        """Send sig (SIGTERM) and wait for stackd to exit; return the exit
        code.  With check_clean, assert that no process started by this
        stackd is alive any more at the moment it exited."""
        self.expect_exit = True
        self.remember_pids()
        self.send(sig)
        rc = self.wait_exit(timeout)
        if check_clean:
            self.assert_no_children()
        return rc

    def assert_no_children(self):
        left = marked_pids(self.marker)
        left += [p for p in self.seen_pids if alive(p) and p not in left
                 and self._is_ours(p)]
        assert not left, ("processes of stackd [%s] still alive after it exited: %s"
                          % (self.label, [(p, procfs.cmdline(p) or "?") for p in left]))

    def _is_ours(self, pid):
        env = read_environ(pid)
        return env is not None and env.get("BBTEST_MARK") == self.tag

    # ---- stackctl ----------------------------------------------------

    def ctl(self, *args, timeout=10, sock=True, user=None, cwd=None):
        cmd = [self.build.stackctl]
        if sock:
            cmd += ["-s", self.ctl_path]
        cmd += list(args)
        kw = {}
        if user is not None:
            kw.update(user=user, group=user, extra_groups=[])
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, text=True, errors="replace",
                              cwd=cwd or self.dir, env=_ctl_env(), **kw)

    def status(self):
        r = self.ctl("status", "--json", timeout=10)
        if r.returncode != 0:
            raise StatusError("stackctl status --json -> %d: %s%s"
                              % (r.returncode, r.stdout, r.stderr))
        try:
            st = json.loads(r.stdout)
        except ValueError as e:
            raise AssertionError("status --json is not valid JSON (%s): %r" % (e, r.stdout))
        for p in st.get("processes", []):
            if isinstance(p.get("pid"), int):
                self.seen_pids.add(p["pid"])
        return st

    def remember_pids(self):
        try:
            self.status()
        except Exception:  # noqa: BLE001
            pass

    # ---- status accessors -------------------------------------------

    def snapshot(self):
        """What a request that must change nothing may not change: level,
        target and each process's pid."""
        st = self.status()
        return (st["level"], st["target"],
                {p["name"]: p["pid"] for p in st["processes"]})

    def lvl(self, name, st=None):
        st = st or self.status()
        for l in st["levels"]:
            if l["name"] == name:
                return l
        raise KeyError("no level %r in status" % name)

    def p(self, name, st=None):
        st = st or self.status()
        for p in st["processes"]:
            if p["name"] == name:
                return p
        raise KeyError("no process %r in status" % name)

    def pid(self, name, st=None):
        return self.p(name, st)["pid"]

    def wait_level(self, n, timeout=DEFAULT_WAIT, up=True):
        """Wait until the current level is n (and, with up, level n is up)."""
        def ok():
            st = self.status()
            if st["level"] != n:
                return False
            if up and n > 0 and st["levels"][n - 1]["state"] != "up":
                return False
            return st
        return self.wait_until(ok, timeout=timeout, msg="current level == %d" % n)

    def wait_armed(self, *names):
        """Wait until each stopper() NAME running now has set its trap."""
        def ok():
            st = self.status()
            armed = set(self.lines("start.log"))
            return all("%s %s" % (n, self.pid(n, st)) in armed for n in names) and st
        return self.wait_until(ok, msg="TERM traps of %s set" % ", ".join(names))

    def wait_running(self, name, timeout=DEFAULT_WAIT, other_than=None):
        """Wait until process name is running with a pid (!= other_than)."""
        def ok():
            p = self.p(name)
            if p["state"] == "running" and p["pid"] and p["pid"] != other_than:
                return p["pid"]
            return False
        return self.wait_until(ok, timeout=timeout,
                               msg="process %s running (pid != %s)" % (name, other_than))

    # ---- diagnostics / teardown --------------------------------------

    def log(self):
        if self._cached is not None:
            return self._cached[0]
        try:
            with open(self.errlog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def outlog_text(self):
        if self._cached is not None:
            return self._cached[1]
        try:
            with open(self.outlog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def ini_text(self):
        if self._cached is not None:
            return self._cached[2]
        try:
            with open(self.ini) as f:
                return f.read()
        except OSError:
            return ""

    def diagnostics(self):
        rc = self.proc.returncode if self.proc else None
        return ("dir: %s\nexit code: %s\n--- %s ---\n%s\n--- stderr ---\n%s\n--- stdout ---\n%s"
                % (self.dir, rc, os.path.basename(self.ini), self.ini_text(),
                   self.log()[-12000:], self.outlog_text()[-4000:]))

    def teardown(self, keep):
        pids = set(self.seen_pids)
        if self.daemon_pid:
            pids.update(descendants(self.daemon_pid))
        if self.proc is not None and self.proc.poll() is None:
            if self.daemon_pid and self.daemon_pid != self.proc.pid:
                kill_quiet(self.daemon_pid)
            kill_quiet(self.proc.pid)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for _ in range(3):
            left = marked_pids(self.marker)
            left += [p for p in pids if alive(p) and self._is_ours(p)]
            if not left:
                break
            for p in set(left):
                kill_quiet(p)
            time.sleep(0.05)
        for f in ("_err", "_out"):
            if hasattr(self, f):
                getattr(self, f).close()
        self._cached = (self.log(), self.outlog_text(), self.ini_text())
        if self.own_dir and not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def sanitizer_report(self):
        text = self.log() + self.outlog_text()
        for pat in SANITIZER_PATTERNS:
            if pat in text:
                return text
        return None


def _ctl_env():
    return {k: v for k, v in os.environ.items() if k not in SYSTEMD_VARS}


# --------------------------------------------------------------------------
# fixtures

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)
    if rep.failed:
        for s in getattr(item, "_bb_stacks", []):
            rep.sections.append(("stackd [%s]" % s.label, s.diagnostics()))


@pytest.fixture
def make_stack(request, build):
    """Factory: make_stack(label="stack", dir=None) -> Stack.  All stacks are
    killed (with every process they started) at teardown."""
    stacks = []
    request.node._bb_stacks = stacks

    def make(label="stack", dir=None):
        return Stack(build, stacks, label=label, dir=dir)

    yield make
    rep = getattr(request.node, "rep_call", None)
    failed = rep is None or rep.failed
    for s in reversed(stacks):
        s.teardown(keep=failed)
    bad = [s for s in stacks if s.sanitizer_report()]
    if bad:
        pytest.fail("sanitizer report in stackd output [%s]:\n%s"
                    % (bad[0].label, bad[0].sanitizer_report()[-8000:]), pytrace=False)


@pytest.fixture
def stack(make_stack):
    return make_stack()


class NotifySocket:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.setblocking(False)
        self.msgs = []   # (monotonic time, [lines])

    def drain(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            self.msgs.append((time.monotonic(),
                              [l for l in data.decode(errors="replace").split("\n") if l]))
        return self.msgs

    def lines(self):
        self.drain()
        return [l for _, ls in self.msgs for l in ls]

    def count(self, line):
        return sum(1 for l in self.lines() if l == line)

    def statuses(self):
        return [l[len("STATUS="):] for l in self.lines() if l.startswith("STATUS=")]

    def close(self):
        self.sock.close()


@pytest.fixture
def notify_socket(stack):
    ns = NotifySocket(stack.path("notify.sock"))
    yield ns
    ns.close()
