/*
 * reload.c -- taking over a new, already validated configuration while
 * the stack runs (SIGHUP, `stackctl reload`), free of I/O like the rest of
 * the machine.
 *
 * A reload happens in two steps.  machine_reload() compares the new file
 * with the running one and finds the floor: the first level whose place in
 * the sequence changed (a level added, removed, renamed or moved), or a
 * level that is climbing right now and whose settings or processes
 * changed (its attempt is redone with the new file rather than finished
 * with a mix of both).  Every level from the floor up must be down before
 * the new file can take over, so the stack walks down to it the usual
 * way, top first, with on_down hooks, and does not climb above it
 * meanwhile.  Below the floor, a process that leaves its level (removed,
 * or moved to another) is stopped first, the usual way and never
 * restarted ("retiring"): its successor under the same name must not run
 * beside it, and a level that is stopping must see it go to come down.
 * Nothing climbs while one is still stopping.  Once the floor is reached
 * and the retiring are gone, machine_reload_commit() swaps the
 * configuration: levels below the floor keep their state; processes are
 * matched by name -- an unchanged one keeps running with its restart
 * history, a changed one is restarted, a new one (or a retired one that
 * came back with a later reload) is started if its level is up -- those
 * two in the order of the stack (rollout.c).  Then the stack climbs again
 * with the new file.  Level settings that change in
 * place (probes, intensity, hooks, ...) apply from then on.
 */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "machine.h"

/* Index of the first level whose name differs between the two files. */
static int
reload_first_moved(const struct stack_conf *o, const struct stack_conf *n)
{
	int	i;

	for (i = 0; i < o->nlevels && i < n->nlevels; i++)
		if (strcmp(o->levels[i].name, n->levels[i].name) != 0)
			return i;
	return i;
}

/* Did anything about level i, or any process in it, change? */
static bool
reload_level_changed(const struct stack_conf *o, const struct stack_conf *n,
    int lvl)
{
	int	i, k;

	if (!config_level_equal(&o->levels[lvl], &n->levels[lvl]))
		return true;
	for (i = 0; i < n->nprocs; i++) {
		if (n->procs[i].level != lvl)
			continue;
		k = config_proc_index(o, n->procs[i].name);
		if (k < 0 || o->procs[k].level != lvl ||
		    !config_proc_same_run(&o->procs[k], &n->procs[i]))
			return true;
	}
	for (k = 0; k < o->nprocs; k++) {
		if (o->procs[k].level != lvl)
			continue;
		i = config_proc_index(n, o->procs[k].name);
		if (i < 0 || n->procs[i].level != lvl)
			return true;
	}
	return false;
}

/*
 * Does the pending reload take old process k out of its level (remove
 * it, or move it)?  A restart held for it must not start it meanwhile:
 * its successor under the same name would then run beside it.
 */
bool
reload_leaves(const struct machine *m, int k)
{
	const struct stack_conf	*n = m->pending;
	int			 i;

	if (n == NULL)
		return false;
	i = config_proc_index(n, m->cfg->procs[k].name);
	return i < 0 || n->procs[i].level != m->cfg->procs[k].level;
}

/* Old process k leaves its level below the floor: stop it for good. */
static void
reload_retire(struct machine *m, int k, bool removed, msec_t now)
{
	struct proc_rt	*p = &m->procs[k];

	if (p->retiring || !roster_live(p->state))
		return;
	p->retiring = true;
	p->restart_pending = false;
	m->retiring++;
	machine_log(m, LOG_INFO, "reload: stopping process %s (%s)",
	    m->cfg->procs[k].name, removed ? "removed" : "moved to another "
	    "level");
	rewind_proc_stop(m, k, now);
}

void
machine_reload(struct machine *m, const struct stack_conf *ncfg, msec_t now)
{
	const struct stack_conf	*o = m->cfg;
	int			 i, k, floor;

	floor = reload_first_moved(o, ncfg);
	for (i = 0; i < floor; i++)
		if (m->levels[i].state == LEVEL_CLIMBING &&
		    reload_level_changed(o, ncfg, i)) {
			floor = i;
			break;
		}
	m->pending = ncfg;
	m->hold = floor;
	for (k = 0; k < o->nprocs; k++) {
		if (o->procs[k].level >= floor)
			continue;	/* its whole level comes down */
		i = config_proc_index(ncfg, o->procs[k].name);
		if (i < 0 || ncfg->procs[i].level != o->procs[k].level)
			reload_retire(m, k, i < 0, now);
	}
	for (i = floor; i < o->nlevels; i++)
		if (m->levels[i].state != LEVEL_DOWN) {
			machine_log(m, LOG_NOTICE, "reload: stopping levels "
			    "above %d before the new configuration takes over",
			    floor);
			break;
		}
	if (i == o->nlevels && m->retiring > 0)
		machine_log(m, LOG_NOTICE, "reload: the new configuration "
		    "takes over once the processes it moves or removes have "
		    "stopped");
	machine_step(m, now);
}

