"""What the container image (packaging/container/Dockerfile) and the pod
(packaging/kubernetes/pod.yaml) rely on, tested without Docker: stackd as
PID 1 of a new PID namespace (`unshare --pid --fork --mount-proc`), asked
`stackctl -f FILE ready` the way the HEALTHCHECK and the probes ask it.

test_reaper.py already covers zombies reaped by PID 1 and the ordered
SIGTERM stop of the levels as PID 1; here: readiness seen from outside
(1 before, 0 when up, 1 again during a rewind), an orphan in a session of
its own stopped and waited for after the levels (the kernel would SIGKILL
it the moment PID 1 exits: tini#180), SIGINT as PID 1 (which has no default
signal actions), a configuration error reported with exit 1 as PID 1.
Then cheap static checks of the Dockerfile and pod.yaml themselves."""

import os
import re
import signal
import subprocess
import time

import pytest

from conftest import (REPO, UNSHARE, level, proc, children_of, proc_stat, stopper,
                      need_pid_namespace, marked_pids)
import procfs  # tests/procfs.py, on the path conftest set
from test_launcher import launcher_of

DOCKERFILE = os.path.join(REPO, "packaging", "container", "Dockerfile")
POD = os.path.join(REPO, "packaging", "kubernetes", "pod.yaml")


def _ready(stack, *args):
    """`stackctl -f FILE ready [LEVEL]`, as the HEALTHCHECK runs it."""
    return stack.ctl("-f", stack.ini, "ready", *args, sock=False).returncode


ORPHANER = """
    # Leave a daemon behind in a session of its own, so that no level's stop
    # signal reaches it; on TERM it drains for a moment, then exits.
    d=$(dirname "$0")
    ( setsid sh -c '
        trap "echo orphan-term >> $1/stop.log; sleep 0.3; echo orphan-done >> $1/stop.log; exit 0" TERM
        while :; do sleep 0.1; done' orphan "$d" & )
    """


def test_pid1_ready_orphans_and_sigterm(stack):
    need_pid_namespace()
    orphaner = stack.script("orphaner.sh", ORPHANER)
    stack.write(
        level("one") +
        proc("p1", "one", stopper(stack, "p1")) +
        proc("orphaner", "one", orphaner, type="oneshot") +
        level("two", probe="test -f %s/go" % stack.dir, probe_interval="100ms",
              ready_timeout="30s", failure_threshold=2) +
        proc("p2", "two", stopper(stack, "p2")),
        stop_timeout="3s")
    stack.start(wrapper=UNSHARE)
    st = stack.wait_level(1)
    assert st["pid"] == 1, "stackd should be PID 1 in its namespace: %r" % st["pid"]

    # Below ready_level (the top): unhealthy, but the daemon answers.
    assert _ready(stack) == 1, "stackctl ready must exit 1 below ready_level"
    assert _ready(stack, "one") == 0, "ready one: the stack is at level 1"
    assert _ready(stack, "0") == 0, "ready 0: the daemon answers (liveness)"

    stack.touch("go")
    stack.wait_level(2)
    assert _ready(stack) == 0, "stackctl ready must exit 0 at ready_level"

    # A failing level probe rewinds the stack: not ready until it is back.
    os.unlink(stack.path("go"))
    stack.wait_until(lambda: _ready(stack) == 1, timeout=10,
                     msg="stackctl ready exits 1 again during the rewind")
    stack.touch("go")
    stack.wait_level(2, timeout=10)
    assert _ready(stack) == 0

    orphan = stack.wait_until(lambda: _orphan_pid(stack), msg="the orphan exists")
    stack.wait_armed("p1", "p2")
    # p2 wrote its line when the rewind stopped it; start the log afresh.
    os.unlink(stack.path("stop.log"))
    assert proc_stat(orphan)[1] == stack.daemon_pid, \
        "the orphan should have been reparented to stackd, PID 1"

    # docker stop / pod deletion: SIGTERM to PID 1.
    assert stack.stop(timeout=15) == 0
    assert stack.lines("stop.log") == ["p2", "p1", "orphan-term", "orphan-done"], (
        "levels top down, then the orphan, waited for until it finished "
        "(as PID 1, exiting early would have the kernel SIGKILL it)")


def _orphan_pid(stack):
    for pid in children_of(stack.daemon_pid):
        if "orphan-term" in (procfs.cmdline(pid) or ""):
            return pid
    return None


