/*
 * fuzz_words.c -- libFuzzer target for the command word splitter
 * (words.c): any string either splits into words or is refused with a
 * message; never a crash, a leak or an out-of-bounds access.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*s, **argv;
	const char	*err = NULL;
	size_t		 i;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (words_split(s, &argv, &err) == 0) {
		for (i = 0; argv[i] != NULL; i++)
			assert(strlen(argv[i]) <= size);
		words_free(argv);
	} else
		assert(err != NULL);
	free(s);
	return 0;
}
