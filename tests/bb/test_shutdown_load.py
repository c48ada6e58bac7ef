"""Shutdown under load (issue 6, item 4): SIGTERM while a level climbs,
while the stack rewinds and while a reload is under way, with 200
children of which some ignore SIGTERM.

stackd must exit 0, leave no process of the stack behind, and deliver
every child's last words: each child prints "armed NAME" once its TERM
trap is set and "bye NAME" when SIGTERM arrives (the TERM-deaf ones print
it too, then carry on until SIGKILL); both go through stackd's prefixing
relay to its stdout, and every "armed" must have its "bye" there once
stackd has exited.

How long may it take?  Shutdown is ordered (SPEC 3: a rewind to 0, one
level at a time, each level fully down before the next), so with
TERM-deaf processes in every level it cannot beat the sum over the levels
of the largest stop_timeout among their deaf processes; the bound is that
sum (here 1 + 1.5 + 2 = 4.5 s) plus MARGIN for 200 processes on a loaded
machine (and an ASan build).  It cannot be shorter than the deaf processes
of the two lower levels need (1 + 1.5 s): proof that they were waited for.
"""

import os
import signal
import time


from conftest import level, proc
from loadkit import relayed, relayed_all

N = {"one": 80, "two": 70, "three": 50}
DEAF = 4                      # the first DEAF of every level ignore TERM
DEAF_STOP = {"one": 1.0, "two": 1.5, "three": 2.0}
MARGIN = 3.0
BOUND = sum(DEAF_STOP.values()) + MARGIN
FLOOR = DEAF_STOP["one"] + DEAF_STOP["two"] - 0.2

CHILD = """\
# child.sh NAME [deaf]: says when its TERM trap is set, prints a last line
# on SIGTERM; a deaf one carries on after it (until SIGKILL).
n=$1
if [ "$2" = deaf ]; then
	trap 'echo "bye $n"' TERM
else
	trap 'echo "bye $n"; exit 0' TERM
fi
echo "armed $n"
while :; do
	sleep 300 &
	wait $!
done
"""


def names(lvl):
    base = {"one": 0, "two": N["one"], "three": N["one"] + N["two"]}[lvl]
    return ["c%03d" % (base + i + 1) for i in range(N[lvl])]


def stack_text(stack, third="three", drop=(), add=(), changed=()):
    """The 200-process stack.  For the reload: level three renamed (the
    sequence changes, so it is walked down first), processes dropped,
    added and changed."""
    d = stack.dir
    child = stack.path("child.sh")
    text = ""
    for lvl in ("one", "two", "three"):
        lname = third if lvl == "three" else lvl
        opts = {}
        if lvl == "two":
            opts = dict(probe="test -f %s/flag2" % d, failure_threshold=1,
                        probe_interval="200ms")
        if lvl == "three":
            opts = dict(probe="test -f %s/flag3" % d, ready_timeout="60s")
        text += level(lname, **opts)
        for i, n in enumerate(names(lvl)):
            if n in drop:
                continue
            extra = {}
            cmd = "sh %s %s" % (child, n)
            if i < DEAF:
                cmd += " deaf"
                extra["stop_timeout"] = "%dms" % (DEAF_STOP[lvl] * 1000)
            if n in changed:
                extra["env"] = "CHANGED=1"
            text += proc(n, lname, cmd, **extra)
        if lvl == "two":
            for n in add:
                text += proc(n, lname, "sh %s %s" % (child, n))
    return text


def start(stack, flag3=True, target=None):
    stack.script("child.sh", CHILD)
    stack.touch("flag2")
    if flag3:
        stack.touch("flag3")
    opts = {"target": target} if target else {}
    stack.write(stack_text(stack), stop_timeout="1s", **opts)
    stack.start()


def armed(stack):
    out = set()
    for name, lines in relayed_all(stack).items():
        if "armed %s" % name in lines:
            out.add(name)
    return out


def wait_armed(stack, want, timeout=90):
    stack.wait_until(lambda: want <= armed(stack), timeout=timeout,
                     msg="%d children armed (their TERM trap set)" % len(want))


