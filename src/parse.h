/*
 * parse.h -- reading and validating stack.ini (parse.c) and the small value
 * parsers it is built from, exported for the unit tests and for stackctl.
 */
#ifndef STACKD_PARSE_H
#define STACKD_PARSE_H

#include "config.h"

#define PARSE_ERRMAX	512

/*
 * Parse and validate PATH in full.  On success return a new stack_conf
 * (free with config_free) and leave err untouched.  On failure return NULL
 * and write "FILE:LINE: message" (or "FILE: message" when no line applies,
 * e.g. a missing file) into err.  Never partially applies anything.
 */
struct stack_conf *parse_file(const char *path, char *err, size_t errlen);

/*
 * Only what finds the control socket -- [stack] name (else the file's
 * name) and control -- read loosely, every other line ignored: stackctl
 * must reach a stackd whose file is being edited or has a mistake in it
 * (the daemon judges the file itself at reload).  NULL, with err as
 * parse_file's, only if PATH cannot be read or memory runs out.
 */
struct stack_conf *parse_socket_keys(const char *path, char *err,
	    size_t errlen);

/* Value parsers: 0 on success, -1 on a bad value. */
int	parse_duration(const char *, msec_t *);	/* 250ms 10s 2m 1h 1.5 */
int	parse_bool(const char *, bool *);	/* yes/no/true/false/on/off/1/0 */
int	parse_signal(const char *, int *);	/* TERM, SIGTERM, 15 */
int	parse_uint(const char *, int min, int max, int *);
const char *signal_name(int);			/* "TERM"; "" if unknown */

#endif
