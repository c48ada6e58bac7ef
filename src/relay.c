/*
 * relay.c -- where children's output goes, and getting it there whole.
 *
 * A supervised process's log = setting picks where its stdout and stderr
 * go (relay_proc_open): stackd's own stdout and stderr, directly or as
 * "name | line"; a journal stream of its own for each (stdout at info,
 * stderr at warning priority); a file that stackd holds open and reopens
 * at every reload and on SIGUSR2, so that logrotate can move it away; or
 * /dev/null.
 * Probes and hooks always write into stackd's log (relay_log_open).
 *
 * A relay reads one pipe and passes on whole lines to a sink (stdout,
 * stderr, a file), several lines per write(2) but never more than PIPE_BUF
 * bytes, so that a write to a pipe is atomic and lines of different
 * children never mix within a line.  A line longer than RELAY_LINEMAX
 * (RELAY_LOGMAX into the log, whose lines are shorter) is cut into pieces,
 * each passed on as a line of its own, rather than growing memory.  A
 * last line without a newline is passed on at EOF.
 *
 * Backpressure.  stackd's stdout is shared with whoever started it (a
 * terminal, docker's pipe), so it stays a blocking descriptor: O_NONBLOCK
 * would be set on the open file description, under the feet of every
 * other process using it.  Instead a sink is polled for POLLOUT before
 * each write; on a pipe or a socket that promises room for a write of up
 * to PIPE_BUF bytes.  When a sink is full, the relay keeps its pending
 * output (bounded), stops reading its pipe and queues on the sink, whose
 * EV_WRITE watcher serves the queue in order once it drains.  The child
 * then blocks on its own full pipe: stackd's memory stays bounded and
 * nothing is dropped.  Every callback reads or writes a bounded amount, so
 * a flooding child never starves the event loop or the other children.
 * (A write can still block briefly if another process fills the same pipe
 * between poll and write, as for any writer sharing a pipe.)  Files that
 * stackd opens itself are its own open file descriptions, non-blocking.
 *
 * Memory.  Most children are quiet most of the time, so a relay holds a
 * buffer (struct relay_buf, 12 KiB) only while something is pending in it:
 * a partial line, or output its sink could not take yet.  It takes one
 * just before it reads and gives it back when a pump leaves it empty.
 * Given-back buffers wait in a small pool for the next read, so a child
 * that logs steadily costs no malloc per line, while what a burst of
 * output took goes back to the allocator.  At most one buffer per relay:
 * memory stays bounded.  When there is no memory for a buffer, the relay
 * stops reading, just as for a full sink: the child blocks on its full
 * pipe, nothing is lost, and one timer (relay_retry) gives the starved
 * relays a buffer and restarts them later, in the order they starved.
 *
 * When a child is reaped, relay_drain() first passes on what it left in
 * its pipes, so that its last lines come before "process X exited" --
 * unless the sink is full (or no buffer can be had) at that moment: then
 * they follow, never lost.  It finds the child's relays by a hash on the
 * pid, so one exit costs the same with ten children or ten thousand.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define RELAY_PREFIXMAX	80			/* with its NUL */
#define RELAY_LINEMAX	4000			/* longer lines are cut */
#define RELAY_LOGMAX	800			/* ... into the log: log.c's */
#define RELAY_INMAX	(2 * RELAY_LINEMAX)	/* one read(2) at most */
#define RELAY_OUTMAX	PIPE_BUF		/* one atomic write(2) */
#define RELAY_POOLMAX	4			/* spare buffers kept */
#define RELAY_RETRY	1.0			/* s: starved relays retry */
#define RELAY_HASHMIN	64			/* pid hash buckets, at least */
#define RELAY_DEADMAX	32			/* per stalled sink; sink_shed */
#define RELAY_DEADHARD	1024			/* per sink, however slow */
#define RELAY_STALL_MS	5000			/* no write taken: stalled */
#define RELAY_JOURNAL	"/run/systemd/journal/stdout"
#define RELAY_JOURNAL_SNDBUF	(8 * 1024 * 1024)	/* as systemd's */

_Static_assert(RELAY_PREFIXMAX - 1 + 3 + RELAY_LINEMAX + 1 <= RELAY_OUTMAX,
    "a prefixed line fits in one atomic write");
_Static_assert((RELAY_HASHMIN & (RELAY_HASHMIN - 1)) == 0,
    "the pid hash masks the pid");

struct relay;

TAILQ_HEAD(relay_queue, relay);
LIST_HEAD(relay_chain, relay);

