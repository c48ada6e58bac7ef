/*
 * roster.c -- what the machine keeps so that one event never has to look
 * at every process: which process a pid belongs to, which processes are
 * starting or stopping (the only ones that can have a timer), and how
 * many processes of each level are alive and how many are ready.
 *
 * All of it follows from the procs array and the configuration.
 * roster_build makes it from scratch (machine_init, and a reload, which
 * renumbers the processes); from then on every change of a process's pid
 * goes through roster_pid and every change of its state through
 * roster_state, which keep it in step in constant time.  roster_check
 * derives it all again and compares, for the unit tests.
 *
 * The pid map is an open-addressing hash table with linear probing, sized
 * for every process at once and so at most half full.  A removal shifts
 * back the entries that follow it instead of leaving a tombstone, so years
 * of restarts leave the table as short to search as on the first day.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"

static bool
roster_timed(enum proc_state s)
{
	return s == PS_STARTING || s == PS_STOPPING;
}

bool
roster_live(enum proc_state s)
{
	return s == PS_STARTING || s == PS_RUNNING || s == PS_STOPPING;
}

/* What climb.c waits for: a ready longrun, a oneshot that exited 0. */
static bool
roster_ready(const struct proc_conf *pc, enum proc_state s)
{
	return pc->type == PROC_ONESHOT ? s == PS_DONE : s == PS_RUNNING;
}

/* Multiplicative (Fibonacci) hashing: the top bits of the product. */
static unsigned
roster_home(const struct roster *r, pid_t pid)
{
	return (unsigned)(((uint32_t)pid * 0x9e3779b1u) >> r->shift);
}

static void
roster_insert(struct roster *r, const struct proc_rt *procs, int i)
{
	unsigned	s = roster_home(r, procs[i].pid);

	/* At most half full: an empty slot always comes. */
	while (r->slots[s] != -1)
		s = (s + 1) & r->mask;
	r->slots[s] = i;
}

/*
 * Take process i (still holding the pid it is filed under) out of the
 * map.  Each entry after the hole that may legally sit in it -- its home
 * is not between the hole and where it is now -- moves back, so that no
 * probe sequence is ever cut short by an empty slot.
 */
static void
roster_remove(struct roster *r, const struct proc_rt *procs, int i)
{
	unsigned	hole, s, home;

	hole = roster_home(r, procs[i].pid);
	while (r->slots[hole] != -1 && r->slots[hole] != i)
		hole = (hole + 1) & r->mask;
	if (r->slots[hole] == -1)
		return;
	for (s = (hole + 1) & r->mask; r->slots[s] != -1;
	    s = (s + 1) & r->mask) {
		home = roster_home(r, procs[r->slots[s]].pid);
		if (((s - home) & r->mask) < ((s - hole) & r->mask))
			continue;
		r->slots[hole] = r->slots[s];
		hole = s;
	}
	r->slots[hole] = -1;
}

static void
roster_timed_add(struct roster *r, int i)
{
	r->timed_at[i] = r->ntimed;
	r->timed[r->ntimed++] = i;
}

/* Swap the last member into i's place: order in the set is not kept. */
static void
roster_timed_del(struct roster *r, int i)
{
	int	last = r->timed[--r->ntimed];

	r->timed[r->timed_at[i]] = last;
	r->timed_at[last] = r->timed_at[i];
	r->timed_at[i] = -1;
}

/* File process i (pid, state) in a roster being built. */
static void
roster_file(struct roster *r, const struct stack_conf *cfg,
    const struct proc_rt *procs, int i)
{
	const struct proc_conf	*pc = &cfg->procs[i];
	struct roster_level	*rl = &r->levels[pc->level];

	rl->nprocs++;
	rl->nlive += roster_live(procs[i].state);
	rl->nready += roster_ready(pc, procs[i].state);
	if (roster_timed(procs[i].state))
		roster_timed_add(r, i);
	if (procs[i].pid > 0)
		roster_insert(r, procs, i);
}

/*
 * Build the roster of procs, which follows cfg.  Returns -1 when out of
 * memory, with r empty.
 */
