/*
 * status.h -- the stack's status as a human table or as JSON.
 */
#ifndef STACKD_STATUS_H
#define STACKD_STATUS_H

#include <stdbool.h>

#include "daemon.h"
#include "json.h"

void	status_json(struct daemon *, struct buf *, msec_t now);
void	status_text(struct daemon *, struct buf *, msec_t now, bool color);

#endif