def terminate_and_check(stack, expect_floor=True):
    """SIGTERM now; exit 0 within BOUND, nothing left, every armed child's
    last line delivered."""
    stack.remember_pids()
    t = time.monotonic()
    rc = stack.stop(signal.SIGTERM, timeout=BOUND + 30, check_clean=True)
    el = time.monotonic() - t
    assert rc == 0, "SIGTERM must end in exit 0, got %d" % rc
    assert el < BOUND, ("shutdown took %.1fs; bound: the deaf processes' stop_timeouts "
                        "level by level (%.1fs) + %.1fs" % (el, BOUND - MARGIN, MARGIN))
    if expect_floor:
        assert el >= FLOOR, ("exit after %.1fs: the TERM-deaf processes of levels one "
                             "and two (stop_timeout 1s, 1.5s) were not waited for" % el)
    out = relayed_all(stack)
    was_armed = {n for n, ls in out.items() if "armed %s" % n in ls}
    lost = sorted(n for n in was_armed if "bye %s" % n not in out.get(n, []))
    assert not lost, ("%d of %d children's last line (printed on SIGTERM) never reached "
                      "stackd's stdout: %s" % (len(lost), len(was_armed), lost[:20]))
    return el


def test_sigterm_during_climb(stack):
    # level three climbs and stays climbing (its probe fails)
    start(stack, flag3=False)
    everyone = set(names("one") + names("two") + names("three"))
    wait_armed(stack, everyone)
    st = stack.status()
    assert st["level"] == 2 and st["levels"][2]["state"] == "climbing", \
        "level three should be climbing: %s" % st["state"]
    terminate_and_check(stack)


def test_sigterm_during_rewind(stack):
    start(stack)
    everyone = set(names("one") + names("two") + names("three"))
    stack.wait_level(3, timeout=90)
    wait_armed(stack, everyone)
    # level two's probe fails: level two fails, the stack rewinds from the
    # top; level three's deaf processes hold the rewind for 2s
    os.unlink(stack.path("flag2"))

    def rewinding():
        s = stack.status()
        return s["state"] == "rewinding" and s["levels"][2]["state"] == "stopping" and s
    stack.wait_until(rewinding, timeout=15, msg="rewinding, level three stopping")
    terminate_and_check(stack)


def test_sigterm_during_reload(stack):
    start(stack)
    everyone = set(names("one") + names("two") + names("three"))
    stack.wait_level(3, timeout=90)
    wait_armed(stack, everyone)
    two = names("two")
    # level three renamed (walked down first: its deaf processes hold that
    # for 2s), ten processes of level two dropped, ten changed, ten added
    stack.write(stack_text(stack, third="third", drop=set(two[-10:]),
                           add=["n%02d" % i for i in range(10)],
                           changed=set(two[20:30])),
                stop_timeout="1s")
    r = stack.ctl("reload")
    assert r.returncode == 0, r.stderr
    st = stack.status()
    assert st["state"] != "up", "the reload should be under way: %s" % st["state"]
    terminate_and_check(stack)


def test_sigterm_at_rest_200(stack):
    # the reference: the whole stack up, nothing else going on
    start(stack)
    stack.wait_level(3, timeout=90)
    wait_armed(stack, set(names("one") + names("two") + names("three")))
    terminate_and_check(stack)


def test_last_words_written_at_exit_are_delivered(stack):
    # Four children each dump ~50 KiB in one write on SIGTERM and exit at
    # once: stackd reaps them before it has read all of it.  Every line
    # must still reach its stdout (relay.c drains the pipes at exit).
    stack.touch("last.txt", "".join("last words %04d\n" % i for i in range(3000)) + "bye\n")
    stack.script("talk.sh", """
        trap 'cat %s; exit 0' TERM
        echo armed
        sleep 300 &
        wait
        """ % stack.path("last.txt"))
    talkers = ["talker%d" % i for i in range(4)]
    stack.write(level("one") +
                "".join(proc(t, "one", "sh %s" % stack.path("talk.sh")) for t in talkers))
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: all("armed" in relayed(stack, t) for t in talkers),
                     msg="talkers armed")
    assert stack.stop() == 0
    for t in talkers:
        lines = relayed(stack, t)
        assert lines[-1:] == ["bye"] and len(lines) == 3002, \
            "%s: %d of 3002 lines delivered, ending %r" % (t, len(lines), lines[-2:])
