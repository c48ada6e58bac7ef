"""What a child sees: environment, workdir, umask, user, process group;
exec failures; hooks and the alarm (SPEC sections 2-3)."""

import os
import signal
import time

import pytest

from conftest import (level, proc, alive, read_environ, wait_until,
                      SYSTEMD_VARS, proc_status, needs_root)
import procfs  # tests/procfs.py, on the path conftest set


def _umask(pid):
    return proc_status(pid, "Umask")[0]


def _ids(pid, key):
    return [int(x) for x in proc_status(pid, key)]


def test_child_environment(stack, notify_socket):
    ns = notify_socket
    stack.write(
        level("one") + proc("pa", "one", "sleep 300") +
        level("two") +
        proc("pb", "two", "sh -c 'env > %s/pb.env; exec sleep 300'" % stack.dir))
    stack.start(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "60000000",
                     "LISTEN_FDS": "1", "LISTEN_PID": "1", "LISTEN_FDNAMES": "x",
                     "BB_INHERITED": "yes"})
    st = stack.wait_level(2)
    for name, lvl in (("pa", "one"), ("pb", "two")):
        env = read_environ(stack.pid(name, st))
        assert env is not None
        assert env.get("STACKD_STACK") == "bb", (name, env)
        assert env.get("STACKD_LEVEL") == lvl, (name, env)
        assert env.get("STACKD_PROCESS") == name, (name, env)
        for var in SYSTEMD_VARS:
            assert var not in env, "%s inherited %s=%s" % (name, var, env[var])
        assert env.get("BB_INHERITED") == "yes", "ordinary variables are inherited"
    stack.wait_until(lambda: "STACKD_PROCESS=pb" in (stack.read("pb.env") or ""),
                     msg="env as seen by the shell")


def test_notify_child_gets_own_socket(stack, notify_socket):
    # a ready = notify child gets its own NOTIFY_SOCKET, never stackd's, and
    # the real systemd-notify client works from a shell wrapper
    ns = notify_socket
    stack.write(
        level("one") +
        proc("pn", "one", "sh -c 'systemd-notify --ready; exec sleep 300'", ready="notify"))
    stack.start(env={"NOTIFY_SOCKET": ns.path, "WATCHDOG_USEC": "60000000",
                     "LISTEN_FDS": "1", "LISTEN_PID": "1"})
    st = stack.wait_level(1)
    env = read_environ(stack.pid("pn", st))
    assert env.get("NOTIFY_SOCKET") and env["NOTIFY_SOCKET"] != ns.path, env
    for var in ("WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID"):
        assert var not in env
    assert env.get("STACKD_PROCESS") == "pn"


def test_env_workdir_umask(stack):
    wd = stack.path("wd")
    os.mkdir(wd)
    stack.write(
        level("one") +
        proc("p", "one", "sleep 300", env=["FOO=bar", "BAZ=two words", "OVR=inner"],
             workdir=wd, umask="0027") +
        proc("q", "one", "sleep 300", umask="0077"))
    stack.start(env={"OVR": "outer"})
    st = stack.wait_level(1)
    pid = stack.pid("p", st)
    env = read_environ(pid)
    assert env["FOO"] == "bar" and env["BAZ"] == "two words", env
    assert env["OVR"] == "inner", "env = overrides an inherited variable"
    assert os.readlink("/proc/%d/cwd" % pid) == wd
    assert _umask(pid) == "0027"
    assert _umask(stack.pid("q", st)) == "0077"
    assert "FOO" not in read_environ(stack.pid("q", st)), "env = is per process"


@needs_root
def test_user_and_group(stack):
    stack.write(level("one") + proc("p", "one", "sleep 300", user="nobody") +
                proc("q", "one", "sleep 300", user="nobody", group="daemon"))
    stack.start()
    st = stack.wait_level(1)
    pid = stack.pid("p", st)
    assert _ids(pid, "Uid") == [65534] * 4
    assert _ids(pid, "Gid") == [65534] * 4, "group defaults to the user's primary group"
    assert _ids(pid, "Groups") in ([], [65534]), "no supplementary groups of root leaked"
    q = stack.pid("q", st)
    assert _ids(q, "Uid") == [65534] * 4
    assert _ids(q, "Gid") == [1] * 4, "group = daemon"


