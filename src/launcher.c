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
 * (stdout, stderr, the exec-status pipe, a readiness fd) as SCM_RIGHTS.
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
#include "log.h"
#include "machine.h"
#include "spawn.h"

/* A request larger than this (a huge environment) is forked by stackd. */
#define LAUNCH_MAX	(64 * 1024)
#define LAUNCH_PTRS	4096		/* argv + env entries, at most */
/* The launcher answers within microseconds; this only bounds a stopped
 * or wedged one, which is then given up. */
#define LAUNCH_WAIT_MS	2000
#define LAUNCH_SOCK	(STDERR_FILENO + 1)	/* in the launcher */

enum {
	FD_OUT = 1, FD_ERR = 2, FD_READY = 4	/* which fds come, in order */
};
enum {
	HAS_PC = 1, HAS_NOFILE = 2, HAS_CORE = 4, HAS_NICE = 8,
	HAS_UMASK = 16, HAS_USER = 32, HAS_GROUP = 64, HAS_WORKDIR = 128
};

/* Fixed part of a request; then groups, then NUL-terminated strings:
 * workdir (if any), argv, env. */
struct launch_head {
	uint32_t	fds;
	uint32_t	has;
	int32_t		ready_num;
	int32_t		argc;
	int32_t		envc;
	int32_t		ngroups;
	int32_t		own_env;	/* env[own_env] + own_off: the room
					 * for the child's pid; -1: none */
	int32_t		own_off;
	uint64_t	nofile;
	uint64_t	core;
	int32_t		nice;
	uint32_t	umask;
	uint32_t	uid;
	uint32_t	gid;
};

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
	char		b[CMSG_SPACE(4 * sizeof(int))];
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
 * stackd's side: flatten a request
 */

static size_t
pack_str(char *buf, size_t at, const char *s)
{
	size_t	n = strlen(s) + 1;

	if (at > LAUNCH_MAX || n > LAUNCH_MAX - at)
		return SIZE_MAX;
	memcpy(buf + at, s, n);
	return at + n;
}

/* -1 if own_pid is not in the environment (stackd forks that one). */
static int
pack_own_pid(const struct spawn_req *r, struct launch_head *h)
{
	int	i;

	h->own_env = h->own_off = -1;
	if (r->own_pid == NULL)
		return 0;
	for (i = 0; i < h->envc; i++) {
		size_t	len = strlen(r->env[i]);

		if (r->own_pid >= r->env[i] && r->own_pid <= r->env[i] + len) {
			h->own_env = i;
			h->own_off = (int32_t)(r->own_pid - r->env[i]);
			return 0;
		}
	}
	return -1;
}

static void
pack_limits(const struct proc_conf *pc, struct launch_head *h)
{
	h->has |= HAS_PC | (pc->has_nofile ? HAS_NOFILE : 0) |
	    (pc->has_core ? HAS_CORE : 0) | (pc->has_nice ? HAS_NICE : 0) |
	    (pc->has_umask ? HAS_UMASK : 0) | (pc->has_user ? HAS_USER : 0) |
	    (pc->has_group ? HAS_GROUP : 0) |
	    (pc->workdir != NULL ? HAS_WORKDIR : 0);
	h->nofile = pc->nofile;
	h->core = pc->core;
	h->nice = pc->nice;
	h->umask = pc->umask;
	h->uid = pc->uid;
	h->gid = pc->gid;
	h->ngroups = pc->has_user ? pc->ngroups : 0;
}

/* The request as one message; its length, or 0 if it does not fit. */
static size_t
pack(const struct spawn_req *r, char *buf)
{
	struct launch_head	h;
	size_t			at;
	int			i;

	memset(&h, 0, sizeof(h));
	h.fds = (r->out_fd >= 0 ? FD_OUT : 0) | (r->err_fd >= 0 ? FD_ERR : 0) |
	    (r->ready_fd >= 0 ? FD_READY : 0);
	h.ready_num = r->ready_num;
	while (r->argv[h.argc] != NULL)
		h.argc++;
	while (r->env[h.envc] != NULL)
		h.envc++;
	if (h.argc + h.envc + 2 > LAUNCH_PTRS)
		return 0;
	if (pack_own_pid(r, &h) == -1)
		return 0;
	if (r->pc != NULL)
		pack_limits(r->pc, &h);
	at = sizeof(h);
	if ((size_t)h.ngroups > (LAUNCH_MAX - at) / sizeof(gid_t))
		return 0;
	if (h.ngroups > 0)
		memcpy(buf + at, r->pc->groups, (size_t)h.ngroups *
		    sizeof(gid_t));
	at += (size_t)h.ngroups * sizeof(gid_t);
	if (h.has & HAS_WORKDIR)
		at = pack_str(buf, at, r->pc->workdir);
	for (i = 0; i < h.argc && at != SIZE_MAX; i++)
		at = pack_str(buf, at, r->argv[i]);
	for (i = 0; i < h.envc && at != SIZE_MAX; i++)
		at = pack_str(buf, at, r->env[i]);
	if (at == SIZE_MAX)
		return 0;
	memcpy(buf, &h, sizeof(h));
	return at;
}

/* ---------------------------------------------------------------------
 * the launcher's side: rebuild it, clone, answer
 */

struct launch_req {
	struct spawn_req	 req;
	struct proc_conf	 pc;
	char			*argv_env[];	/* argc + 1, then envc + 1;
						 * room for LAUNCH_PTRS */
};

