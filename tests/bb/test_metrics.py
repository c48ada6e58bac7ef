"""Prometheus metrics: `stackctl metrics` and [stack] metrics_file
(SPEC sections 4 and 6; the names are a contract)."""

import os
import re
import shutil
import signal
import socket
import stat
import subprocess

import pytest

from conftest import level, proc, stopper

COUNTERS = ("stackd_process_restarts_total", "stackd_level_failures_total",
            "stackd_climb_attempts_total")
GAUGES = ("stackd_level_current", "stackd_level_target", "stackd_level_up",
          "stackd_process_up", "stackd_probe_duration_seconds", "stackd_alarm")

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def parse(text):
    """{(name, ((label, value), ...)): float} of a text exposition, after
    checking that every family has exactly one HELP and one TYPE line of
    the right type, before its samples."""
    assert text.endswith("\n"), "exposition must end with a newline: %r" % text
    samples, helps, types = {}, {}, {}
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            assert name not in helps, "two HELP lines for %s" % name
            helps[name] = line
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in types, "two TYPE lines for %s" % name
            types[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name, labels, value = m.groups()
        assert name in helps and name in types, "%s: sample before HELP/TYPE" % name
        labs = tuple(LABEL.findall(labels or ""))
        key = (name, labs)
        assert key not in samples, "duplicate sample %r" % (key,)
        samples[key] = float(value)
    for name in COUNTERS:
        assert types.get(name) == "counter", (name, types.get(name))
    for name in GAUGES:
        assert types.get(name) == "gauge", (name, types.get(name))
    assert set(types) == set(COUNTERS + GAUGES), sorted(types)
    return samples


def metrics(stack):
    r = stack.ctl("metrics")
    assert r.returncode == 0, r
    return r.stdout


def value(samples, name, **labels):
    want = tuple(sorted(labels.items()))
    for (n, labs), v in samples.items():
        if n == name and tuple(sorted(labs)) == want:
            return v
    raise KeyError("no sample %s%r in %r" % (name, labels, sorted(samples)))


def promtool():
    path = shutil.which("promtool") or "/usr/bin/promtool"
    assert os.access(path, os.X_OK), \
        "promtool is missing: apt-get install prometheus (make check does)"
    return path


def promtool_ok(text):
    r = subprocess.run([promtool(), "check", "metrics"], input=text,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "promtool check metrics: %s%s\n%s" % (
        r.stdout, r.stderr, text)


def two_levels(stack, **stack_opts):
    stack.write(level("one", probe="true") +
                proc("p1", "one", "sleep 300") +
                proc("init", "one", "true", type="oneshot") +
                level("two") + proc("p2", "two", "sleep 300"), **stack_opts)


def test_metrics_live_stack(stack):
    two_levels(stack)
    stack.start()
    st = stack.wait_level(2)
    s = parse(metrics(stack))
    assert value(s, "stackd_level_current") == 2
    assert value(s, "stackd_level_target") == 2
    assert value(s, "stackd_alarm") == 0
    for lvl in ("one", "two"):
        assert value(s, "stackd_level_up", level=lvl) == 1
        assert value(s, "stackd_level_failures_total", level=lvl) == 0
        assert value(s, "stackd_climb_attempts_total", level=lvl) == 1
    for p, lvl in (("p1", "one"), ("init", "one"), ("p2", "two")):
        assert value(s, "stackd_process_up", process=p, level=lvl) == 1
        assert value(s, "stackd_process_restarts_total", process=p, level=lvl) == 0
    assert 0 <= value(s, "stackd_probe_duration_seconds", level="one") < 5
    assert not any(n == "stackd_probe_duration_seconds" and ("level", "two") in l
                   for n, l in s), "level two has no probes"

    p1 = stack.pid("p1", st)
    os.kill(p1, signal.SIGKILL)

    def restarted():
        s = parse(metrics(stack))
        return (value(s, "stackd_process_restarts_total", process="p1",
                      level="one") == 1 and
                value(s, "stackd_process_up", process="p1", level="one") == 1
                and s)
    s = stack.wait_until(restarted, msg="p1's restart counted, p1 up again")
    assert value(s, "stackd_level_current") == 2
    assert value(s, "stackd_process_restarts_total", process="p2", level="two") == 0
    assert stack.pid("p1") != p1


def test_metrics_stopped_process_listed(stack):
    two_levels(stack)
    stack.start()
    stack.wait_level(2)
    r = stack.ctl("target", "1")
    assert r.returncode == 0, r
    stack.wait_level(1)

    def stopped():
        s = parse(metrics(stack))
        return (value(s, "stackd_process_up", process="p2", level="two") == 0
                and s)
    s = stack.wait_until(stopped, msg="p2 listed with stackd_process_up 0")
    assert value(s, "stackd_level_current") == 1
    assert value(s, "stackd_level_target") == 1
    assert value(s, "stackd_level_up", level="two") == 0
    assert value(s, "stackd_level_up", level="one") == 1
    assert value(s, "stackd_process_restarts_total", process="p2", level="two") == 0
    assert value(s, "stackd_process_up", process="p1", level="one") == 1


def test_metrics_alarm_and_failures(stack):
    stack.write(level("one") + proc("p1", "one", "sleep 300") +
                level("bad", probe="false", ready_timeout="200ms") +
                proc("p2", "bad", "sleep 300"),
                alarm_after="500ms")
    stack.start()

    def alarmed():
        s = parse(metrics(stack))
        return (value(s, "stackd_alarm") == 1 and
                value(s, "stackd_level_failures_total", level="bad") >= 2 and s)
    s = stack.wait_until(alarmed, msg="alarm raised, failed climbs counted")
    assert value(s, "stackd_level_current") == 1
    assert value(s, "stackd_level_target") == 2
    assert value(s, "stackd_level_up", level="bad") == 0
    assert value(s, "stackd_level_failures_total", level="one") == 0
    attempts = value(s, "stackd_climb_attempts_total", level="bad")
    assert attempts >= value(s, "stackd_level_failures_total", level="bad")
    stack.wait_until(
        lambda: value(parse(metrics(stack)), "stackd_climb_attempts_total",
                      level="bad") > attempts,
        msg="climb attempts keep being counted")
    promtool_ok(metrics(stack))


def test_metrics_promtool_accepts(stack):
    two_levels(stack)
    stack.start()
    stack.wait_level(2)
    promtool_ok(metrics(stack))


def test_metrics_usage(stack):
    two_levels(stack)
    stack.start()
    r = stack.ctl("metrics", "extra")
    assert r.returncode == 2, r
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(5)
    try:
        c.connect(stack.ctl_path)
        c.sendall(b"metrics extra\n")
        reply = b""
        while (chunk := c.recv(4096)):
            reply += chunk
    finally:
        c.close()
    assert reply == b"error usage: metrics\n", reply
    assert stack.ctl("metrics").returncode == 0


def read_samples(path):
    with open(path) as f:
        return parse(f.read())


def test_metrics_file_written_and_updated(stack):
    prom = stack.path("stack.prom")
    two_levels(stack, metrics_file=prom)
    stack.start()
    st = stack.wait_level(2)
    s = stack.wait_until(
        lambda: value(read_samples(prom), "stackd_level_current") == 2 and
        read_samples(prom), msg="metrics_file says level 2")
    assert value(s, "stackd_process_up", process="p2", level="two") == 1
    assert stat.S_IMODE(os.stat(prom).st_mode) == 0o644
    with open(prom) as f:
        promtool_ok(f.read())

    os.kill(stack.pid("p1", st), signal.SIGKILL)
    stack.wait_until(
        lambda: value(read_samples(prom), "stackd_process_restarts_total",
                      process="p1", level="one") == 1,
        msg="metrics_file counts p1's restart")
    assert not os.path.exists(prom + ".tmp")

    stack.ctl("target", "0")
    s = stack.wait_until(
        lambda: value(read_samples(prom), "stackd_level_current") == 0 and
        value(read_samples(prom), "stackd_process_up", process="p1",
              level="one") == 0 and read_samples(prom),
        msg="metrics_file follows the descent to 0")
    assert value(s, "stackd_level_target") == 0
    assert value(s, "stackd_process_up", process="p2", level="two") == 0


def test_metrics_file_write_failure_is_harmless(stack):
    d = stack.path("later")
    prom = os.path.join(d, "stack.prom")
    two_levels(stack, metrics_file=prom)
    stack.start()
    st = stack.wait_level(2)
    log = stack.log()
    assert log.count("metrics_file:") == 1, \
        "a failing metrics_file must be logged once, not at every change: %s" % log
    assert "No such file or directory" in log

    os.mkdir(d)
    os.kill(stack.pid("p1", st), signal.SIGKILL)
    stack.wait_until(
        lambda: value(read_samples(prom), "stackd_process_restarts_total",
                      process="p1", level="one") == 1,
        msg="metrics_file written once its directory exists")
    stack.wait_until(lambda: "written again" in stack.log(),
                     msg="recovery logged")
    assert stack.status()["level"] == 2


def test_metrics_file_must_be_absolute(stack):
    two_levels(stack, metrics_file="stack.prom")
    r = subprocess.run([stack.build.stackd, "-f", stack.ini, "--check"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 1, r
    assert re.search(r"%s:\d+: metrics_file: 'stack.prom' is not an absolute path"
                     % re.escape(stack.ini), r.stdout + r.stderr), r


@pytest.mark.parametrize("plant", ["fifo", "hardlink"])
def test_metrics_file_tmp_is_made_anew(stack, plant):
    # whatever sits at PATH.tmp is not opened: a FIFO there blocked the
    # whole loop in open(), a hard link had another file truncated
    prom = stack.path("stack.prom")
    other = stack.path("precious")
    if plant == "fifo":
        os.mkfifo(prom + ".tmp")
    else:
        with open(other, "w") as f:
            f.write("keep me\n")
        os.link(other, prom + ".tmp")
    two_levels(stack, metrics_file=prom)
    stack.start()
    stack.wait_level(2)
    stack.wait_until(lambda: value(read_samples(prom), "stackd_level_current")
                     == 2, msg="metrics_file written")
    if plant == "hardlink":
        with open(other) as f:
            assert f.read() == "keep me\n"


def test_a_level_being_stopped_is_not_ready(stack):
    # While level two stops (its process takes its time over TERM), the
    # stack is no longer "at level 2" for ready, wait and the metric --
    # no traffic during a rewind or a descent -- though status still
    # shows it there, descending.
    stack.write(level("one") + proc("a", "one", "sleep 300") +
                level("two") + proc("slow", "two", stopper(stack, "slow", "sleep 30; ")) +
                "stop_timeout = 60s\n")
    stack.start()
    stack.wait_level(2)
    stack.wait_armed("slow")
    assert stack.ctl("ready", "2").returncode == 0
    assert value(parse(metrics(stack)), "stackd_level_current") == 2
    assert stack.ctl("target", "1").returncode == 0
    stack.wait_until(lambda: stack.p("slow")["state"] == "stopping", msg="slow stopping")
    st = stack.status()
    assert st["level"] == 2 and st["state"] == "descending", st
    r = stack.ctl("ready", "2")
    assert r.returncode == 1 and "at level 1, below 2" in r.stderr, r
    assert stack.ctl("ready", "1").returncode == 0
    assert stack.ctl("wait", "2", "--timeout", "0.3s").returncode == 1
    assert value(parse(metrics(stack)), "stackd_level_current") == 1
    os.killpg(stack.pid("slow"), signal.SIGKILL)
    stack.wait_level(1)
