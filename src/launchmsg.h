/*
 * launchmsg.h -- the launcher's wire format: one spawn request as one
 * message.
 */
#ifndef STACKD_LAUNCHMSG_H
#define STACKD_LAUNCHMSG_H

#include <stddef.h>

#include "config.h"
#include "spawn.h"

/* A request larger than this (a huge environment) is forked by stackd. */
#define LAUNCH_MAX	(64 * 1024)
#define LAUNCH_PTRS	4096		/* argv + env entries, at most */
#define LAUNCH_FDS	4		/* status, out, err, ready */

/* A request rebuilt from a message: req points into the message and into
 * pc and argv_env, which has room for LAUNCH_PTRS pointers. */
struct launch_req {
	struct spawn_req	 req;
	struct proc_conf	 pc;
	char			*argv_env[];	/* argc + 1, then envc + 1 */
};

#define LAUNCH_LRSIZE	(sizeof(struct launch_req) + \
			    LAUNCH_PTRS * sizeof(char *))

/* r as one message in buf (LAUNCH_MAX bytes); its length, or 0 if it does
 * not fit (stackd then forks that child itself). */
size_t	 launchmsg_pack(const struct spawn_req *r, char *buf);
/* The descriptors that go with r's message, in the order launchmsg_unpack
 * takes them: errfd (the exec-status pipe) first.  Returns how many. */
int	 launchmsg_fds(const struct spawn_req *r, int errfd,
	    int fds[LAUNCH_FDS]);
/* lr (LAUNCH_LRSIZE bytes) from the message of len bytes in buf and the
 * nfds descriptors that came with it; lr points into buf.  -1 if they are
 * not a request. */
int	 launchmsg_unpack(char *buf, size_t len, const int *fds, int nfds,
	    struct launch_req *lr);

#endif
