/*
 * ready.c -- readiness and status reported by the child itself: ready =
 * notify and ready = fd:N.  (notify.c is the other direction: stackd to
 * systemd.)
 *
 * notify: each spawn gets a datagram socket of its own in the abstract
 * namespace (nothing on disk to clean up, works in read-only containers),
 * passed as NOTIFY_SOCKET, so daemons written for systemd and the real
 * systemd-notify work unchanged.  One socket per process, not one shared
 * by all: a child that floods its socket fills only its own queue and
 * cannot hold up another's READY=1 (with a shared queue full, every
 * sender blocks or fails); a restarted process gets a new address, so
 * nothing left over from its previous run -- a queued message, a stray
 * grandchild -- can speak for the new one; and the address says whom a
 * message is about, the sender's process group only confirms it.  The
 * price is one descriptor per notify process.
 *
 * A message counts only when its sender, by SCM_CREDENTIALS, is in the
 * child's process group: a wrapper script's systemd-notify qualifies, a
 * stranger does not.  notifymsg.c parses it, this file acts on it:
 * READY=1 makes the process ready; STATUS= is kept for status and goes to
 * event subscribers; MAINPID= (in the group) is shown as its main pid;
 * ERRNO= goes with its next exit; STOPPING=1 makes that exit an expected
 * one; WATCHDOG= feeds watchdog.c.  Foreign, oversized and malformed
 * messages are ignored and logged; every line a child's messages cause is
 * rate-limited (ready_log), so a child cannot flood the log.  Descriptors
 * that come with a message are closed once it is processed; that is also
 * what systemd-notify's BARRIER=1 waits for.  When the child exits, what
 * it sent before is read first (ready_reaped): a daemon's last ERRNO= or
 * STOPPING=1 must not lose the race against its own SIGCHLD.
 *
 * fd:N (s6 style): the child's fd N is the write end of a pipe; the first
 * newline on it means ready, and the pipe is closed then.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "notifymsg.h"

#define READY_LOG_LINES		5	/* log lines per process... */
#define READY_LOG_WINDOW	10000	/* ...in this many ms */
#define READY_DRAIN_MAX		64	/* datagrams read at an exit */

struct ready_watch {
	ev_io		 io;
	int		 proc;
	bool		 notify;	/* else fd:N */
	struct watchdog	 wd;
	ev_io		 mainpid;	/* pidfd of MAINPID=, fd -1: none */
	msec_t		 window;	/* ready_log's rate limit: since, */
	int		 logged;	/* lines logged in it, */
	unsigned	 dropped;	/* lines not logged */
};

static struct ready_watch **watches;	/* one per process, or NULL */
static int		    nwatches;
static unsigned		    ready_serial;

static void
ready_log_dropped(struct daemon *d, struct ready_watch *w)
{
	if (w->dropped > 0)
		log_msg(LOG_WARNING, "process %s: %u more lines about its "
		    "notify messages were not logged",
		    d->cfg->procs[w->proc].name, w->dropped);
	w->dropped = 0;
}

/*
 * Every log line a child's notify messages cause goes through here, rate
 * limited, so that a child sending garbage (or ERRNO=1, ERRNO=2, ...) in
 * a loop cannot fill the log.  What is dropped is counted and reported
 * with the next line logged, or when the watch closes.
 */
static void __attribute__((format(printf, 4, 5)))
ready_log(struct daemon *d, struct ready_watch *w, int prio,
    const char *fmt, ...)
{
	char	 text[384];
	va_list	 ap;
	msec_t	 now = now_msec();

	if (now - w->window >= READY_LOG_WINDOW) {
		ready_log_dropped(d, w);
		w->window = now;
		w->logged = 0;
	}
	if (w->logged >= READY_LOG_LINES) {
		w->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_msg(prio, "%s%s", text, ++w->logged == READY_LOG_LINES ?
	    " (more within 10s are only counted)" : "");
}

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
	if ((watches[i] = calloc(1, sizeof(*watches[i]))) != NULL) {
		watches[i]->proc = i;
		watches[i]->mainpid.fd = -1;
		watchdog_init(&watches[i]->wd, i);
	}
	return watches[i];
}

