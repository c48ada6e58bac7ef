/*
 * json.c -- text buffers and JSON strings.
 *
 * Status replies must be valid JSON whatever a process name, a description
 * or a child's STATUS= text contains, so every string goes through
 * buf_json_str: quotes, backslashes and control characters are escaped,
 * and bytes that are not valid UTF-8 become U+FFFD rather than making the
 * whole document unparseable.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void
buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static bool
buf_reserve(struct buf *b, size_t more)
{
	size_t	 ncap;
	char	*n;

	if (b->oom)
		return false;
	if (b->len + more + 1 <= b->cap)
		return true;
	ncap = b->cap ? b->cap : 256;
	while (ncap < b->len + more + 1)
		ncap *= 2;
	if ((n = realloc(b->data, ncap)) == NULL) {
		b->oom = true;
		return false;
	}
	b->data = n;
	b->cap = ncap;
	return true;
}

void
buf_append(struct buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t		n, i;
	uint32_t	cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past Unicode are invalid. */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
	    (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void
buf_json_str(struct buf *b, const char *str)
{
	const unsigned char	*s = (const unsigned char *)(str ? str : "");
	size_t			 n;

	buf_append(b, "\"", 1);
	while (*s) {
		if (*s == '"' || *s == '\\') {
			buf_append(b, "\\", 1);
			buf_append(b, (const char *)s, 1);
			s++;
		} else if (*s < 0x20 || *s == 0x7f) {
			buf_printf(b, "\\u%04x", *s);
			s++;
		} else if ((n = utf8_len(s)) == 0) {
			buf_append(b, "\\ufffd", 6);
			s++;
		} else {
			buf_append(b, (const char *)s, n);
			s += n;
		}
	}
	buf_append(b, "\"", 1);
}
