/*
 * machine.c -- the level state machine's entry points, its timers, the
 * step that moves the stack towards its target, and the alarm.
 *
 * Every entry point ends in machine_step(), which looks at the whole stack
 * and takes at most one transition: abort a climb that is above the limit,
 * wait while a level is climbing or stopping, stop the top level when it is
 * above the limit (rewind, descend, shutdown all walk down this way, one
 * level at a time), or start the next climb when the backoff allows it.
 * Because the step is recomputed from state after every event, there is
 * no separate "rewinding" mode to get out of sync: a rewind is only a
 * temporary cap below which the stack must fall before it climbs again.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/wait.h>

#include "machine.h"
#include "parse.h"

static void	machine_alarm(struct machine *, msec_t now);
static void	machine_waiting_for(const struct machine *, int, char *,
		    size_t);

int
machine_init(struct machine *m, const struct stack_conf *cfg, uint64_t seed)
{
	int	i;

	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->retry_level = -1;
	m->levels = calloc((size_t)cfg->nlevels + 1, sizeof(*m->levels));
	m->procs = calloc((size_t)cfg->nprocs + 1, sizeof(*m->procs));
	if (m->levels == NULL || m->procs == NULL)
		goto fail;
	for (i = 0; i < cfg->nlevels; i++) {
		m->levels[i].state = LEVEL_DOWN;
		m->levels[i].probe = PROBE_NONE;
		if (intensity_init(&m->levels[i].intensity,
		    cfg->levels[i].intensity) == -1)
			goto fail;
	}
	for (i = 0; i < cfg->nprocs; i++) {
		m->procs[i].state = PS_STOPPED;
		m->procs[i].kill_at = MSEC_NEVER;
		m->procs[i].ready_at = MSEC_NEVER;
		if (intensity_init(&m->procs[i].restarts,
		    cfg->levels[cfg->procs[i].level].intensity) == -1)
			goto fail;
	}
	if (roster_build(&m->roster, cfg, m->procs) == -1)
		goto fail;
	m->target = cfg->target;
	m->cap = CAP_NONE;
	m->hold = CAP_NONE;
	m->backoff = cfg->retry_min;
	m->stable_at = MSEC_NEVER;
	m->below_since = MSEC_NEVER;
	m->rollout_at = MSEC_NEVER;
	m->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
	return 0;
fail:
	machine_free(m);
	return -1;
}

void
machine_free(struct machine *m)
{
	int	i;

	if (m->cfg == NULL)
		return;
	for (i = 0; m->levels && i < m->cfg->nlevels; i++)
		intensity_free(&m->levels[i].intensity);
	for (i = 0; m->procs && i < m->cfg->nprocs; i++)
		intensity_free(&m->procs[i].restarts);
	roster_free(&m->roster);
	free(m->levels);
	free(m->procs);
	free(m->actions);
	memset(m, 0, sizeof(*m));
}

/*
 * The action FIFO, a ring: a burst of actions (a level of 1000 processes
 * queues 1000 spawns, each adding more while it is carried out) reuses
 * the slots already taken out instead of growing past what is pending at
 * once.  Once drained, a ring grown large is freed: the memory of a burst
 * goes back, and the next action starts a small one.
 *
 * A failed allocation drops the action after logging nothing: there is no
 * way to report it without allocating, and the next timer tick re-derives
 * most state anyway.
 */
#define ACTIONS_MIN	16	/* the first ring */
#define ACTIONS_KEEP	64	/* a larger one is freed when drained */

/* Twice the room, the pending actions moved to its start in order. */
static int
machine_grow(struct machine *m)
{
	struct action	*a;
	size_t		 ncap, first;

	ncap = m->actions_cap > 0 ? m->actions_cap * 2 : ACTIONS_MIN;
	if ((a = calloc(ncap, sizeof(*a))) == NULL)
		return -1;
	/* From the head to the end of the old ring, then its wrapped part. */
	first = m->actions_cap - m->actions_head;
	if (first > m->nactions)
		first = m->nactions;
	if (m->nactions > 0) {
		memcpy(a, m->actions + m->actions_head, first * sizeof(*a));
		memcpy(a + first, m->actions,
		    (m->nactions - first) * sizeof(*a));
	}
	free(m->actions);
	m->actions = a;
	m->actions_cap = ncap;
	m->actions_head = 0;
	return 0;
}

