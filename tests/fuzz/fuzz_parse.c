/*
 * fuzz_parse.c -- libFuzzer target for the stack.ini loader and validator
 * (parse.c over inih): any file is either a valid stack or refused with a
 * FILE:LINE: message; never a crash, a leak or an out-of-bounds access.
 * The input is handed over as a memfd, so no disk is touched.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stack_conf	*cfg;
	char			 path[64], err[PARSE_ERRMAX];
	int			 fd;

	if ((fd = memfd_create("fuzz.ini", MFD_CLOEXEC)) == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	if ((cfg = parse_file(path, err, sizeof(err))) != NULL) {
		assert(cfg->nlevels > 0);
		config_free(cfg);
	} else
		assert(strncmp(err, path, strlen(path)) == 0);
	close(fd);
	return 0;
}
