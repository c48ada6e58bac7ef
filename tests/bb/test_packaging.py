"""Packaged files, tested without installing them: the systemd units pass
`systemd-analyze verify` (ExecStart= pointed at the build under test, the
man pages they cite found in man/), and the bash completion of stackctl
(packaging/completion/stackctl) offers the commands, the options, files
after -f and -s, and the level and process names of the live stack."""

import os
import shutil
import subprocess

import pytest

from conftest import REPO, level, proc

UNITS = os.path.join(REPO, "packaging", "systemd")
COMPLETION = os.path.join(REPO, "packaging", "completion", "stackctl")
COMMANDS = {"status", "target", "wait", "ready", "restart", "reload", "events",
            "metrics", "shutdown"}


def test_units_verify(build, tmp_path):
    sa = shutil.which("systemd-analyze")
    if sa is None:
        pytest.fail("systemd-analyze is not installed (Debian package systemd; "
                    "make check-deps installs it)")
    man = tmp_path / "man"
    for page, sec in (("stackd.8", "8"), ("stack.ini.5", "5"), ("stackctl.1", "1")):
        (man / ("man" + sec)).mkdir(parents=True, exist_ok=True)
        shutil.copy(os.path.join(REPO, "man", page), str(man / ("man" + sec)))
    units = []
    for name in ("stackd.service", "stackd@.service"):
        with open(os.path.join(UNITS, name)) as f:
            text = f.read()
        for line in ("Type=notify", "NotifyAccess=main", "KillMode=mixed",
                     "ExecReload=/bin/kill -HUP $MAINPID", "RuntimeDirectory=stackd",
                     "RuntimeDirectoryPreserve=yes", "OOMPolicy=continue"):
            assert "\n%s\n" % line in text, "%s lacks %s" % (name, line)
        assert "\nWatchdogSec=" in text and "\nTimeoutStopSec=" in text, name
        p = tmp_path / name
        p.write_text(text.replace("/usr/bin/stackd", os.path.abspath(build.stackd)))
        units.append(str(p))
    env = dict(os.environ, MANPATH=str(man))
    r = subprocess.run([sa, "verify"] + units, capture_output=True, text=True,
                       env=env, cwd=str(tmp_path), timeout=60)
    ours = [l for l in r.stderr.splitlines() if "stackd" in l]
    assert r.returncode == 0 and not ours, r


def complete(build, *words, cwd=None):
    """COMPREPLY for the command line `stackctl WORDS...` (the last word is
    the one being completed), as a set."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
              '_stackctl; printf "%s\\n" "${COMPREPLY[@]}"')
    r = subprocess.run(["bash", "-c", script, "bash", COMPLETION, build.stackctl]
                       + list(words), capture_output=True, text=True, timeout=20,
                       cwd=cwd, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and not r.stderr, r
    return {w for w in r.stdout.split("\n") if w}


def test_completion_loads():
    r = subprocess.run(["bash", "-c", 'source "$1" && complete -p stackctl',
                        "bash", COMPLETION], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "complete -F _stackctl stackctl", r


def test_completion_commands_and_options(build, tmp_path):
    assert complete(build, "") == COMMANDS
    assert complete(build, "re") == {"restart", "reload", "ready"}
    assert complete(build, "-") == {"-s", "-f", "-h"}
    (tmp_path / "shop.ini").write_text("")
    assert complete(build, "-f", str(tmp_path / "sh")) == {str(tmp_path / "shop.ini")}
    assert complete(build, "-s", "/nonexistent.sock", "status", "") == {"--json"}
    # no daemon: no names, and no error
    assert complete(build, "-s", "/nonexistent.sock", "restart", "") == set()


def test_completion_names_from_the_live_stack(stack):
    stack.write(level("db.main") + proc("pg_15", "db.main", "sleep 300") +
                level("web-eu") + proc("app@1", "web-eu", "sleep 300") +
                proc("worker", "web-eu", "sleep 300"))
    stack.start()
    stack.wait_level(2)
    b, s = stack.build, stack.ctl_path
    assert complete(b, "-s", s, "restart", "") == {"pg_15", "app@1", "worker"}
    assert complete(b, "-s", s, "restart", "a") == {"app@1"}
    assert complete(b, "-f", stack.ini, "target", "") == {"top", "0", "db.main", "web-eu"}
    assert complete(b, "-s", s, "ready", "w") == {"web-eu"}
    assert complete(b, "-s", s, "wait", "") == {"top", "db.main", "web-eu", "--timeout"}
    assert complete(b, "-s", s, "wait", "db.main", "") == {"--timeout"}
    assert complete(b, "-s", s, "wait", "--timeout", "") == set()
    assert complete(b, "-s", s, "wait", "--timeout", "5s", "") == {"top", "db.main", "web-eu"}
    assert stack.stop() == 0
