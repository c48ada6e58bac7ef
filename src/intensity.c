/*
 * intensity.c -- the restart-intensity window of a level (and, for display,
 * of each process).
 *
 * The rule is OTP's: more than `intensity` restarts within any sliding
 * window of `period` fails the level.  Only timestamps inside the window
 * matter, so the buffer never needs more than intensity + 1 entries: when
 * it is full and all entries are recent, the limit is already exceeded.
 * Pure: the caller passes the (monotonic) time.
 */
#include <stdlib.h>
#include <string.h>

#include "intensity.h"

int
intensity_init(struct window *w, int intensity)
{
	w->n = 0;
	w->cap = intensity + 1;
	w->times = calloc((size_t)w->cap, sizeof(*w->times));
	return w->times == NULL ? -1 : 0;
}

void
intensity_free(struct window *w)
{
	free(w->times);
	w->times = NULL;
	w->n = w->cap = 0;
}

void
intensity_clear(struct window *w)
{
	w->n = 0;
}

/* Drop the restarts that have left the window (now - period, now]. */
static void
intensity_expire(struct window *w, msec_t now, msec_t period)
{
	int	drop = 0;

	while (drop < w->n && w->times[drop] <= now - period)
		drop++;
	if (drop == 0)
		return;
	memmove(w->times, w->times + drop, (size_t)(w->n - drop) *
	    sizeof(*w->times));
	w->n -= drop;
}

bool
intensity_add(struct window *w, msec_t now, msec_t period, int intensity)
{
	intensity_expire(w, now, period);
	if (w->n == w->cap) {
		/* Full of recent restarts: keep the newest cap - 1. */
		memmove(w->times, w->times + 1, (size_t)(w->n - 1) *
		    sizeof(*w->times));
		w->n--;
	}
	if (w->cap > 0)
		w->times[w->n++] = now;
	return w->n > intensity;
}

int
intensity_count(struct window *w, msec_t now, msec_t period)
{
	intensity_expire(w, now, period);
	return w->n;
}
