/*
 * metrics.h -- the stack's state in the Prometheus text exposition format
 * (version 0.0.4), for `stackctl metrics` and [stack] metrics_file.
 */
#ifndef STACKD_METRICS_H
#define STACKD_METRICS_H

#include "daemon.h"
#include "json.h"

/* Append the whole exposition to b; b->oom says if it is incomplete. */
void	metrics_render(struct daemon *, struct buf *);
/* Rewrite metrics_file, if set, atomically; failures are only logged. */
void	metrics_write(struct daemon *);

#endif