def test_own_process_group_and_session(stack):
    stack.write(level("one") + proc("a", "one", "sleep 300") +
                proc("b", "one", "sh -c 'sleep 300'"))
    stack.start()
    st = stack.wait_level(1)
    for name in ("a", "b"):
        pid = stack.pid(name, st)
        assert os.getpgid(pid) == pid, "%s must lead its own process group" % name
        assert os.getsid(pid) == pid, "%s must lead its own session" % name
    assert os.getpgid(stack.pid("a", st)) != os.getpgid(stack.daemon_pid)


@needs_root
def test_children_die_with_stackd(stack):
    # also those that switched user or group: a change of uid or gid
    # clears the parent-death signal, so it must be set after it
    stack.write(level("one") + proc("a", "one", "sleep 300") +
                proc("u", "one", "sleep 300", user="nobody") +
                proc("g", "one", "sleep 300", group="daemon") +
                level("two") + proc("b", "two", "sleep 300"))
    stack.start()
    st = stack.wait_level(2)
    pids = [p["pid"] for p in st["processes"]]
    assert len(pids) == 4
    stack.expect_exit = True
    os.kill(stack.daemon_pid, signal.SIGKILL)
    stack.wait_exit()
    wait_until(lambda: not any(alive(p) for p in pids), timeout=3,
               msg="children killed by PR_SET_PDEATHSIG")


def test_exec_failure_missing_binary(stack):
    stack.write(level("one", ready_timeout="2s") +
                proc("ghost", "one", "/nonexistent/bb-ghost --flag"))
    stack.start()
    st = stack.wait_until(lambda: (s := stack.status())["levels"][0]["climb_attempts"] >= 2
                          and s, msg="two failed attempts")
    assert st["level"] == 0
    log = stack.log()
    lines = [l for l in log.splitlines() if "/nonexistent/bb-ghost" in l]
    assert lines, "exec failure not logged with the path:\n" + log
    assert any("No such file or directory" in l for l in lines), \
        "exec failure logged without the reason (strerror):\n" + "\n".join(lines)
    assert stack.running()


def test_exec_failure_permission(stack):
    script = stack.script("noexec.sh", "exec sleep 300", mode=0o644)
    stack.write(level("one", ready_timeout="2s") + proc("noexec", "one", script))
    stack.start()
    stack.wait_until(lambda: stack.status()["levels"][0]["climb_attempts"] >= 2,
                     msg="two failed attempts")
    lines = [l for l in stack.log().splitlines() if script in l]
    assert any("Permission denied" in l for l in lines), stack.log()


@pytest.mark.parametrize("kind", ["elf", "no-shebang"])
def test_exec_format_error_not_run_by_a_shell(stack, kind):
    # a file the kernel will not execute is an exec failure with its
    # reason, not a job for /bin/sh (execvp's habit)
    ran = stack.path("ran")
    path = stack.path(kind)
    with open(path, "wb") as f:
        f.write(b"\x7fELF garbage" if kind == "elf"
                else b"touch %s\n" % ran.encode())
    os.chmod(path, 0o755)
    stack.write(level("one", ready_timeout="2s") + proc("e", "one", path),
                retry_min="30s", retry_max="30s")
    stack.start()
    stack.wait_until(lambda: "exec %s: Exec format error" % path
                     in stack.log(), msg="ENOEXEC reported")
    assert not os.path.exists(ran), "a script without #! was run by a shell"


def test_path_searched_is_the_childs(stack):
    # env = PATH=... is where the command is looked for; an entry where it
    # may not be run is passed over, and reported if nothing else is found
    os.makedirs(stack.path("bin"))
    os.makedirs(stack.path("noexec"))
    stack.script("bin/bbprog", "exec sleep 300")
    stack.script("noexec/bbprog", "exec sleep 300", mode=0o644)
    stack.script("noexec/bbdenied", "exec sleep 300", mode=0o644)
    path = "PATH=%s:%s:/usr/bin:/bin" % (stack.path("noexec"), stack.path("bin"))
    stack.write(level("one") + proc("p", "one", "bbprog", env=path) +
                level("two", ready_timeout="2s") +
                proc("q", "two", "bbdenied", env=path),
                retry_min="30s", retry_max="30s")
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: "process q: exec bbdenied: Permission denied"
                     in stack.log(), msg="EACCES reported")
    assert "exec bbprog" not in stack.log()


