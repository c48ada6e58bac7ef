/*
 * test_intensity.c -- the restart-intensity window (intensity.c): more than
 * `intensity` restarts within any sliding window of `period` exceeds it;
 * the window is (now - period, now], so a restart exactly `period` old has
 * left it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>

#include <stdbool.h>

#include "intensity.h"

#define PERIOD	10000

/* intensity 3 in 10s: three restarts are fine, the fourth exceeds. */
static void
test_fourth_within_window_exceeds(void **state)
{
	struct window	w;

	(void)state;
	assert_int_equal(intensity_init(&w, 3), 0);
	assert_false(intensity_add(&w, 1000, PERIOD, 3));
	assert_false(intensity_add(&w, 2000, PERIOD, 3));
	assert_false(intensity_add(&w, 3000, PERIOD, 3));
	assert_int_equal(intensity_count(&w, 3000, PERIOD), 3);
	assert_true(intensity_add(&w, 4000, PERIOD, 3));
	/* Still exceeded by a fifth one at once, and the window never
	 * holds more than intensity + 1 entries. */
	assert_true(intensity_add(&w, 4500, PERIOD, 3));
	assert_int_equal(intensity_count(&w, 4500, PERIOD), 4);
	intensity_free(&w);
}

/* All at the same instant: the fourth still exceeds. */
static void
test_burst_same_instant(void **state)
{
	struct window	w;
	int		i;

	(void)state;
	assert_int_equal(intensity_init(&w, 3), 0);
	for (i = 0; i < 3; i++)
		assert_false(intensity_add(&w, 500, PERIOD, 3));
	assert_true(intensity_add(&w, 500, PERIOD, 3));
	intensity_free(&w);
}

/* Restarts spread more than a period apart never exceed. */
static void
test_spread_beyond_period(void **state)
{
	struct window	w;
	msec_t		t;

	(void)state;
	assert_int_equal(intensity_init(&w, 3), 0);
	for (t = 0; t < 50 * 4000; t += 4000) {
		/* every 4s: at most 3 within any 10s window */
		assert_false(intensity_add(&w, t, PERIOD, 3));
		assert_true(intensity_count(&w, t, PERIOD) <= 3);
	}
	intensity_free(&w);
}

/* Four within 10s but a sliding window: 0, 3.4s, 6.7s, then 10.0s (the
 * first is exactly one period old and has left the window) is fine;
 * 10.001s after 0.002s would not be. */
static void
test_boundary_exactly_period(void **state)
{
	struct window	w;

	(void)state;
	assert_int_equal(intensity_init(&w, 3), 0);
	assert_false(intensity_add(&w, 0, PERIOD, 3));
	assert_false(intensity_add(&w, 3400, PERIOD, 3));
	assert_false(intensity_add(&w, 6700, PERIOD, 3));
	/* exactly one period after the first: it has left the window */
	assert_false(intensity_add(&w, PERIOD, PERIOD, 3));
	assert_int_equal(intensity_count(&w, PERIOD, PERIOD), 3);
	/* one ms before 3400 + period: 3400, 6700, 10000 and this one */
	assert_true(intensity_add(&w, 3400 + PERIOD - 1, PERIOD, 3));
	intensity_free(&w);

	/* The other side of the boundary: one ms short of a period. */
	assert_int_equal(intensity_init(&w, 3), 0);
	assert_false(intensity_add(&w, 0, PERIOD, 3));
	assert_false(intensity_add(&w, 1, PERIOD, 3));
	assert_false(intensity_add(&w, 2, PERIOD, 3));
	assert_true(intensity_add(&w, PERIOD - 1, PERIOD, 3));
	intensity_free(&w);
}

/* intensity 0: the very first restart exceeds. */
static void
test_intensity_zero(void **state)
{
	struct window	w;

	(void)state;
	assert_int_equal(intensity_init(&w, 0), 0);
	assert_true(intensity_add(&w, 1234, PERIOD, 0));
	/* and so does one long after */
	assert_true(intensity_add(&w, 1234 + 10 * PERIOD, PERIOD, 0));
	intensity_free(&w);
}

/* The largest intensity the parser takes: never exceeded, and counted. */
static void
test_intensity_int_max(void **state)
{
	struct window	w;

	(void)state;
	assert_int_equal(intensity_init(&w, INT_MAX), 0);
	assert_false(intensity_add(&w, 1, PERIOD, INT_MAX));
	assert_false(intensity_add(&w, 2, PERIOD, INT_MAX));
	assert_false(intensity_add(&w, 3, PERIOD, INT_MAX));
	assert_int_equal(intensity_count(&w, 4, PERIOD), 3);
	intensity_free(&w);
}

