/*
 * launchmsg.c -- the launcher's wire format.
 *
 * stackd hands the launcher one spawn request per SOCK_SEQPACKET message:
 * a fixed head (which descriptors come, which limits are set, how many
 * argv and env strings), the supplementary groups, then NUL-terminated
 * strings -- workdir, argv, env -- and the child's descriptors as
 * SCM_RIGHTS, in a fixed order.  Both ends are stackd's own code in two
 * processes, so the format needs no versioning; but the launcher must not
 * trust a message further than it can check it, and unpacking is where a
 * bug in either end would turn into a stray pointer in a child about to
 * exec.  So this file is only the format, with no I/O: the unit tests
 * round-trip requests through it and a fuzzer feeds unpack arbitrary
 * bytes (tests/fuzz/fuzz_launchmsg.c).
 *
 * The unpacked request points into the message: nothing is copied or
 * allocated, since the launcher unpacks into memory its CLONE_VM child
 * reads until it execs.
 */
#include <stdint.h>
#include <string.h>

#include "launchmsg.h"

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

size_t
launchmsg_pack(const struct spawn_req *r, char *buf)
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

int
launchmsg_fds(const struct spawn_req *r, int errfd, int fds[LAUNCH_FDS])
{
	int	n = 0;

	fds[n++] = errfd;
	if (r->out_fd >= 0)
		fds[n++] = r->out_fd;
	if (r->err_fd >= 0)
		fds[n++] = r->err_fd;
	if (r->ready_fd >= 0)
		fds[n++] = r->ready_fd;
	return n;
}

/* ---------------------------------------------------------------------
 * the launcher's side: rebuild it
 */

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

int
launchmsg_unpack(char *buf, size_t len, const int *fds, int nfds,
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
