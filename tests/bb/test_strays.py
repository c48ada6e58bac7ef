"""Processes stackd no longer knows (issue 6, item 3: "every live process
under stackd is one it knows").

When a supervised process exits, what it left in its process group (the
worker of a wrapper script) gets the process's stop_signal at once and
SIGKILL after its stop_timeout, as with systemd's KillMode=control-group;
oneshots are exempt (what they leave running is their purpose).
"""

import os
import signal


from conftest import level, proc, alive
import procfs  # tests/procfs.py, on the path conftest set


def test_group_remnant_of_a_killed_process_is_stopped(stack):
    d = stack.dir
    stack.write(level("one") +
                proc("w", "one", "sh -c 'sleep 300 & echo $! > %s/worker.pid; wait'" % d),
                stop_timeout="1s")
    stack.start()
    first = stack.pid("w", stack.wait_level(1))
    worker = int(stack.wait_until(lambda: stack.read("worker.pid"), msg="worker started"))
    assert os.getpgid(worker) == first
    os.kill(first, signal.SIGKILL)
    stack.wait_running("w", other_than=first)
    stack.wait_until(lambda: not alive(worker), timeout=5,
                     msg="the worker of the killed process (pid %d, its group %d) gone"
                     % (worker, first))
    assert stack.stop() == 0


def test_group_remnant_ignoring_term_is_killed_after_stop_timeout(stack):
    d = stack.dir
    stack.write(level("one") +
                proc("w", "one",
                     "sh -c '(trap \"\" TERM; exec sleep 300) & echo $! > %s/worker.pid; wait'" % d,
                     stop_timeout="1s"))
    stack.start()
    first = stack.pid("w", stack.wait_level(1))
    worker = int(stack.wait_until(lambda: stack.read("worker.pid"), msg="worker started"))
    # $! is written before the subshell has set its trap
    stack.wait_until(lambda: procfs.ignores(worker, signal.SIGTERM),
                     msg="worker %d ignores SIGTERM" % worker)
    os.kill(first, signal.SIGKILL)
    stack.wait_running("w", other_than=first)
    stack.wait_until(lambda: not alive(worker), timeout=5,
                     msg="the TERM-ignoring worker (pid %d) killed after stop_timeout" % worker)
    assert "SIGKILL to process %d" % worker in stack.log()
    # the new instance and its own worker are left alone
    second = stack.pid("w")
    assert alive(second)
    assert stack.stop() == 0


def test_oneshot_leaves_its_background_child_running(stack):
    d = stack.dir
    stack.write(level("one") +
                proc("starter", "one", "sh -c 'sleep 300 & echo $! > %s/bg.pid'" % d,
                     type="oneshot"))
    stack.start()
    stack.wait_level(1)
    bg = int(stack.wait_until(lambda: stack.read("bg.pid"), msg="background child started"))
    stack.wait_until(lambda: "process starter exited" in stack.log(), msg="starter exited")
    assert alive(bg), "a oneshot's background child is its purpose: left running"
    assert stack.stop() == 0
    assert not alive(bg)