static struct action *
machine_push(struct machine *m)
{
	struct action	*a;

	if (m->nactions == m->actions_cap && machine_grow(m) == -1)
		return NULL;
	a = &m->actions[(m->actions_head + m->nactions) % m->actions_cap];
	m->nactions++;
	memset(a, 0, sizeof(*a));
	return a;
}

/* Returns the new action for the caller to fill in further; when memory
 * is short, a scratch action that is never delivered. */
struct action *
machine_emit(struct machine *m, enum act_kind kind, int level, int proc)
{
	static struct action	 dropped;
	struct action		*a;

	if ((a = machine_push(m)) == NULL)
		a = &dropped;
	a->kind = kind;
	a->level = level;
	a->proc = proc;
	return a;
}

void
machine_log(struct machine *m, int prio, const char *fmt, ...)
{
	struct action	*a;
	va_list		 ap;

	if ((a = machine_push(m)) == NULL)
		return;
	a->kind = ACT_LOG;
	a->level = a->proc = -1;
	a->prio = prio;
	va_start(ap, fmt);
	vsnprintf(a->text, sizeof(a->text), fmt, ap);
	va_end(ap);
}

/*
 * The daemon reads the state once it has carried out every pending
 * action, so one ACT_STATUS in the queue tells it all that a second would.
 */
void
machine_status_changed(struct machine *m)
{
	struct action	*a;

	if (m->status_queued || (a = machine_push(m)) == NULL)
		return;
	a->kind = ACT_STATUS;
	a->level = a->proc = -1;
	m->status_queued = true;
}

struct action *
machine_event(struct machine *m, enum event_kind ev, int level, int proc)
{
	struct action	*a;

	a = machine_emit(m, ACT_EVENT, level, proc);
	a->event = ev;
	if (proc >= 0)
		a->pid = m->procs[proc].pid;
	return a;
}

/*
 * Ask for process i to be started.  Until the daemon reports the spawn,
 * nothing about the process may come due: no readiness timer, no probe.
 */
void
machine_spawn(struct machine *m, int i)
{
	struct proc_rt	*p = &m->procs[i];

	roster_state(m, i, PS_STARTING);
	rollout_forget(m, i);
	p->restart_pending = false;
	p->restart_asked = false;
	p->ready_at = MSEC_NEVER;
	p->probe_next = MSEC_NEVER;
	p->probing = false;
	machine_emit(m, ACT_SPAWN, m->cfg->procs[i].level, i);
}

bool
machine_next_action(struct machine *m, struct action *out)
{
	if (m->nactions == 0)
		return false;
	*out = m->actions[m->actions_head];
	m->actions_head = (m->actions_head + 1) % m->actions_cap;
	if (out->kind == ACT_STATUS)
		m->status_queued = false;
	if (--m->nactions > 0)
		return true;
	m->actions_head = 0;
	if (m->actions_cap > ACTIONS_KEEP) {
		free(m->actions);
		m->actions = NULL;
		m->actions_cap = 0;
	}
	return true;
}

/*
 * A level or an up stack has failed: remember why, count it, back off, and
 * (for an up level) cap the stack below it so machine_step rewinds top-down.
 */
