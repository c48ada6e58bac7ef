/*
 * notifymsg.c -- the subset of the sd_notify protocol stackd understands,
 * as a pure parser of one datagram; ready.c receives it and acts on it.
 *
 * A datagram is KEY=VALUE assignments separated by newlines.  stackd acts
 * on READY=1, STATUS=, MAINPID=, STOPPING=1, ERRNO= and WATCHDOG=1 or
 * WATCHDOG=trigger.  Other well-formed keys (BARRIER=1, RELOADING=1,
 * FDSTORE=1, EXTEND_TIMEOUT_USEC=, ...) are accepted and ignored, as
 * systemd ignores what it does not know, so a daemon written for systemd
 * never trips over them.
 *
 * A datagram is taken whole or not at all: a NUL byte, a line that is not
 * KEY=VALUE, or a bad value for a key stackd acts on rejects all of it,
 * so a garbled message can never be half applied (READY=1 acted on while
 * the MAINPID= next to it was nonsense).  The reason is made printable
 * here, since it quotes what the child sent and goes to the log.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "notifymsg.h"

/* errno values are below 4096 on Linux (MAX_ERRNO). */
#define NOTIFYMSG_ERRNO_MAX	4095
#define NOTIFYMSG_QUOTE		40

static int __attribute__((format(printf, 3, 4)))
notifymsg_bad(char *why, size_t len, const char *fmt, ...)
{
	va_list	ap;

	if (len > 0) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* The start of a line, printable, for a log message. */
static const char *
notifymsg_quote(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t	i, n = len < buflen - 4 ? len : buflen - 4;

	for (i = 0; i < n; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
	if (n < len) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* A decimal number in [min, max], digits only: no sign, no blanks. */
static bool
notifymsg_number(const char *s, size_t len, long min, long max, long *out)
{
	long	v = 0;
	size_t	i;

	if (len == 0 || len > 10)
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* An environment variable name, as systemd requires of the key. */
static bool
notifymsg_key_ok(const char *k, size_t len)
{
	size_t	i;

	if (len == 0 || isdigit((unsigned char)k[0]))
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '_')
			return false;
	return true;
}

static bool
notifymsg_is(const char *k, size_t klen, const char *name)
{
	return strlen(name) == klen && memcmp(k, name, klen) == 0;
}

static bool
notifymsg_value_is(const char *v, size_t vlen, const char *want)
{
	return strlen(want) == vlen && memcmp(v, want, vlen) == 0;
}

/*
 * One KEY=VALUE line into m; false if its value is bad.  m is only
 * meaningful when every line was good, so it may be set before checking.
 */
static bool
notifymsg_line(const char *k, size_t klen, const char *v, size_t vlen,
    struct notifymsg *m)
{
	long	n;

	if (notifymsg_is(k, klen, "READY")) {
		m->ready = true;
		return notifymsg_value_is(v, vlen, "1");
	}
	if (notifymsg_is(k, klen, "STOPPING")) {
		m->stopping = true;
		return notifymsg_value_is(v, vlen, "1");
	}
	if (notifymsg_is(k, klen, "WATCHDOG") &&
	    notifymsg_value_is(v, vlen, "trigger")) {
		m->trigger = true;
		return true;
	}
	if (notifymsg_is(k, klen, "WATCHDOG")) {
		m->ping = true;
		return notifymsg_value_is(v, vlen, "1");
	}
	if (notifymsg_is(k, klen, "STATUS")) {
		m->status = v;
		m->status_len = vlen;
		return true;
	}
	if (notifymsg_is(k, klen, "MAINPID")) {
		if (!notifymsg_number(v, vlen, 1, INT_MAX, &n))
			return false;
		m->mainpid = (pid_t)n;
		return true;
	}
	if (notifymsg_is(k, klen, "ERRNO")) {
		if (!notifymsg_number(v, vlen, 0, NOTIFYMSG_ERRNO_MAX, &n))
			return false;
		m->errnum = (int)n;
		return true;
	}
	return true;
}

int
notifymsg_parse(const char *buf, size_t len, struct notifymsg *m, char *why,
    size_t whylen)
{
	const char	*line, *end = buf + len, *nl, *eq;
	char		 q[NOTIFYMSG_QUOTE + 4];
	int		 lineno = 0;

	memset(m, 0, sizeof(*m));
	m->errnum = -1;
	if (len == 0)
		return notifymsg_bad(why, whylen, "empty message");
	if (len > NOTIFYMSG_MAX)
		return notifymsg_bad(why, whylen, "%zu bytes, more than %d",
		    len, NOTIFYMSG_MAX);
	if ((nl = memchr(buf, '\0', len)) != NULL)
		return notifymsg_bad(why, whylen, "a NUL byte at offset %td",
		    nl - buf);
	for (line = buf; line < end; line = nl + 1) {
		lineno++;
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		if (nl == line)
			continue;	/* empty, e.g. after a final newline */
		eq = memchr(line, '=', (size_t)(nl - line));
		if (eq == NULL || !notifymsg_key_ok(line, (size_t)(eq - line)))
			return notifymsg_bad(why, whylen, "line %d is not "
			    "KEY=VALUE: \"%s\"", lineno, notifymsg_quote(line,
			    (size_t)(nl - line), q, sizeof(q)));
		if (!notifymsg_line(line, (size_t)(eq - line), eq + 1,
		    (size_t)(nl - eq - 1), m))
			return notifymsg_bad(why, whylen, "line %d has a bad "
			    "value: \"%s\"", lineno, notifymsg_quote(line,
			    (size_t)(nl - line), q, sizeof(q)));
	}
	return 0;
}
