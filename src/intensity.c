/*
 * intensity.c -- the restart-intensity window of a level (and, for display,
 * of each process).
 *
 * The rule is OTP's: more than `intensity` restarts within any sliding
 * window of `period` fails the level.  Only timestamps inside the window
 * matter, so the buffer never needs more than intensity + 1 entries: when
 * it is full and all entries are recent, the limit is already exceeded.
 * The buffer grows to that size only as restarts come: a process that
 * never restarts costs no memory, whatever its intensity (a thousand
 * processes with intensity = 1000 would otherwise hold 8 MB of empty
 * windows, which every fork copies the page tables of).
 * Pure: the caller passes the (monotonic) time.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "intensity.h"

int
intensity_init(struct window *w, int intensity)
{
	w->times = NULL;
	w->n = w->cap = 0;
	/* INT_MAX (the parser allows it) means "never" all the same. */
	w->max = intensity < INT_MAX ? intensity + 1 : INT_MAX;
	return 0;
}

/* Room for at least want entries (up to max); -1 if none could be had. */
int
intensity_reserve(struct window *w, int want)
{
	msec_t	*t;
	int	 ncap;

	if (want > w->max)
		want = w->max;
	if (want <= w->cap)
		return 0;
	ncap = w->cap > 0 ? w->cap * 2 : 4;
	if (ncap < want)
		ncap = want;
	if (ncap > w->max)
		ncap = w->max;
	if ((t = realloc(w->times, (size_t)ncap * sizeof(*t))) == NULL)
		return -1;
	w->times = t;
	w->cap = ncap;
	return 0;
}

void
intensity_free(struct window *w)
{
	free(w->times);
	w->times = NULL;
	w->n = w->cap = w->max = 0;
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
	/* Out of memory: keep counting in the room there is. */
	if (w->n == w->cap)
		(void)intensity_reserve(w, w->n + 1);
	if (w->n == w->cap && w->n > 0) {
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
