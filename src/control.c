/*
 * control.c -- the control socket: one request line in, one reply out.
 *
 * Everything here is non-blocking and bounded so that no client can hold
 * up supervision: a request is at most CONTROL_REQMAX bytes, a client that
 * sends nothing or reads nothing is dropped after CONTROL_IDLE seconds,
 * and at most CONTROL_MAXCLIENTS are served at once (a newcomer pushes out
 * the idlest of them).  Requests are printable ASCII; anything else is
 * refused before it is parsed.  Peers are checked with SO_PEERCRED at
 * accept time: only root and stackd's own uid may talk to it.  The wire
 * format (stackctl(1)): the reply's first line is "ok" or "error MESSAGE",
 * any payload follows, then the daemon closes.
 * `wait LEVEL` is answered when the stack gets there.  `events` turns the
 * connection into a subscription: "ok", then one JSON line per event until
 * the client goes away; a subscriber that falls more than EVENTS_BUFMAX
 * bytes behind is dropped rather than allowed to grow stackd's memory.
 */
#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlpath.h"
#include "daemon.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "request.h"
#include "status.h"

#define CONTROL_REQMAX		4096
#define CONTROL_MAXCLIENTS	64
#define CONTROL_IDLE		10.0
#define CONTROL_PAUSE		1.0	/* accept(2) out of descriptors */
#define EVENTS_MAXSUBS		16	/* leave room for status and wait */
#define EVENTS_BUFMAX		(256 * 1024)

struct client {
	ev_io		 io;
	ev_timer	 idle;
	struct client	*next;
	size_t		 inlen;
	size_t		 outoff;
	struct buf	 out;
	int		 wait_level;	/* -1: not waiting */
	bool		 subscriber;	/* streaming events */
	bool		 eof;		/* it half-closed: nothing to read */
	char		 in[CONTROL_REQMAX];
};

static int		 control_fd = -1;
static ev_io		 control_io;
static ev_timer		 control_pause;
static struct client	*clients;
static int		 nclients;
static int		 nsubscribers;

static void	control_client_io(struct ev_loop *, ev_io *, int);

