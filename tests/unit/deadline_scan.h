/*
 * deadline_scan.h -- the machine's next deadline found the slow way, the
 * reference test_machine.c and test_chaos.c hold machine_next_deadline to.
 */
#ifndef STACKD_DEADLINE_SCAN_H
#define STACKD_DEADLINE_SCAN_H

#include "machine.h"

msec_t	scan_next_deadline(const struct machine *);

#endif
