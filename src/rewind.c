/*
 * rewind.c -- stopping: a process, a level, and (through machine_step,
 * one level at a time, top first) a rewind, a descent to a lower target or
 * a shutdown.
 *
 * Stopping a level sends every process of the level its stop_signal at
 * once -- waiting for each in turn only makes shutdown slow -- and arms a
 * SIGKILL for stop_timeout later.  The level is down only when the last of
 * them has been reaped; nothing below it is touched before that.  A second
 * shutdown request turns every pending grace period into an immediate
 * SIGKILL.
 */
#include <signal.h>
#include <syslog.h>

#include "machine.h"

void
rewind_proc_stop(struct machine *m, int i, msec_t now)
{
	const struct proc_conf	*pc = &m->cfg->procs[i];
	struct proc_rt		*p = &m->procs[i];
	int			 sig;

	if (p->state != PS_STARTING && p->state != PS_RUNNING)
		return;
	if (p->probing) {
		p->probing = false;
		machine_emit(m, ACT_PROBE_CANCEL, pc->level, i);
	}
	sig = m->hurry ? SIGKILL : pc->stop_signal;
	roster_state(m, i, PS_STOPPING);
	p->ready_at = MSEC_NEVER;
	p->kill_at = sig == SIGKILL ? MSEC_NEVER : now + pc->stop_timeout;
	machine_emit(m, ACT_SIGNAL, pc->level, i)->sig = sig;
}

void
rewind_level_stop(struct machine *m, int lvl, msec_t now)
{
	const struct stack_conf	*cfg = m->cfg;
	struct level_rt		*l = &m->levels[lvl];
	int			 i;

	if (l->state == LEVEL_DOWN || l->state == LEVEL_STOPPING)
		return;
	machine_log(m, LOG_INFO, "stopping level %d (%s)", lvl + 1,
	    cfg->levels[lvl].name);
	l->state = LEVEL_STOPPING;
	l->since = now;
	m->gen++;
	if (l->probing) {
		l->probing = false;
		machine_emit(m, ACT_PROBE_CANCEL, lvl, -1);
	}
	for (i = 0; i < cfg->nprocs; i++) {
		if (cfg->procs[i].level != lvl)
			continue;
		m->procs[i].restart_pending = false;
		rollout_forget(m, i);
		rewind_proc_stop(m, i, now);
	}
	machine_status_changed(m);
	rewind_check_down(m, lvl, now);
}

/* The level is down once none of its processes is left running. */
void
rewind_check_down(struct machine *m, int lvl, msec_t now)
{
	const struct stack_conf	*cfg = m->cfg;
	struct level_rt		*l = &m->levels[lvl];

	if (l->state != LEVEL_STOPPING || m->roster.levels[lvl].nlive > 0)
		return;
	l->state = LEVEL_DOWN;
	l->since = now;
	l->probe = PROBE_NONE;
	l->failed = false;
	m->gen++;
	if (m->current == lvl + 1)
		m->current = lvl;
	machine_log(m, LOG_NOTICE, "level %d (%s) down", lvl + 1,
	    cfg->levels[lvl].name);
	climb_backoff_start(m, lvl, now);
	machine_event(m, EVT_LEVEL_DOWN, lvl, -1);
	if (l->was_up) {
		l->was_up = false;
		machine_emit(m, ACT_HOOK, lvl, -1)->hook = HOOK_DOWN;
	}
	machine_status_changed(m);
}

void
rewind_hurry(struct machine *m, msec_t now)
{
	int	i;

	for (i = 0; i < m->cfg->nprocs; i++) {
		if (m->procs[i].state != PS_STOPPING ||
		    m->procs[i].kill_at == MSEC_NEVER)
			continue;
		m->procs[i].kill_at = MSEC_NEVER;
		machine_emit(m, ACT_SIGNAL, m->cfg->procs[i].level,
		    i)->sig = SIGKILL;
	}
	machine_step(m, now);
}
