/*
 * launcher.c -- a small process that forks children on stackd's behalf.
 *
 * Why.  fork() costs in proportion to the process that calls it: the
 * kernel copies its page tables and its descriptor table, and afterwards
 * every page the parent writes faults once, copy-on-write.  stackd with a
 * thousand children holds two thousand relay pipes and a few megabytes of
 * bookkeeping, so each restart cost it about three times what it cost
 * with ten, and most of that was fork.  vfork/posix_spawn would avoid the
 * copy but hold stackd until the child's exec, and an exec can take
 * seconds (a cold disk, a traced child): the loop must never wait for it.
 *
 * So at start-up, before the stack is even read, stackd forks this
 * launcher: a copy of stackd while it is still tiny, in a session of its
 * own, holding its socket and stdio only.  A spawn request travels over a
 * SOCK_SEQPACKET pair as one message: the spawn_req flattened into a
 * buffer (argv, env, credentials, limits) plus the child's descriptors
 * (stdout, stderr, the exec-status pipe, a readiness fd) as SCM_RIGHTS
 * (the format is launchmsg.c's).
 * The launcher clones the child with CLONE_PARENT, so the child is
 * stackd's own -- stackd reaps it, signals it, and the child's
 * parent-death signal follows stackd --, and with CLONE_VM, so that not
 * even the launcher's page tables are copied (see struct launch_slot); it
 * answers with the pid right after the clone, before the child execs (the
 * child waits for that answer to be sent: launcher_serve_one).
 * stackd waits for that answer (the cost of forking a small process, not
 * of an exec), so spawn() still returns a pid at once and the rest of
 * stackd does not know the launcher exists.  The child then does exactly
 * what spawn.c's children do (spawn_child) and reports through the same
 * exec-status pipe, which stackd reads from its loop as before.
 *
 * The launcher holds nothing of stackd's: it blocks every signal (stackd
 * alone decides when to stop), exits when stackd closes its end, and dies
 * with stackd (PR_SET_PDEATHSIG).  If it is gone or misbehaves, stackd
 * says so once and forks its children itself, as it did before: slower,
 * never wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launcher.h"
#include "launchmsg.h"
#include "log.h"
#include "machine.h"
#include "spawn.h"

/* The launcher answers within microseconds; this only bounds a stopped
 * or wedged one, which is then given up. */
#define LAUNCH_WAIT_MS	2000
#define LAUNCH_SOCK	(STDERR_FILENO + 1)	/* in the launcher */

struct launch_reply {
	int32_t	pid;		/* > 0, or -1 and err */
	int32_t	err;
};

static pid_t	launcher_pid = -1;
static int	launcher_sock = -1;

static void	launcher_kill(void);

/* Room for the descriptors of one request: status, out, err, ready. */
union launch_cmsg {
	struct cmsghdr	c;
	char		b[CMSG_SPACE(LAUNCH_FDS * sizeof(int))];
};

/* One message of len bytes at buf, with ctl bytes of cm for its fds. */
static void
launch_msg(struct msghdr *mh, struct iovec *iov, const void *buf,
    size_t len, union launch_cmsg *cm, size_t ctl)
{
	memset(mh, 0, sizeof(*mh));
	iov->iov_base = (void *)(uintptr_t)buf;
	iov->iov_len = len;
	mh->msg_iov = iov;
	mh->msg_iovlen = 1;
	mh->msg_control = cm->b;
	mh->msg_controllen = ctl;
}

/* ---------------------------------------------------------------------
 * the launcher's side: clone, answer
 */