/* intensity 1: one is fine, a second within the period is not. */
static void
test_intensity_one(void **state)
{
	struct window	w;

	(void)state;
	assert_int_equal(intensity_init(&w, 1), 0);
	assert_false(intensity_add(&w, 0, PERIOD, 1));
	assert_true(intensity_add(&w, PERIOD - 1, PERIOD, 1));
	/* both are gone a period after the second */
	assert_int_equal(intensity_count(&w, 2 * PERIOD - 1, PERIOD), 0);
	assert_false(intensity_add(&w, 2 * PERIOD - 1, PERIOD, 1));
	intensity_free(&w);
}

/* count drops the restarts that left the window, one by one. */
static void
test_count_after_expiry(void **state)
{
	struct window	w;

	(void)state;
	assert_int_equal(intensity_init(&w, 5), 0);
	assert_int_equal(intensity_count(&w, 0, PERIOD), 0);
	assert_false(intensity_add(&w, 1000, PERIOD, 5));
	assert_false(intensity_add(&w, 2000, PERIOD, 5));
	assert_false(intensity_add(&w, 5000, PERIOD, 5));
	assert_int_equal(intensity_count(&w, 5000, PERIOD), 3);
	assert_int_equal(intensity_count(&w, 10999, PERIOD), 3);
	assert_int_equal(intensity_count(&w, 11000, PERIOD), 2);
	assert_int_equal(intensity_count(&w, 11999, PERIOD), 2);
	assert_int_equal(intensity_count(&w, 12000, PERIOD), 1);
	assert_int_equal(intensity_count(&w, 14999, PERIOD), 1);
	assert_int_equal(intensity_count(&w, 15000, PERIOD), 0);
	/* after expiry the full budget is available again */
	assert_false(intensity_add(&w, 20000, PERIOD, 5));
	assert_false(intensity_add(&w, 20001, PERIOD, 5));
	assert_false(intensity_add(&w, 20002, PERIOD, 5));
	assert_false(intensity_add(&w, 20003, PERIOD, 5));
	assert_false(intensity_add(&w, 20004, PERIOD, 5));
	assert_true(intensity_add(&w, 20005, PERIOD, 5));
	intensity_free(&w);
}

/* An exceeded window recovers once enough old entries expire. */
static void
test_recovers_after_exceeding(void **state)
{
	struct window	w;

	(void)state;
	assert_int_equal(intensity_init(&w, 2), 0);
	assert_false(intensity_add(&w, 0, PERIOD, 2));
	assert_false(intensity_add(&w, 100, PERIOD, 2));
	assert_true(intensity_add(&w, 200, PERIOD, 2));
	assert_true(intensity_add(&w, 300, PERIOD, 2));
	/* at 10100: 0 and 100 have left; 200 and 300 remain, + this = 3 */
	assert_true(intensity_add(&w, 10100, PERIOD, 2));
	/* at 10300: only 10100 remains, + this = 2 */
	assert_false(intensity_add(&w, 10300, PERIOD, 2));
	assert_int_equal(intensity_count(&w, 10300, PERIOD), 2);
	intensity_free(&w);
}

static void
test_clear(void **state)
{
	struct window	w;

	(void)state;
	assert_int_equal(intensity_init(&w, 2), 0);
	assert_false(intensity_add(&w, 0, PERIOD, 2));
	assert_false(intensity_add(&w, 1, PERIOD, 2));
	intensity_clear(&w);
	assert_int_equal(intensity_count(&w, 2, PERIOD), 0);
	assert_false(intensity_add(&w, 2, PERIOD, 2));
	assert_false(intensity_add(&w, 3, PERIOD, 2));
	assert_true(intensity_add(&w, 4, PERIOD, 2));
	intensity_free(&w);
	assert_null(w.times);
}

/* A window costs memory only as restarts come, and never more than
 * intensity + 1 entries. */
static void
test_grows_lazily(void **state)
{
	struct window	w;
	int		i;

	(void)state;
	assert_int_equal(intensity_init(&w, 100000), 0);
	assert_null(w.times);
	assert_int_equal(w.cap, 0);
	assert_false(intensity_add(&w, 1, PERIOD, 100000));
	assert_true(w.cap >= 1 && w.cap <= 4);
	intensity_free(&w);

	assert_int_equal(intensity_init(&w, 5), 0);
	for (i = 0; i < 5; i++)
		assert_false(intensity_add(&w, 100 + i, PERIOD, 5));
	assert_true(intensity_add(&w, 200, PERIOD, 5));
	assert_true(intensity_add(&w, 300, PERIOD, 5));
	assert_int_equal(w.cap, 6);
	assert_int_equal(intensity_count(&w, 300, PERIOD), 6);
	intensity_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fourth_within_window_exceeds),
		cmocka_unit_test(test_grows_lazily),
		cmocka_unit_test(test_burst_same_instant),
		cmocka_unit_test(test_spread_beyond_period),
		cmocka_unit_test(test_boundary_exactly_period),
		cmocka_unit_test(test_intensity_zero),
		cmocka_unit_test(test_intensity_int_max),
		cmocka_unit_test(test_intensity_one),
		cmocka_unit_test(test_count_after_expiry),
		cmocka_unit_test(test_recovers_after_exceeding),
		cmocka_unit_test(test_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
