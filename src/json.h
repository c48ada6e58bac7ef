/*
 * json.h -- a growable text buffer with a JSON string writer, for status
 * replies.  Running out of memory is remembered (oom) instead of reported
 * at every call; the caller checks once at the end.
 */
#ifndef STACKD_JSON_H
#define STACKD_JSON_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	bool	 oom;
};

void	buf_free(struct buf *);
void	buf_append(struct buf *, const char *, size_t);
void	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append s as a quoted JSON string; invalid UTF-8 becomes U+FFFD. */
void	buf_json_str(struct buf *, const char *s);

#endif