/*
 * A child between clone and exec.  With CLONE_VM it runs in the
 * launcher's own memory, on a stack of its own, reading its request from
 * its slot: no page tables to copy, nothing to copy-on-write.  Unlike
 * vfork the launcher does not wait for the exec; the kernel clears tid
 * (CLONE_CHILD_CLEARTID) once the child has left this memory -- exec'd or
 * exited -- and only then is the slot used again.  The child makes only
 * system calls (spawn_child).  What it shares by accident is errno (no
 * TLS of its own), and the PATH search (spawn_exec) decides by it.  So while
 * children are in flight the launcher makes no call that fails in the
 * normal course (it sleeps rather than wait on a futex); a clone that
 * fails may report a sibling's errno, which is why stackd gives up the
 * launcher only for errors that cannot be a sibling's (launcher_fork).
 * Siblings fail only with ENOENT or EACCES while they search PATH, which
 * the search treats alike -- unless one fails its set-up at that very
 * instant: then another may report the wrong reason, or end its search
 * early, a spurious exec failure restarted like any other.
 *
 * A slot is one mapping: a guard page, the child's stack, the unpacked
 * request and the message it points into, received right there.
 */
struct launch_slot {
	pid_t			 tid;		/* 0: the child is out */
	bool			 busy;
	char			*mem;		/* NULL until first used */
	pid_t			 parent;
	int			 errfd;
	int			 go[2];		/* see launcher_serve_one */
};

#define LAUNCH_SLOTS	64		/* execs in flight, at most */
#define LAUNCH_SLOT_WAIT_MS	20	/* for one to come free */
#define LAUNCH_STACK	(64 * 1024)
#define LAUNCH_GUARD	4096
#define LAUNCH_SLOTMEM	(LAUNCH_GUARD + LAUNCH_STACK + LAUNCH_LRSIZE + \
			    LAUNCH_MAX)
#define SLOT_STACK(sl)	((sl)->mem + LAUNCH_GUARD + LAUNCH_STACK)
#define SLOT_LR(sl)	((struct launch_req *)(void *)SLOT_STACK(sl))
#define SLOT_MSG(sl)	(SLOT_STACK(sl) + LAUNCH_LRSIZE)
/* After a burst, how long busy slots may wait to be given back, and how
 * long a quiet launcher keeps the code its children mapped. */
#define LAUNCH_RECLAIM_MS	50
#define LAUNCH_SHED_MS		500

static struct launch_slot	slots[LAUNCH_SLOTS];
/* False under a sanitizer (it cannot follow a second stack in the same
 * memory) or without clone3 (old kernels, valgrind): fork-like clones. */
static bool			shared_vm;

static int
launcher_child(void *arg)
{
	struct launch_slot	*sl = arg;

	/* Not the launcher's socket: stackd must see EOF when the launcher
	 * dies, not when its last child has exec'd. */
	(void)close(LAUNCH_SOCK);
	(void)close(sl->go[1]);
	spawn_child(&SLOT_LR(sl)->req, sl->parent, sl->errfd, sl->go[0]);
}

/* Free the slots whose child is out; how many are still busy. */
static int
launcher_reclaim(void)
{
	struct launch_slot	*sl;
	int			 busy = 0;

	for (sl = slots; sl < slots + LAUNCH_SLOTS; sl++) {
		if (!sl->busy)
			continue;
		if (__atomic_load_n(&sl->tid, __ATOMIC_ACQUIRE) != 0) {
			busy++;
			continue;
		}
		sl->busy = false;
	}
	return busy;
}

/* Quiet: the pages children wrote in the slots go back (the next spawn
 * of a burst reuses a slot warm; the first after a quiet spell faults). */
static void
launcher_shed_slots(void)
{
	struct launch_slot	*sl;

	for (sl = slots; sl < slots + LAUNCH_SLOTS; sl++)
		if (sl->mem != NULL && !sl->busy)
			(void)madvise(sl->mem + LAUNCH_GUARD, LAUNCH_SLOTMEM -
			    LAUNCH_GUARD, MADV_DONTNEED);
}

/* The first slot whose child is out, or NULL. */
static struct launch_slot *
launcher_free_slot(void)
{
	struct launch_slot	*sl;

	(void)launcher_reclaim();
	for (sl = slots; sl < slots + LAUNCH_SLOTS; sl++)
		if (!sl->busy)
			return sl;
	return NULL;
}

/*
 * A free slot, mapped; NULL if LAUNCH_SLOTS execs stay pending.  With
 * every slot busy (a thousand children starting at once) it waits for
 * one a while -- the execs in flight are the backpressure -- but not so
 * long that stackd, waiting for the answer, would stall.
 */