@needs_root
def test_workdir_entered_as_the_user(stack):
    # a directory only root may enter: the process runs as nobody, so the
    # chdir fails, with its reason, rather than the program failing later
    wd = stack.path("private")
    os.makedirs(wd)
    os.chmod(wd, 0o700)
    stack.write(level("one", ready_timeout="2s") +
                proc("p", "one", "sleep 300", user="nobody", workdir=wd),
                retry_min="30s", retry_max="30s")
    stack.start()
    stack.wait_until(lambda: "process p: chdir %s: Permission denied" % wd
                     in stack.log(), msg="chdir as nobody refused")


def test_exec_failure_is_abnormal_exit(stack):
    # a transient process is restarted only after an abnormal exit: if an
    # exec failure counts as one, the restarts go on until intensity fails
    # the level
    script = stack.script("svc.sh", "exec sleep 300")
    stack.write(level("one") + proc("p1", "one", "sleep 300") +
                level("two", intensity=2, period="30s") +
                proc("svc", "two", script, restart="transient"))
    stack.start()
    st = stack.wait_level(2)
    p1 = stack.pid("p1", st)
    os.chmod(script, 0o644)
    os.kill(stack.pid("svc", st), signal.SIGTERM)
    st = stack.wait_until(lambda: (s := stack.status())["levels"][1]["failures"] >= 1 and s,
                          msg="level two fails: exec failures are abnormal exits")
    assert stack.pid("p1", st) == p1
    assert any(script in l and "Permission denied" in l for l in stack.log().splitlines())


HOOK = "sh -c 'echo \"$STACKD_STACK $STACKD_LEVEL $STACKD_EVENT\" >> %s/%s'"


def test_hooks_up_down(stack):
    h = HOOK % (stack.dir, "hooks.log")
    stack.write(level("one", on_up=h, on_down=h) + proc("p1", "one", "sleep 300") +
                level("two", on_up=h, on_down=h) + proc("p2", "two", "sleep 300"))
    stack.start()
    stack.wait_level(2)
    stack.wait_until(lambda: len(stack.lines("hooks.log")) >= 2, msg="on_up hooks")
    assert sorted(stack.lines("hooks.log")) == ["bb one up", "bb two up"]
    assert stack.ctl("target", "1").returncode == 0
    stack.wait_until(lambda: len(stack.lines("hooks.log")) >= 3, msg="on_down hook")
    assert stack.lines("hooks.log")[2] == "bb two down"
    assert stack.stop() == 0
    assert stack.lines("hooks.log")[3:] == ["bb one down"]


def test_failing_and_hanging_hooks_change_nothing(stack):
    d = stack.dir
    stack.write(
        level("one", on_up="sh -c 'exit 1'") + proc("p1", "one", "sleep 300") +
        level("two", on_up="sh -c 'echo $$ > %s/hook.pid; exec sleep 300'" % d) +
        proc("p2", "two", "sleep 300"),
        hook_timeout="500ms")
    stack.start()
    st = stack.wait_level(2)
    pids = {p["name"]: p["pid"] for p in st["processes"]}
    hook = int(stack.wait_until(lambda: stack.read("hook.pid"), msg="hook started"))
    stack.wait_until(lambda: not alive(hook), timeout=4,
                     msg="hanging hook killed after hook_timeout")
    st = stack.status()
    assert st["level"] == 2 and st["state"] == "up"
    assert {p["name"]: p["pid"] for p in st["processes"]} == pids
    assert all(l["failures"] == 0 for l in st["levels"])


def test_alarm_raised_and_cleared(stack):
    d = stack.dir
    stack.write(
        level("one") + proc("p1", "one", "sleep 300") +
        level("two", probe="test -f %s/gate" % d, ready_timeout="20s") +
        proc("p2", "two", "sleep 300"),
        alarm_after="700ms",
        on_alarm="sh -c 'echo \"$STACKD_EVENT $STACKD_STACK [$STACKD_LEVEL]\""
        " >> %s/alarm.log'" % d)
    stack.start()
    st = stack.status()
    if time.monotonic() - stack.t_start < 0.5:
        assert st["alarm"] is False, "alarm raised before alarm_after"
    st = stack.wait_until(lambda: (s := stack.status())["alarm"] is True and s,
                          msg="alarm raised")
    assert time.monotonic() - stack.t_start >= 0.6, "alarm raised before alarm_after=700ms"
    assert st["level"] == 1 and st["target"] == 2
    # STACKD_LEVEL: the level the stack holds (one), not the one it climbs
    stack.wait_until(lambda: "alarm bb [one]" in stack.lines("alarm.log"),
                     msg="on_alarm hook (alarm)")
    stack.touch("gate")
    stack.wait_level(2)
    stack.wait_until(lambda: stack.status()["alarm"] is False, msg="alarm cleared")
    stack.wait_until(lambda: "alarm_cleared bb [two]" in stack.lines("alarm.log"),
                     msg="on_alarm hook (alarm_cleared)")
    assert stack.lines("alarm.log") == ["alarm bb [one]", "alarm_cleared bb [two]"]