bool
machine_reload_due(const struct machine *m)
{
	int	i;

	/* At shutdown it never is: a commit then would only start what
	 * is being stopped, and tell systemd READY=1 after STOPPING=1. */
	if (m->pending == NULL || m->retiring > 0 || m->shutting_down)
		return false;
	for (i = m->hold; i < m->cfg->nlevels; i++)
		if (m->levels[i].state != LEVEL_DOWN)
			return false;
	return true;
}

/* A copy of a restart window for a new intensity, newest entries kept;
 * the old one stays intact until the whole reload has succeeded. */
static int
reload_window(struct window *dst, const struct window *src, int intensity)
{
	int	keep;

	memset(dst, 0, sizeof(*dst));
	if (intensity_init(dst, intensity) == -1)
		return -1;
	keep = src->n < dst->max ? src->n : dst->max;
	if (keep == 0)
		return 0;	/* nothing to copy; no buffer yet */
	if (intensity_reserve(dst, keep) == -1)
		return -1;
	memcpy(dst->times, src->times + (src->n - keep), (size_t)keep *
	    sizeof(*dst->times));
	dst->n = keep;
	return 0;
}

static int
reload_levels(struct machine *m, const struct stack_conf *n,
    struct level_rt *nl, msec_t now)
{
	int	i, k;

	for (i = 0; i < n->nlevels; i++) {
		if (i < m->hold && i < m->cfg->nlevels) {
			nl[i] = m->levels[i];
			/* The daemon cancelled every probe: ask again. */
			nl[i].probing = false;
			nl[i].probe_next = now;
			if (reload_window(&nl[i].intensity,
			    &m->levels[i].intensity,
			    n->levels[i].intensity) == -1)
				return -1;
			continue;
		}
		nl[i].state = LEVEL_DOWN;
		nl[i].probe = PROBE_NONE;
		/* Counters go on under the same name (metrics: a drop would
		 * read as a restart of stackd). */
		if ((k = config_level_index(m->cfg, n->levels[i].name)) >= 0) {
			nl[i].climb_attempts_total =
			    m->levels[k].climb_attempts_total;
			nl[i].failures_total = m->levels[k].failures_total;
		}
		if (intensity_init(&nl[i].intensity,
		    n->levels[i].intensity) == -1)
			return -1;
	}
	return 0;
}

/* The old index of new process j if it keeps running as it is, or -1. */
static int
reload_match(const struct machine *m, const struct stack_conf *n, int j)
{
	const struct stack_conf	*o = m->cfg;
	int			 k, lvl = n->procs[j].level;

	k = config_proc_index(o, n->procs[j].name);
	if (k < 0 || lvl >= m->hold || o->procs[k].level != lvl ||
	    m->procs[k].retiring)
		return -1;
	return k;
}

/*
 * What the new processes are: carried over (and changed or not) or new.
 * todo[j]: 1 restart it, 2 start it (new), 3 start it (changed), once
 * the new configuration is in.
 */
static int
reload_procs(struct machine *m, const struct stack_conf *n,
    struct proc_rt *np, int *map, char *todo, msec_t now)
{
	const struct stack_conf	*o = m->cfg;
	const struct level_rt	*l;
	int			 j, k, lvl;

	for (j = 0; j < n->nprocs; j++) {
		lvl = n->procs[j].level;
		l = lvl < o->nlevels ? &m->levels[lvl] : NULL;
		if ((k = reload_match(m, n, j)) >= 0) {
			np[j] = m->procs[k];
			if (reload_window(&np[j].restarts,
			    &m->procs[k].restarts, n->levels[lvl].intensity)
			    == -1)
				return -1;
			map[k] = j;
			np[j].probing = false;
			np[j].probe_next = now;
			if (config_proc_same_run(&o->procs[k], &n->procs[j]))
				continue;
			if (np[j].state == PS_STARTING ||
			    np[j].state == PS_RUNNING)
				todo[j] = 1;
			/* A finished oneshot made a longrun: the longruns
			 * of an up level run. */
			else if (np[j].state == PS_DONE &&
			    n->procs[j].type == PROC_LONGRUN && l != NULL &&
			    l->state == LEVEL_UP && !l->failed)
				todo[j] = 3;
		} else {
			np[j].state = PS_STOPPED;
			np[j].kill_at = MSEC_NEVER;
			np[j].ready_at = MSEC_NEVER;
			if ((k = config_proc_index(o, n->procs[j].name)) >= 0)
				np[j].restarts_total = m->procs[k].restarts_total;
			if (lvl < m->hold && l != NULL &&
			    l->state == LEVEL_UP && !l->failed)
				todo[j] = 2;
			if (intensity_init(&np[j].restarts,
			    n->levels[lvl].intensity) == -1)
				return -1;
		}
	}
	return 0;
}

/* The name of level number k (counted from 1) of c; "" for none. */
static const char *
reload_level_name(const struct stack_conf *c, int k)
{
	return k > 0 && k <= c->nlevels ? c->levels[k - 1].name : "";
}

/*
 * A target the file changed wins; otherwise one an operator set with
 * stackctl target stays, and without one the stack follows the file --
 * whose "top" (also when unset) is the new top, not the old number.  A
 * target is a level, not its number: a level inserted below moves the
 * number, and neither the file's target nor the operator's changes.
 */