static struct launch_slot *
launcher_slot(void)
{
	struct timespec		 ts = { 0, 50000 };	/* 50 µs */
	struct launch_slot	*sl;
	int			 i;

	/* Sleeps, not a futex wait: that would set errno under the feet
	 * of the children in flight (see struct launch_slot). */
	for (i = 0; (sl = launcher_free_slot()) == NULL &&
	    i < LAUNCH_SLOT_WAIT_MS * 20; i++)
		(void)nanosleep(&ts, NULL);
	if (sl == NULL || sl->mem != NULL)
		return sl;
	sl->mem = mmap(NULL, LAUNCH_SLOTMEM, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (sl->mem == MAP_FAILED) {
		sl->mem = NULL;
		return NULL;
	}
	/* An overflow faults instead of writing below the stack. */
	(void)mprotect(sl->mem, LAUNCH_GUARD, PROT_NONE);
	return sl;
}

/* A child of stackd's (CLONE_PARENT) sharing the launcher's memory. */
static pid_t
launcher_clone_shared(struct launch_slot *sl)
{
	__atomic_store_n(&sl->tid, 1, __ATOMIC_RELEASE);
	return clone(launcher_child, SLOT_STACK(sl),
	    CLONE_VM | CLONE_PARENT | CLONE_CHILD_CLEARTID, sl, NULL, NULL,
	    &sl->tid);
}

/* A child of stackd's (CLONE_PARENT), fork-like: no CLONE_VM, no stack
 * of its own (the exit signal is the launcher's own, SIGCHLD). */
static pid_t
launcher_clone(void)
{
#if defined(__s390__)
	return (pid_t)syscall(SYS_clone, 0, CLONE_PARENT, NULL, NULL, 0);
#else
	return (pid_t)syscall(SYS_clone, CLONE_PARENT, 0, NULL, NULL, 0);
#endif
}

/*
 * Whether children may share the launcher's memory.  Not under ASan (see
 * shared_vm).  Not where clone3 is missing: that is an old kernel, or
 * valgrind, which aborts on a CLONE_VM clone that is not a thread (a
 * container's seccomp profile that refuses clone3 also lands here, and
 * only costs the fork-like clone).
 */
static bool
launcher_can_share(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return false;
#else
	return syscall(SYS_clone3, NULL, 0) == -1 && errno == EINVAL;
#endif
}

static void
launcher_answer(int sock, pid_t pid, int err)
{
	struct launch_reply	a;
	struct timespec		ts = { 0, 1000000 };
	int			tries;

	a.pid = pid;
	a.err = err;
	/* Short of kernel memory: a moment later, rather than leave stackd
	 * to fork itself a child that was just cloned. */
	for (tries = 0; tries < 1000; tries++) {
		if (send(sock, &a, sizeof(a), MSG_NOSIGNAL) ==
		    (ssize_t)sizeof(a))
			return;
		if (errno != ENOBUFS && errno != ENOMEM && errno != EINTR)
			break;
		(void)nanosleep(&ts, NULL);
	}
	_exit(0);			/* stackd is gone */
}

static int
launcher_fds(struct msghdr *mh, int *fds, int max)
{
	struct cmsghdr	*c;
	int		 n = 0, k, got;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		got = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (k = 0; k < got; k++) {
			int	fd;

			memcpy(&fd, CMSG_DATA(c) + (size_t)k * sizeof(int),
			    sizeof(int));
			if (n < max)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

/* The next request into buf: its length (0 if it cannot be one) and
 * fds; exits when stackd has closed its end. */
static size_t
launcher_receive(int sock, char *buf, int *fds, int *nfds)
{
	union launch_cmsg	cm;
	struct msghdr		mh;
	struct iovec		iov;
	ssize_t			n;

	do {
		launch_msg(&mh, &iov, buf, LAUNCH_MAX, &cm, sizeof(cm.b));
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n <= 0)
		_exit(0);
	*nfds = launcher_fds(&mh, fds, LAUNCH_FDS);
	return mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC) ? 0 : (size_t)n;
}

/*
 * One request, one answer: a pid, or why not (EAGAIN: stackd forks).
 *
 * The child waits for a byte on its go pipe, written only once the answer
 * is sent.  stackd gives a launcher that does not answer up (a stopped
 * one, a VM paused between the clone and the answer): it kills it, waits
 * for it to die and then looks for an answer once more.  Either the pid
 * is there -- the child is stackd's to supervise -- or it never will be,
 * and then the go byte never comes either: the child reads EOF and exits
 * before it has done anything, instead of running unsupervised beside the
 * one stackd forks in its place.
 */
static void
launcher_serve_one(int sock, pid_t parent)
{
	/* For fork-like clones, and for refusing a request: the child of a
	 * fork-like clone reads its own copy. */
	static _Alignas(8) char	 scratch[LAUNCH_MAX];
	static union {
		struct launch_req	lr;
		char			b[LAUNCH_LRSIZE];
	}			 own;
	struct launch_slot	*sl = shared_vm ? launcher_slot() : NULL;
	struct launch_req	*lr = sl != NULL ? SLOT_LR(sl) : &own.lr;
	size_t			 len;
	pid_t			 pid = -1;
	int			 fds[LAUNCH_FDS], go[2] = { -1, -1 }, nfds, i;
	int			 err = EAGAIN;

	len = launcher_receive(sock, sl != NULL ? SLOT_MSG(sl) : scratch, fds,
	    &nfds);
	if (shared_vm && sl == NULL)
		;			/* every slot busy: EAGAIN */
	else if (launchmsg_unpack(sl != NULL ? SLOT_MSG(sl) : scratch, len,
	    fds, nfds, lr) == -1)
		err = EINVAL;
	else if (pipe2(go, O_CLOEXEC) == -1) {
		err = errno;		/* out of descriptors: stackd forks */
		go[0] = go[1] = -1;
	} else {
		if (sl != NULL) {
			sl->parent = parent;
			sl->errfd = fds[0];
			sl->go[0] = go[0];
			sl->go[1] = go[1];
			if ((pid = launcher_clone_shared(sl)) != -1)
				sl->busy = true;
		} else if ((pid = launcher_clone()) == 0) {
			(void)close(LAUNCH_SOCK);
			(void)close(go[1]);
			spawn_child(&lr->req, parent, fds[0], go[0]);
		}
		err = errno;
		close(go[0]);
	}
	/* The child has its own copy of the descriptor table.  Closed
	 * before the answer: once stackd has the pid, the child is the only
	 * writer of its exec-status pipe, so a reaped child's status is
	 * there to read (spawn_settle) -- EOF or its error record. */
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	launcher_answer(sock, pid, pid == -1 ? err : 0);
	if (go[1] != -1) {
		if (pid > 0 && write(go[1], "", 1) != 1) {
			/* the child is already gone (killed): nothing to
			 * tell it */
		}
		close(go[1]);
	}
}

/*
 * Children sharing the launcher's memory run libc code the launcher never
 * needs (exec, credentials, limits), and the kernel maps a whole folio
 * around each page they touch: once they are gone, the launcher would be
 * left holding a megabyte of mapped code.  After LAUNCH_SHED_MS of quiet
 * it lets go of the mappings of executable code (never of data: private
 * pages of a data segment would be lost); they stay in the page cache,
 * and the next spawn maps what it runs again.
 */
static void
launcher_shed_text(void)
{
	static char	maps[16384];
	char		*line, *end, *nl, *perm;
	unsigned long	 lo, hi;
	ssize_t		 n, got = 0;
	int		 fd;

	if ((fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC)) == -1)
		return;
	while (got < (ssize_t)sizeof(maps) - 1 &&
	    (n = read(fd, maps + got, sizeof(maps) - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	maps[got] = '\0';
	/* "lo-hi perms offset dev inode path" */
	for (line = maps; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		lo = strtoul(line, &end, 16);
		if (*end != '-')
			continue;
		hi = strtoul(end + 1, &perm, 16);
		if (strncmp(perm, " r-xp ", 6) == 0 &&
		    strchr(perm, '/') != NULL && hi > lo)
			(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
	}
}

static void __attribute__((noreturn))
launcher_serve(int sock, pid_t parent)
{
	struct pollfd	pfd;
	bool		shed = true;
	int		busy, wait_ms;

	pfd.fd = sock;
	pfd.events = POLLIN;
	for (;;) {
		/* Children still in slots: look again soon; once they are
		 * all out and it stays quiet, give back what they used (slot
		 * pages, code mappings); then sleep. */
		busy = launcher_reclaim();
		wait_ms = busy > 0 ? LAUNCH_RECLAIM_MS :
		    !shed ? LAUNCH_SHED_MS : -1;
		if (poll(&pfd, 1, wait_ms) == 0) {
			if (busy == 0) {
				launcher_shed_slots();
				launcher_shed_text();
				shed = true;
			}
			continue;
		}
		launcher_serve_one(sock, parent);
		shed = false;
	}
}

/* In the new launcher: nothing of stackd's but the socket and stdio. */
static void __attribute__((noreturn))
launcher_main(int sock, pid_t parent)
{
	sigset_t	all;
	int		sig;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(0);
	(void)prctl(PR_SET_NAME, "stackd-launcher");
	/* A session of its own: its children, until their own setsid(),
	 * are in the launcher's process group, never in stackd's -- a
	 * signal to one group (^C on a terminal, a kill of a group) does not
	 * reach the other. */
	(void)setsid();
	shared_vm = launcher_can_share();
	/* Its children get every signal at its default, unblocked
	 * (spawn_child); stackd alone decides when the launcher goes. */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	for (sig = 1; sig < NSIG; sig++)
		spawn_signal_default(sig);
	if (sock != LAUNCH_SOCK) {
		if (dup3(sock, LAUNCH_SOCK, O_CLOEXEC) == -1)
			_exit(1);
		sock = LAUNCH_SOCK;
	}
	if (close_range(STDERR_FILENO + 2, ~0U, 0) == -1) {
		struct rlimit	rl;
		int		fd;

		if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur > INT_MAX)
			rl.rlim_cur = 1024;
		for (fd = STDERR_FILENO + 2; fd < (int)rl.rlim_cur; fd++)
			(void)close(fd);
	}
	launcher_serve(sock, parent);
}

/* ---------------------------------------------------------------------
 * stackd's side: start, ask, lose, stop
 */

void
launcher_start(void)
{
	pid_t	parent = getpid(), pid;
	int	sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_errno("launcher: socketpair");
		return;
	}
	if ((pid = fork()) == -1) {
		log_errno("launcher: fork");
		close(sv[0]);
		close(sv[1]);
		return;
	}
	if (pid == 0) {
		close(sv[0]);
		launcher_main(sv[1], parent);
	}
	close(sv[1]);
	launcher_sock = sv[0];
	launcher_pid = pid;
}

/* From now on stackd forks its children itself. */
static void
launcher_lost(const char *why, int err)
{
	log_msg(LOG_WARNING, "launcher: %s%s%s; stackd forks its children "
	    "itself from now on", why, err != 0 ? ": " : "",
	    err != 0 ? strerror(err) : "");
	close(launcher_sock);
	launcher_sock = -1;
}

static int
launcher_send(const struct spawn_req *r, int errfd, size_t len,
    const char *buf)
{
	union launch_cmsg	cm;
	struct msghdr		mh;
	struct iovec		iov;
	int			fds[LAUNCH_FDS], nfds;
	ssize_t			n;

	nfds = launchmsg_fds(r, errfd, fds);
	memset(&cm, 0, sizeof(cm));
	launch_msg(&mh, &iov, buf, len, &cm,
	    CMSG_SPACE((size_t)nfds * sizeof(int)));
	cm.c.cmsg_level = SOL_SOCKET;
	cm.c.cmsg_type = SCM_RIGHTS;
	cm.c.cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
	memcpy(CMSG_DATA(&cm.c), fds, (size_t)nfds * sizeof(int));
	do
		n = sendmsg(launcher_sock, &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

static int
launcher_wait(struct launch_reply *a)
{
	struct pollfd	pfd;
	ssize_t		n;
	int		rc;

	pfd.fd = launcher_sock;
	pfd.events = POLLIN;
	do
		rc = poll(&pfd, 1, LAUNCH_WAIT_MS);
	while (rc == -1 && errno == EINTR);
	if (rc == -1) {
		launcher_lost("poll", errno);
		return -1;
	}
	if (rc == 0) {
		/* Stopped or wedged: given up.  Once it is dead, an answer
		 * is queued or never comes; a child without one never gets
		 * its go and exits (launcher_serve_one). */
		launcher_kill();
		do
			n = recv(launcher_sock, a, sizeof(*a), MSG_DONTWAIT);
		while (n == -1 && errno == EINTR);
		launcher_lost("not answering", 0);
		return n == (ssize_t)sizeof(*a) ? 0 : -1;
	}
	do
		n = recv(launcher_sock, a, sizeof(*a), 0);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(*a)) {
		launcher_lost("gone", n == -1 ? errno : 0);
		return -1;
	}
	return 0;
}

pid_t
launcher_fork(const struct spawn_req *r, int errfd)
{
	static char		buf[LAUNCH_MAX];
	struct launch_reply	a;
	size_t			len;

	if (launcher_sock == -1 || (len = launchmsg_pack(r, buf)) == 0)
		return LAUNCHER_NONE;
	if (launcher_send(r, errfd, len, buf) == -1) {
		if (errno == EMSGSIZE || errno == ENOBUFS || errno == ENOMEM)
			return LAUNCHER_NONE;	/* this one only */
		launcher_lost("gone", errno);
		return LAUNCHER_NONE;
	}
	/* No answer: the launcher may have cloned the child before it was
	 * stopped or died, and that child holds errfd. */
	if (launcher_wait(&a) == -1)
		return LAUNCHER_NOANSWER;
	if (a.pid > 0)
		return a.pid;
	/* No clone for this child, so stackd tries itself: out of processes
	 * or memory maybe only under the launcher's limits (stackd's as they
	 * were at start; an operator may have raised stackd's since).  Only
	 * what will not get better -- a sandbox refusing the clone -- gives
	 * the launcher up; any other errno may be a sibling's (see struct
	 * launch_slot). */
	if (a.err == EINVAL || a.err == EPERM || a.err == ENOSYS)
		launcher_lost("cannot fork", a.err);
	return LAUNCHER_NONE;
}

bool
launcher_reaped(pid_t pid, int status)
{
	char	how[64];

	if (pid <= 0 || pid != launcher_pid)
		return false;
	launcher_pid = -1;
	if (launcher_sock != -1) {
		exit_text(status, how, sizeof(how));
		log_msg(LOG_WARNING, "launcher %s", how);
		launcher_lost("gone", 0);
	}
	return true;
}

/*
 * SIGKILL, and reap it: a process killed exits at once, unless the kernel
 * holds it (a hung file system) -- then the orphan sweep gets it, and it
 * runs no more code of its own either way.
 */
static void
launcher_kill(void)
{
	struct timespec	ts = { 0, 1000000 };
	pid_t		pid = 0;
	int		i;

	if (launcher_pid <= 0)
		return;
	(void)kill(launcher_pid, SIGKILL);
	for (i = 0; i < 100; i++) {
		pid = waitpid(launcher_pid, NULL, WNOHANG);
		if (pid > 0 || (pid == -1 && errno != EINTR))
			break;
		(void)nanosleep(&ts, NULL);
	}
	if (pid == launcher_pid || pid == -1)
		launcher_pid = -1;
}

/* It holds nothing worth a goodbye: killed and reaped here, so that
 * stackd's last look for leftover processes does not find it. */
void
launcher_stop(void)
{
	if (launcher_sock != -1) {
		close(launcher_sock);
		launcher_sock = -1;
	}
	launcher_kill();
}