static void
control_close(struct daemon *d, struct client *c)
{
	struct client	**pp;

	ev_io_stop(d->loop, &c->io);
	ev_timer_stop(d->loop, &c->idle);
	close(c->io.fd);
	buf_free(&c->out);
	if (c->subscriber)
		nsubscribers--;
	for (pp = &clients; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	nclients--;
	free(c);
}

/* Queue the reply (already in c->out) and switch to writing it. */
static void
control_send(struct daemon *d, struct client *c)
{
	c->wait_level = -1;
	if (c->out.oom) {
		buf_free(&c->out);
		buf_printf(&c->out, "error out of memory\n");
	}
	ev_io_stop(d->loop, &c->io);
	ev_io_set(&c->io, c->io.fd, EV_WRITE);
	ev_io_start(d->loop, &c->io);
	ev_timer_stop(d->loop, &c->idle);
	ev_timer_set(&c->idle, CONTROL_IDLE, 0.);
	ev_timer_start(d->loop, &c->idle);
}

static void
control_reply(struct daemon *d, struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
control_reply(struct daemon *d, struct client *c, const char *fmt, ...)
{
	va_list	 ap;
	char	 line[512], *s;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One printable line, as stackctl(1) says, whatever a path or a
	 * value quoted from the file holds (a newline, an escape). */
	for (s = line; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	buf_printf(&c->out, "%s\n", line);
	control_send(d, c);
}

/* Resolve LEVEL for a request; -1 after replying with an error. */
static int
control_level(struct daemon *d, struct client *c, const char *arg)
{
	int	lvl;

	if (arg == NULL) {
		control_reply(d, c, "error missing LEVEL");
		return -1;
	}
	if ((lvl = config_level_ref(d->cfg, arg)) < 0) {
		control_reply(d, c, "error unknown level '%.64s'", arg);
		return -1;
	}
	return lvl;
}

static void
control_wait(struct daemon *d, struct client *c, const char *arg)
{
	int	lvl, up = machine_up_level(&d->m);

	if ((lvl = control_level(d, c, arg)) < 0)
		return;
	if (up >= lvl) {
		control_reply(d, c, "ok level %d", up);
		return;
	}
	if (d->m.shutting_down) {
		control_reply(d, c, "error stackd is shutting down");
		return;
	}
	/* Answered from control_changed; no idle timeout while waiting,
	 * but keep reading so a client that gives up frees its slot. */
	c->wait_level = lvl;
	ev_timer_stop(d->loop, &c->idle);
	ev_io_start(d->loop, &c->io);
}

/* Watch c for reading, and for writing while output is pending. */
static void
control_watch(struct daemon *d, struct client *c)
{
	int	events = c->eof ? 0 : EV_READ;

	if (c->outoff < c->out.len)
		events |= EV_WRITE;
	if (ev_is_active(&c->io) && (c->io.events & (EV_READ | EV_WRITE)) ==
	    events)
		return;
	ev_io_stop(d->loop, &c->io);
	if (events == 0)
		return;		/* a half-closed waiter: its reply wakes it */
	ev_io_set(&c->io, c->io.fd, events);
	ev_io_start(d->loop, &c->io);
}

static void
control_subscribe(struct daemon *d, struct client *c)
{
	struct action	a = { .kind = ACT_EVENT, .event = EVT_SUBSCRIBED,
			    .level = -1, .proc = -1 };

	if (nsubscribers >= EVENTS_MAXSUBS) {
		control_reply(d, c, "error too many event subscribers (max %d)",
		    EVENTS_MAXSUBS);
		return;
	}
	nsubscribers++;
	c->subscriber = true;
	ev_timer_stop(d->loop, &c->idle);
	/* The first line says where the stack is, so that a consumer knows
	 * its starting point and that it is subscribed. */
	buf_printf(&c->out, "ok\n");
	events_line(d, &a, &c->out);
	control_watch(d, c);
}

bool
control_has_subscribers(void)
{
	return nsubscribers > 0;
}

/* One event line to every subscriber; drop the ones too far behind. */
void
control_broadcast(struct daemon *d, const char *line, size_t len)
{
	struct client	*c, *next;

	for (c = clients; c != NULL; c = next) {
		next = c->next;
		if (!c->subscriber)
			continue;
		if (c->out.len - c->outoff + len > EVENTS_BUFMAX) {
			log_msg(LOG_WARNING, "control: dropping an events "
			    "subscriber that does not read");
			control_close(d, c);
			continue;
		}
		if (c->outoff > 0) {
			/* Drop what was sent, so a subscriber that reads,
			 * but never quite catches up, cannot grow it. */
			memmove(c->out.data, c->out.data + c->outoff,
			    c->out.len - c->outoff);
			c->out.len -= c->outoff;
			c->outoff = 0;
		}
		buf_append(&c->out, line, len);
		if (c->out.oom) {
			control_close(d, c);
			continue;
		}
		control_watch(d, c);
	}
}

static void
control_restart(struct daemon *d, struct client *c, const char *name)
{
	const char	*why;
	int		 i, lvl;

	if ((i = config_proc_index(d->cfg, name)) < 0) {
		control_reply(d, c, "error unknown process '%.64s'", name);
		return;
	}
	lvl = d->cfg->procs[i].level;
	if ((why = machine_restart_refused(&d->m, i)) != NULL) {
		control_reply(d, c, "error %s", why);
		return;
	}
	(void)machine_restart_proc(&d->m, i, now_msec());
	control_reply(d, c, "ok restarting %s (level %s)", name,
	    d->cfg->levels[lvl].name);
	daemon_run(d);
}

static void
control_reload(struct daemon *d, struct client *c)
{
	char	err[PARSE_ERRMAX];

	log_msg(LOG_INFO, "control: reloading %s", d->cfg->path);
	if (reconfigure(d, err, sizeof(err)) == -1)
		control_reply(d, c, "error %s", err);
	else
		control_reply(d, c, "ok reloaded %s", d->cfg->path);
}

static void
control_metrics(struct daemon *d, struct client *c)
{
	buf_printf(&c->out, "ok\n");
	metrics_render(d, &c->out);
	control_send(d, c);
}

static void
control_status(struct daemon *d, struct client *c, const struct request *rq)
{
	msec_t	now = now_msec();

	buf_printf(&c->out, "ok\n");
	if (rq->argc == 1 && strcmp(rq->argv[0], "json") == 0)
		status_json(d, &c->out, now);
	else
		status_text(d, &c->out, now, rq->argc == 1);
	control_send(d, c);
}

static void
control_target(struct daemon *d, struct client *c, const char *arg)
{
	int	lvl;

	if ((lvl = control_level(d, c, arg)) < 0)
		return;
	if (machine_set_target(&d->m, lvl, now_msec()) == -1) {
		control_reply(d, c, "error stackd is shutting down");
		return;
	}
	control_reply(d, c, "ok target %d", lvl);
	daemon_run(d);
}

static void
control_ready(struct daemon *d, struct client *c, const struct request *rq)
{
	int	lvl, up = machine_up_level(&d->m);

	lvl = rq->argc == 1 ? control_level(d, c, rq->argv[0]) :
	    d->cfg->ready_level;
	if (lvl < 0)
		return;
	if (up >= lvl)
		control_reply(d, c, "ok level %d", up);
	else
		control_reply(d, c, "error at level %d, below %d", up, lvl);
}

static void
control_request(struct daemon *d, struct client *c, char *line, size_t len)
{
	struct request	rq;
	char		err[128];

	if (request_parse(line, len, &rq, err, sizeof(err)) == -1) {
		control_reply(d, c, "error %s", err);
		return;
	}
	switch (rq.kind) {
	case REQ_STATUS:
		control_status(d, c, &rq);
		break;
	case REQ_TARGET:
		control_target(d, c, rq.argv[0]);
		break;
	case REQ_WAIT:
		control_wait(d, c, rq.argv[0]);
		break;
	case REQ_READY:
		control_ready(d, c, &rq);
		break;
	case REQ_RESTART:
		control_restart(d, c, rq.argv[0]);
		break;
	case REQ_RELOAD:
		control_reload(d, c);
		break;
	case REQ_EVENTS:
		control_subscribe(d, c);
		break;
	case REQ_METRICS:
		control_metrics(d, c);
		break;
	case REQ_SHUTDOWN:
		control_reply(d, c, "ok shutting down");
		machine_shutdown(&d->m, now_msec());
		daemon_run(d);
		break;
	}
}

/*
 * Best effort, for a client we drop before it holds a slot or before it
 * got any reply: a short line always fits the empty buffer of a socket
 * nothing was sent on yet.
 */
static void
control_tell(int fd, const char *line)
{
	(void)!send(fd, line, strlen(line), MSG_NOSIGNAL);
}

/* Both directions shut (POLLHUP on a Unix socket): the peer closed, it
 * did not merely half-close. */
static bool
control_peer_gone(const struct client *c)
{
	struct pollfd	pfd = { c->io.fd, 0, 0 };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP);
}

/* A waiting client or subscriber has nothing more to say.  EOF is a
 * half-close (PROTOCOL allows one instead of the newline, as `printf ... |
 * socat` does): it still gets its reply, and is no longer read; a peer
 * that is gone altogether shows when its reply is written, or when its
 * slot is wanted (control_make_room).  Anything else it sends breaks the
 * protocol (one request per connection): it is told so and dropped,
 * rather than read forever.  Returns false when the client is gone. */
static bool
control_read_waiting(struct daemon *d, struct client *c)
{
	char	buf[256];
	ssize_t	n;

	n = read(c->io.fd, buf, sizeof(buf));
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n == 0 && !control_peer_gone(c)) {
		c->eof = true;
		control_watch(d, c);
		return true;
	}
	/* A subscriber may be mid-event: it is only dropped. */
	if (n > 0 && c->wait_level >= 0)
		control_tell(c->io.fd, "error unexpected input after the "
		    "request\n");
	control_close(d, c);
	return false;
}

static void
control_read(struct daemon *d, struct client *c)
{
	char	*nl;
	ssize_t	 n;

	if (c->wait_level >= 0) {
		(void)control_read_waiting(d, c);
		return;
	}
	n = read(c->io.fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1 || (n == 0 && c->inlen == 0)) {
		control_close(d, c);
		return;
	}
	c->inlen += (size_t)n;
	if ((nl = memchr(c->in, '\n', c->inlen)) == NULL) {
		if (c->inlen == sizeof(c->in)) {
			control_reply(d, c, "error request too long (max %d "
			    "bytes)", CONTROL_REQMAX);
			return;
		}
		if (n > 0)
			return;
		/* EOF after a partial line (half-closed): that is the
		 * request. */
		nl = c->in + c->inlen;
	}
	ev_io_stop(d->loop, &c->io);
	control_request(d, c, c->in, (size_t)(nl - c->in));
}

static void
control_write(struct daemon *d, struct client *c)
{
	ssize_t	n;

	n = send(c->io.fd, c->out.data + c->outoff, c->out.len - c->outoff,
	    MSG_NOSIGNAL);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		c->outoff += (size_t)n;
	if (n > 0 && c->subscriber) {
		/* Caught up: reuse the buffer, wait for the next event. */
		if (c->outoff == c->out.len)
			c->out.len = c->outoff = 0;
		control_watch(d, c);
		return;
	}
	if (n <= 0 || c->outoff == c->out.len)
		control_close(d, c);
}

static void
control_client_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct client	*c = (struct client *)w;

	if (c->subscriber) {
		/* It watches both; reading first may find it gone. */
		if ((revents & EV_READ) && !control_read_waiting(daemon_self, c))
			return;
		if (revents & EV_WRITE)
			control_write(daemon_self, c);
		return;
	}
	if (revents & EV_WRITE)
		control_write(daemon_self, c);
	else if (revents & EV_READ)
		control_read(daemon_self, c);
}

