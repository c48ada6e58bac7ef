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

/*
 * Is the socket's directory safe to use: owned by us or root, and not
 * writable by others unless sticky?  0, or -1 with a message in err.  A
 * directory that does not exist (yet) passes.  For the default paths; a
 * `control =` path is the operator's choice.
 */
int	ctlpath_dir_trusted(const char *sockpath, char *err, size_t len);

#endif
