/*
 * log.c -- stackd's log lines.
 *
 * Everything goes to stderr, one write(2) per line so lines from stackd
 * never interleave mid-line with the children that share the stream.
 * Under systemd, when JOURNAL_STREAM names the very file stderr is, the
 * journal adds its own timestamps and wants a "<N>" syslog priority
 * prefix instead; otherwise each line carries a local timestamp and
 * "stackd[PID]:", like syslog would.
 *
 * Backpressure.  stderr is shared with whoever started stackd (a terminal,
 * docker's pipe), so it stays blocking (relay.c says why), and a write to
 * it could hold stackd -- PID 1 -- for as long as its reader is stuck.  So
 * once the event loop runs (log_attach), a line is written only when
 * poll(2) says the stream takes it now; otherwise it waits in a bounded
 * queue, written from the loop as the stream drains.  When even the queue
 * is full, lines are counted and dropped, and the count is logged once
 * lines go through again: stackd keeps supervising rather than wait to
 * tell about it.  At exit (log_detach) the queue gets a second without
 * progress.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_QUEUE	(64 * 1024)	/* bytes of lines waiting for stderr */
#define LOG_EXIT_WAIT	1000		/* ms without progress, at exit */

static const char	*log_ident = "stackd";
static bool		 log_journal;
static long		 log_pid;	/* ours: never changes, no syscall */

static struct ev_loop	*log_loop;	/* NULL: write and wait, as before */
static ev_io		 log_io;	/* EV_WRITE on stderr while queued */
static char		 log_queue[LOG_QUEUE];
static size_t		 log_queued;
static unsigned long	 log_dropped;

static void	log_format(int, char *, size_t, size_t *, const char *,
		    va_list, const char *);
static void	log_formatf(char *, size_t, size_t *, int, const char *, ...)
		    __attribute__((format(printf, 5, 6)));

void
log_init(const char *ident)
{
	const char		*js = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;

	log_ident = ident;
	log_journal = false;
	log_pid = (long)getpid();
	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return;
	if (fstat(STDERR_FILENO, &st) == 0 && st.st_dev == (dev_t)dev &&
	    st.st_ino == (ino_t)ino)
		log_journal = true;
}

/* Would stderr take up to PIPE_BUF bytes now?  (Always, for a file.) */
static bool
log_writable(int timeout)
{
	struct pollfd	pfd = { .fd = STDERR_FILENO, .events = POLLOUT };
	int		n;

	do
		n = poll(&pfd, 1, timeout);
	while (n == -1 && errno == EINTR);
	/* POLLERR, POLLHUP: the write will fail, and the line is lost. */
	return n != 0;
}

/* Lines were dropped: say how many, in their place, once there is room. */
static void
log_note_dropped(void)
{
	char	note[256];
	size_t	nlen;

	if (log_dropped == 0 || log_queued + sizeof(note) > sizeof(log_queue))
		return;
	log_formatf(note, sizeof(note), &nlen, LOG_WARNING, "%lu log line%s "
	    "dropped: stderr was full", log_dropped,
	    log_dropped == 1 ? "" : "s");
	log_dropped = 0;
	memcpy(log_queue + log_queued, note, nlen);
	log_queued += nlen;
}

/* Write the queue while stderr takes it, whole lines at a time. */
static void
log_flush(int timeout)
{
	size_t	 len;
	ssize_t	 n;
	char	*nl;

	while (log_queued > 0 && log_writable(timeout)) {
		len = log_queued < PIPE_BUF ? log_queued : PIPE_BUF;
		if ((nl = memrchr(log_queue, '\n', len)) != NULL)
			len = (size_t)(nl - log_queue) + 1;
		n = write(STDERR_FILENO, log_queue, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;	/* someone made it non-blocking: wait */
		if (n <= 0) {
			log_queued = 0;	/* stderr is gone: nowhere to go */
			break;
		}
		memmove(log_queue, log_queue + n, log_queued - (size_t)n);
		log_queued -= (size_t)n;
	}
	log_note_dropped();
	if (log_loop == NULL)
		return;
	if (log_queued > 0 && !ev_is_active(&log_io))
		ev_io_start(log_loop, &log_io);
	else if (log_queued == 0 && ev_is_active(&log_io))
		ev_io_stop(log_loop, &log_io);
}

static void
log_drain(struct ev_loop *loop, ev_io *w, int revents)
{
	log_flush(0);
}

void
log_attach(struct ev_loop *loop)
{
	log_loop = loop;
	ev_io_init(&log_io, log_drain, STDERR_FILENO, EV_WRITE);
}

void
log_detach(void)
{
	int	i;

	if (log_loop == NULL)
		return;
	/* Each round writes while stderr takes it, or waits 100 ms. */
	for (i = 0; log_queued > 0 && i < LOG_EXIT_WAIT / 100; i++)
		log_flush(100);
	if (ev_is_active(&log_io))
		ev_io_stop(log_loop, &log_io);
	log_loop = NULL;
	log_queued = 0;
}

static void
log_emit(const char *line, size_t len)
{
	ssize_t	n;

	if (log_loop == NULL) {
		/* Before the loop and after it: write, waiting if need be. */
		if (write(STDERR_FILENO, line, len) < 0) {
			/* a line that cannot be written has nowhere to go */
		}
		return;
	}
	if (log_queued == 0 && log_writable(0)) {
		do
			n = write(STDERR_FILENO, line, len);
		while (n == -1 && errno == EINTR);
		/* Written, or lost for good (EPIPE, EIO): nowhere to go. */
		if (n != -1 || errno != EAGAIN)
			return;
	}
	log_note_dropped();
	if (log_queued + len > sizeof(log_queue)) {
		log_dropped++;
		return;
	}
	memcpy(log_queue + log_queued, line, len);
	log_queued += len;
	log_flush(0);
}

static void
log_formatf(char *line, size_t size, size_t *lenp, int prio, const char *fmt,
    ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_format(prio, line, size, lenp, fmt, ap, NULL);
	va_end(ap);
}

static void
log_vmsg(int prio, const char *fmt, va_list ap, const char *suffix)
{
	char	line[1024];
	size_t	len;

	log_format(prio, line, sizeof(line), &len, fmt, ap, suffix);
	log_emit(line, len);
}

static void
log_format(int prio, char *line, size_t size, size_t *lenp, const char *fmt,
    va_list ap, const char *suffix)
{
	struct timespec	 ts;
	struct tm	 tm;
	int		 n;
	size_t		 len;

	if (log_journal) {
		n = snprintf(line, size, "<%d>", prio);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = (int)strftime(line, size, "%Y-%m-%dT%H:%M:%S", &tm);
		n += snprintf(line + n, size - (size_t)n,
		    ".%03ld %s[%ld]: ", ts.tv_nsec / 1000000L, log_ident,
		    log_pid != 0 ? log_pid : (long)getpid());
	}
	if (n < 0 || (size_t)n >= size)
		n = 0;
	vsnprintf(line + n, size - (size_t)n, fmt, ap);
	len = strlen(line);
	if (suffix != NULL)
		len += (size_t)snprintf(line + len, size - len, ": %s",
		    suffix);
	if (len > size - 2)
		len = size - 2;
	line[len++] = '\n';
	*lenp = len;
}

void
log_msg(int prio, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(prio, fmt, ap, NULL);
	va_end(ap);
}

void
log_errno(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}