struct sink {
	ev_io			 io;	/* EV_WRITE while relays wait */
	struct relay_queue	 waiting; /* in the order they blocked */
	LIST_ENTRY(sink)	 entry;
	struct relay		*serving; /* may write past the queue */
	const char		*name;	/* for log lines */
	char			*path;	/* file:PATH; NULL: stackd's fd */
	int			 fd;
	int			 refs;
	bool			 failed; /* the last write failed */
	msec_t			 took_at; /* when it last took a write */
	bool			 cut;	/* a write failed mid-line: end that
					 * line before the next one */
};

/* What is pending in a relay; it has none while nothing is. */
struct relay_buf {
	SLIST_ENTRY(relay_buf)	 next;	/* in the pool */
	size_t			 inlen;
	size_t			 outlen;
	size_t			 outoff; /* written of out, when partial */
	char			 in[RELAY_INMAX];
	char			 out[RELAY_OUTMAX];
};

struct relay {
	ev_io			 io;	/* EV_READ; stopped while waiting */
	TAILQ_ENTRY(relay)	 wait;
	TAILQ_ENTRY(relay)	 starve; /* in relay_starved */
	LIST_ENTRY(relay)	 entry;
	LIST_ENTRY(relay)	 bypid;	/* in the pid hash while pid > 0 */
	struct sink		*sink;	/* NULL: stackd's log */
	struct relay_buf	*buf;	/* NULL: nothing pending */
	pid_t			 pid;	/* the writer, until reaped */
	bool			 waiting; /* in sink->waiting */
	bool			 starved; /* no buffer: not reading */
	bool			 eof;	/* pipe read to its end, closed */
	size_t			 prefixlen; /* 0: lines go as they are */
	size_t			 linemax; /* longer lines are cut */
	char			 prefix[RELAY_PREFIXMAX]; /* the name */
};

enum relay_state { RELAY_OPEN, RELAY_BLOCKED, RELAY_GONE };

static LIST_HEAD(relay_list, relay)	relays = LIST_HEAD_INITIALIZER(relays);
static LIST_HEAD(sink_list, sink)	sinks = LIST_HEAD_INITIALIZER(sinks);
static struct sink		*sink_std[3];	/* [1] stdout, [2] stderr */

static SLIST_HEAD(relay_bufs, relay_buf) relay_pool =
				    SLIST_HEAD_INITIALIZER(relay_pool);
static int			relay_npool;
static struct relay_queue	relay_starved =
				    TAILQ_HEAD_INITIALIZER(relay_starved);
static ev_timer			relay_retry;

/* Relays by writer pid; the static table serves until it is outgrown. */
static struct relay_chain	relay_hash0[RELAY_HASHMIN];
static struct relay_chain	*relay_hash = relay_hash0;
static size_t			relay_nhash = RELAY_HASHMIN;
static size_t			relay_nhashed;

static enum relay_state	relay_pump(struct relay *);
static void			relay_free(struct relay *);

/* --- buffers ------------------------------------------------------------ */

/* A buffer for r to read into; false when there is no memory for one. */
static bool
relay_buf_take(struct relay *r)
{
	struct relay_buf	*b;

	if (r->buf != NULL)
		return true;
	if ((b = SLIST_FIRST(&relay_pool)) != NULL) {
		SLIST_REMOVE_HEAD(&relay_pool, next);
		relay_npool--;
	} else if ((b = malloc(sizeof(*b))) == NULL)
		return false;
	b->inlen = b->outlen = b->outoff = 0;
	r->buf = b;
	return true;
}

/* Once nothing is pending, the buffer goes to the pool, or is freed. */
static void
relay_buf_give(struct relay *r)
{
	struct relay_buf	*b = r->buf;

	if (b == NULL || b->inlen > 0 || b->outlen > 0)
		return;
	r->buf = NULL;
	if (relay_npool < RELAY_POOLMAX) {
		SLIST_INSERT_HEAD(&relay_pool, b, next);
		relay_npool++;
	} else
		free(b);
}

static void
relay_pool_free(void)
{
	struct relay_buf	*b;

	while ((b = SLIST_FIRST(&relay_pool)) != NULL) {
		SLIST_REMOVE_HEAD(&relay_pool, next);
		free(b);
	}
	relay_npool = 0;
}

/* The retry timer: a buffer for each starved relay, in order, and read. */
static void
relay_unstarve(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relay	*r;

	while ((r = TAILQ_FIRST(&relay_starved)) != NULL) {
		if (!relay_buf_take(r)) {
			ev_timer_set(w, RELAY_RETRY, 0.);
			ev_timer_start(loop, w);
			return;
		}
		TAILQ_REMOVE(&relay_starved, r, starve);
		r->starved = false;
		ev_io_start(loop, &r->io);
	}
	log_msg(LOG_NOTICE, "children's output is read again");
}

