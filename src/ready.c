/*
 * ready.c -- readiness reported by the child itself: ready = notify and
 * ready = fd:N.  (notify.c is the other direction: stackd to systemd.)
 *
 * notify: each spawn gets its own datagram socket in the abstract
 * namespace (nothing on disk to clean up, works in read-only containers),
 * passed as NOTIFY_SOCKET, so daemons written for systemd and the real
 * systemd-notify work unchanged.  A message counts only when its sender,
 * by SCM_CREDENTIALS, is in the child's process group: a wrapper script's
 * systemd-notify qualifies, a stranger does not.  Descriptors that come
 * with a message are closed once it is processed; that is also what
 * systemd-notify's BARRIER=1 waits for.  READY=1 makes the process ready,
 * STATUS= is kept for `stackctl status`, the rest is ignored.
 *
 * fd:N (s6 style): the child's fd N is the write end of a pipe; the first
 * newline on it means ready, and the pipe is closed then.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define READY_MSGMAX	4096

struct ready_watch {
	ev_io		 io;
	int		 proc;
	bool		 notify;	/* else fd:N */
};

static struct ready_watch **watches;	/* one per process, or NULL */
static int		    nwatches;
static unsigned		    ready_serial;

static struct ready_watch *
ready_slot(struct daemon *d, int i)
{
	if (watches == NULL) {
		watches = calloc((size_t)d->cfg->nprocs + 1, sizeof(*watches));
		if (watches == NULL)
			return NULL;
		nwatches = d->cfg->nprocs;
	}
	ready_close(d, i);
	if ((watches[i] = calloc(1, sizeof(*watches[i]))) != NULL)
		watches[i]->proc = i;
	return watches[i];
}

void
ready_close(struct daemon *d, int i)
{
	struct ready_watch	*w;

	if (watches == NULL || i < 0 || i >= nwatches || watches[i] == NULL)
		return;
	w = watches[i];
	ev_io_stop(d->loop, &w->io);
	close(w->io.fd);
	free(w);
	watches[i] = NULL;
}

/* Reload: watchers follow their process to its new index (map[old]), or
 * close when it is gone. */
void
ready_remap(struct daemon *d, const int *map, int nold, int nnew)
{
	struct ready_watch	**nw;
	int			  i;

	if (watches == NULL)
		return;
	if ((nw = calloc((size_t)nnew + 1, sizeof(*nw))) == NULL) {
		/* Keep none rather than misattribute: affected processes
		 * are simply not seen ready and the climb times out. */
		ready_close_all(d);
		return;
	}
	for (i = 0; i < nold && i < nwatches; i++) {
		if (watches[i] == NULL)
			continue;
		if (map[i] < 0 || map[i] >= nnew) {
			ready_close(d, i);
			continue;
		}
		nw[map[i]] = watches[i];
		nw[map[i]]->proc = map[i];
	}
	free(watches);
	watches = nw;
	nwatches = nnew;
}

void
ready_close_all(struct daemon *d)
{
	int	i;

	for (i = 0; i < nwatches; i++)
		ready_close(d, i);
	free(watches);
	watches = NULL;
	nwatches = 0;
}

/* Is the sender in process i's process group (the child leads it)? */
static bool
ready_sender_ok(struct daemon *d, int i, pid_t sender)
{
	pid_t	leader = d->m.procs[i].pid;

	if (leader <= 0 || sender <= 0)
		return false;
	return sender == leader || getpgid(sender) == leader;
}

static void
ready_notify_line(struct daemon *d, int i, const char *line, size_t len)
{
	struct proc_rt	*p = &d->m.procs[i];

	if (len == 7 && memcmp(line, "READY=1", 7) == 0) {
		machine_proc_ready(&d->m, i, now_msec());
	} else if (len >= 7 && memcmp(line, "STATUS=", 7) == 0) {
		snprintf(p->status_text, sizeof(p->status_text), "%.*s",
		    (int)(len - 7), line + 7);
		machine_status_changed(&d->m);
	}
}

static void
ready_close_fds(struct msghdr *msg)
{
	struct cmsghdr	*c;
	int		*fds;
	size_t		 n, k;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		fds = (int *)(void *)CMSG_DATA(c);
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (k = 0; k < n; k++)
			close(fds[k]);
	}
}