static void
control_client_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct client	*c = (struct client *)((char *)w -
			    offsetof(struct client, idle));

	control_close(daemon_self, c);
}

/* Only root and stackd's own uid may talk to it. */
static int
control_peer_ok(int fd)
{
	struct ucred	cred;
	socklen_t	len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_errno("control_accept: SO_PEERCRED");
		return 0;
	}
	if (cred.uid == 0 || cred.uid == geteuid())
		return 1;
	log_msg(LOG_WARNING, "control: refused peer uid %ld", (long)cred.uid);
	return 0;
}

/*
 * Every slot is taken: drop the client with the least idle time left.
 * Only clients under the idle timer qualify -- still sending a request or
 * not reading a reply, so the timer would drop them soon anyway -- which
 * keeps a heap of silent connections from locking the operator out.
 * Waiters have no idle timer and are never dropped -- unless they
 * half-closed and their peer has gone since (POLLHUP: both directions
 * shut), which nothing else would notice.  -1: nobody to drop.
 */
static int
control_make_room(struct daemon *d)
{
	struct client	*c, *next, *victim = NULL;
	ev_tstamp	 left, least = 0.;
	int		 dropped = 0;

	for (c = clients; c != NULL; c = next) {
		next = c->next;
		if (c->eof && control_peer_gone(c)) {
			control_close(d, c);
			dropped++;
		}
	}
	if (dropped > 0)
		return 0;
	for (c = clients; c != NULL; c = c->next) {
		if (!ev_is_active(&c->idle))
			continue;
		left = ev_timer_remaining(d->loop, &c->idle);
		if (victim == NULL || left < least) {
			victim = c;
			least = left;
		}
	}
	if (victim == NULL)
		return -1;
	/* No error line spliced into a reply already begun. */
	if (victim->out.len == 0)
		control_tell(victim->io.fd, "error too many clients\n");
	control_close(d, victim);
	return 0;
}