static void
reload_target(struct machine *m, const struct stack_conf *o,
    const struct stack_conf *n)
{
	const char	*mine;
	int		 was = m->target, k;

	if (o->target_top != n->target_top || (!n->target_top &&
	    strcmp(reload_level_name(o, o->target),
	    reload_level_name(n, n->target)) != 0) ||
	    !m->target_by_operator) {
		m->target = n->target;
		m->target_by_operator = false;
	} else if (m->target > 0) {
		mine = reload_level_name(o, m->target);
		if ((k = config_level_index(n, mine)) >= 0)
			m->target = k + 1;
		else {
			machine_log(m, LOG_WARNING, "reload: the target level "
			    "%s is gone; the file's target applies", mine);
			m->target = n->target;
			m->target_by_operator = false;
		}
	}
	if (m->target > n->nlevels)
		m->target = n->nlevels;
	if (m->target != was) {
		machine_log(m, LOG_INFO, "reload: target changed from %d to %d",
		    was, m->target);
		machine_event(m, EVT_TARGET_CHANGED, m->target - 1, -1)->code =
		    m->target;
	}
}

/*
 * Swap in the pending configuration; the stack is at or below the floor
 * and the daemon has carried out every action queued so far.  map[k] and
 * oldpid[k], for each old process k: its new index (-1: gone) and, when
 * gone but still running, the pid the daemon must stop.  Returns -1 when
 * out of memory, with nothing changed.
 */
int
machine_reload_commit(struct machine *m, int *map, pid_t *oldpid,
    msec_t now)
{
	const struct stack_conf	*o = m->cfg, *n = m->pending;
	struct level_rt		*nl;
	struct proc_rt		*np;
	struct roster		 nr;
	char			*todo;
	int			 i, floor = m->hold;

	nl = calloc((size_t)n->nlevels + 1, sizeof(*nl));
	np = calloc((size_t)n->nprocs + 1, sizeof(*np));
	todo = calloc((size_t)n->nprocs + 1, 1);
	if (nl == NULL || np == NULL || todo == NULL)
		goto fail;
	for (i = 0; i < o->nprocs; i++) {
		map[i] = -1;
		oldpid[i] = 0;
	}
	/* The processes are renumbered: their roster is made anew. */
	if (reload_levels(m, n, nl, now) == -1 ||
	    reload_procs(m, n, np, map, todo, now) == -1 ||
	    roster_build(&nr, n, np) == -1)
		goto fail;
	for (i = 0; i < o->nprocs; i++)
		if (map[i] < 0)
			oldpid[i] = m->procs[i].pid;
	for (i = 0; i < o->nlevels; i++)
		intensity_free(&m->levels[i].intensity);
	for (i = 0; i < o->nprocs; i++)
		intensity_free(&m->procs[i].restarts);
	free(m->levels);
	free(m->procs);
	roster_free(&m->roster);
	m->levels = nl;
	m->procs = np;
	m->roster = nr;
	m->cfg = n;
	m->pending = NULL;
	m->hold = CAP_NONE;
	reload_target(m, o, n);
	/* A wait already scheduled is bounded by the new retry_max too. */
	if (m->backoff > n->retry_max)
		m->backoff = n->retry_max;
	if (m->retry_at != MSEC_NEVER && m->retry_at > now + n->retry_max)
		m->retry_at = now + n->retry_max;
	/* A failed level whose wait starts once it is down (still stopping
	 * now) is below the floor, where levels keep their index: it keeps
	 * its place.  Above the floor every level is down already, so no
	 * wait of theirs is still to start. */
	if (m->retry_level >= floor)
		m->retry_level = -1;
	if (m->cap != CAP_NONE && m->cap > n->nlevels)
		m->cap = CAP_NONE;
	m->gen++;
	machine_log(m, LOG_NOTICE, "reload: new configuration in force "
	    "(%d level%s, %d process%s)", n->nlevels, n->nlevels == 1 ? "" :
	    "s", n->nprocs, n->nprocs == 1 ? "" : "es");
	rollout_recount(m);
	for (i = 0; i < n->nprocs; i++) {
		if (todo[i] == 1) {
			machine_log(m, LOG_INFO, "reload: process %s changed, "
			    "restarting it", n->procs[i].name);
			rollout_restart(m, i);
		} else if (todo[i] >= 2) {
			machine_log(m, LOG_INFO, "reload: %s process %s is to "
			    "start", todo[i] == 2 ? "new" : "changed",
			    n->procs[i].name);
			rollout_start(m, i);
		}
	}
	free(todo);
	/* Restarts held for the reload (reload_leaves) or for a lower
	 * target are made by the step below if their level is up and
	 * stays: every level counts as risen (machine_resume_restarts). */
	m->seen_limit = 0;
	machine_status_changed(m);
	machine_step(m, now);
	return 0;
fail:
	if (nl != NULL)
		for (i = 0; i < n->nlevels; i++)
			intensity_free(&nl[i].intensity);
	if (np != NULL)
		for (i = 0; i < n->nprocs; i++)
			intensity_free(&np[i].restarts);
	free(nl);
	free(np);
	free(todo);
	return -1;
}
