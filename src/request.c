/*
 * request.c -- the grammar of a control request (stackctl(1), PROTOCOL):
 * one line of at most four words of printable ASCII, a request name and
 * its arguments.  Everything a client can send arrives here first, so it
 * is kept pure and small, and fuzzed (tests/fuzz).  Nothing that is not
 * printable text is ever parsed, echoed in a reply or logged: the reason
 * for a refusal names a word only once the whole line is known to be
 * printable.
 */
#include <stdio.h>
#include <string.h>

#include "request.h"

static const struct {
	const char	*name;
	enum req_kind	 kind;
	int		 min, max;	/* arguments */
	const char	*usage;
} requests[] = {
	{ "status",	REQ_STATUS,	0, 1, "status [json|color]" },
	{ "target",	REQ_TARGET,	1, 1, "target LEVEL" },
	{ "wait",	REQ_WAIT,	1, 1, "wait LEVEL" },
	{ "ready",	REQ_READY,	0, 1, "ready [LEVEL]" },
	{ "restart",	REQ_RESTART,	1, 1, "restart PROCESS" },
	{ "reload",	REQ_RELOAD,	0, 0, "reload" },
	{ "events",	REQ_EVENTS,	0, 0, "events" },
	{ "metrics",	REQ_METRICS,	0, 0, "metrics" },
	{ "shutdown",	REQ_SHUTDOWN,	0, 0, "shutdown" },
};

/* Printable ASCII and tabs; names are [A-Za-z0-9_.@-]. */
static int
request_printable(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] < ' ' || (unsigned char)s[i] > '~') &&
		    s[i] != '\t')
			return 0;
	return 1;
}

int
request_parse(char *line, size_t len, struct request *rq, char *err,
    size_t errlen)
{
	char	*words[REQ_MAXWORDS + 1], *save = NULL, *w;
	size_t	 i;
	int	 n = 0;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (!request_printable(line, len)) {
		snprintf(err, errlen, "request is not printable text");
		return -1;
	}
	line[len] = '\0';
	for (w = strtok_r(line, " \t", &save); w != NULL && n <= REQ_MAXWORDS;
	    w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	if (n == 0 || n > REQ_MAXWORDS) {
		snprintf(err, errlen, "malformed request");
		return -1;
	}
	for (i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
		if (strcmp(words[0], requests[i].name) == 0)
			break;
	if (i == sizeof(requests) / sizeof(requests[0])) {
		snprintf(err, errlen, "unknown request '%.64s'", words[0]);
		return -1;
	}
	if (n - 1 < requests[i].min || n - 1 > requests[i].max ||
	    (requests[i].kind == REQ_STATUS && n == 2 &&
	    strcmp(words[1], "json") != 0 && strcmp(words[1], "color") != 0)) {
		snprintf(err, errlen, "usage: %s", requests[i].usage);
		return -1;
	}
	memset(rq, 0, sizeof(*rq));
	rq->kind = requests[i].kind;
	rq->argc = n - 1;
	for (n = 1; n <= rq->argc; n++)
		rq->argv[n - 1] = words[n];
	return 0;
}