def test_pid1_sigint_stops_in_order(stack):
    # PID 1 gets no default action for a signal it does not handle: if
    # stackd did not handle SIGINT (docker run -it, Ctrl-C), nothing would
    # happen at all.
    need_pid_namespace()
    stack.write(level("one") + proc("p1", "one", stopper(stack, "p1")) +
                level("two") + proc("p2", "two", stopper(stack, "p2")))
    stack.start(wrapper=UNSHARE)
    stack.wait_level(2)
    stack.wait_armed("p1", "p2")
    assert stack.stop(signal.SIGINT, timeout=15) == 0
    assert stack.lines("stop.log") == ["p2", "p1"]


def test_pid1_config_error_exits_1(stack):
    # What `docker run` shows for a broken stack.ini: FILE:LINE and exit 1.
    need_pid_namespace()
    stack.write("[level one]\nbogus = 1\n", raw=True)
    r = subprocess.run(UNSHARE + [stack.build.stackd, "-f", stack.ini],
                       capture_output=True, text=True, errors="replace",
                       stdin=subprocess.DEVNULL, timeout=20, env=stack.env())
    assert r.returncode == 1, r
    assert "%s:2:" % stack.ini in r.stderr, r.stderr


# --------------------------------------------------------------------------
# the files themselves

def _dockerfile_instructions():
    """(INSTRUCTION, arguments) with continuation lines joined."""
    out, cur = [], ""
    with open(DOCKERFILE) as f:
        for line in f:
            line = line.rstrip("\n")
            if not cur and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            cur += line
            word, _, rest = cur.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            cur = ""
    return out


def test_dockerfile(build, tmp_path):
    ins = _dockerfile_instructions()
    froms = [a for i, a in ins if i == "FROM"]
    assert len(froms) == 2 and froms[0].startswith("debian:12 ") and \
        froms[1] == "debian:12-slim", "multi-stage, Debian 12 then 12-slim: %r" % froms
    assert ("ENTRYPOINT", '["stackd", "-f", "/etc/stackd/stack.ini"]') in ins, ins
    health = [a for i, a in ins if i == "HEALTHCHECK"]
    assert len(health) == 1 and re.search(
        r'CMD \["stackctl", "-f", "/etc/stackd/stack.ini", "ready"\]$', health[0]), health

    # The runtime stage installs exactly the three runtime libraries.
    runtime = ins[[i for i, _ in ins].index("FROM", 1):]
    pkgs = set()
    for i, a in runtime:
        if i == "RUN" and "apt-get install" in a:
            words = a.split("apt-get install", 1)[1].split("&&")[0].split()
            pkgs.update(w for w in words if not w.startswith("-"))
    assert pkgs == {"libev4", "libinih1", "libsystemd0"}, pkgs

    # Every file copied from the context exists and passes the ignore file.
    with open(DOCKERFILE + ".dockerignore") as f:
        allowed = [l.strip()[1:].rstrip("/") for l in f if l.strip().startswith("!")]
    for i, a in ins:
        if i == "COPY" and not a.startswith("--from"):
            for src in a.split()[:-1]:
                src = src.rstrip("/")
                assert os.path.exists(os.path.join(REPO, src)), src
                assert src in allowed, "%s is excluded by Dockerfile.dockerignore" % src
        if i == "COPY" and a.endswith(" /etc/stackd/stack.ini"):
            ini = os.path.join(REPO, a.split()[0])
            r = subprocess.run([build.stackd, "--check", "-f", ini],
                               capture_output=True, text=True)
            assert r.returncode == 0, "the image's stack.ini: %r" % r


def _duration(s):
    m = re.fullmatch(r"([0-9.]+)(ms|s|m|h)?", s.strip())
    assert m, "duration %r" % s
    return float(m.group(1)) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]


def _worst_stop(ini_text):
    """The longest an ordered shutdown can take: each level's largest
    stop_timeout (plus hook_timeout with an on_down hook), then the stack's
    stop_timeout for stray descendants.  A plain parse: no continuation
    lines in pod.yaml's stack."""
    sections, cur = [], None
    for line in ini_text.split("\n"):
        line = re.split(r"\s;", line)[0].strip()
        if not line or line[0] in ";#":
            continue
        if line.startswith("["):
            cur = (line[1:-1], {})
            sections.append(cur)
        else:
            k, _, v = line.partition("=")
            cur[1][k.strip()] = v.strip()
    stack = dict(next((o for n, o in sections if n == "stack"), {}))
    st = _duration(stack.get("stop_timeout", "10s"))
    hook = _duration(stack.get("hook_timeout", "10s"))
    levels = {n.split()[1]: o for n, o in sections if n.startswith("level ")}
    total = st
    for name, opts in levels.items():
        procs = [o for n, o in sections if n.startswith("process ") and o["level"] == name]
        total += max([_duration(o.get("stop_timeout", str(st))) for o in procs] + [0])
        if "on_down" in opts:
            total += hook
    return total