/*
 * No memory for a buffer: stop reading, as for a full sink, until the
 * retry timer finds one.  Reading on without a buffer would lose output,
 * and leaving the watcher on would spin on a readable pipe.
 */
static void
relay_starve(struct relay *r)
{
	ev_io_stop(daemon_self->loop, &r->io);
	if (r->starved)
		return;
	if (TAILQ_EMPTY(&relay_starved)) {
		log_msg(LOG_ERR, "no memory to relay children's output: "
		    "not reading it, retrying every %.0fs", RELAY_RETRY);
		ev_timer_init(&relay_retry, relay_unstarve, RELAY_RETRY, 0.);
		ev_timer_start(daemon_self->loop, &relay_retry);
	}
	r->starved = true;
	TAILQ_INSERT_TAIL(&relay_starved, r, starve);
}

/* --- relays by pid ------------------------------------------------------ */

/* Pids are handed out in sequence: their low bits spread them well. */
static struct relay_chain *
relay_bucket(pid_t pid)
{
	return &relay_hash[(size_t)pid & (relay_nhash - 1)];
}

/* Twice the buckets when there are more relays than buckets; without
 * memory for them, the chains only grow longer. */
static void
relay_hash_grow(void)
{
	struct relay_chain	*old = relay_hash, *nh;
	struct relay		*r;
	size_t			 oldn = relay_nhash, i;

	if (relay_nhashed <= relay_nhash ||
	    (nh = calloc(oldn * 2, sizeof(*nh))) == NULL)
		return;
	for (i = 0; i < oldn * 2; i++)
		LIST_INIT(&nh[i]);
	relay_hash = nh;
	relay_nhash = oldn * 2;
	for (i = 0; i < oldn; i++) {
		while ((r = LIST_FIRST(&old[i])) != NULL) {
			LIST_REMOVE(r, bypid);
			LIST_INSERT_HEAD(relay_bucket(r->pid), r, bypid);
		}
	}
	if (old != relay_hash0)
		free(old);
}

static void
relay_hash_add(struct relay *r)
{
	LIST_INSERT_HEAD(relay_bucket(r->pid), r, bypid);
	relay_nhashed++;
	relay_hash_grow();
}

/* r's writer was reaped (or r is freed); an empty hash shrinks back. */
static void
relay_hash_del(struct relay *r)
{
	if (r->pid == 0)
		return;
	LIST_REMOVE(r, bypid);
	r->pid = 0;
	if (--relay_nhashed == 0 && relay_hash != relay_hash0) {
		free(relay_hash);
		relay_hash = relay_hash0;
		relay_nhash = RELAY_HASHMIN;
	}
}

/* --- sinks -------------------------------------------------------------- */

static void	sink_ready(struct ev_loop *, ev_io *, int);

static struct sink *
sink_new(int fd, const char *name, const char *path)
{
	struct sink	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (path != NULL && (s->path = strdup(path)) == NULL) {
		free(s);
		return NULL;
	}
	s->name = path != NULL ? s->path : name;
	s->fd = fd;
	s->refs = 1;
	s->took_at = now_msec();
	TAILQ_INIT(&s->waiting);
	ev_io_init(&s->io, sink_ready, fd, EV_WRITE);
	LIST_INSERT_HEAD(&sinks, s, entry);
	return s;
}

static void
sink_unref(struct sink *s)
{
	if (s == NULL || --s->refs > 0)
		return;
	ev_io_stop(daemon_self->loop, &s->io);
	if (s->path != NULL)
		close(s->fd);
	LIST_REMOVE(s, entry);
	free(s->path);
	free(s);
}

/* stackd's stdout (1) or stderr (2), shared by every relay to it. */
static struct sink *
sink_stdio(int fd)
{
	if (sink_std[fd] == NULL)
		sink_std[fd] = sink_new(fd, fd == STDOUT_FILENO ? "stdout" :
		    "stderr", NULL);
	if (sink_std[fd] != NULL)
		sink_std[fd]->refs++;
	return sink_std[fd];
}

/* Ours alone, so non-blocking is safe; a FIFO without reader fails. */
static int
sink_open_file(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOCTTY |
	    O_NONBLOCK | O_CLOEXEC, 0640);
}

/*
 * One sink per file, shared by every run of every process logging there:
 * sink_shed's bound on what exited children leave waiting then holds for
 * a file too (a FIFO whose reader stalled), where a sink per run would
 * keep the pipe and buffer of every run of a restart loop.
 */