def test_no_alarm_when_target_reached_in_time(stack):
    d = stack.dir
    stack.write(
        level("one") + proc("p1", "one", "sleep 300"),
        alarm_after="300ms",
        on_alarm="sh -c 'echo \"$STACKD_EVENT\" >> %s/alarm.log'" % d)
    stack.start()
    stack.wait_level(1)
    stack.hold_for(lambda: stack.status()["alarm"] is False, 0.8, "no alarm at target")
    assert stack.read("alarm.log") is None


# --------------------------------------------------------------------------
# env_file, limits, nice, credentials, descriptors (issue 4, item 4)

import grp
import pwd
import socket
import subprocess


def test_env_file(stack):
    ef = stack.path("app.env")
    with open(ef, "w") as f:
        f.write("# the app's settings\n\nA=from-file\nB=\"two words\"\n"
                "C=first\nC=second\nOVR=file\n  D=x=y\nHOME=/srv/app\n")
    stack.write(level("one") +
                proc("p", "one", "sleep 300", env_file=ef, env="OVR=ini", user="nobody") +
                proc("q", "one", "sleep 300"))
    stack.start(env={"A": "outer"})
    st = stack.wait_level(1)
    pid = stack.pid("p", st)
    env = read_environ(pid)
    assert env["A"] == "from-file", "env_file overrides the inherited environment"
    assert env["B"] == "two words" and env["D"] == "x=y", env
    assert env["C"] == "second", "a later line wins"
    assert env["OVR"] == "ini", "env = wins over env_file"
    assert env["HOME"] == "/srv/app" and env["USER"] == "nobody", env
    homes = [e for e in procfs.environ(pid).split(b"\0")
             if e.startswith(b"HOME=")]
    assert homes == [b"HOME=/srv/app"], "HOME set once, by the file"
    assert read_environ(stack.pid("q", st))["A"] == "outer", "env_file is per process"

    # the file is read with stack.ini: a reload sees it changed
    with open(ef, "a") as f:
        f.write("NEW=yes\n")
    assert stack.ctl("reload").returncode == 0
    new = stack.wait_running("p", other_than=pid)
    assert read_environ(new).get("NEW") == "yes"


