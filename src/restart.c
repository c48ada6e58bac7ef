/*
 * restart.c -- what a process exit means, Erlang/OTP style.
 *
 * An exit we asked for (stopping) only moves a level or a strategy restart
 * along.  An exit on its own depends on where the level is: while climbing,
 * any longrun exit or oneshot failure fails the attempt (climb.c backs
 * off); while up, the restart type decides whether to restart (permanent:
 * always, transient: after an abnormal exit, temporary: never), the
 * level's intensity window decides whether that is one restart too many
 * (then the level fails and the stack rewinds), and the strategy decides
 * who restarts with it: itself (one_for_one), every running process of the
 * level (one_for_all), or itself and those declared after it
 * (rest_for_one).  Siblings are stopped first and all are started again,
 * in file order, once the last of them is down.  One such event counts
 * once towards the intensity, however many processes it restarts.
 */
#include <stdio.h>
#include <syslog.h>
#include <sys/wait.h>

#include "machine.h"

/*
 * Is process i, stopped, not to be started again for now?  When a
 * pending reload takes it out of its level, or an earlier one already
 * did (retiring: a superseding reload that puts it back still starts it
 * anew at the commit): its successor would run beside it.
 */
static bool
restart_blocked(const struct machine *m, int i)
{
	return m->procs[i].retiring || reload_leaves(m, i);
}

static const char *
strategy_name(enum strategy s)
{
	switch (s) {
	case STRATEGY_ONE_FOR_ONE:	return "one_for_one";
	case STRATEGY_ONE_FOR_ALL:	return "one_for_all";
	case STRATEGY_REST_FOR_ONE:	return "rest_for_one";
	}
	return "?";
}

void
restart_spawn(struct machine *m, int i, msec_t now)
{
	const struct proc_conf	*pc = &m->cfg->procs[i];
	const struct level_conf	*lc = &m->cfg->levels[pc->level];
	struct proc_rt		*p = &m->procs[i];

	/* Counted as systemd's NRestarts is: what the supervisor did on
	 * its own, not what it was asked to do. */
	if (!p->restart_asked) {
		p->restarts_total++;
		intensity_add(&p->restarts, now, lc->period, lc->intensity);
	}
	machine_log(m, LOG_INFO, "restarting process %s", pc->name);
	machine_spawn(m, i);
	machine_status_changed(m);
}

/*
 * A strategy restart completes when its last stopping member is down --
 * unless the level is to go down (a lower target, a shutdown): then what
 * it would start is held, and machine_step makes it if the limit rises
 * again first.  Held too, for good, is a process the pending reload
 * takes out of its level; the commit makes the others.  Held one_for_one
 * restarts wait here as well.
 */
void
restart_check_pending(struct machine *m, int lvl, msec_t now)
{
	const struct stack_conf	*cfg = m->cfg;
	int			 i;

	if (m->levels[lvl].state != LEVEL_UP || m->levels[lvl].failed ||
	    lvl >= machine_limit(m))
		return;
	for (i = 0; i < cfg->nprocs; i++)
		if (cfg->procs[i].level == lvl && m->procs[i].restart_pending &&
		    m->procs[i].state == PS_STOPPING)
			return;
	for (i = 0; i < cfg->nprocs; i++)
		if (cfg->procs[i].level == lvl && m->procs[i].restart_pending &&
		    !restart_blocked(m, i))
			restart_spawn(m, i, now);
}

static void
restart_by_strategy(struct machine *m, int i, msec_t now)
{
	const struct stack_conf	*cfg = m->cfg;
	int			 j, lvl = cfg->procs[i].level;
	enum strategy		 st = cfg->levels[lvl].strategy;
	bool			 blocked;

	if (st == STRATEGY_ONE_FOR_ONE) {
		blocked = restart_blocked(m, i);
		if (lvl < machine_limit(m) && !blocked) {
			restart_spawn(m, i, now);
			return;
		}
		/* Held, as restart_check_pending holds a strategy's. */
		if (blocked)
			machine_log(m, LOG_INFO, "process %s: restart held, "
			    "the pending reload removes or moves it",
			    cfg->procs[i].name);
		roster_state(m, i, PS_STOPPED);
		m->procs[i].restart_pending = true;
		return;
	}
	machine_log(m, LOG_INFO, "%s: restarting the siblings of %s",
	    strategy_name(st), cfg->procs[i].name);
	roster_state(m, i, PS_STOPPED);
	m->procs[i].restart_pending = true;
	for (j = 0; j < cfg->nprocs; j++) {
		if (j == i || cfg->procs[j].level != lvl ||
		    cfg->procs[j].type != PROC_LONGRUN)
			continue;
		if (st == STRATEGY_REST_FOR_ONE && j < i)
			continue;
		if (m->procs[j].state == PS_STARTING ||
		    m->procs[j].state == PS_RUNNING) {
			m->procs[j].restart_pending = true;
			rewind_proc_stop(m, j, now);
		}
	}
	restart_check_pending(m, lvl, now);
}