static struct sink *
sink_file(const char *path)
{
	struct sink	*s;
	int		 fd;

	LIST_FOREACH(s, &sinks, entry)
		if (s->path != NULL && strcmp(s->path, path) == 0) {
			s->refs++;
			return s;
		}
	if ((fd = sink_open_file(path)) == -1)
		return NULL;
	if ((s = sink_new(fd, NULL, path)) == NULL)
		close(fd);
	return s;
}

/* Would a write of up to PIPE_BUF bytes go through without blocking? */
static bool
sink_writable(const struct sink *s)
{
	struct pollfd	pfd = { .fd = s->fd, .events = POLLOUT };
	int		n;

	if (s->path != NULL)
		return true;	/* non-blocking: write says EAGAIN */
	do
		n = poll(&pfd, 1, 0);
	while (n == -1 && errno == EINTR);
	/* POLLERR, POLLHUP, POLLNVAL: the write will fail and say why. */
	return n != 0;
}

static void
sink_result(struct sink *s, int err)
{
	if (err == 0 && s->failed)
		log_msg(LOG_NOTICE, "children's output to %s goes through "
		    "again", s->name);
	else if (err != 0 && !s->failed)
		log_msg(LOG_ERR, "cannot write children's output to %s: %s; "
		    "dropping it until it works again", s->name,
		    strerror(err));
	s->failed = err != 0;
}

/* Only the relay being served, or anyone if none waits, may write. */
static bool
sink_turn(const struct sink *s, const struct relay *r)
{
	return s->serving == r || TAILQ_EMPTY(&s->waiting);
}

/*
 * A sink that takes no writes for good (a stalled reader) would keep the
 * pipe and the buffer of every child that exited meanwhile -- a process
 * in a restart loop leaves one per run -- until stackd runs out of
 * descriptors.  So once a sink has taken nothing for RELAY_STALL_MS, at
 * most RELAY_DEADMAX relays whose writer was reaped wait on it (RELAY_DEADHARD
 * while it drains, however slowly: a burst of exits is not cut short);
 * the oldest beyond that are dropped, with a log line.  What a live child
 * writes still waits, and blocks that child.
 */
static void
sink_shed(struct sink *s, const struct relay *keep)
{
	struct relay	*r, *next;
	int		 dead = 0, drop, dropped = 0;
	bool		 stalled;
	char		 why[48];

	TAILQ_FOREACH(r, &s->waiting, wait)
		if (r->pid == 0)
			dead++;
	stalled = now_msec() - s->took_at >= RELAY_STALL_MS;
	drop = dead - (stalled ? RELAY_DEADMAX : RELAY_DEADHARD);
	if (drop <= 0)
		return;
	s->refs++;	/* its last relay may go */
	for (r = TAILQ_FIRST(&s->waiting); r != NULL && drop > 0; r = next) {
		next = TAILQ_NEXT(r, wait);
		if (r->pid != 0 || r == s->serving || r == keep)
			continue;
		/* Half a line went out: the next write ends it first. */
		if (r->buf != NULL && r->buf->outoff > 0)
			s->cut = true;
		relay_free(r);
		drop--;
		dropped++;
	}
	if (stalled)
		snprintf(why, sizeof(why), "it has taken no writes for %d s",
		    RELAY_STALL_MS / 1000);
	else
		snprintf(why, sizeof(why), "it is %d exits behind",
		    RELAY_DEADHARD);
	if (dropped > 0)
		log_msg(LOG_WARNING, "children's output to %s: dropped what %d "
		    "exited process%s left, as %s", s->name, dropped,
		    dropped == 1 ? "" : "es", why);
	sink_unref(s);
}

/* Give each waiting relay its turn, in order, while the sink takes it. */
static void
sink_serve(struct sink *s)
{
	struct relay		*r;
	enum relay_state	 st;

	s->refs++;	/* a relay at EOF may drop the last other one */
	while ((r = TAILQ_FIRST(&s->waiting)) != NULL) {
		TAILQ_REMOVE(&s->waiting, r, wait);
		r->waiting = false;
		s->serving = r;
		st = relay_pump(r);
		s->serving = NULL;
		if (st == RELAY_BLOCKED)
			break;
	}
	if (TAILQ_EMPTY(&s->waiting))
		ev_io_stop(daemon_self->loop, &s->io);
	sink_unref(s);
}

static void
sink_ready(struct ev_loop *loop, ev_io *w, int revents)
{
	sink_serve((struct sink *)w);
}

/* --- relays ------------------------------------------------------------- */