/* The next string at *at, or NULL if the buffer ends first. */
static char *
unpack_str(char *buf, size_t len, size_t *at)
{
	char	*s = buf + *at, *nul;

	if (*at >= len || (nul = memchr(s, '\0', len - *at)) == NULL)
		return NULL;
	*at += (size_t)(nul - s) + 1;
	return s;
}

static void
unpack_limits(const struct launch_head *h, struct proc_conf *pc)
{
	pc->has_nofile = (h->has & HAS_NOFILE) != 0;
	pc->nofile = h->nofile;
	pc->has_core = (h->has & HAS_CORE) != 0;
	pc->core = h->core;
	pc->has_nice = (h->has & HAS_NICE) != 0;
	pc->nice = h->nice;
	pc->has_umask = (h->has & HAS_UMASK) != 0;
	pc->umask = (mode_t)h->umask;
	pc->has_user = (h->has & HAS_USER) != 0;
	pc->uid = (uid_t)h->uid;
	pc->has_group = (h->has & HAS_GROUP) != 0;
	pc->gid = (gid_t)h->gid;
}

/* lr (room for LAUNCH_PTRS pointers) from the message in buf, pointing
 * into it; -1 if buf is not a request. */
static int
unpack(char *buf, size_t len, const int *fds, int nfds,
    struct launch_req *lr)
{
	struct launch_head	 h;
	size_t			 at = sizeof(h);
	char			**v;
	int			 i, want;

	if (len < sizeof(h))
		return -1;
	memcpy(&h, buf, sizeof(h));
	want = 1 + !!(h.fds & FD_OUT) + !!(h.fds & FD_ERR) +
	    !!(h.fds & FD_READY);
	if (nfds != want || h.argc < 1 || h.argc > LAUNCH_PTRS ||
	    h.envc < 0 || h.envc > LAUNCH_PTRS ||
	    h.argc + h.envc + 2 > LAUNCH_PTRS || h.ngroups < 0 ||
	    (size_t)h.ngroups > (len - at) / sizeof(gid_t))
		return -1;
	memset(lr, 0, sizeof(*lr));
	lr->pc.groups = (gid_t *)(void *)(buf + at);
	lr->pc.ngroups = h.ngroups;
	at += (size_t)h.ngroups * sizeof(gid_t);
	if (h.has & HAS_WORKDIR &&
	    (lr->pc.workdir = unpack_str(buf, len, &at)) == NULL)
		return -1;
	v = lr->argv_env;
	for (i = 0; i < h.argc + 1 + h.envc; i++)
		if (i != h.argc && (v[i] = unpack_str(buf, len, &at)) == NULL)
			return -1;
	v[h.argc] = v[h.argc + 1 + h.envc] = NULL;
	lr->req.argv = lr->argv_env;
	lr->req.env = lr->argv_env + h.argc + 1;
	if (h.own_env >= 0) {
		if (h.own_env >= h.envc || h.own_off < 0 ||
		    (size_t)h.own_off + SPAWN_PID_ROOM >
		    strlen(lr->req.env[h.own_env]))
			return -1;
		lr->req.own_pid = lr->req.env[h.own_env] + h.own_off;
	}
	if (h.has & HAS_PC) {
		unpack_limits(&h, &lr->pc);
		lr->req.pc = &lr->pc;
	}
	i = 1;				/* fds[0] is the exec-status pipe */
	lr->req.out_fd = h.fds & FD_OUT ? fds[i++] : -1;
	lr->req.err_fd = h.fds & FD_ERR ? fds[i++] : -1;
	lr->req.ready_fd = h.fds & FD_READY ? fds[i++] : -1;
	lr->req.ready_num = h.ready_num;
	return 0;
}

/*
 * A child between clone and exec.  With CLONE_VM it runs in the
 * launcher's own memory, on a stack of its own, reading its request from
 * its slot: no page tables to copy, nothing to copy-on-write.  Unlike
 * vfork the launcher does not wait for the exec; the kernel clears tid
 * (CLONE_CHILD_CLEARTID) once the child has left this memory -- exec'd or
 * exited -- and only then is the slot used again.  The child makes only
 * system calls (spawn_child).  What it shares by accident is errno (no
 * TLS of its own), and execvp's PATH search decides by it.  So while
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
#define LAUNCH_LRSIZE	(sizeof(struct launch_req) + \
			    LAUNCH_PTRS * sizeof(char *))
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
	*nfds = launcher_fds(&mh, fds, 4);
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
	int			 fds[4], go[2] = { -1, -1 }, nfds, i;
	int			 err = EAGAIN;

	len = launcher_receive(sock, sl != NULL ? SLOT_MSG(sl) : scratch, fds,
	    &nfds);
	if (shared_vm && sl == NULL)
		;			/* every slot busy: EAGAIN */
	else if (unpack(sl != NULL ? SLOT_MSG(sl) : scratch, len, fds, nfds,
	    lr) == -1)
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
	int			fds[4], nfds = 0;
	ssize_t			n;

	fds[nfds++] = errfd;
	if (r->out_fd >= 0)
		fds[nfds++] = r->out_fd;
	if (r->err_fd >= 0)
		fds[nfds++] = r->err_fd;
	if (r->ready_fd >= 0)
		fds[nfds++] = r->ready_fd;
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

	if (launcher_sock == -1 || (len = pack(r, buf)) == 0)
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
