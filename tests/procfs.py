"""procfs.py -- what the black-box tests, the soak and the bench read from
/proc: one process's stat line, the table of all of them, a process's
descendants, its status fields, command line and environment.

Every reader reads its file once and answers None for a process that is
gone (or went between the listing and the read): a test walking /proc
races with the processes it watches, and a second read of the same file
may find a zombie reaped.  Nothing here waits or retries; the callers own
their deadlines.
"""
import collections
import os

# One /proc/PID/stat line: the fields the callers use.  utime, stime and
# starttime are in clock ticks (os.sysconf("SC_CLK_TCK")), starttime after
# boot; with the pid it names a process for good (a pid alone may be
# reused).
Stat = collections.namedtuple(
    "Stat", "state ppid pgid sid utime stime nice starttime comm")


def stat(pid):
    """The Stat of pid, or None if it does not exist."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except (OSError, ValueError):
        return None
    # comm may hold spaces and parentheses: it ends at the last ")"
    i, j = data.find(b"("), data.rfind(b")")
    if i < 0 or j < i:
        return None
    rest = data[j + 2:].split()
    return Stat(rest[0].decode(), int(rest[1]), int(rest[2]), int(rest[3]),
                int(rest[11]), int(rest[12]), int(rest[16]), int(rest[19]),
                data[i + 1:j].decode(errors="replace"))


def pids():
    """Every pid in /proc now."""
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def table():
    """{pid: Stat} of every process (those gone meanwhile left out)."""
    out = {}
    for pid in pids():
        st = stat(pid)
        if st is not None:
            out[pid] = st
    return out


def descendants(root, tab=None):
    """Every descendant of root, from tab (a table()) or a new table."""
    if tab is None:
        tab = table()
    kids = collections.defaultdict(list)
    for pid, st in tab.items():
        kids[st.ppid].append(pid)
    out, todo = [], [root]
    while todo:
        for c in kids.get(todo.pop(), ()):
            out.append(c)
            todo.append(c)
    return out


def alive(pid):
    """True while pid exists and is not a zombie."""
    st = stat(pid)
    return st is not None and st.state not in ("Z", "X")


def comm(pid):
    """The command name (/proc/PID/comm), or None if pid is gone."""
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return None


def cmdline(pid):
    """The command line, its words joined by spaces, or None."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data.replace(b"\0", b" ").decode(errors="replace").strip()


def status(pid, key):
    """The words after "KEY:" in /proc/PID/status; None without the key
    or the process."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split()[1:]
    except OSError:
        pass
    return None


def ignores(pid, sig):
    """Whether pid ignores signal sig (SigIgn in its status); False if it
    is gone.  A test that signals a child's trap waits for this first."""
    mask = status(pid, "SigIgn")
    return mask is not None and bool(int(mask[0], 16) >> (int(sig) - 1) & 1)


def fds(pid):
    """The open descriptors of pid, sorted, or None if it is gone."""
    try:
        return sorted(int(f) for f in os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def sockets(pid):
    """How many of pid's descriptors are sockets, or None if it is gone.
    Unlike the whole count, this one does not move with the pipes and
    pidfds of processes that come and go."""
    try:
        d = "/proc/%d/fd" % pid
        n = 0
        for f in os.listdir(d):
            try:
                n += os.readlink(os.path.join(d, f)).startswith("socket:")
            except OSError:
                pass  # closed between listdir and readlink
        return n
    except OSError:
        return None


def environ(pid):
    """The environment of pid as raw bytes ("K=V\\0..."), or None."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return f.read()
    except OSError:
        return None
