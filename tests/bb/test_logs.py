"""Child output: relayed with "name | line" prefixes, or to a file, or
dropped (SPEC section 2, log_prefix and log =)."""

import os

from conftest import level, proc


def _all_output(stack):
    return stack.log() + stack.outlog_text()


def test_prefixed_relay(stack):
    stack.write(level("one") +
                proc("pa", "one", "sh -c 'echo hello-from-$((0))a; echo second-$((0))a; exec sleep 300'") +
                proc("pb", "one", "sh -c 'echo hello-from-$((0))b >&2; exec sleep 300'"))
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: "hello-from-0b" in _all_output(stack) and
                     "second-0a" in _all_output(stack), msg="child output relayed")
    out = _all_output(stack).splitlines()
    for want in ("hello-from-0a", "second-0a", "hello-from-0b"):
        line = [l for l in out if want in l][0]
        name = "pa" if want.endswith("a") else "pb"
        assert line.endswith("%s | %s" % (name, want)) or ("%s | %s" % (name, want)) in line, \
            "expected a '%s | %s' line, got %r" % (name, want, line)


def test_no_prefix(stack):
    stack.write(level("one") +
                proc("pa", "one", "sh -c 'echo plain-$((0))a; exec sleep 300'") +
                proc("pb", "one", "sleep 300"), log_prefix="no")
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: "plain-0a" in stack.outlog_text() + stack.log(), msg="output")
    assert "pa | plain-0a" not in _all_output(stack)


def test_log_file_and_null(stack):
    f = stack.path("pa.log")
    stack.write(level("one") +
                proc("pa", "one", "sh -c 'echo to-$((0))file; echo err-to-$((0))file >&2; exec sleep 300'",
                     log="file:%s" % f) +
                proc("pb", "one", "sh -c 'echo to-$((0))nowhere; exec sleep 300'", log="null"))
    stack.start()
    stack.wait_level(1)
    stack.wait_until(lambda: os.path.exists(f) and "err-to-0file" in open(f).read(),
                     msg="output in the log file")
    assert "to-0file" in open(f).read()
    stack.hold_for(lambda: "to-0nowhere" not in _all_output(stack), 0.3, "log = null")
    assert "to-0file" not in _all_output(stack)


def test_fast_writer_blocks_instead_of_failing(stack):
    # A child writing faster than stackd reads must block on its pipe, not
    # get EAGAIN: seq exits 0 only if every write succeeded.
    stack.write(level("one") +
                proc("burst", "one", "seq 1 300000", type="oneshot") +
                proc("other", "one", "sleep 300"))
    stack.start()
    stack.wait_level(1, timeout=60)
    st = stack.p("burst")
    assert st["state"] == "done" and st["last_exit"] == "exited 0", st
    assert "Resource temporarily unavailable" not in _all_output(stack)