/* A longrun of an up level exited on its own. */
static void
restart_up_exit(struct machine *m, int i, bool abnormal, msec_t now)
{
	const struct proc_conf	*pc = &m->cfg->procs[i];
	const struct level_conf	*lc = &m->cfg->levels[pc->level];
	struct level_rt		*l = &m->levels[pc->level];

	if (pc->restart == RESTART_TEMPORARY ||
	    (pc->restart == RESTART_TRANSIENT && !abnormal)) {
		roster_state(m, i, PS_EXITED);
		machine_log(m, LOG_INFO, "process %s not restarted (restart = "
		    "%s)", pc->name, pc->restart == RESTART_TEMPORARY ?
		    "temporary" : "transient");
		machine_status_changed(m);
		return;
	}
	/* Its level is to go down (a lower target, a reload's floor, the
	 * levels above still stopping): nothing is counted, and the restart
	 * is held -- made if the limit rises again before the level is
	 * down. */
	if (pc->level >= machine_limit(m)) {
		machine_log(m, LOG_INFO, "process %s: restart held, level %d "
		    "is on its way down", pc->name, pc->level + 1);
		restart_by_strategy(m, i, now);
		return;
	}
	if (intensity_add(&l->intensity, now, lc->period, lc->intensity)) {
		roster_state(m, i, PS_EXITED);
		machine_fail(m, pc->level, now, "more than %d restart%s in "
		    "%lldms", lc->intensity, lc->intensity == 1 ? "" : "s",
		    (long long)lc->period);
		return;
	}
	restart_by_strategy(m, i, now);
}

void
restart_proc_exited(struct machine *m, int i, msec_t now)
{
	const struct proc_conf	*pc = &m->cfg->procs[i];
	struct proc_rt		*p = &m->procs[i];
	struct level_rt		*l = &m->levels[pc->level];
	enum proc_state		 was = p->state;
	bool			 abnormal;
	char			 how[128];

	proc_exit_text(p, how, sizeof(how));
	abnormal = !WIFEXITED(p->last_status) ||
	    WEXITSTATUS(p->last_status) != 0;
	if (was == PS_STOPPING) {
		roster_state(m, i, PS_STOPPED);
		p->kill_at = MSEC_NEVER;
		machine_log(m, LOG_INFO, "process %s stopped (%s)", pc->name,
		    how);
		if (l->state == LEVEL_STOPPING)
			rewind_check_down(m, pc->level, now);
		else
			restart_check_pending(m, pc->level, now);
		machine_status_changed(m);
		return;
	}
	if (was != PS_STARTING && was != PS_RUNNING)
		return;
	/* After STOPPING=1 the exit was announced: no warning, but the
	 * restart rules below apply as to any other exit. */
	machine_log(m, abnormal && !p->stop_announced ? LOG_WARNING :
	    LOG_INFO, "process %s %s%s", pc->name, how, p->stop_announced ?
	    " (announced by STOPPING=1)" : "");
	machine_status_changed(m);
	if (pc->type == PROC_ONESHOT) {
		roster_state(m, i, abnormal ? PS_EXITED : PS_DONE);
		if (l->state == LEVEL_CLIMBING && abnormal)
			machine_fail(m, pc->level, now, "oneshot %s %s",
			    pc->name, how);
		else if (l->state == LEVEL_CLIMBING)
			climb_check_ready(m, pc->level, now);
		return;
	}
	if (l->state == LEVEL_CLIMBING) {
		roster_state(m, i, PS_EXITED);
		machine_fail(m, pc->level, now, "process %s %s while "
		    "climbing", pc->name, how);
		return;
	}
	/* A failed level, one being stopped, or a shutdown restarts
	 * nothing: the level is stopped next anyway. */
	if (l->state != LEVEL_UP || l->failed || m->shutting_down) {
		roster_state(m, i, PS_EXITED);
		if (l->state == LEVEL_STOPPING)
			rewind_check_down(m, pc->level, now);
		return;
	}
	restart_up_exit(m, i, abnormal, now);
}

/*
 * Why `stackctl restart` of process i is refused, or NULL.  Only in a
 * level that is up and stays up: a climbing level is being started
 * anyway, a down one or one on its way down must not be; and never a
 * process the pending reload takes out of its level, whose successor
 * would run beside it.
 */
const char *
machine_restart_refused(const struct machine *m, int i)
{
	const struct proc_conf	*pc = &m->cfg->procs[i];
	const struct level_rt	*l = &m->levels[pc->level];

	if (m->shutting_down)
		return "stackd is shutting down";
	if (m->procs[i].retiring)
		return "it is being stopped for a reload";
	if (reload_leaves(m, i))
		return "the pending reload removes or moves it";
	if (l->state != LEVEL_UP || l->failed)
		return "level is not up";
	if (pc->level >= machine_limit(m))
		return "level is on its way down";
	return NULL;
}

/*
 * `stackctl restart PROCESS`: like OTP's terminate_child + restart_child,
 * only this process, whatever the strategy, and not counted towards the
 * level's intensity -- an operator's restart is not a crash.  It stops
 * the process the usual way (stop_signal, SIGKILL after stop_timeout) and
 * starts it once it is gone; a process that is not running (exited,
 * temporary, a finished oneshot) is started at once.  -1 when refused
 * (machine_restart_refused says why).
 */
int
machine_restart_proc(struct machine *m, int i, msec_t now)
{
	const struct proc_conf	*pc = &m->cfg->procs[i];
	struct proc_rt		*p = &m->procs[i];

	if (machine_restart_refused(m, i) != NULL)
		return -1;
	machine_log(m, LOG_INFO, "restart of process %s requested", pc->name);
	p->restart_asked = true;
	switch (p->state) {
	case PS_STARTING:
	case PS_RUNNING:
		p->restart_pending = true;
		rewind_proc_stop(m, i, now);
		break;
	case PS_STOPPING:
		p->restart_pending = true;
		break;
	case PS_STOPPED:
	case PS_EXITED:
	case PS_DONE:
		if (!p->restart_pending)
			restart_spawn(m, i, now);
		break;
	}
	machine_step(m, now);
	return 0;
}