static void
ready_mainpid_forget(struct daemon *d, struct ready_watch *w)
{
	if (w->mainpid.fd == -1)
		return;
	ev_io_stop(d->loop, &w->mainpid);
	close(w->mainpid.fd);
	w->mainpid.fd = -1;
}

/* The main pid exited (its pidfd became readable): status shows the
 * process's own pid again rather than a dead one. */
static void
ready_mainpid_gone(struct ev_loop *loop, ev_io *io, int revents)
{
	struct ready_watch	*w = (struct ready_watch *)(void *)
				    ((char *)io - offsetof(struct ready_watch,
				    mainpid));
	struct daemon		*d = daemon_self;
	struct proc_rt		*p = &d->m.procs[w->proc];

	log_msg(LOG_INFO, "process %s: main pid %ld exited",
	    d->cfg->procs[w->proc].name, (long)p->main_pid);
	p->main_pid = 0;
	ready_mainpid_forget(d, w);
	machine_status_changed(&d->m);
	daemon_run(d);
}

/* Watch pid through a pidfd; false if it is already gone. */
static bool
ready_mainpid_watch(struct daemon *d, struct ready_watch *w, pid_t pid)
{
	int	fd;

	ready_mainpid_forget(d, w);
	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return errno != ESRCH;	/* no pidfds: shown, not watched */
	ev_io_init(&w->mainpid, ready_mainpid_gone, fd, EV_READ);
	ev_io_start(d->loop, &w->mainpid);
	return true;
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
	ready_mainpid_forget(d, w);
	watchdog_cancel(d, &w->wd);
	ready_log_dropped(d, w);
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
		nw[map[i]]->wd.proc = map[i];
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

/* Is pid in process i's process group (the child leads it)? */
static bool
ready_in_group(struct daemon *d, int i, pid_t pid)
{
	pid_t	leader = d->m.procs[i].pid;

	if (leader <= 0 || pid <= 0)
		return false;
	return pid == leader || getpgid(pid) == leader;
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

/*
 * MAINPID= must name a process of the group: that is what stop signals
 * and the watchdog reach, and what messages are accepted from.  A pid
 * outside it is refused; the rest of the message still counts.
 */
static void
ready_mainpid(struct daemon *d, struct ready_watch *w, pid_t pid)
{
	struct proc_rt	*p = &d->m.procs[w->proc];
	const char	*name = d->cfg->procs[w->proc].name;

	if (!ready_in_group(d, w->proc, pid)) {
		ready_log(d, w, LOG_WARNING, "process %s: ignoring "
		    "MAINPID=%ld: not in its process group %ld", name,
		    (long)pid, (long)p->pid);
		return;
	}
	if (pid == p->main_pid)
		return;
	if (!ready_mainpid_watch(d, w, pid)) {
		ready_log(d, w, LOG_WARNING, "process %s: ignoring "
		    "MAINPID=%ld: no such process", name, (long)pid);
		return;
	}
	p->main_pid = pid;
	ready_log(d, w, LOG_INFO, "process %s: main pid %ld", name,
	    (long)pid);
	machine_status_changed(&d->m);
}

static void
ready_status(struct daemon *d, int i, const char *s, size_t len)
{
	struct proc_rt	*p = &d->m.procs[i];
	char		 text[sizeof(p->status_text)];

	snprintf(text, sizeof(text), "%.*s", (int)len, s);
	if (strcmp(text, p->status_text) == 0)
		return;
	memcpy(p->status_text, text, sizeof(text));
	machine_status_changed(&d->m);
	events_process(d, EVT_PROCESS_STATUS, i, text);
}

/* ERRNO=: kept for the exit it explains (proc_exit_text); 0 clears it. */
static void
ready_errno(struct daemon *d, struct ready_watch *w, int errnum)
{
	struct proc_rt	*p = &d->m.procs[w->proc];

	if (errnum == p->errnum)
		return;
	p->errnum = errnum;
	if (errnum > 0)
		ready_log(d, w, LOG_WARNING, "process %s reports ERRNO=%d: %s",
		    d->cfg->procs[w->proc].name, errnum, strerror(errnum));
}

static void
ready_apply(struct daemon *d, struct ready_watch *w,
    const struct notifymsg *nm)
{
	struct proc_rt	*p = &d->m.procs[w->proc];
	int		 i = w->proc;

	if (nm->mainpid > 0)
		ready_mainpid(d, w, nm->mainpid);
	if (nm->status != NULL)
		ready_status(d, i, nm->status, nm->status_len);
	if (nm->errnum >= 0)
		ready_errno(d, w, nm->errnum);
	if (nm->stopping && !p->stop_announced) {
		p->stop_announced = true;
		ready_log(d, w, LOG_INFO, "process %s is stopping "
		    "(STOPPING=1)", d->cfg->procs[i].name);
		watchdog_disarm(d, &w->wd);
	}
	if (nm->ready) {
		machine_proc_ready(&d->m, i, now_msec());
		watchdog_ping(d, &w->wd);
	}
	if (nm->trigger)
		watchdog_fire(d, &w->wd, "WATCHDOG=trigger");
	else if (nm->ping)
		watchdog_ping(d, &w->wd);
}

/* Read and act on one datagram; false when there was none to read. */
static bool
ready_notify_one(struct daemon *d, struct ready_watch *w)
{
	char			 buf[NOTIFYMSG_MAX], why[160];
	union {
		struct cmsghdr	 align;
		char		 space[CMSG_SPACE(sizeof(struct ucred)) +
				    CMSG_SPACE(sizeof(int) * 16)];
	}			 cbuf;
	struct iovec		 iov = { buf, sizeof(buf) };
	struct msghdr		 msg;
	struct notifymsg	 nm;
	const char		*name = d->cfg->procs[w->proc].name;
	ssize_t			 n;
	pid_t			 sender;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.space;
	msg.msg_controllen = sizeof(cbuf.space);
	/* MSG_TRUNC: n is the datagram's full length, even when it did not
	 * fit, so an oversized one is recognised. */
	n = recvmsg(w->io.fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC |
	    MSG_TRUNC);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			ready_log(d, w, LOG_WARNING, "process %s: notify "
			    "socket: recvmsg: %s", name, strerror(errno));
		return false;
	}
	sender = ready_sender(&msg);
	if (!ready_in_group(d, w->proc, sender))
		ready_log(d, w, LOG_WARNING, "process %s: ignoring a notify "
		    "message from pid %ld: not in its process group %ld",
		    name, (long)sender, (long)d->m.procs[w->proc].pid);
	else if (n > NOTIFYMSG_MAX || (msg.msg_flags & MSG_TRUNC))
		ready_log(d, w, LOG_WARNING, "process %s: ignoring a notify "
		    "message of %zd bytes from pid %ld: more than %d", name,
		    n, (long)sender, NOTIFYMSG_MAX);
	else if (notifymsg_parse(buf, (size_t)n, &nm, why, sizeof(why)) == -1)
		ready_log(d, w, LOG_WARNING, "process %s: ignoring a "
		    "malformed notify message from pid %ld: %s", name,
		    (long)sender, why);
	else
		ready_apply(d, w, &nm);
	/* Processed: closing the fds acknowledges a BARRIER=1. */
	ready_close_fds(&msg);
	return true;
}

static void
ready_notify_read(struct ev_loop *loop, ev_io *io, int revents)
{
	struct daemon	*d = daemon_self;

	ready_notify_one(d, (struct ready_watch *)io);
	daemon_run(d);
}

/*
 * Process i exited: what it sent before its exit (ERRNO=, STOPPING=1,
 * STATUS=) is read now, before the machine hears of the exit, then the
 * socket is closed.  Bounded, since other members of its group may still
 * be sending.  No daemon_run here: the caller is in the middle of reaping.
 */
void
ready_reaped(struct daemon *d, int i)
{
	struct ready_watch	*w;
	int			 n;

	if (watches != NULL && i >= 0 && i < nwatches &&
	    (w = watches[i]) != NULL && w->notify)
		for (n = 0; n < READY_DRAIN_MAX && ready_notify_one(d, w); n++)
			;
	ready_close(d, i);
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
		log_errno("process %s: notify socket", d->cfg->procs[i].name);
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
