"""Idle stackd costs nothing: once the stack is up and nothing is
scheduled (no probes, no restarts pending), the daemon does not wake up
at all -- not even for the backoff reset retry_max after the climb.  Seen
from outside as context switches in /proc/PID/status that do not move."""

from conftest import level, proc, proc_status


def switches(pid):
    return sum(int(proc_status(pid, k)[0]) for k in
               ("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"))


def test_idle_stack_never_wakes(stack):
    stack.write(level("one") + proc("p", "one", "sleep 300") +
                level("two") + proc("q", "two", "sleep 300"),
                retry_min="100ms", retry_max="1500ms")
    stack.start()
    stack.wait_level(2)
    pid = stack.daemon_pid

    def settled():
        # what start-up left (the launcher's answers, the status request
        # just made) is over within moments; the reset would be at 1.5 s
        n = switches(pid)
        stack.hold_for(lambda: True, 0.2, "a moment")
        return switches(pid) == n and n
    base = stack.wait_until(settled, timeout=1.0, msg="start-up done")
    stack.hold_for(lambda: switches(pid) == base, 2.5,
                   "stackd stays asleep (no timer, no wake-up)")
