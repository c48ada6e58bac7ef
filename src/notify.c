/*
 * notify.c -- telling systemd (or anything listening on NOTIFY_SOCKET)
 * what the stack is doing, through libsystemd's sd_notify.  libsystemd is
 * loaded (sdlib.c) only when NOTIFY_SOCKET is set; if it cannot be, that
 * is logged once and stackd goes on without telling systemd.
 *
 * READY=1 means the stack reached ready_level, not merely that stackd
 * started: a unit ordered After= this one waits for the real thing.
 * STATUS= repeats the machine's one-line summary whenever it changes.
 * The watchdog ping comes from the event loop itself at half the
 * interval, so a wedged loop is what systemd notices; sd_watchdog_enabled
 * honours WATCHDOG_PID, so a child that inherited the variables by mistake
 * would not ping for us (and children never get them: spawn.c).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "sdlib.h"

static bool	notify_on;
static char	notify_last[ACT_TEXTMAX];
static ev_timer	notify_watchdog;

static void
notify_ping(struct ev_loop *loop, ev_timer *w, int revents)
{
	sdlib_notify(0, "WATCHDOG=1");
}

void
notify_init(struct daemon *d)
{
	uint64_t	usec = 0;

	notify_on = getenv("NOTIFY_SOCKET") != NULL && sdlib_load();
	if (!notify_on)
		return;
	if (sdlib_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		ev_timer_init(&notify_watchdog, notify_ping,
		    (double)usec / 2e6, (double)usec / 2e6);
		ev_timer_start(d->loop, &notify_watchdog);
		log_msg(LOG_INFO, "systemd watchdog: pinging every %llums",
		    (unsigned long long)(usec / 2000));
	}
}

void
notify_status(struct daemon *d, const char *text)
{
	if (!notify_on || strcmp(text, notify_last) == 0)
		return;
	snprintf(notify_last, sizeof(notify_last), "%s", text);
	if (sdlib_notifyf(0, "STATUS=%s", text) < 0)
		log_msg(LOG_WARNING, "sd_notify STATUS failed");
}

void
notify_ready(struct daemon *d)
{
	if (notify_on && sdlib_notify(0, "READY=1") < 0)
		log_msg(LOG_WARNING, "sd_notify READY failed");
}

/* Type=notify-reload wants RELOADING=1 with the monotonic time. */
void
notify_reloading(struct daemon *d)
{
	struct timespec	ts;

	if (!notify_on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (sdlib_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL) < 0)
		log_msg(LOG_WARNING, "sd_notify RELOADING failed");
}

/* Once, whatever began the shutdown: SIGTERM, stackctl shutdown, or the
 * machine giving up (give_up_after). */
void
notify_stopping(struct daemon *d)
{
	static bool	sent;

	if (sent)
		return;
	sent = true;
	if (notify_on && sdlib_notify(0, "STOPPING=1") < 0)
		log_msg(LOG_WARNING, "sd_notify STOPPING failed");
}

void
notify_fini(struct daemon *d)
{
	if (notify_on)
		ev_timer_stop(d->loop, &notify_watchdog);
}