/* Write the pending output; false when the sink cannot take it now. */
static bool
relay_write(struct relay *r)
{
	struct sink		*s = r->sink;
	struct relay_buf	*b = r->buf;
	ssize_t			 n;

	if (b == NULL || b->outlen == 0)
		return true;
	if (!sink_turn(s, r))
		return false;
	while (b->outoff < b->outlen) {
		if (!sink_writable(s))
			return false;
		if (s->cut)
			n = write(s->fd, "\n", 1);
		else
			n = write(s->fd, b->out + b->outoff, b->outlen -
			    b->outoff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return false;
		if (n == -1) {
			/* EPIPE, ENOSPC, EBADF: nowhere to put it.  What
			 * is dropped is whole lines, but the write before
			 * may have taken part of one: it is ended first
			 * once the sink takes writes again, so that no
			 * later line is glued to it. */
			if (!s->cut && b->outoff > 0 &&
			    b->out[b->outoff - 1] != '\n')
				s->cut = true;
			sink_result(s, errno);
			break;
		}
		sink_result(s, 0);
		s->took_at = now_msec();
		if (s->cut)
			s->cut = false;
		else
			b->outoff += (size_t)n;
	}
	b->outoff = b->outlen = 0;
	return true;
}

/* One line or piece, without its newline; false when the sink is full. */
static bool
relay_line(struct relay *r, const char *s, size_t n)
{
	struct relay_buf	*b = r->buf;
	size_t			 need = n + 1;

	if (r->sink == NULL) {
		log_msg(LOG_INFO, "%s: %.*s", r->prefix, (int)n, s);
		return true;
	}
	if (r->prefixlen > 0)
		need += r->prefixlen + 3;
	if (b->outlen + need > sizeof(b->out) && !relay_write(r))
		return false;
	if (r->prefixlen > 0) {
		memcpy(b->out + b->outlen, r->prefix, r->prefixlen);
		memcpy(b->out + b->outlen + r->prefixlen, " | ", 3);
		b->outlen += r->prefixlen + 3;
	}
	memcpy(b->out + b->outlen, s, n);
	b->outlen += n;
	b->out[b->outlen++] = '\n';
	return true;
}

/* Move whole lines from in to out; false when the sink is full. */
static bool
relay_lines(struct relay *r)
{
	struct relay_buf	*b = r->buf;
	const char		*p, *nl;
	size_t			 off = 0, avail, n, skip;
	bool			 ok = true;

	if (b == NULL)
		return true;
	while (off < b->inlen) {
		p = b->in + off;
		avail = b->inlen - off;
		nl = memchr(p, '\n', avail < r->linemax + 1 ? avail :
		    r->linemax + 1);
		skip = 0;
		if (nl != NULL) {
			n = (size_t)(nl - p);
			skip = 1;
		} else if (avail > r->linemax)
			n = r->linemax;
		else if (r->eof)
			n = avail;	/* the last line, without newline */
		else
			break;
		if (!relay_line(r, p, n)) {
			ok = false;
			break;
		}
		off += n + skip;
	}
	memmove(b->in, b->in + off, b->inlen - off);
	b->inlen -= off;
	return ok;
}

static void
relay_close_pipe(struct relay *r)
{
	ev_io_stop(daemon_self->loop, &r->io);
	if (!r->eof)
		close(r->io.fd);
	r->eof = true;
}

static void
relay_free(struct relay *r)
{
	if (r->waiting)
		TAILQ_REMOVE(&r->sink->waiting, r, wait);
	if (r->starved)
		TAILQ_REMOVE(&relay_starved, r, starve);
	relay_close_pipe(r);
	relay_hash_del(r);
	LIST_REMOVE(r, entry);
	sink_unref(r->sink);
	/* Empty, it goes back to the pool; at exit it may still hold what
	 * could not be written (counted by relay_close_all). */
	relay_buf_give(r);
	free(r->buf);
	free(r);
}

/* Stop reading until the sink drains; a half-written buffer goes first. */
static void
relay_block(struct relay *r)
{
	struct sink	*s = r->sink;

	ev_io_stop(daemon_self->loop, &r->io);
	if (r->waiting)
		return;
	r->waiting = true;
	if (r->buf->outoff > 0)
		TAILQ_INSERT_HEAD(&s->waiting, r, wait);
	else
		TAILQ_INSERT_TAIL(&s->waiting, r, wait);
	ev_io_start(daemon_self->loop, &s->io);
	if (r->pid == 0)
		sink_shed(s, r);
}

/*
 * Pass on everything that can go now.  A relay whose sink is full waits
 * in the sink's queue without reading, holding its buffer; one at EOF with
 * nothing left is freed; any other gives its empty buffer back and reads
 * on.
 */
static enum relay_state
relay_pump(struct relay *r)
{
	if (!relay_lines(r) || !relay_write(r)) {
		relay_block(r);
		return RELAY_BLOCKED;
	}
	if (r->eof) {
		relay_free(r);
		return RELAY_GONE;
	}
	relay_buf_give(r);
	ev_io_start(daemon_self->loop, &r->io);
	return RELAY_OPEN;
}

/*
 * One read(2) of at most max bytes; 0 when nothing came, at EOF, or when
 * there is no buffer to read into (the relay starves).
 */
static size_t
relay_fill(struct relay *r, size_t max)
{
	struct relay_buf	*b;
	size_t			 room;
	ssize_t			 n;

	if (!relay_buf_take(r)) {
		relay_starve(r);
		return 0;
	}
	b = r->buf;
	if ((room = sizeof(b->in) - b->inlen) > max)
		room = max;
	do
		n = read(r->io.fd, b->in + b->inlen, room);
	while (n == -1 && errno == EINTR);
	if (n > 0) {
		b->inlen += (size_t)n;
		return (size_t)n;
	}
	if (n == -1 && errno == EAGAIN) {
		relay_buf_give(r);
		return 0;
	}
	if (n == -1)
		log_errno("output of %s: read", r->prefix);
	relay_close_pipe(r);
	return 0;
}

static void
relay_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay	*r = (struct relay *)w;

	if (relay_fill(r, RELAY_INMAX) > 0 || r->eof)
		(void)relay_pump(r);
}

