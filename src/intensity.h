/*
 * intensity.h -- the restart-intensity window (Erlang/OTP's MaxR in MaxT):
 * the timestamps of recent restarts, pure and clock-agnostic.
 */
#ifndef STACKD_INTENSITY_H
#define STACKD_INTENSITY_H

#include <stdbool.h>
#include "config.h"

struct window {
	msec_t	*times;		/* oldest first */
	int	 n;
	int	 cap;		/* allocated, grown as restarts come */
	int	 max;		/* intensity + 1: never needs more */
};

/* Allocates nothing yet; returns 0. */
int	intensity_init(struct window *, int intensity);
/* Room for want entries (at most max); -1 when out of memory. */
int	intensity_reserve(struct window *, int want);
void	intensity_free(struct window *);
void	intensity_clear(struct window *);
/* Record a restart at now; true if now more than intensity in period. */
bool	intensity_add(struct window *, msec_t now, msec_t period, int intensity);
/* Restarts within (now - period, now]. */
int	intensity_count(struct window *, msec_t now, msec_t period);

#endif