/*
 * accept(2) failed for want of descriptors or memory: the connection stays
 * queued and the socket readable, so trying again at once would spin (and
 * log) until something is freed.  Pause accepting instead.
 */
static void
control_pause_accept(struct daemon *d)
{
	log_errno("control_accept: not accepting for %.0fs", CONTROL_PAUSE);
	ev_io_stop(d->loop, &control_io);
	ev_timer_set(&control_pause, CONTROL_PAUSE, 0.);
	ev_timer_start(d->loop, &control_pause);
}

static void
control_resume_accept(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_io_start(loop, &control_io);
}

static void
control_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	struct daemon	*d = daemon_self;
	struct client	*c;
	int		 fd;

	fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		/* Out of descriptors: a silent client gives its one up, as
		 * at CONTROL_MAXCLIENTS, and the connection still queued is
		 * taken on the next round -- silent connections must not
		 * lock the operator out until they time out. */
		if ((errno == EMFILE || errno == ENFILE) && clients != NULL &&
		    control_make_room(d) == 0)
			return;
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			control_pause_accept(d);
		return;
	}
	/* Refused before it takes a slot, so it cannot push anyone out. */
	if (!control_peer_ok(fd)) {
		control_tell(fd, "error permission denied\n");
		close(fd);
		return;
	}
	if ((nclients >= CONTROL_MAXCLIENTS && control_make_room(d) == -1) ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		control_tell(fd, "error too many clients\n");
		close(fd);
		return;
	}
	nclients++;
	c->next = clients;
	clients = c;
	c->wait_level = -1;
	ev_io_init(&c->io, control_client_io, fd, EV_READ);
	ev_timer_init(&c->idle, control_client_idle, CONTROL_IDLE, 0.);
	ev_timer_start(d->loop, &c->idle);
	ev_io_start(d->loop, &c->io);
}

