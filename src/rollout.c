/*
 * rollout.c -- the processes a reload changed or added, restarted in the
 * order of the stack: stopped top-down, started bottom-up.
 *
 * Within levels that stay up, a reload restarts what changed and starts
 * what is new (reload.c decides which).  Done all at once, a web server
 * restarted with a new option would come back while the database pool
 * below it, also changed, is still down -- and fail, or count a crash.
 * So the changed processes of the highest level are stopped first, those
 * of the next level down once they are gone, and so on; then the lowest
 * level's are started, those of the next level up once they are ready
 * (or, at the latest, after that level's ready_timeout), and so on.  A
 * process restarted on its own meanwhile (a crash, a strategy restart,
 * stackctl restart) already runs the new file and leaves the rollout; a
 * level that goes down drops its share of it; a level on its way down
 * (above the limit) holds its starts.  No level climbs while a rollout
 * runs.  Like the rest of the machine, free of I/O.
 */
#include <stddef.h>
#include <syslog.h>

#include "machine.h"

static bool
rollout_stopping(enum roll_state r)
{
	return r == ROLL_STOP || r == ROLL_STOPPING;
}

static bool
rollout_starting(enum roll_state r)
{
	return r == ROLL_START || r == ROLL_STARTING;
}

/* The wait for starts ends at the first of their deadlines. */
static void
rollout_wait_until(struct machine *m, msec_t t)
{
	if (t < m->rollout_at)
		m->rollout_at = t;
}

/* Every change of a process's place in the rollout goes through here. */
static void
rollout_set(struct machine *m, int i, enum roll_state r)
{
	enum roll_state	was = m->procs[i].rollout;

	m->rolling += (r != ROLL_NONE) - (was != ROLL_NONE);
	m->rollout_stops += rollout_stopping(r) - rollout_stopping(was);
	m->procs[i].rollout = r;
}

/* Process i (in an up level) changed: stop it, then start it again. */
void
rollout_restart(struct machine *m, int i)
{
	rollout_set(m, i, ROLL_STOP);
	m->procs[i].restart_pending = false;
}

/* Process i (in an up level, down) is new or became a longrun: start it. */
void
rollout_start(struct machine *m, int i)
{
	rollout_set(m, i, ROLL_START);
}

/* Process i leaves the rollout: started otherwise, or its level stops. */
void
rollout_forget(struct machine *m, int i)
{
	rollout_set(m, i, ROLL_NONE);
}

/* After a reload commit renumbered the processes. */
void
rollout_recount(struct machine *m)
{
	enum roll_state	r;
	int		i;

	m->rolling = m->rollout_stops = 0;
	for (i = 0; i < m->cfg->nprocs; i++) {
		r = m->procs[i].rollout;
		m->rolling += r != ROLL_NONE;
		m->rollout_stops += rollout_stopping(r);
	}
	if (m->rolling == 0)
		m->rollout_at = MSEC_NEVER;
}

/*
 * Bring each process's rollout up to date with its state, and find the
 * highest level with something still to stop.  Only below the limit: a
 * level above it is on its way down, top-down, and drops its share then.
 */
static int
rollout_settle(struct machine *m)
{
	const struct stack_conf	*cfg = m->cfg;
	struct proc_rt		*p;
	int			 i, top = -1, limit = machine_limit(m);

	for (i = 0; i < cfg->nprocs; i++) {
		p = &m->procs[i];
		if (p->rollout == ROLL_STOPPING && !roster_live(p->state))
			rollout_set(m, i, ROLL_START);
		else if (p->rollout == ROLL_STARTING &&
		    p->state != PS_STARTING)
			rollout_forget(m, i);
		if (rollout_stopping(p->rollout) &&
		    cfg->procs[i].level > top && cfg->procs[i].level < limit)
			top = cfg->procs[i].level;
	}
	return top;
}