void
machine_fail(struct machine *m, int lvl, msec_t now, const char *fmt, ...)
{
	struct level_rt	*l = &m->levels[lvl];
	va_list		 ap;
	char		 why[ACT_TEXTMAX - 40];
	bool		 quick;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(m->last_failure, sizeof(m->last_failure), "%s: %s",
	    m->cfg->levels[lvl].name, why);
	/* Up for less than retry_max: it climbed and fell at once, which
	 * is a failed climb for give_up_after as for the backoff. */
	quick = l->state == LEVEL_UP && m->stable_at != MSEC_NEVER &&
	    now < m->stable_at;
	l->failures_total++;
	climb_backoff(m, lvl, now);
	if (l->state == LEVEL_CLIMBING) {
		machine_log(m, LOG_WARNING, "level %d (%s) climb failed: %s",
		    lvl + 1, m->cfg->levels[lvl].name, why);
		snprintf(machine_event(m, EVT_CLIMB_FAILED, lvl, -1)->text,
		    ACT_TEXTMAX, "%s", why);
		climb_failed(m, lvl, now);
	} else {
		machine_log(m, LOG_ERR, "level %d (%s) failed: %s; rewinding "
		    "to level %d", lvl + 1, m->cfg->levels[lvl].name, why, lvl);
		snprintf(machine_event(m, EVT_LEVEL_FAILED, lvl, -1)->text,
		    ACT_TEXTMAX, "%s", why);
		l->failed = true;
		if (m->cap > lvl)
			m->cap = lvl;
		if (quick)
			climb_count_failure(m, now);
	}
	machine_status_changed(m);
}

bool
machine_busy(const struct machine *m, int *level)
{
	int	i;

	for (i = 0; i < m->cfg->nlevels; i++) {
		if (m->levels[i].state == LEVEL_CLIMBING ||
		    m->levels[i].state == LEVEL_STOPPING) {
			if (level)
				*level = i;
			return true;
		}
	}
	return false;
}

/*
 * How many levels, from the bottom, are up and staying up: not a level
 * that failed, is being stopped or is about to be (at or above the limit:
 * a lower target, a rewind, a reload's floor), which `current` still
 * counts until it is down.  What `stackctl ready` and `wait` answer: no
 * traffic during a rewind.
 */
int
machine_up_level(const struct machine *m)
{
	int	i, limit = machine_limit(m);

	for (i = 0; i < m->current && i < limit; i++)
		if (m->levels[i].state != LEVEL_UP || m->levels[i].failed)
			break;
	return i;
}

int
machine_limit(const struct machine *m)
{
	int	limit;

	if (m->shutting_down)
		return 0;
	limit = m->target < m->cap ? m->target : m->cap;
	return limit < m->hold ? limit : m->hold;
}

/*
 * A level at or above the limit is on its way down: the restarts it was
 * waiting to make are held (restart_check_pending), not made and undone
 * a moment later.  If the limit rises before the level went down, they
 * are made now.  Only on a rise, so not a scan per event.
 */
static void
machine_resume_restarts(struct machine *m, int limit, msec_t now)
{
	int	i;

	for (i = m->seen_limit; i < limit && i < m->cfg->nlevels; i++)
		restart_check_pending(m, i, now);
}

/* One transition at most; machine_step repeats it until nothing moves. */
static void
machine_step_once(struct machine *m, msec_t now)
{
	int	i, limit = machine_limit(m);

	if (!m->started)
		return;
	if (limit > m->seen_limit)
		machine_resume_restarts(m, limit, now);
	m->seen_limit = limit;
	/* A climb above the limit (target lowered, rewind, shutdown) is
	 * abandoned without counting as a failure. */
	for (i = m->cfg->nlevels - 1; i >= limit; i--)
		if (m->levels[i].state == LEVEL_CLIMBING)
			rewind_level_stop(m, i, now);
	if (machine_busy(m, NULL))
		goto out;
	if (m->current > limit) {
		rewind_level_stop(m, m->current - 1, now);
		goto out;
	}
	rollout_step(m, now);
	if (m->cap != CAP_NONE && m->current <= m->cap)
		m->cap = CAP_NONE;
	if (m->shutting_down) {
		if (!m->exit_sent) {
			m->exit_sent = true;
			machine_log(m, LOG_INFO, "all levels stopped");
			machine_emit(m, ACT_EXIT, -1, -1)->code = m->exit_code;
		}
		goto out;
	}
	/* A reload waiting for what it stops: the next climb is the new
	 * file's, once the commit has put it in force; and one in force
	 * climbs once its rollout is over (rollout.c). */
	if (m->current < limit && now >= m->retry_at && m->retiring == 0 &&
	    m->pending == NULL && m->rolling == 0)
		climb_start(m, m->current, now);
out:
	machine_alarm(m, now);
}