/* Is someone already listening on path?  Then we must not take it over. */
static int
control_probe_live(const char *path)
{
	struct sockaddr_un	sun;
	struct stat		st;
	int			fd, live;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_msg(LOG_ERR, "control: %s exists and is not a socket",
		    path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	if (live) {
		log_msg(LOG_ERR, "control: another stackd is running on %s",
		    path);
		return -1;
	}
	/* Stale: its daemon is gone. */
	if (unlink(path) == -1 && errno != ENOENT) {
		log_errno("control: unlink %s", path);
		return -1;
	}
	return 0;
}

static void
control_mkdir(const char *path)
{
	char	 dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char	*slash;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	/* Only its owner (or root) may reach the socket anyway. */
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		log_errno("control: mkdir %s", dir);
}

int
control_init(struct daemon *d)
{
	struct sockaddr_un	sun;
	char			err[256];
	mode_t			old;
	int			fd;

	if (ctlpath(d->cfg, d->control_path, sizeof(d->control_path)) == -1) {
		snprintf(err, sizeof(err), "%s", d->control_path);
		d->control_path[0] = '\0';
		log_msg(LOG_ERR, "control: %s", err);
		return -1;
	}
	control_mkdir(d->control_path);
	if (d->cfg->control == NULL &&
	    ctlpath_dir_trusted(d->control_path, err, sizeof(err)) == -1) {
		log_msg(LOG_ERR, "control: %s", err);
		d->control_path[0] = '\0';
		return -1;
	}
	if (control_probe_live(d->control_path) == -1) {
		d->control_path[0] = '\0';
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_errno("control_init: socket");
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", d->control_path);
	/* Never exists with a wider mode, not even for an instant. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_errno("control_init: bind %s", d->control_path);
		d->control_path[0] = '\0';
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(d->control_path, 0600) == -1 || listen(fd, 16) == -1) {
		log_errno("control_init: %s", d->control_path);
		control_fini(d);
		close(fd);
		return -1;
	}
	control_fd = fd;
	ev_io_init(&control_io, control_accept, fd, EV_READ);
	ev_io_start(d->loop, &control_io);
	ev_timer_init(&control_pause, control_resume_accept, CONTROL_PAUSE, 0.);
	return 0;
}

/* The stack moved: answer the waiters whose level is reached. */
void
control_changed(struct daemon *d)
{
	struct client	*c, *next;
	int		 up = machine_up_level(&d->m);

	for (c = clients; c != NULL; c = next) {
		next = c->next;
		if (c->wait_level < 0)
			continue;
		if (up >= c->wait_level)
			control_reply(d, c, "ok level %d", up);
		else if (d->m.shutting_down)
			control_reply(d, c, "error stackd is shutting down");
	}
}

void
control_fini(struct daemon *d)
{
	struct client	*c;

	/* A reply queued just before exit ("ok shutting down" at level 0,
	 * the last events) still goes out, as far as the socket buffer
	 * takes it without waiting. */
	for (c = clients; c != NULL; c = c->next)
		if (c->outoff < c->out.len)
			(void)!send(c->io.fd, c->out.data + c->outoff,
			    c->out.len - c->outoff, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (clients != NULL)
		control_close(d, clients);
	if (control_fd != -1) {
		ev_io_stop(d->loop, &control_io);
		ev_timer_stop(d->loop, &control_pause);
		close(control_fd);
		control_fd = -1;
	}
	if (d->control_path[0] != '\0' && unlink(d->control_path) == -1 &&
	    errno != ENOENT)
		log_errno("control: unlink %s", d->control_path);
	d->control_path[0] = '\0';
}
