/*
 * deadline_scan.c -- when the machine next wants a tick, the slow way:
 * every process and every level looked at, as machine_next_deadline did
 * before roster.c narrowed it down to the processes that are starting or
 * stopping.  Both machine tests compare the two after every action; a
 * timer the machine adds must be added here too.
 */
#include <stddef.h>

#include "deadline_scan.h"

msec_t
scan_next_deadline(const struct machine *m)
{
	const struct stack_conf	*cfg = m->cfg;
	const struct level_rt	*l;
	const struct proc_rt	*p;
	msec_t			 d = MSEC_NEVER;
	int			 i;

#define EARLIER(x)	do { if ((x) < d) d = (x); } while (0)
	if (!m->started)
		return MSEC_NEVER;
	for (i = 0; i < cfg->nprocs; i++) {
		p = &m->procs[i];
		if (p->state == PS_STOPPING)
			EARLIER(p->kill_at);
		if (p->state == PS_STARTING) {
			EARLIER(p->ready_at);
			if (cfg->procs[i].ready == READY_PROBE && !p->probing)
				EARLIER(p->probe_next);
		}
	}
	for (i = 0; i < cfg->nlevels; i++) {
		l = &m->levels[i];
		if (l->state == LEVEL_CLIMBING)
			EARLIER(l->climb_deadline);
		if ((l->state == LEVEL_CLIMBING || (l->state == LEVEL_UP &&
		    !l->failed)) && cfg->levels[i].nprobes > 0 && !l->probing)
			EARLIER(l->probe_next);
	}
	if (!m->shutting_down && !machine_busy(m, NULL) &&
	    m->current < m->target && m->current < m->cap &&
	    m->current < m->hold && m->retiring == 0 && m->rolling == 0)
		EARLIER(m->retry_at);
	if (m->rolling > 0 && m->rollout_stops == 0 && m->pending == NULL &&
	    !machine_busy(m, NULL))
		EARLIER(m->rollout_at);
	if (!m->alarm && m->below_since != MSEC_NEVER &&
	    m->cfg->alarm_after > 0)
		EARLIER(m->below_since + m->cfg->alarm_after);
#undef EARLIER
	return d;
}