void
machine_step(struct machine *m, msec_t now)
{
	unsigned	gen;

	do {
		gen = m->gen;
		machine_step_once(m, now);
	} while (gen != m->gen);
}

void
machine_start(struct machine *m, msec_t now)
{
	m->started = true;
	m->retry_at = now;
	machine_log(m, LOG_INFO, "stack %s: %d level%s, %d process%s, "
	    "target %d", m->cfg->name, m->cfg->nlevels,
	    m->cfg->nlevels == 1 ? "" : "s", m->cfg->nprocs,
	    m->cfg->nprocs == 1 ? "" : "es", m->target);
	machine_status_changed(m);
	machine_step(m, now);
}

static msec_t
min_deadline(msec_t a, msec_t b)
{
	return a < b ? a : b;
}

/* When process i next wants a tick; only a starting or stopping one can. */
static msec_t
machine_proc_deadline(const struct machine *m, int i)
{
	const struct proc_rt	*p = &m->procs[i];

	if (p->state == PS_STOPPING)
		return p->kill_at;
	if (p->state != PS_STARTING)
		return MSEC_NEVER;
	if (m->cfg->procs[i].ready == READY_PROBE && !p->probing)
		return min_deadline(p->ready_at, p->probe_next);
	return p->ready_at;
}

static int
machine_cmp_index(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/*
 * The processes due at now, in file order.  Only they can act in this
 * tick: nothing a tick does sets a process timer to now or earlier
 * (stop_timeout is positive; readiness and probe timers start at an
 * event), so taking them first and acting after is the same as one pass
 * over every process -- each is still checked again when its turn comes.
 */
static int
machine_due(struct machine *m, msec_t now)
{
	struct roster	*r = &m->roster;
	int		 k, n = 0;

	for (k = 0; k < r->ntimed; k++)
		if (machine_proc_deadline(m, r->timed[k]) <= now)
			r->due[n++] = r->timed[k];
	qsort(r->due, (size_t)n, sizeof(*r->due), machine_cmp_index);
	return n;
}

/* Everything that is due at or before now, in a fixed order. */
void
machine_tick(struct machine *m, msec_t now)
{
	const struct stack_conf	*cfg = m->cfg;
	struct level_rt		*l;
	struct proc_rt		*p;
	char			 what[96];
	int			 i, k, ndue;

	ndue = machine_due(m, now);
	for (k = 0; k < ndue; k++) {
		i = m->roster.due[k];
		p = &m->procs[i];
		if (p->state == PS_STOPPING && now >= p->kill_at) {
			machine_log(m, LOG_WARNING, "process %s did not stop "
			    "within %lldms, sending SIGKILL",
			    cfg->procs[i].name,
			    (long long)cfg->procs[i].stop_timeout);
			p->kill_at = MSEC_NEVER;
			machine_emit(m, ACT_SIGNAL, cfg->procs[i].level,
			    i)->sig = SIGKILL;
		}
		if (p->state == PS_STARTING && now >= p->ready_at) {
			p->ready_at = MSEC_NEVER;
			machine_proc_ready(m, i, now);
		}
		if (p->state == PS_STARTING &&
		    cfg->procs[i].ready == READY_PROBE && !p->probing &&
		    now >= p->probe_next) {
			p->probing = true;
			machine_emit(m, ACT_PROBE, cfg->procs[i].level, i);
		}
	}
	for (i = 0; i < cfg->nlevels; i++) {
		l = &m->levels[i];
		if (l->state == LEVEL_CLIMBING && now >= l->climb_deadline) {
			/* Said in the failure: once the level is down, its
			 * state no longer tells what it waited for. */
			machine_waiting_for(m, i, what, sizeof(what));
			machine_fail(m, i, now, "not ready within "
			    "ready_timeout (%lldms), %s",
			    (long long)cfg->levels[i].ready_timeout, what);
			continue;
		}
		if ((l->state == LEVEL_CLIMBING || (l->state == LEVEL_UP &&
		    !l->failed)) && cfg->levels[i].nprobes > 0 &&
		    !l->probing && now >= l->probe_next) {
			l->probing = true;
			machine_emit(m, ACT_PROBE, i, -1);
		}
	}
	machine_step(m, now);
}

/* O(levels + processes starting or stopping), not O(processes). */
msec_t
machine_next_deadline(const struct machine *m)
{
	const struct stack_conf	*cfg = m->cfg;
	const struct level_rt	*l;
	msec_t			 d = MSEC_NEVER;
	int			 i, k;

	if (!m->started)
		return MSEC_NEVER;
	for (k = 0; k < m->roster.ntimed; k++)
		d = min_deadline(d, machine_proc_deadline(m,
		    m->roster.timed[k]));
	for (i = 0; i < cfg->nlevels; i++) {
		l = &m->levels[i];
		if (l->state == LEVEL_CLIMBING)
			d = min_deadline(d, l->climb_deadline);
		if ((l->state == LEVEL_CLIMBING || (l->state == LEVEL_UP &&
		    !l->failed)) && cfg->levels[i].nprobes > 0 && !l->probing)
			d = min_deadline(d, l->probe_next);
	}
	if (!m->shutting_down && !machine_busy(m, NULL) &&
	    m->current < m->target && m->current < m->cap &&
	    m->current < m->hold && m->retiring == 0 && m->rolling == 0)
		d = min_deadline(d, m->retry_at);
	d = min_deadline(d, rollout_deadline(m));
	if (!m->alarm && m->below_since != MSEC_NEVER &&
	    m->cfg->alarm_after > 0)
		d = min_deadline(d, m->below_since + m->cfg->alarm_after);
	return d;
}

void
machine_proc_spawned(struct machine *m, int i, pid_t pid, bool exec_ok,
    msec_t now)
{
	struct proc_rt	*p = &m->procs[i];

	roster_pid(m, i, pid);
	p->exec_seen = false;
	/* Stopped before the spawn was carried out: the stop signal queued
	 * behind the spawn will find this pid. */
	if (p->state == PS_STOPPING) {
		p->started_at = now;
		return;
	}
	roster_state(m, i, PS_STARTING);
	p->started_at = now;
	p->ready_at = MSEC_NEVER;
	p->kill_at = MSEC_NEVER;
	p->probing = false;
	p->status_text[0] = '\0';
	p->main_pid = 0;
	p->errnum = 0;
	p->stop_announced = false;
	if (exec_ok)
		machine_proc_execd(m, i, now);
	else
		machine_step(m, now);
}

/*
 * The program runs: "started", and readiness by start-up can begin.  A
 * process stopped before its exec was confirmed only gets the event.
 */
void
machine_proc_execd(struct machine *m, int i, msec_t now)
{
	struct proc_rt	*p = &m->procs[i];

	if (p->pid <= 0 || p->exec_seen)
		return;
	p->exec_seen = true;
	machine_event(m, EVT_PROCESS_STARTED, m->cfg->procs[i].level, i);
	if (p->state == PS_STARTING)
		climb_proc_spawned(m, i, now);
	machine_step(m, now);
}

void
machine_proc_ready(struct machine *m, int i, msec_t now)
{
	climb_proc_ready(m, i, now);
	machine_step(m, now);
}

void
machine_proc_exited(struct machine *m, int i, int wstatus, msec_t now)
{
	struct proc_rt	*p = &m->procs[i];
	struct action	*a;

	a = machine_event(m, EVT_PROCESS_EXITED, m->cfg->procs[i].level, i);
	a->code = wstatus;
	a->errnum = p->errnum;
	a->requested = p->state == PS_STOPPING;
	roster_pid(m, i, 0);
	if (p->retiring)
		m->retiring--;
	p->main_pid = 0;
	p->last_status = wstatus;
	p->last_errno = p->errnum;
	p->exited_once = true;
	p->ready_at = MSEC_NEVER;
	if (p->probing) {
		p->probing = false;
		machine_emit(m, ACT_PROBE_CANCEL, m->cfg->procs[i].level, i);
	}
	restart_proc_exited(m, i, now);
	machine_step(m, now);
}

void
machine_probe_done(struct machine *m, int lvl, int i, bool ok,
    uint64_t passed, msec_t duration, msec_t now)
{
	const struct level_conf	*lc = &m->cfg->levels[lvl];
	struct level_rt		*l = &m->levels[lvl];
	struct proc_rt		*p;

	if (i >= 0) {
		p = &m->procs[i];
		if (!p->probing)
			return;
		p->probing = false;
		p->probe_next = now + lc->probe_interval;
		if (!ok && p->state == PS_STARTING)
			machine_event(m, EVT_PROBE_FAILED, lvl, i)->code = 1;
		if (ok && p->state == PS_STARTING)
			climb_proc_ready(m, i, now);
		machine_step(m, now);
		return;
	}
	if (!l->probing)
		return;
	l->probing = false;
	l->probe_next = now + lc->probe_interval;
	l->probe_duration = duration;
	l->probe = ok ? PROBE_OK : PROBE_FAILED;
	if (!ok)
		machine_event(m, EVT_PROBE_FAILED, lvl, -1)->code =
		    l->state == LEVEL_UP ? l->probe_failures + 1 : 1;
	if (l->state == LEVEL_CLIMBING) {
		l->probes_passed |= passed;
		climb_check_ready(m, lvl, now);
	} else if (l->state == LEVEL_UP && !l->failed) {
		if (ok)
			l->probe_failures = 0;
		else if (++l->probe_failures >= lc->failure_threshold)
			machine_fail(m, lvl, now, "probe failed %d time%s in a "
			    "row", l->probe_failures,
			    l->probe_failures == 1 ? "" : "s");
		else
			machine_log(m, LOG_WARNING, "level %d (%s) probe "
			    "failed (%d of %d)", lvl + 1, lc->name,
			    l->probe_failures, lc->failure_threshold);
	}
	machine_step(m, now);
}

int
machine_set_target(struct machine *m, int target, msec_t now)
{
	if (target < 0 || target > m->cfg->nlevels || m->shutting_down)
		return -1;
	if (target != m->target) {
		machine_log(m, LOG_INFO, "target changed from %d to %d",
		    m->target, target);
		machine_event(m, EVT_TARGET_CHANGED, target - 1, -1)->code =
		    target;
	}
	/* An operator asking for more gets an attempt now, not after the
	 * backoff; the backoff itself is kept for later failures. */
	if (target > m->current) {
		m->retry_at = now;
		m->retry_level = -1;
	}
	m->target = target;
	/* The file's own target (top, unless it sets one) hands the target
	 * back to the file: a reload that adds levels climbs them. */
	m->target_by_operator = target != m->cfg->target;
	machine_status_changed(m);
	machine_step(m, now);
	return 0;
}

void
machine_shutdown(struct machine *m, msec_t now)
{
	if (m->shutting_down) {
		if (!m->hurry) {
			machine_log(m, LOG_WARNING, "second shutdown request: "
			    "skipping grace periods");
			m->hurry = true;
			rewind_hurry(m, now);
		}
		return;
	}
	machine_log(m, LOG_INFO, "shutting down from level %d", m->current);
	if (m->pending != NULL)
		machine_log(m, LOG_NOTICE, "reload: not applied, shutting "
		    "down");
	snprintf(machine_event(m, EVT_SHUTDOWN, -1, -1)->text, ACT_TEXTMAX,
	    "requested");
	m->shutting_down = true;
	machine_status_changed(m);
	machine_step(m, now);
}

/* Give up after give_up_after consecutive failed climbs (a level that
 * fell within retry_max of coming up among them): stop and exit 3. */
void
machine_give_up(struct machine *m, msec_t now)
{
	struct action	*a;

	machine_log(m, LOG_ERR, "giving up after %d failed climb attempts",
	    m->failed_climbs);
	m->exit_code = 3;
	a = machine_event(m, EVT_SHUTDOWN, -1, -1);
	a->code = 3;
	snprintf(a->text, sizeof(a->text), "gave up after %d failed climb "
	    "attempts", m->failed_climbs);
	m->shutting_down = true;
	machine_status_changed(m);
}

/*
 * Below target for alarm_after raises the alarm; reaching the target
 * clears it.  Shutting down or descending is never "below target".
 */
static void
machine_alarm(struct machine *m, msec_t now)
{
	const struct stack_conf	*cfg = m->cfg;
	bool			 below;
	int			 lvl;

	/* Shutting down (or giving up) is neither reaching the target nor
	 * falling below it: the alarm stays as it is, no hook runs. */
	if (m->shutting_down) {
		m->below_since = MSEC_NEVER;
		return;
	}
	below = m->current < m->target;
	if (!below) {
		m->below_since = MSEC_NEVER;
		if (m->alarm) {
			m->alarm = false;
			machine_log(m, LOG_NOTICE, "alarm cleared: level %d "
			    "reached", m->current);
			machine_emit(m, ACT_HOOK, m->current - 1, -1)->hook =
			    HOOK_ALARM_CLEARED;
			machine_event(m, EVT_ALARM_CLEARED, m->current - 1, -1);
			machine_status_changed(m);
		}
	} else if (m->below_since == MSEC_NEVER)
		m->below_since = now;
	if (!m->ready_sent && m->current >= cfg->ready_level) {
		m->ready_sent = true;
		machine_emit(m, ACT_READY, -1, -1);
	}
	if (!below || m->alarm || cfg->alarm_after == 0 ||
	    now < m->below_since + cfg->alarm_after)
		return;
	m->alarm = true;
	lvl = m->current - 1;		/* the level it holds; -1: none */
	machine_log(m, LOG_ERR, "alarm: below target level %d (%s) for "
	    "%lldms; at level %d%s%s", m->target,
	    cfg->levels[m->target - 1].name,
	    (long long)(now - m->below_since), m->current,
	    m->last_failure[0] ? "; last failure: " : "", m->last_failure);
	machine_emit(m, ACT_HOOK, lvl, -1)->hook = HOOK_ALARM;
	snprintf(machine_event(m, EVT_ALARM_RAISED, m->current - 1, -1)->text,
	    ACT_TEXTMAX, "below target level %d for %lldms", m->target,
	    (long long)(now - m->below_since));
	machine_status_changed(m);
}

int
machine_proc_by_pid(const struct machine *m, pid_t pid)
{
	return roster_find(m, pid);
}

const char *
machine_state_name(const struct machine *m, msec_t now)
{
	int	lvl;

	if (m->shutting_down)
		return "stopping";
	if (machine_busy(m, &lvl)) {
		if (m->levels[lvl].state == LEVEL_CLIMBING)
			return "climbing";
		/* Stopping a failed climb: retrying, if still below the
		 * limit; an abandoned one (a lower target): descending. */
		if (lvl >= m->current && m->current < machine_limit(m))
			return "retrying";
		return m->cap != CAP_NONE ? "rewinding" : "descending";
	}
	if (m->current < m->target)
		return "retrying";
	if (m->current > m->target)
		return "descending";
	return "up";
}

/* What a climbing level still waits for, for STATUS= and status. */
static void
machine_waiting_for(const struct machine *m, int lvl, char *buf, size_t len)
{
	const struct stack_conf	*cfg = m->cfg;
	const struct roster	*r = &m->roster;
	int			 i, k, first = -1;

	/* The first in file order; only processes with timers can be
	 * starting. */
	for (k = 0; k < r->ntimed; k++) {
		i = r->timed[k];
		if (cfg->procs[i].level == lvl &&
		    m->procs[i].state == PS_STARTING &&
		    (first < 0 || i < first))
			first = i;
	}
	if (first >= 0) {
		snprintf(buf, len, "waiting for %s", cfg->procs[first].name);
		return;
	}
	if (!climb_probes_passed(m, lvl)) {
		snprintf(buf, len, "waiting for probe");
		return;
	}
	snprintf(buf, len, "finishing");
}

void
machine_status_text(const struct machine *m, msec_t now, char *buf,
    size_t len)
{
	const struct stack_conf	*cfg = m->cfg;
	char			 what[96];
	int			 lvl, n;

	if (m->current > 0)
		n = snprintf(buf, len, "%slevel %d/%d (%s) up", m->alarm ?
		    "ALARM: " : "", m->current, cfg->nlevels,
		    cfg->levels[m->current - 1].name);
	else
		n = snprintf(buf, len, "%slevel 0/%d", m->alarm ? "ALARM: " :
		    "", cfg->nlevels);
	if (n < 0 || (size_t)n >= len)
		return;
	buf += n;
	len -= (size_t)n;
	if (m->shutting_down) {
		snprintf(buf, len, "; stopping");
	} else if (machine_busy(m, &lvl) &&
	    m->levels[lvl].state == LEVEL_CLIMBING) {
		machine_waiting_for(m, lvl, what, sizeof(what));
		snprintf(buf, len, "; climbing to %s: %s",
		    cfg->levels[lvl].name, what);
	} else if (machine_busy(m, &lvl)) {
		snprintf(buf, len, "; stopping %s", cfg->levels[lvl].name);
	} else if (m->rolling > 0) {
		snprintf(buf, len, "; reload: restarting changed processes");
	} else if (m->current < m->target) {
		snprintf(buf, len, "; next climb to %s in %llds%s%s",
		    cfg->levels[m->current].name, (long long)(m->retry_at >
		    now ? (m->retry_at - now + 999) / 1000 : 0),
		    m->last_failure[0] ? "; last failure: " : "",
		    m->last_failure);
	}
}

const char *
level_state_name(enum level_state s)
{
	switch (s) {
	case LEVEL_DOWN:	return "down";
	case LEVEL_CLIMBING:	return "climbing";
	case LEVEL_UP:		return "up";
	case LEVEL_STOPPING:	return "stopping";
	}
	return "?";
}

const char *
proc_state_name(enum proc_state s)
{
	switch (s) {
	case PS_STOPPED:	return "stopped";
	case PS_STARTING:	return "starting";
	case PS_RUNNING:	return "running";
	case PS_STOPPING:	return "stopping";
	case PS_DONE:		return "done";
	case PS_EXITED:		return "exited";
	}
	return "?";
}

const char *
probe_state_name(enum probe_state s)
{
	switch (s) {
	case PROBE_NONE:	return "none";
	case PROBE_PENDING:	return "pending";
	case PROBE_OK:		return "ok";
	case PROBE_FAILED:	return "failed";
	}
	return "?";
}

const char *
event_name(enum event_kind e)
{
	switch (e) {
	case EVT_CLIMB_STARTED:		return "climb_started";
	case EVT_CLIMB_FAILED:		return "climb_failed";
	case EVT_LEVEL_UP:		return "level_up";
	case EVT_LEVEL_FAILED:		return "level_failed";
	case EVT_LEVEL_DOWN:		return "level_down";
	case EVT_PROCESS_STARTED:	return "process_started";
	case EVT_PROCESS_READY:		return "process_ready";
	case EVT_PROCESS_EXITED:	return "process_exited";
	case EVT_PROBE_FAILED:		return "probe_failed";
	case EVT_ALARM_RAISED:		return "alarm_raised";
	case EVT_ALARM_CLEARED:		return "alarm_cleared";
	case EVT_TARGET_CHANGED:	return "target_changed";
	case EVT_RELOAD_OK:		return "reload_ok";
	case EVT_RELOAD_FAILED:		return "reload_failed";
	case EVT_SHUTDOWN:		return "shutdown";
	case EVT_SUBSCRIBED:		return "subscribed";
	case EVT_PROCESS_STATUS:	return "process_status";
	}
	return "?";
}

void
exit_text(int st, char *buf, size_t len)
{
	const char	*name;

	if (WIFEXITED(st)) {
		snprintf(buf, len, "exited %d", WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		name = signal_name(WTERMSIG(st));
		if (*name)
			snprintf(buf, len, "killed by SIG%s", name);
		else
			snprintf(buf, len, "killed by signal %d",
			    WTERMSIG(st));
	} else
		snprintf(buf, len, "status 0x%x", st);
}

void
proc_exit_text(const struct proc_rt *p, char *buf, size_t len)
{
	size_t	n;

	exit_text(p->last_status, buf, len);
	n = strlen(buf);
	if (p->last_errno > 0 && n < len)
		snprintf(buf + n, len - n, ", ERRNO=%d: %s", p->last_errno,
		    strerror(p->last_errno));
}
