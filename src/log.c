/*
 * log.c -- stackd's log lines.
 *
 * Everything goes to stderr, one write(2) per line so lines from stackd
 * never interleave mid-line with the children that share the stream.
 * Under systemd, when JOURNAL_STREAM names the very file stderr is, the
 * journal adds its own timestamps and wants a "<N>" syslog priority
 * prefix instead; otherwise each line carries a local timestamp and
 * "stackd[PID]:", like syslog would.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char	*log_ident = "stackd";
static bool		 log_journal;
static long		 log_pid;	/* ours: never changes, no syscall */

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

static void
log_vmsg(int prio, const char *fmt, va_list ap, const char *suffix)
{
	char		 line[1024];
	struct timespec	 ts;
	struct tm	 tm;
	int		 n;
	size_t		 len;

	if (log_journal) {
		n = snprintf(line, sizeof(line), "<%d>", prio);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += snprintf(line + n, sizeof(line) - (size_t)n,
		    ".%03ld %s[%ld]: ", ts.tv_nsec / 1000000L, log_ident,
		    log_pid != 0 ? log_pid : (long)getpid());
	}
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	len = strlen(line);
	if (suffix != NULL)
		len += (size_t)snprintf(line + len, sizeof(line) - len, ": %s",
		    suffix);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* Best effort: a log line that cannot be written has nowhere to go. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
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
