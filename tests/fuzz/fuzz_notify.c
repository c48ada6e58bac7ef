/*
 * fuzz_notify.c -- libFuzzer target for the sd_notify datagram parser
 * (notifymsg.c): whatever a child sends, a datagram is taken whole or
 * refused with a printable reason; never a crash or an out-of-bounds
 * access, and an accepted STATUS= lies inside the datagram.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "notifymsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct notifymsg	 m;
	char			*buf, why[128];
	size_t			 i;

	if (size > NOTIFYMSG_MAX)
		return 0;
	/* Exactly size bytes: any read past the end is caught. */
	if ((buf = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	if (notifymsg_parse(buf, size, &m, why, sizeof(why)) == 0) {
		if (m.status != NULL)
			assert(m.status >= buf &&
			    m.status + m.status_len <= buf + size);
	} else
		for (i = 0; why[i] != '\0'; i++)
			assert(why[i] >= ' ' && why[i] <= '~');
	free(buf);
	return 0;
}