def test_env_file_error_refuses_to_start(stack):
    ef = stack.path("bad.env")
    with open(ef, "w") as f:
        f.write("GOOD=1\nnot a setting\n")
    ini = stack.write(level("one") + proc("p", "one", "sleep 300", env_file=ef))
    r = subprocess.run([stack.build.stackd, "-f", ini, "--check"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1
    line = [n for n, l in enumerate(open(ini).read().split("\n"), 1) if l.startswith("env_file")][0]
    assert "%s:%d: env_file: %s:2: 'not a setting' is not KEY=VALUE" % (ini, line, ef) \
        in r.stdout + r.stderr, r.stdout + r.stderr


def _limits(pid):
    out = {}
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                out["nofile"] = line.split()[3:5]
            elif line.startswith("Max core file size"):
                out["core"] = line.split()[4:6]
    return out


def _nice(pid):
    return procfs.stat(pid).nice


@needs_root
def test_limits_and_nice(stack):
    stack.write(level("one") +
                proc("p", "one", "sleep 300", limit_nofile=64, limit_core=0, nice=7,
                     user="nobody") +
                proc("q", "one", "sleep 300", limit_nofile=4096, limit_core="infinity", nice=-2) +
                proc("r", "one", "sleep 300"))
    stack.start()
    st = stack.wait_level(1)
    p, q, r = (stack.pid(n, st) for n in "pqr")
    assert _limits(p) == {"nofile": ["64", "64"], "core": ["0", "0"]}
    assert _limits(q) == {"nofile": ["4096", "4096"], "core": ["unlimited", "unlimited"]}
    assert _nice(p) == 7 and _nice(q) == -2
    assert _nice(r) == _nice(stack.daemon_pid), "no nice =: stackd's"
    assert _limits(r) == _limits(stack.daemon_pid), "no limit_*: stackd's"


def test_limit_failure_is_logged_with_reason(stack):
    # more than the kernel's nr_open: setrlimit fails in the child
    with open("/proc/sys/fs/nr_open") as f:
        too_many = int(f.read()) + 1
    stack.write(level("one", ready_timeout="2s") +
                proc("p", "one", "sleep 300", limit_nofile=too_many))
    stack.start()
    stack.wait_until(lambda: "cannot set limit_nofile to %d: Operation not permitted" % too_many
                     in stack.log(), msg="the failure and its reason logged")
    assert stack.status()["level"] == 0


@needs_root
def test_initgroups_for_user(stack):
    # the supplementary groups are the user's, as initgroups(3) sets them;
    # any user of this system with supplementary groups shows it best
    users = [("nobody", None)]
    for g in grp.getgrall():
        for m in g.gr_mem:
            try:
                pwd.getpwnam(m)
            except KeyError:
                continue
            users.append((m, None))
            break
        if len(users) > 1:
            break
    users.append(("nobody", "daemon"))
    body = level("one")
    for i, (user, group) in enumerate(users):
        body += proc("p%d" % i, "one", "sleep 300", user=user, group=group)
    stack.write(body)
    stack.start()
    st = stack.wait_level(1)
    for i, (user, group) in enumerate(users):
        pw = pwd.getpwnam(user)
        gid = grp.getgrnam(group).gr_gid if group else pw.pw_gid
        pid = stack.pid("p%d" % i, st)
        assert _ids(pid, "Uid") == [pw.pw_uid] * 4
        assert _ids(pid, "Gid") == [gid] * 4
        assert sorted(_ids(pid, "Groups")) == sorted(set(os.getgrouplist(user, gid))), user
        assert read_environ(pid)["HOME"] == pw.pw_dir


def test_no_descriptor_leaks_into_children(stack):
    # stackd holds many descriptors when it spawns: one it inherited, the
    # control socket and a client of it, relay pipes, notify sockets, log
    # files; a child gets 0, 1, 2 and its fd:N, nothing else
    d = stack.dir
    leak = os.open(stack.path("inherited"), os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        stack.write(
            level("one", probe="sh -c 'echo $$ > %s/probe.pid; exec sleep 0.3'" % d) +
            proc("a", "one", "sleep 300") +
            proc("b", "one", "sleep 300", log="file:%s/b.log" % d) +
            proc("c", "one", "sleep 300", log="null") +
            proc("n", "one", "sh -c 'systemd-notify --ready; exec sleep 300'", ready="notify") +
            proc("r", "one", "sh -c 'echo >&5; exec sleep 300'", ready="fd:5") +
            level("two") + proc("z", "two", "sleep 300"),
            target="one")
        stack.start(pass_fds=(leak,))
        stack.wait_level(1)
        # a control client that stays connected while level two starts
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.connect(stack.ctl_path)
            assert stack.ctl("target", "2").returncode == 0
            st = stack.wait_level(2)
        assert leak in procfs.fds(stack.daemon_pid), "test bug: stackd did not inherit the fd"

        # polled: a program may hold a descriptor of its own for a moment
        # as it starts (sleep reading its locale); a leaked one stays
        def children_clean():
            for p in st["processes"]:
                want = [0, 1, 2, 5] if p["name"] == "r" else [0, 1, 2]
                assert procfs.fds(p["pid"]) == want, "process %s has %s" % (p["name"], procfs.fds(p["pid"]))
            return True
        stack.wait_until(children_clean, msg="children with 0, 1, 2 (and fd:N) only")

        def probe_clean():
            pid = int(stack.read("probe.pid"))
            assert procfs.comm(pid) == "sleep"
            assert procfs.fds(pid) == [0, 1, 2], "a probe has %s" % procfs.fds(pid)
            return True
        stack.wait_until(probe_clean, msg="a probe with 0, 1, 2 only")
    finally:
        os.close(leak)


def test_env_overrides_stackd_variables_once(stack):
    # env = wins over what stackd sets, and the variable appears once: a
    # duplicate in environ is resolved differently by different programs
    stack.write(level("one") +
                proc("p", "one", "sleep 300", env=["STACKD_LEVEL=custom", "FOO=1"]))
    stack.start()
    pid = stack.pid("p", stack.wait_level(1))
    items = procfs.environ(pid).split(b"\0")
    assert [i for i in items if i.startswith(b"STACKD_LEVEL=")] == [b"STACKD_LEVEL=custom"]
    assert [i for i in items if i.startswith(b"STACKD_PROCESS=")] == [b"STACKD_PROCESS=p"]