/*
 * A pipe into sink s (NULL: the log), its lines prefixed with "name | "
 * or not; *wfd is the child's end.
 */
static struct relay *
relay_new(struct daemon *d, const char *name, bool prefixed, struct sink *s,
    int *wfd)
{
	struct relay	*r;
	int		 fds[2];

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_errno("relay_new");
		return NULL;
	}
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_errno("relay_new: pipe");
		free(r);
		return NULL;
	}
	/* The child's end blocks: a full pipe is the backpressure. */
	if (fcntl(fds[1], F_SETFL, 0) == -1) {
		log_errno("relay_new: fcntl");
		close(fds[0]);
		close(fds[1]);
		free(r);
		return NULL;
	}
	snprintf(r->prefix, sizeof(r->prefix), "%s", name);
	r->prefixlen = prefixed ? strlen(r->prefix) : 0;
	r->linemax = s != NULL ? RELAY_LINEMAX : RELAY_LOGMAX;
	r->sink = s;
	if (s != NULL)
		s->refs++;
	ev_io_init(&r->io, relay_read, fds[0], EV_READ);
	ev_io_start(d->loop, &r->io);
	LIST_INSERT_HEAD(&relays, r, entry);
	*wfd = fds[1];
	return r;
}

/* Output lines of a probe or hook, as log lines "prefix: line". */
struct relay *
relay_log_open(struct daemon *d, const char *prefix, int *wfd)
{
	return relay_new(d, prefix, true, NULL, wfd);
}

/* The relay's writer is pid: relay_drain(pid) once it is reaped. */
void
relay_set_pid(struct relay *r, pid_t pid)
{
	if (r == NULL)
		return;
	relay_hash_del(r);
	if (pid > 0) {
		r->pid = pid;
		relay_hash_add(r);
	}
}

/* What the reaped writer left in r's pipe, and its last line at EOF. */
static void
relay_drain_one(struct relay *r)
{
	size_t	budget, n;
	int	avail;

	if (ioctl(r->io.fd, FIONREAD, &avail) == -1 || avail < 0)
		avail = 0;
	/* One byte more: the read that sees EOF. */
	budget = (size_t)avail + 1;
	while (budget > 0) {
		n = relay_fill(r, budget);
		if (n == 0 && !r->eof)
			break;
		budget -= n;
		if (relay_pump(r) != RELAY_OPEN)
			break;
	}
}

/*
 * pid was reaped: pass on what it left in its pipes -- and the last line
 * if it was the last writer -- before its exit is reported.  Bounded by
 * what the pipe held (a grandchild may go on writing), and by the sink.
 */
void
relay_drain(struct daemon *d, pid_t pid)
{
	struct relay	*r, *next;

	if (pid <= 0)
		return;
	/* Only r itself can be freed below, so next stays valid. */
	for (r = LIST_FIRST(relay_bucket(pid)); r != NULL; r = next) {
		next = LIST_NEXT(r, bypid);
		if (r->pid != pid)
			continue;
		relay_hash_del(r);
		if (!r->eof && !r->waiting && !r->starved)
			relay_drain_one(r);
		else if (r->waiting && r->sink != NULL)
			sink_shed(r->sink, NULL);	/* may free r */
	}
}

/* --- per process: log = ------------------------------------------------- */