/* Stop what is to stop in level lvl; true if any of it is still going. */
static bool
rollout_stop_level(struct machine *m, int lvl, msec_t now)
{
	const struct stack_conf	*cfg = m->cfg;
	struct proc_rt		*p;
	bool			 going = false;
	int			 i;

	for (i = 0; i < cfg->nprocs; i++) {
		p = &m->procs[i];
		if (cfg->procs[i].level != lvl)
			continue;
		if (p->rollout == ROLL_STOP && roster_live(p->state)) {
			machine_log(m, LOG_INFO, "reload: stopping changed "
			    "process %s", cfg->procs[i].name);
			rollout_set(m, i, ROLL_STOPPING);
			rewind_proc_stop(m, i, now);
		} else if (p->rollout == ROLL_STOP)
			/* Gone meanwhile: exited for good (temporary, or
			 * transient after exit 0) stays so, as if it had
			 * exited after the restart. */
			rollout_set(m, i, p->state == PS_EXITED ? ROLL_NONE :
			    ROLL_START);
		if (p->rollout == ROLL_STOPPING)
			going = true;
	}
	return going;
}

/* The lowest level below the limit with something to start, or -1. */
static int
rollout_lowest(const struct machine *m)
{
	const struct stack_conf	*cfg = m->cfg;
	int			 i, low = -1, limit = machine_limit(m);

	for (i = 0; i < cfg->nprocs; i++)
		if (rollout_starting(m->procs[i].rollout) &&
		    cfg->procs[i].level < limit &&
		    (low == -1 || cfg->procs[i].level < low))
			low = cfg->procs[i].level;
	return low;
}

/*
 * Level lvl's starts: wait for those started to be ready (or for the
 * level's ready_timeout to pass), then start the rest.  True while the
 * level still has a start going or held.
 */
static bool
rollout_start_level(struct machine *m, int lvl, msec_t now)
{
	const struct stack_conf	*cfg = m->cfg;
	const struct level_rt	*l = &m->levels[lvl];
	struct proc_rt		*p;
	bool			 going = false;
	int			 i;

	for (i = 0; i < cfg->nprocs; i++) {
		p = &m->procs[i];
		if (cfg->procs[i].level != lvl || p->rollout != ROLL_STARTING)
			continue;
		if (now < p->rollout_until) {
			rollout_wait_until(m, p->rollout_until);
			going = true;
			continue;
		}
		machine_log(m, LOG_WARNING, "reload: process %s not ready "
		    "within ready_timeout (%lldms); the rollout goes on",
		    cfg->procs[i].name,
		    (long long)cfg->levels[lvl].ready_timeout);
		rollout_forget(m, i);
	}
	/* Held while the level fails: its rewind drops them. */
	if (going || l->state != LEVEL_UP || l->failed)
		return true;
	for (i = 0; i < cfg->nprocs; i++) {
		p = &m->procs[i];
		if (cfg->procs[i].level != lvl || p->rollout != ROLL_START)
			continue;
		machine_log(m, LOG_INFO, "reload: starting process %s",
		    cfg->procs[i].name);
		machine_spawn(m, i);
		rollout_set(m, i, ROLL_STARTING);
		p->rollout_until = now + cfg->levels[lvl].ready_timeout;
		rollout_wait_until(m, p->rollout_until);
		going = true;
	}
	if (going)
		machine_status_changed(m);
	return going;
}

static void
rollout_run(struct machine *m, msec_t now)
{
	int	lvl;

	while (m->rolling > 0) {
		if ((lvl = rollout_settle(m)) >= 0) {
			if (rollout_stop_level(m, lvl, now))
				return;
			continue;
		}
		if ((lvl = rollout_lowest(m)) < 0 ||
		    rollout_start_level(m, lvl, now))
			return;
	}
}

/*
 * One step of the rollout, from machine_step; nothing when none runs.
 * Not while a reload is pending: what it removes or moves must not be
 * started again meanwhile, and its commit carries the rest over.
 */
void
rollout_step(struct machine *m, msec_t now)
{
	if (m->rolling == 0 || m->pending != NULL)
		return;
	/* Set again by a wait for starts, the only thing it times. */
	m->rollout_at = MSEC_NEVER;
	rollout_run(m, now);
}

/*
 * When the rollout next wants a tick: the end of a wait for starts to be
 * ready.  Not while something is still to stop (the wait resumes after),
 * a reload is pending, or a level climbs or stops (machine_step leaves
 * the rollout alone then): a tick would do nothing, again and again.
 */
msec_t
rollout_deadline(const struct machine *m)
{
	if (m->rolling == 0 || m->rollout_stops > 0 || m->pending != NULL ||
	    machine_busy(m, NULL))
		return MSEC_NEVER;
	return m->rollout_at;
}
