/*
 * probe.c -- running probe commands.
 *
 * The machine asks for "the probes of level k" or "the readiness probe of
 * process p" and gets back one result: whether all exited 0, and which
 * did (a climbing level needs each to pass once, not all in one run).  Every probe
 * command runs without a shell in its own process group, its output goes
 * to the log through a relay, and the whole run is bounded by
 * probe_timeout: a probe still running then is killed as a group and
 * counts as failed.  A cancelled run (its level is stopping) is killed and
 * reports nothing; the machine has already forgotten it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "spawn.h"

struct probe_run {
	ev_timer		 timer;
	struct probe_run	*next;
	int			 level;
	int			 proc;
	int			 n;
	int			 left;
	bool			 failed;
	uint64_t		 passed;	/* bit i: pids[i] exited 0 */
	msec_t			 started;
	pid_t			 pids[];
};

static struct probe_run	*runs;

static void
probe_free(struct daemon *d, struct probe_run *r)
{
	struct probe_run	**pp;
	int			  i;

	ev_timer_stop(d->loop, &r->timer);
	for (i = 0; i < r->n; i++)
		if (r->pids[i] > 0)
			spawn_signal(r->pids[i], SIGKILL);
	for (pp = &runs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	free(r);
}

static void
probe_finish(struct daemon *d, struct probe_run *r)
{
	int		level = r->level, proc = r->proc;
	bool		ok = !r->failed;
	uint64_t	passed = r->passed;
	msec_t		now = now_msec(), took = now - r->started;

	probe_free(d, r);
	machine_probe_done(&d->m, level, proc, ok, passed, took, now);
}

static void
probe_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct probe_run	*r = (struct probe_run *)w;
	struct daemon		*d = daemon_self;
	const struct level_conf	*lc = &d->cfg->levels[r->level];

	log_msg(LOG_WARNING, "probe of %s %s timed out after %lldms, killed",
	    r->proc >= 0 ? "process" : "level", r->proc >= 0 ?
	    d->cfg->procs[r->proc].name : lc->name,
	    (long long)(now_msec() - r->started));
	r->failed = true;
	probe_finish(d, r);
	daemon_run(d);
}

static pid_t
probe_spawn(struct daemon *d, const struct command *c, int level, int proc)
{
	struct spawn_req	 req;
	const char		*lname = d->cfg->levels[level].name;
	const char		*pname = proc >= 0 ? d->cfg->procs[proc].name :
				    NULL;
	char			 what[128];
	struct relay		*relay;
	int			 wfd;
	pid_t			 pid;

	snprintf(what, sizeof(what), "probe %s", pname ? pname : lname);
	memset(&req, 0, sizeof(req));
	req.what = what;
	req.argv = c->argv;
	if ((req.env = spawn_env(d->cfg, lname, pname, NULL, NULL)) == NULL) {
		log_errno("%s: environment", what);
		return -1;
	}
	if ((relay = relay_log_open(d, what, &wfd)) == NULL) {
		spawn_env_free(req.env);
		return -1;
	}
	req.out_fd = req.err_fd = wfd;
	req.ready_fd = -1;
	pid = spawn(d->loop, &req, NULL, NULL);
	close(wfd);
	relay_set_pid(relay, pid);
	spawn_env_free(req.env);
	return pid;
}

void
probe_start(struct daemon *d, int level, int proc)
{
	const struct level_conf	*lc = &d->cfg->levels[level];
	const struct command	*cmds = lc->probes;
	struct probe_run	*r;
	msec_t			 timeout = lc->probe_timeout;
	int			 i, n = lc->nprobes;

	if (proc >= 0) {
		cmds = &d->cfg->procs[proc].probe;
		timeout = d->cfg->procs[proc].probe_timeout;
		n = 1;
	}
	if ((r = calloc(1, sizeof(*r) + (size_t)n * sizeof(pid_t))) == NULL) {
		log_errno("probe_start");
		machine_probe_done(&d->m, level, proc, false, 0, 0, now_msec());
		return;
	}
	r->level = level;
	r->proc = proc;
	r->n = n;
	r->started = now_msec();
	r->next = runs;
	runs = r;
	for (i = 0; i < n; i++) {
		r->pids[i] = probe_spawn(d, &cmds[i], level, proc);
		if (r->pids[i] > 0)
			r->left++;
		else
			r->failed = true;
	}
	if (r->left == 0) {
		probe_finish(d, r);
		return;
	}
	ev_timer_init(&r->timer, probe_timeout, (double)timeout / 1000.0, 0.);
	ev_timer_start(d->loop, &r->timer);
}

void
probe_cancel(struct daemon *d, int level, int proc)
{
	struct probe_run	*r;

	for (r = runs; r != NULL; r = r->next)
		if (r->level == level && r->proc == proc) {
			probe_free(d, r);
			return;
		}
}

void
probe_cancel_all(struct daemon *d)
{
	while (runs != NULL)
		probe_free(d, runs);
}

bool
probe_reaped(struct daemon *d, pid_t pid, int status)
{
	struct probe_run	*r;
	int			 i;

	for (r = runs; r != NULL; r = r->next)
		for (i = 0; i < r->n; i++) {
			if (r->pids[i] != pid)
				continue;
			/* Leave nothing of a finished probe behind. */
			spawn_signal_group(pid, SIGKILL);
			r->pids[i] = 0;
			if (status != 0)
				r->failed = true;
			else
				r->passed |= (uint64_t)1 << i;
			if (--r->left == 0)
				probe_finish(d, r);
			return true;
		}
	return false;
}