/*
 * A journal stream for one of a child's outputs: the stream that
 * sd_journal_stream_fd(3) makes, but without waiting for journald.  The
 * library's connect(2) blocks, and here it would block stackd's event
 * loop -- every timer, stop, probe and stackctl request, and systemd's
 * watchdog ping -- for as long as a hung journald's accept queue stays
 * full.  A non-blocking connect fails at once instead (EAGAIN), and the
 * output goes where log = inherit sends it.  After the connect, the
 * stream's header as journald reads it: identifier, unit id (none),
 * priority, level prefixes parsed, no forwarding to syslog, kmsg or the
 * console.
 */
static int
relay_journal_fd(const char *identifier, int priority)
{
	struct sockaddr_un	 sa = { .sun_family = AF_UNIX };
	char			 head[256];
	int			 fd, fl, n, size = RELAY_JOURNAL_SNDBUF, err;
	ssize_t			 w;

	n = snprintf(head, sizeof(head), "%s\n\n%d\n1\n0\n0\n0\n",
	    identifier, priority);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", RELAY_JOURNAL);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    shutdown(fd, SHUT_RD) == -1)
		goto fail;
	/* Room for a burst, as systemd gives a service's stream. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof(size)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size,
		    sizeof(size));
	/* A new stream has room for it: all or nothing. */
	if ((w = send(fd, head, (size_t)n, MSG_NOSIGNAL)) != n) {
		if (w >= 0)
			errno = EAGAIN;
		goto fail;
	}
	/* The child's stdout blocks when full, as programs expect. */
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1)
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

static int
relay_journal(const struct proc_conf *pc, struct relay_out *o)
{
	if ((o->out = relay_journal_fd(pc->name, LOG_INFO)) == -1)
		return -1;
	if ((o->err = relay_journal_fd(pc->name, LOG_WARNING)) == -1) {
		close(o->out);
		o->out = -1;
		return -1;
	}
	return 0;
}

/* stdout and stderr, each through a relay into its sink. */
static int
relay_pair(struct daemon *d, const char *name, bool prefixed,
    struct sink *out, struct sink *err, struct relay_out *o)
{
	if ((o->r[0] = relay_new(d, name, prefixed, out, &o->out)) == NULL)
		return -1;
	if ((o->r[1] = relay_new(d, name, prefixed, err, &o->err)) == NULL) {
		close(o->out);
		o->out = -1;
		o->r[0] = NULL;	/* EOF at once: it frees itself */
		return -1;
	}
	return 0;
}

static int
relay_inherit(struct daemon *d, const struct proc_conf *pc, bool prefixed,
    struct relay_out *o)
{
	struct sink	*out, *err;
	int		 rc = -1;

	if (!prefixed)
		return 0;
	out = sink_stdio(STDOUT_FILENO);
	err = sink_stdio(STDERR_FILENO);
	if (out != NULL && err != NULL)
		rc = relay_pair(d, pc->name, true, out, err, o);
	sink_unref(out);
	sink_unref(err);
	if (rc == -1)
		log_msg(LOG_ERR, "process %s: cannot relay its output, it "
		    "goes to stackd's without a prefix", pc->name);
	return rc;
}

static int
relay_file(struct daemon *d, const struct proc_conf *pc, struct relay_out *o)
{
	struct sink	*s;
	int		 rc;

	if ((s = sink_file(pc->log_path)) == NULL)
		return -1;
	rc = relay_pair(d, pc->name, false, s, s, o);
	sink_unref(s);
	return rc;
}

/*
 * The child's stdout and stderr by its log = setting, in o; -1 leaves
 * stackd's own.  A journal or file that cannot be opened is logged, and
 * the output goes where log = inherit would send it.
 */
void
relay_proc_open(struct daemon *d, const struct proc_conf *pc, bool prefixed,
    struct relay_out *o)
{
	memset(o, 0, sizeof(*o));
	o->out = o->err = -1;
	switch (pc->log) {
	case LOGMODE_NULL:
		if ((o->out = open("/dev/null", O_WRONLY | O_CLOEXEC)) != -1 &&
		    (o->err = fcntl(o->out, F_DUPFD_CLOEXEC, 0)) != -1)
			return;
		log_errno("process %s: /dev/null", pc->name);
		break;
	case LOGMODE_JOURNAL:
		if (relay_journal(pc, o) == 0)
			return;
		if (errno == EAGAIN)
			log_msg(LOG_ERR, "process %s: journald takes no new "
			    "stream (%s is full), using stackd's output",
			    pc->name, RELAY_JOURNAL);
		else
			log_errno("process %s: journal stream %s, using "
			    "stackd's output", pc->name, RELAY_JOURNAL);
		break;
	case LOGMODE_FILE:
		if (relay_file(d, pc, o) == 0)
			return;
		log_errno("process %s: log file %s, using stackd's output",
		    pc->name, pc->log_path);
		break;
	case LOGMODE_INHERIT:
		break;
	}
	if (o->out != -1)
		close(o->out);
	o->out = o->err = -1;
	(void)relay_inherit(d, pc, prefixed, o);
}