static pid_t
ready_sender(struct msghdr *msg)
{
	struct cmsghdr	*c;
	struct ucred	 cred;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(cred))) {
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			return cred.pid;
		}
	return -1;
}

static void
ready_notify_read(struct ev_loop *loop, ev_io *io, int revents)
{
	struct ready_watch	*w = (struct ready_watch *)io;
	struct daemon		*d = daemon_self;
	char			 buf[READY_MSGMAX + 1];
	union {
		struct cmsghdr	 align;
		char		 space[CMSG_SPACE(sizeof(struct ucred)) +
				    CMSG_SPACE(sizeof(int) * 16)];
	}			 cbuf;
	struct iovec		 iov = { buf, READY_MSGMAX };
	struct msghdr		 msg;
	ssize_t			 n;
	char			*line, *nl, *end;
	int			 i = w->proc;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.space;
	msg.msg_controllen = sizeof(cbuf.space);
	n = recvmsg(io->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return;
	if (!ready_sender_ok(d, i, ready_sender(&msg))) {
		ready_close_fds(&msg);
		return;
	}
	end = buf + n;
	for (line = buf; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		ready_notify_line(d, i, line, (size_t)(nl - line));
	}
	/* Processed: closing the fds acknowledges a BARRIER=1. */
	ready_close_fds(&msg);
	daemon_run(d);
}

/* Create process i's NOTIFY_SOCKET; its address goes into *addr. */
int
ready_notify_open(struct daemon *d, int i, char *addr, size_t len)
{
	struct ready_watch	*w;
	struct sockaddr_un	 sun;
	socklen_t		 slen;
	int			 fd, on = 1;

	if ((w = ready_slot(d, i)) == NULL)
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		free(w);
		watches[i] = NULL;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	/* Abstract: sun_path[0] == '\0'; NOTIFY_SOCKET spells it '@'. */
	snprintf(addr, len, "@stackd/%ld/%s/%u", (long)getpid(),
	    d->cfg->procs[i].name, ++ready_serial);
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "%s", addr + 1);
	slen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
	    strlen(sun.sun_path + 1));
	if (bind(fd, (struct sockaddr *)&sun, slen) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1) {
		log_errno("process %s: notify socket", d->cfg->procs[i].name);
		close(fd);
		free(w);
		watches[i] = NULL;
		return -1;
	}
	w->notify = true;
	ev_io_init(&w->io, ready_notify_read, fd, EV_READ);
	ev_io_start(d->loop, &w->io);
	return 0;
}

static void
ready_fd_read(struct ev_loop *loop, ev_io *io, int revents)
{
	struct ready_watch	*w = (struct ready_watch *)io;
	struct daemon		*d = daemon_self;
	char			 buf[512];
	ssize_t			 n;
	int			 i = w->proc;

	n = read(io->fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0 && memchr(buf, '\n', (size_t)n) == NULL)
		return;
	/* A newline: ready.  EOF: the child closed it without one. */
	ready_close(d, i);
	if (n > 0)
		machine_proc_ready(&d->m, i, now_msec());
	daemon_run(d);
}

/* The pipe for ready = fd:N; *wfd goes to the child as fd N. */
int
ready_fd_open(struct daemon *d, int i, int *wfd)
{
	struct ready_watch	*w;
	int			 fds[2] = { -1, -1 };

	if ((w = ready_slot(d, i)) == NULL)
		return -1;
	/* The child's end stays blocking, as s6 gives it. */
	if (pipe2(fds, O_CLOEXEC) == -1 ||
	    fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) {
		log_errno("process %s: readiness pipe", d->cfg->procs[i].name);
		if (fds[0] >= 0) {
			close(fds[0]);
			close(fds[1]);
		}
		free(w);
		watches[i] = NULL;
		return -1;
	}
	/* The child's end must block like any ordinary fd. */
	fcntl(fds[1], F_SETFL, 0);
	ev_io_init(&w->io, ready_fd_read, fds[0], EV_READ);
	ev_io_start(d->loop, &w->io);
	*wfd = fds[1];
	return 0;
}
