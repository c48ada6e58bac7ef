/*
 * request.h -- one control request line, parsed and checked, without I/O:
 * shared by the daemon (control.c) and the fuzzer.
 */
#ifndef STACKD_REQUEST_H
#define STACKD_REQUEST_H

#include <stddef.h>

enum req_kind {
	REQ_STATUS, REQ_TARGET, REQ_WAIT, REQ_READY, REQ_RESTART,
	REQ_RELOAD, REQ_EVENTS, REQ_METRICS, REQ_SHUTDOWN
};

#define REQ_MAXWORDS	4

struct request {
	enum req_kind	 kind;
	int		 argc;		/* words after the request's name */
	char		*argv[REQ_MAXWORDS];	/* into the caller's line */
};

/*
 * Parse the len bytes at line, which the caller must allow to be written
 * up to line[len] inclusive (the words are cut out in place).  Returns 0,
 * or -1 with a one-line reason (printable ASCII) in err.
 */
int	request_parse(char *line, size_t len, struct request *,
	    char *err, size_t errlen);

#endif
