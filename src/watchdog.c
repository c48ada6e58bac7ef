/*
 * watchdog.c -- the software watchdog of a ready = notify process
 * (`watchdog = DURATION`), what systemd calls WatchdogSec=.
 *
 * The child gets WATCHDOG_USEC and WATCHDOG_PID, as under systemd, so
 * sd_watchdog_enabled(3) tells it to ping.  Each WATCHDOG=1 it sends
 * (ready.c) re-arms a timer of that length.  As with systemd, the timer
 * starts at READY=1, or at an earlier WATCHDOG=1 -- until then the
 * level's ready_timeout bounds the start -- and STOPPING=1 turns it off,
 * since a daemon on its way out stops pinging.  When it runs out, or the
 * child sends WATCHDOG=trigger, the process group gets SIGABRT (systemd's
 * default WatchdogSignal: a core dump shows where it hung) and, if the
 * process is still there after its stop_timeout, SIGKILL.  The exit that
 * follows is an ordinary abnormal one, killed by a signal, and goes the
 * usual way from reap.c to the machine: restart type, intensity, a failed
 * climb.  The machine needs to know nothing about watchdogs.
 *
 * The struct lives in ready.c's per-process watch, which frees it when the
 * process is reaped and moves it on reload; proc is kept current there.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "spawn.h"

enum { WD_IDLE, WD_ARMED, WD_ABORTED, WD_DONE };

static void	watchdog_expired(struct ev_loop *, ev_timer *, int);

void
watchdog_init(struct watchdog *wd, int proc)
{
	memset(wd, 0, sizeof(*wd));
	ev_init(&wd->timer, watchdog_expired);
	wd->proc = proc;
	wd->phase = WD_IDLE;
}

/*
 * WATCHDOG_USEC, and WATCHDOG_PID with room for the pid, which only the
 * child knows: spawn() writes it there through *own_pid.
 */
int
watchdog_env(const struct proc_conf *pc, char ***env, char **own_pid)
{
	char	usec[32], room[SPAWN_PID_ROOM + 1];
	size_t	klen = strlen("WATCHDOG_PID=");
	int	i;

	snprintf(usec, sizeof(usec), "%lld", (long long)pc->watchdog * 1000);
	memset(room, '0', SPAWN_PID_ROOM);
	room[SPAWN_PID_ROOM] = '\0';
	if (spawn_env_set(env, "WATCHDOG_USEC", usec) == -1 ||
	    spawn_env_set(env, "WATCHDOG_PID", room) == -1)
		return -1;
	for (i = 0; (*env)[i] != NULL; i++)
		if (strncmp((*env)[i], "WATCHDOG_PID=", klen) == 0)
			*own_pid = (*env)[i] + klen;
	return 0;
}

/* WATCHDOG=1 or READY=1: (re)start the countdown, if there is one. */
void
watchdog_ping(struct daemon *d, struct watchdog *wd)
{
	msec_t	ms = d->cfg->procs[wd->proc].watchdog;

	if (ms <= 0 || wd->phase > WD_ARMED)
		return;
	wd->phase = WD_ARMED;
	wd->timer.repeat = (double)ms / 1000.0;
	ev_timer_again(d->loop, &wd->timer);
}

/* SIGABRT now, SIGKILL after stop_timeout. */
void
watchdog_fire(struct daemon *d, struct watchdog *wd, const char *why)
{
	const struct proc_conf	*pc = &d->cfg->procs[wd->proc];
	const struct proc_rt	*p = &d->m.procs[wd->proc];

	/* Aborted already: its SIGKILL timer stands, whatever the child
	 * sends meanwhile (a second WATCHDOG=trigger must not cancel it). */
	if (wd->phase >= WD_ABORTED)
		return;
	ev_timer_stop(d->loop, &wd->timer);
	/* Being stopped already: the machine's SIGKILL deadline holds. */
	if (p->pid <= 0 || p->state == PS_STOPPING) {
		wd->phase = WD_DONE;
		return;
	}
	log_msg(LOG_ERR, "process %s: watchdog: %s; sending SIGABRT, SIGKILL "
	    "after %lldms", pc->name, why, (long long)pc->stop_timeout);
	spawn_signal(p->pid, SIGABRT);
	/* A stopped process acts on nothing but SIGKILL until continued. */
	spawn_signal(p->pid, SIGCONT);
	wd->phase = WD_ABORTED;
	ev_timer_set(&wd->timer, (double)pc->stop_timeout / 1000.0, 0.);
	ev_timer_start(d->loop, &wd->timer);
}

static void
watchdog_expired(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct watchdog		*wd = (struct watchdog *)t;
	struct daemon		*d = daemon_self;
	const struct proc_conf	*pc = &d->cfg->procs[wd->proc];
	pid_t			 pid = d->m.procs[wd->proc].pid;
	char			 why[64];

	if (wd->phase == WD_ARMED) {
		snprintf(why, sizeof(why), "no WATCHDOG=1 within %lldms",
		    (long long)pc->watchdog);
		watchdog_fire(d, wd, why);
		return;
	}
	ev_timer_stop(loop, t);
	if (wd->phase != WD_ABORTED || pid <= 0)
		return;
	log_msg(LOG_WARNING, "process %s did not exit within %lldms of "
	    "SIGABRT, sending SIGKILL", pc->name, (long long)pc->stop_timeout);
	spawn_signal(pid, SIGKILL);
	wd->phase = WD_DONE;
}

/* STOPPING=1: no more pings expected.  A SIGKILL already due stays due. */
void
watchdog_disarm(struct daemon *d, struct watchdog *wd)
{
	if (wd->phase > WD_ARMED)
		return;
	ev_timer_stop(d->loop, &wd->timer);
	wd->phase = WD_DONE;
}

/* The process is gone (or its watch closed): nothing more to do. */
void
watchdog_cancel(struct daemon *d, struct watchdog *wd)
{
	ev_timer_stop(d->loop, &wd->timer);
	wd->phase = WD_DONE;
}