def test_pod_yaml(build, tmp_path):
    yaml = pytest.importorskip("yaml", reason="python3-yaml (make check-deps installs it)")
    with open(POD) as f:
        docs = list(yaml.safe_load_all(f))
    cm = next(d for d in docs if d["kind"] == "ConfigMap")
    pod = next(d for d in docs if d["kind"] == "Pod")
    ini = tmp_path / "stack.ini"
    ini.write_text(cm["data"]["stack.ini"])
    r = subprocess.run([build.stackd, "--check", "-f", str(ini)],
                       capture_output=True, text=True)
    assert r.returncode == 0, "pod.yaml's stack.ini: %r" % r

    spec = pod["spec"]
    (c,) = spec["containers"]
    mount = next(m for m in c["volumeMounts"] if m["mountPath"] == "/etc/stackd")
    vol = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    assert vol["configMap"]["name"] == cm["metadata"]["name"]
    ready = ["stackctl", "-f", "/etc/stackd/stack.ini", "ready"]
    assert c["readinessProbe"]["exec"]["command"] == ready
    assert c["startupProbe"]["exec"]["command"] == ready
    live = c.get("livenessProbe", {}).get("exec", {}).get("command")
    assert live in (None, ready + ["0"]), \
        "a liveness probe must not restart a stack that is only below its target"
    worst = _worst_stop(cm["data"]["stack.ini"])
    grace = spec["terminationGracePeriodSeconds"]
    assert worst < grace <= worst + 30, (
        "terminationGracePeriodSeconds %s should be a little above the stack's "
        "worst-case ordered stop, %.1fs" % (grace, worst))


STUBBORN = """
    # A daemon left behind that ignores TERM; HOW: "stop" stops itself too.
    ( setsid sh -c 'trap "" TERM; [ "$1" = stop ] && kill -STOP $$
                    while :; do sleep 0.1; done' orphan %s & )
    """


def _stubborn(stack, how="run"):
    return stack.script("stubborn.sh", STUBBORN % how)


def test_pid1_without_its_own_proc_still_stops(stack):
    # `unshare --pid --fork` without --mount-proc: /proc is the parent
    # namespace's and shows none of stackd's children; as PID 1 it must
    # still stop them (kill(-1)) rather than wait for ever
    need_pid_namespace()
    stack.write(level("one") + proc("p1", "one", "sleep 300") +
                proc("o", "one", _stubborn(stack), type="oneshot"),
                stop_timeout="500ms")
    stack.start(wrapper=["unshare", "--pid", "--fork"])
    stack.wait_level(1)
    assert stack.stop(timeout=10, check_clean=False) == 0
    assert "to every process left" in stack.log()


def test_stopped_leftover_gets_sigcont(stack):
    # a leftover that stopped itself cannot act on TERM until continued:
    # it must get SIGCONT with it, not wait for the SIGKILL
    need_pid_namespace()
    script = stack.script("stops.sh", """
        d=$(dirname "$0")
        ( setsid sh -c 'trap "echo term >> $1/stop.log; exit 0" TERM
                        kill -STOP $$; while :; do sleep 0.1; done' x "$d" & )
        """)
    stack.write(level("one") + proc("p1", "one", "sleep 300") +
                proc("o", "one", script, type="oneshot"), stop_timeout="20s")
    stack.start(wrapper=UNSHARE)
    stack.wait_level(1)

    def stopped():
        return [p for p in marked_pids(stack.marker)
                if (procfs.stat(p) or (None,))[0] == "T"]
    # not before it has stopped itself: a SIGCONT that came first would
    # leave it stopped for good, and the test waiting for SIGKILL
    stack.wait_until(stopped, msg="the leftover stopped itself")
    t = time.monotonic()
    assert stack.stop(timeout=15) == 0
    assert time.monotonic() - t < 10, "the stopped leftover waited for SIGKILL"
    assert stack.lines("stop.log") == ["term"]


@pytest.mark.parametrize("wait_for", ["orphan", "hook"])
def test_second_sigterm_skips_every_wait(stack, wait_for):
    # a second SIGTERM, sent while a level is still stopping, skips every
    # grace period still to come: of leftover processes and of on_down
    # hooks too, not only of the stack's own processes
    need_pid_namespace()
    deaf = "sh -c 'trap \"\" TERM; while :; do sleep 0.1; done'"
    if wait_for == "orphan":
        body = (level("one") + proc("p1", "one", deaf) +
                proc("o", "one", _stubborn(stack), type="oneshot"))
    else:
        body = level("one", on_down="sleep 60") + proc("p1", "one", deaf)
    stack.write(body, stop_timeout="60s", hook_timeout="60s")
    stack.start(wrapper=UNSHARE)
    stack.wait_level(1)
    stack.send(signal.SIGTERM)
    stack.wait_until(lambda: "stopping level 1" in stack.log(), msg="stopping")
    t = time.monotonic()
    assert stack.stop(timeout=15) == 0
    assert time.monotonic() - t < 10


