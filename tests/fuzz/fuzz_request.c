/*
 * fuzz_request.c -- libFuzzer target for the control request parser
 * (request.c): whatever a client sends, the parser must neither crash nor
 * read or write out of bounds, and an accepted request must be made of
 * printable words only.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request	 rq;
	char		*line, err[128];
	int		 i;

	if (size > 4096)
		return 0;
	/* Exactly size bytes plus the one request_parse may write. */
	if ((line = malloc(size + 1)) == NULL)
		return 0;
	memcpy(line, data, size);
	if (request_parse(line, size, &rq, err, sizeof(err)) == 0) {
		assert(rq.argc >= 0 && rq.argc < REQ_MAXWORDS);
		for (i = 0; i < rq.argc; i++)
			assert(strlen(rq.argv[i]) > 0);
	} else
		assert(strlen(err) > 0);
	free(line);
	return 0;
}