int
roster_build(struct roster *r, const struct stack_conf *cfg,
    const struct proc_rt *procs)
{
	size_t	cap = 4, n = (size_t)cfg->nprocs + 1;
	int	i;

	memset(r, 0, sizeof(*r));
	r->shift = 30;
	while (cap < 2 * (size_t)cfg->nprocs) {
		cap *= 2;
		r->shift--;
	}
	r->mask = (unsigned)cap - 1;
	r->slots = malloc(cap * sizeof(*r->slots));
	r->timed = calloc(n, sizeof(*r->timed));
	r->timed_at = malloc(n * sizeof(*r->timed_at));
	r->due = calloc(n, sizeof(*r->due));
	r->levels = calloc((size_t)cfg->nlevels + 1, sizeof(*r->levels));
	if (r->slots == NULL || r->timed == NULL || r->timed_at == NULL ||
	    r->due == NULL || r->levels == NULL) {
		roster_free(r);
		return -1;
	}
	for (i = 0; i < (int)cap; i++)
		r->slots[i] = -1;
	for (i = 0; i < cfg->nprocs; i++)
		r->timed_at[i] = -1;
	for (i = 0; i < cfg->nprocs; i++)
		roster_file(r, cfg, procs, i);
	return 0;
}

void
roster_free(struct roster *r)
{
	free(r->slots);
	free(r->timed);
	free(r->timed_at);
	free(r->due);
	free(r->levels);
	memset(r, 0, sizeof(*r));
}

/* Process i now runs as pid (0: no longer runs). */
void
roster_pid(struct machine *m, int i, pid_t pid)
{
	struct proc_rt	*p = &m->procs[i];

	if (p->pid == pid)
		return;
	if (p->pid > 0)
		roster_remove(&m->roster, m->procs, i);
	p->pid = pid > 0 ? pid : 0;
	if (p->pid > 0)
		roster_insert(&m->roster, m->procs, i);
}

/* Process i moves to state s. */
void
roster_state(struct machine *m, int i, enum proc_state s)
{
	const struct proc_conf	*pc = &m->cfg->procs[i];
	struct roster_level	*rl = &m->roster.levels[pc->level];
	struct proc_rt		*p = &m->procs[i];

	rl->nlive += roster_live(s) - roster_live(p->state);
	rl->nready += roster_ready(pc, s) - roster_ready(pc, p->state);
	if (roster_timed(p->state) && !roster_timed(s))
		roster_timed_del(&m->roster, i);
	else if (!roster_timed(p->state) && roster_timed(s))
		roster_timed_add(&m->roster, i);
	p->state = s;
}

/* The process running as pid, or -1. */
int
roster_find(const struct machine *m, pid_t pid)
{
	const struct roster	*r = &m->roster;
	unsigned		 s;

	if (pid <= 0 || r->slots == NULL)
		return -1;
	for (s = roster_home(r, pid); r->slots[s] != -1;
	    s = (s + 1) & r->mask)
		if (m->procs[r->slots[s]].pid == pid)
			return r->slots[s];
	return -1;
}

/*
 * For the tests: does the roster say what a full scan of the processes
 * says?  Every pid findable, nothing else in the map, the timed set and
 * the level counts exact.
 */
bool
roster_check(const struct machine *m)
{
	const struct stack_conf	*cfg = m->cfg;
	const struct roster	*r = &m->roster;
	struct roster		 fresh;
	unsigned		 s;
	int			 i, npids = 0, filed = 0;
	bool			 ok = true;

	for (i = 0; i < cfg->nprocs; i++) {
		if (m->procs[i].pid > 0) {
			npids++;
			ok = ok && roster_find(m, m->procs[i].pid) == i;
		}
		ok = ok && roster_timed(m->procs[i].state) ==
		    (r->timed_at[i] >= 0);
		ok = ok && (r->timed_at[i] < 0 ||
		    r->timed[r->timed_at[i]] == i);
	}
	for (s = 0; s <= r->mask; s++)
		filed += r->slots[s] != -1;
	if (roster_build(&fresh, cfg, m->procs) == -1)
		return false;
	ok = ok && filed == npids && fresh.ntimed == r->ntimed &&
	    memcmp(fresh.levels, r->levels, (size_t)cfg->nlevels *
	    sizeof(*r->levels)) == 0;
	roster_free(&fresh);
	return ok;
}