# SIGQUIT: some images' STOPSIGNAL; SIGPWR: lxc-stop's; SIGRTMIN+3 and +4:
# systemd's halt and poweroff (the STOPSIGNAL of images built around it,
# machinectl poweroff).  The others would kill stackd at their default (and
# be dropped unsaid when it is PID 1).
@pytest.mark.parametrize("stop", [signal.SIGQUIT, signal.SIGPWR,
                                  signal.SIGRTMIN + 3, signal.SIGRTMIN + 4],
                         ids=["QUIT", "PWR", "RTMIN+3", "RTMIN+4"])
def test_sigquit_and_sigpwr_stop_in_order_others_are_ignored(stack, stop):
    stack.write(level("one") + proc("p1", "one", stopper(stack, "p1")) +
                level("two") + proc("p2", "two", stopper(stack, "p2")))
    stack.start()
    stack.wait_level(2)
    stack.wait_armed("p1", "p2")
    rt = {signal.SIGRTMIN: "SIGRTMIN", signal.SIGRTMIN + 1: "SIGRTMIN+1",
          signal.SIGRTMIN + 5: "SIGRTMIN+5", signal.SIGRTMAX - 1: "SIGRTMAX-1",
          signal.SIGRTMAX: "SIGRTMAX"}                  # as kill -l names them
    for sig in (signal.SIGUSR1, signal.SIGALRM, signal.SIGVTALRM,
                signal.SIGPROF, signal.SIGIO, signal.SIGSTKFLT, *rt):
        name = rt.get(sig) or ("SIGPOLL" if sig == signal.SIGIO
                               else signal.Signals(sig).name)   # glibc's name
        stack.send(sig)
        stack.wait_until(lambda: "ignoring %s" % name in stack.log(),
                         msg="%s logged" % name)
    assert stack.running()
    assert stack.stop(stop, timeout=15) == 0
    assert stack.lines("stop.log") == ["p2", "p1"]


def test_sigterm_while_the_stack_is_read(stack):
    # Before the event loop runs (here: while a long file is read) a
    # SIGTERM waits for it; it must neither kill stackd nor, as PID 1,
    # be dropped by the kernel.  The launcher is forked before the file
    # is read: its appearance says stackd is past its first lines.  The
    # read is made long by env files of comments (20 million lines).
    envf = os.path.join(stack.dir, "comments.env")
    with open(envf, "w") as f:
        f.write("# a comment\n" * 4000)
    body = level("one") + "".join(
        proc("p%d" % i, "one", "sleep 300", env_file=envf) for i in range(5000))
    stack.write(body, target=0)
    stack.start(wait_socket=False)
    stack.wait_until(lambda: launcher_of(stack), msg="the launcher forked")
    assert "level" not in stack.log(), "too late: the file was read already"
    stack.send(signal.SIGTERM)
    assert stack.wait_exit(timeout=120) == 0
    assert "received SIGTERM" in stack.log()


def test_signals_during_the_exit_do_not_kill_stackd(stack):
    # A second ^C (or a supervisor's repeated SIGTERM) at any moment of
    # the shutdown, its very end included, leaves the exit code at 0.
    stack.write(level("one") + proc("p1", "one", stopper(stack, "p1", pre="sleep 0.2; ")))
    stack.start()
    stack.wait_level(1)
    stack.wait_armed("p1")
    stack.expect_exit = True
    stack.send(signal.SIGTERM)
    while stack.proc.poll() is None:
        try:
            os.kill(stack.daemon_pid, signal.SIGINT)
        except ProcessLookupError:
            break
        time.sleep(0.0002)
    assert stack.wait_exit() == 0, "stackd died of a signal while exiting"


def test_inherited_ignored_sigchld(stack):
    # Inherited SIG_IGN for SIGCHLD would have the kernel reap the
    # children before stackd saw them exit.
    stack.write(level("one") + proc("p", "one", "sh -c 'sleep 0.3; exit 1'"))
    stack.start(ignored=(signal.SIGCHLD,))
    stack.wait_until(lambda: stack.p("p")["restarts_total"] >= 1,
                     msg="the exit seen and the process restarted")
    assert stack.p("p")["last_exit"] == "exited 1", stack.p("p")
    assert stack.stop(timeout=10) == 0
