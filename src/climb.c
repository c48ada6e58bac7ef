/*
 * climb.c -- climbing one level: k-1 -> k.
 *
 * A climb attempt starts every process of the level at once (file order,
 * nobody waits for anybody), runs the level's probes at once and then every
 * probe_interval, and succeeds when every longrun is ready, every oneshot
 * has exited 0 and every probe has passed once.  It fails on ready_timeout,
 * on any longrun exit or oneshot failure (restart.c reports those), after
 * which rewind.c stops the level and the next attempt waits for the backoff
 * computed here.  Success resets nothing at once: the backoff only resets
 * once the level has stayed up for retry_max, so a level that climbs and
 * falls at once cannot loop fast.
 */
#include <syslog.h>

#include "machine.h"

/* Each probe has passed once during this climb -- not necessarily in
 * the same run: two checks that flicker out of phase still let it up. */
bool
climb_probes_passed(const struct machine *m, int lvl)
{
	int		n = m->cfg->levels[lvl].nprobes;
	uint64_t	all = n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;

	return (m->levels[lvl].probes_passed & all) == all;
}

/* ...and every longrun running, every oneshot done (roster.c counts). */
static bool
climb_level_ready(const struct machine *m, int lvl)
{
	const struct roster_level	*rl = &m->roster.levels[lvl];

	return climb_probes_passed(m, lvl) && rl->nready == rl->nprocs;
}

void
climb_start(struct machine *m, int lvl, msec_t now)
{
	const struct stack_conf	*cfg = m->cfg;
	const struct level_conf	*lc = &cfg->levels[lvl];
	struct level_rt		*l = &m->levels[lvl];
	int			 i;

	l->state = LEVEL_CLIMBING;
	l->since = now;
	l->climb_deadline = now + lc->ready_timeout;
	l->probes_passed = 0;
	l->probe = lc->nprobes ? PROBE_PENDING : PROBE_NONE;
	l->probe_next = now;
	l->probe_failures = 0;
	l->failed = false;
	l->climb_attempts_total++;
	m->gen++;
	/* A fresh climb is a fresh supervisor: OTP forgets old restarts. */
	intensity_clear(&l->intensity);
	machine_log(m, LOG_INFO, "climbing to level %d (%s), attempt %llu",
	    lvl + 1, lc->name, (unsigned long long)l->climb_attempts_total);
	machine_event(m, EVT_CLIMB_STARTED, lvl, -1)->code =
	    (int)l->climb_attempts_total;
	for (i = 0; i < cfg->nprocs; i++) {
		if (cfg->procs[i].level != lvl)
			continue;
		intensity_clear(&m->procs[i].restarts);
		machine_spawn(m, i);
	}
	machine_status_changed(m);
	climb_check_ready(m, lvl, now);
}

/* exec succeeded: arm the readiness the process asked for. */
void
climb_proc_spawned(struct machine *m, int i, msec_t now)
{
	const struct proc_conf	*pc = &m->cfg->procs[i];
	struct proc_rt		*p = &m->procs[i];

	switch (pc->ready) {
	case READY_STARTED:
		if (pc->ready_delay == 0)
			climb_proc_ready(m, i, now);
		else
			p->ready_at = now + pc->ready_delay;
		break;
	case READY_PROBE:
		p->probe_next = now;
		break;
	case READY_NOTIFY:
	case READY_FD:
	case READY_EXIT:
		/* The daemon or the exit reports it. */
		break;
	}
}

void
climb_proc_ready(struct machine *m, int i, msec_t now)
{
	struct proc_rt	*p = &m->procs[i];
	int		 lvl = m->cfg->procs[i].level;

	if (p->state != PS_STARTING)
		return;
	roster_state(m, i, PS_RUNNING);
	p->ready_at = MSEC_NEVER;
	machine_log(m, LOG_INFO, "process %s ready", m->cfg->procs[i].name);
	machine_event(m, EVT_PROCESS_READY, lvl, i);
	machine_status_changed(m);
	climb_check_ready(m, lvl, now);
}

void
climb_check_ready(struct machine *m, int lvl, msec_t now)
{
	struct level_rt	*l = &m->levels[lvl];

	if (l->state != LEVEL_CLIMBING || !climb_level_ready(m, lvl))
		return;
	l->state = LEVEL_UP;
	l->since = now;
	l->was_up = true;
	m->gen++;
	l->probe_failures = 0;
	m->current = lvl + 1;
	climb_backoff_settle(m, now);
	m->stable_at = now + m->cfg->retry_max;
	machine_log(m, LOG_NOTICE, "level %d/%d (%s) up", lvl + 1,
	    m->cfg->nlevels, m->cfg->levels[lvl].name);
	machine_event(m, EVT_LEVEL_UP, lvl, -1);
	machine_emit(m, ACT_HOOK, lvl, -1)->hook = HOOK_UP;
	machine_status_changed(m);
}

/* One more consecutive failed climb, for give_up_after. */
void
climb_count_failure(struct machine *m, msec_t now)
{
	m->failed_climbs++;
	if (m->cfg->give_up_after > 0 &&
	    m->failed_climbs >= m->cfg->give_up_after)
		machine_give_up(m, now);
}

/* The attempt failed (machine_fail has counted it): stop the level. */
void
climb_failed(struct machine *m, int lvl, msec_t now)
{
	climb_count_failure(m, now);
	rewind_level_stop(m, lvl, now);
}

/* xorshift64: jitter only needs to spread restarts, not be secret. */
static uint64_t
climb_random(struct machine *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return m->rng;
}

/*
 * The backoff, and the count of failed climbs, reset once the stack has
 * stayed up for retry_max since a level last came up.  Nothing needs that
 * moment but the next failure or level up, so they apply it, late,
 * instead of a timer that would wake an idle stackd retry_max after every
 * climb.
 */
void
climb_backoff_settle(struct machine *m, msec_t now)
{
	if (now >= m->stable_at) {
		m->stable_at = MSEC_NEVER;
		m->backoff = m->cfg->retry_min;
		m->failed_climbs = 0;
	}
}

/*
 * The wait before the next attempt after level lvl failed: the base delay
 * minus up to 25% jitter (so stacks restarted together do not retry in
 * lockstep), never below retry_min; then double the base up to
 * retry_max.  The wait counts from when lvl is down (climb_backoff_start):
 * the stack is to stay at the level below for that long, however long the
 * stop takes.  Until then retry_at says "not before now + wait".
 */
void
climb_backoff(struct machine *m, int lvl, msec_t now)
{
	const struct stack_conf	*cfg = m->cfg;
	msec_t			 wait;

	climb_backoff_settle(m, now);
	wait = m->backoff;
	wait -= (msec_t)(climb_random(m) % (uint64_t)(m->backoff / 4 + 1));
	if (wait < cfg->retry_min)
		wait = cfg->retry_min;
	m->retry_at = now + wait;
	m->retry_wait = wait;
	m->retry_level = lvl;
	m->backoff = m->backoff * 2 > cfg->retry_max ? cfg->retry_max :
	    m->backoff * 2;
	m->stable_at = MSEC_NEVER;
}

/* Level lvl is down: if a failure of it is waiting, its wait starts. */
void
climb_backoff_start(struct machine *m, int lvl, msec_t now)
{
	if (m->retry_level != lvl)
		return;
	m->retry_level = -1;
	if (m->shutting_down)
		return;		/* given up: there is no next attempt */
	m->retry_at = now + m->retry_wait;
	machine_log(m, LOG_INFO, "next climb attempt in %lldms",
	    (long long)m->retry_wait);
}