/* After the spawn (pid <= 0: none): close the child's ends. */
void
relay_proc_spawned(struct relay_out *o, pid_t pid)
{
	int	i;

	if (o->out != -1)
		close(o->out);
	if (o->err != -1)
		close(o->err);
	o->out = o->err = -1;
	for (i = 0; i < 2; i++)
		relay_set_pid(o->r[i], pid);
}

/* Reload or SIGUSR2: files are opened again by name, for logrotate. */
void
relay_reopen(struct daemon *d)
{
	struct sink	*s;
	bool		 active;
	int		 fd, n = 0;

	for (s = LIST_FIRST(&sinks); s != NULL; s = LIST_NEXT(s, entry)) {
		if (s->path == NULL)
			continue;
		if ((fd = sink_open_file(s->path)) == -1) {
			log_errno("reopening log file %s, still writing to the "
			    "old one", s->path);
			continue;
		}
		active = ev_is_active(&s->io);
		ev_io_stop(d->loop, &s->io);
		close(s->fd);
		s->fd = fd;
		ev_io_set(&s->io, fd, EV_WRITE);
		if (active)
			ev_io_start(d->loop, &s->io);
		n++;
	}
	if (n > 0)
		log_msg(LOG_INFO, "reopened %d log file%s", n, n == 1 ? "" :
		    "s");
}

/* --- exit --------------------------------------------------------------- */

/* Read until EAGAIN, EOF or a full sink. */
static bool
relay_slurp(struct relay *r)
{
	enum relay_state	st = RELAY_OPEN;
	bool			moved = false;

	while (st == RELAY_OPEN) {
		if (relay_fill(r, RELAY_INMAX) == 0 && !r->eof)
			break;
		moved = true;
		st = relay_pump(r);
	}
	return moved;
}

static struct sink *
sink_first_waiting(void)
{
	struct sink	*s;

	for (s = LIST_FIRST(&sinks); s != NULL; s = LIST_NEXT(s, entry))
		if (!TAILQ_EMPTY(&s->waiting))
			return s;
	return NULL;
}

/* Wait for s to take output, until deadline; false on time out. */
static bool
sink_wait(const struct sink *s, msec_t deadline)
{
	struct pollfd	pfd = { .fd = s->fd, .events = POLLOUT };
	msec_t		left;
	int		n;

	do {
		if ((left = deadline - now_msec()) <= 0)
			return false;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
	} while (n == -1 && errno == EINTR);
	return n != 0;
}

/*
 * stackd is leaving and every child is gone: pass on what is left in the
 * pipes, waiting up to the stack's stop_timeout for a full sink to drain.
 * Whatever still cannot go is counted in one log line.
 */
void
relay_close_all(struct daemon *d)
{
	struct relay	*r, *next;
	struct sink	*s;
	msec_t		 deadline = now_msec() + d->cfg->stop_timeout;
	size_t		 lost = 0;
	bool		 moved;
	int		 i;

	while (now_msec() < deadline) {
		moved = false;
		for (r = LIST_FIRST(&relays); r != NULL; r = next) {
			next = LIST_NEXT(r, entry);
			if (!r->waiting && !r->eof && relay_slurp(r))
				moved = true;
		}
		if ((s = sink_first_waiting()) != NULL) {
			if (!sink_wait(s, deadline))
				break;
			sink_serve(s);
		} else if (!moved)
			break;
	}
	/* A writer that outlived stackd's children: its last line, too. */
	for (r = LIST_FIRST(&relays); r != NULL; r = next) {
		next = LIST_NEXT(r, entry);
		if (!r->waiting) {
			relay_close_pipe(r);
			(void)relay_pump(r);
		}
	}
	while ((r = LIST_FIRST(&relays)) != NULL) {
		if (r->buf != NULL)
			lost += r->buf->inlen + r->buf->outlen -
			    r->buf->outoff;
		relay_free(r);
	}
	ev_timer_stop(d->loop, &relay_retry);
	relay_pool_free();
	if (lost > 0)
		log_msg(LOG_WARNING, "%zu bytes of children's output could "
		    "not be written before exit", lost);
	for (i = 0; i < 3; i++) {
		sink_unref(sink_std[i]);
		sink_std[i] = NULL;
	}
}
