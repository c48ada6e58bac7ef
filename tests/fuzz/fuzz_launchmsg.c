/*
 * fuzz_launchmsg.c -- libFuzzer target for the launcher's request
 * unpacking (launchmsg.c).  The first input byte says how many
 * descriptors came with the message (0-4), the rest is the message.
 * Whatever it holds, unpacking must neither crash nor read out of bounds;
 * a request it accepts must point only into the message (argv, env, the
 * pid slot with room for any pid, the groups), and packing that request
 * again must give a message that unpacks to the same strings.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "launchmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static _Alignas(8) char	again[LAUNCH_MAX];

static int
inside(const char *buf, size_t len, const char *s)
{
	return s >= buf && s < buf + len &&
	    memchr(s, '\0', (size_t)(buf + len - s)) != NULL;
}

static int
strv_inside(const char *buf, size_t len, char *const *v)
{
	int	i;

	for (i = 0; v[i] != NULL; i++)
		if (!inside(buf, len, v[i]))
			return 0;
	return 1;
}

static int
strv_equal(char *const *a, char *const *b)
{
	int	i;

	for (i = 0; a[i] != NULL && b[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return a[i] == NULL && b[i] == NULL;
}

static void
check(char *buf, size_t len, const struct launch_req *lr, int nfds)
{
	const struct spawn_req	*r = &lr->req;
	struct launch_req	*lr2;
	int			 fds[LAUNCH_FDS];
	size_t			 len2;

	assert(r->argv[0] != NULL);
	assert(strv_inside(buf, len, r->argv));
	assert(strv_inside(buf, len, r->env));
	if (r->own_pid != NULL)
		assert(inside(buf, len, r->own_pid) &&
		    strlen(r->own_pid) >= SPAWN_PID_ROOM);
	if (r->pc != NULL) {
		assert(r->pc->ngroups == 0 || ((char *)r->pc->groups >= buf &&
		    (char *)(r->pc->groups + r->pc->ngroups) <= buf + len));
		assert(r->pc->workdir == NULL ||
		    inside(buf, len, r->pc->workdir));
	}
	assert(launchmsg_fds(r, 100, fds) == nfds);

	len2 = launchmsg_pack(r, again);
	assert(len2 > 0 && len2 <= len);
	lr2 = malloc(LAUNCH_LRSIZE);
	assert(lr2 != NULL);
	assert(launchmsg_unpack(again, len2, fds, nfds, lr2) == 0);
	assert(strv_equal(r->argv, lr2->req.argv));
	assert(strv_equal(r->env, lr2->req.env));
	assert((r->own_pid == NULL) == (lr2->req.own_pid == NULL));
	free(lr2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct launch_req	*lr;
	char			*buf;
	int			 fds[LAUNCH_FDS] = { 100, 101, 102, 103 };
	int			 nfds;

	if (size < 1 || size - 1 > LAUNCH_MAX)
		return 0;
	nfds = data[0] % (LAUNCH_FDS + 1);
	/* Exactly the message's bytes, so ASan sees any read past them. */
	if ((buf = malloc(size - 1 > 0 ? size - 1 : 1)) == NULL ||
	    (lr = malloc(LAUNCH_LRSIZE)) == NULL) {
		free(buf);
		return 0;
	}
	memcpy(buf, data + 1, size - 1);
	if (launchmsg_unpack(buf, size - 1, fds, nfds, lr) == 0)
		check(buf, size - 1, lr, nfds);
	free(lr);
	free(buf);
	return 0;
}
