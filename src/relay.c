/*
 * relay.c -- a child's output, line by line.
 *
 * Probes and hooks write to a pipe; each complete line becomes one log
 * line with a prefix naming who wrote it, so a probe that explains why it
 * failed is never lost.  Supervised processes with log = inherit, when
 * log_prefix asks for it, get the same treatment on their way to stackd's
 * stdout and stderr: "name | line", one write(2) per line, so lines of
 * different children never mix within a line.  A line longer than the
 * buffer is passed on in pieces rather than growing memory; a relay ends
 * at EOF, when the last writer (the child and anything it forked) is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

#define RELAY_LINEMAX	1024

struct relay {
	ev_io		 io;
	struct relay	*next;
	size_t		 len;
	int		 to;		/* -1: the log; else "prefix | " to it */
	char		 prefix[80];
	char		 buf[RELAY_LINEMAX];
};

static struct relay	*relays;

static void
relay_flush(struct relay *r, size_t n)
{
	char	line[sizeof(r->prefix) + 3 + RELAY_LINEMAX + 1];
	int	len;

	if (r->to < 0)
		log_msg(LOG_INFO, "%s: %.*s", r->prefix, (int)n, r->buf);
	else {
		len = snprintf(line, sizeof(line), "%s | %.*s\n", r->prefix,
		    (int)n, r->buf);
		/* Best effort, like stackd's own log lines. */
		if (len > 0 && write(r->to, line, (size_t)len) < 0)
			len = 0;
	}
	memmove(r->buf, r->buf + n, r->len - n);
	r->len -= n;
}

static void
relay_free(struct daemon *d, struct relay *r)
{
	struct relay	**pp;

	ev_io_stop(d->loop, &r->io);
	close(r->io.fd);
	for (pp = &relays; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	free(r);
}

static void
relay_read(struct ev_loop *loop, ev_io *w, int revents)
{
	struct relay	*r = (struct relay *)w;
	char		*nl;
	ssize_t		 n;

	n = read(w->fd, r->buf + r->len, sizeof(r->buf) - r->len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		if (r->len > 0)
			relay_flush(r, r->len);
		relay_free(daemon_self, r);
		return;
	}
	r->len += (size_t)n;
	while ((nl = memchr(r->buf, '\n', r->len)) != NULL) {
		relay_flush(r, (size_t)(nl - r->buf));
		/* Drop the newline itself. */
		memmove(r->buf, r->buf + 1, r->len - 1);
		r->len--;
	}
	if (r->len == sizeof(r->buf))
		relay_flush(r, r->len);
}

/*
 * A pipe whose lines go to the log (to == -1) or to fd `to` with a
 * "prefix | " in front; *write_fd is the end for the child.
 */
int
relay_open(struct daemon *d, const char *prefix, int to, int *write_fd)
{
	struct relay	*r;
	int		 fds[2];

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_errno("relay_open");
		return -1;
	}
	/* Only our end is non-blocking: a child writing faster than we
	 * read must block on its pipe, not fail with EAGAIN. */
	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_errno("relay_open: pipe");
		free(r);
		return -1;
	}
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) {
		log_errno("relay_open: fcntl");
		close(fds[0]);
		close(fds[1]);
		free(r);
		return -1;
	}
	snprintf(r->prefix, sizeof(r->prefix), "%s", prefix);
	r->to = to;
	ev_io_init(&r->io, relay_read, fds[0], EV_READ);
	ev_io_start(d->loop, &r->io);
	r->next = relays;
	relays = r;
	*write_fd = fds[1];
	return 0;
}

void
relay_close_all(struct daemon *d)
{
	while (relays != NULL) {
		if (relays->len > 0)
			relay_flush(relays, relays->len);
		relay_free(d, relays);
	}
}
