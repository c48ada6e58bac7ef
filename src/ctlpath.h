/*
 * ctlpath.h -- where a stack's control socket lives (SPEC section 5),
 * shared by stackd and stackctl so both always agree.
 */
#ifndef STACKD_CTLPATH_H
#define STACKD_CTLPATH_H

#include <stddef.h>

#include "config.h"

/* 0 and the path in buf, or -1 with a message in buf. */
int	ctlpath(const struct stack_conf *, char *buf, size_t len);

#endif
