/*
 * sdlib.h -- libsystemd, loaded on first use (sdlib.c).  The functions
 * are libsystemd's, with its return conventions; without the library
 * they return -ELIBACC.
 */
#ifndef STACKD_SDLIB_H
#define STACKD_SDLIB_H

#include <stdbool.h>
#include <stdint.h>

bool	 sdlib_load(void);
int	 sdlib_notify(int unset_environment, const char *state);
int	 sdlib_notifyf(int unset_environment, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 sdlib_watchdog_enabled(int unset_environment, uint64_t *usec);

#endif
