/*
 * reconfigure.c -- the daemon's side of a reload (SIGHUP, `stackctl
 * reload`); the decisions are the machine's, in reload.c.
 *
 * The new file is parsed and validated in full before anything happens:
 * an error leaves the running stack alone and goes back to whoever asked
 * (the log for SIGHUP, the reply for stackctl) as FILE:LINE: message.  A
 * valid file is handed to the machine, which may first have to walk the
 * stack down; once it says the reload is due, reconfigure_commit() swaps
 * the configuration between two batches of actions, so no queued action
 * ever refers to a process by its old index.  What the daemon keeps per
 * process (readiness sockets) moves with the process; probes in flight are
 * cancelled and asked again.  Processes that no longer exist in the new
 * file are "retired": stopped here with their old stop_signal, SIGKILL
 * after their old stop_timeout, and reaped quietly.  Every reload request,
 * valid or not, also reopens the log = file: files (logrotate).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "daemon.h"
#include "log.h"
#include "parse.h"
#include "spawn.h"

struct retiree {
	ev_timer	 timer;		/* SIGKILL when it fires */
	struct retiree	*next;
	pid_t		 pid;
	char		 name[64];
};

static struct retiree	*retirees;

static void
retire_free(struct daemon *d, struct retiree *r)
{
	struct retiree	**pp;

	ev_timer_stop(d->loop, &r->timer);
	for (pp = &retirees; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	free(r);
}

static void
retire_late(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct retiree	*r = (struct retiree *)w;

	log_msg(LOG_WARNING, "removed process %s (pid %ld) did not stop in "
	    "time, sending SIGKILL", r->name, (long)r->pid);
	spawn_signal(r->pid, SIGKILL);
}

/* Stop a process the new configuration no longer has. */
static void
retire(struct daemon *d, const struct proc_conf *pc, pid_t pid)
{
	struct retiree	*r;

	log_msg(LOG_INFO, "reload: stopping removed process %s (pid %ld)",
	    pc->name, (long)pid);
	spawn_signal(pid, pc->stop_signal);
	spawn_signal(pid, SIGCONT);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		/* Without a timer, no grace period: KILL now. */
		spawn_signal(pid, SIGKILL);
		return;
	}
	r->pid = pid;
	snprintf(r->name, sizeof(r->name), "%s", pc->name);
	ev_timer_init(&r->timer, retire_late,
	    (double)pc->stop_timeout / 1000.0, 0.);
	ev_timer_start(d->loop, &r->timer);
	r->next = retirees;
	retirees = r;
}

bool
reconfigure_reaped(struct daemon *d, pid_t pid, int status)
{
	struct retiree	*r;
	char		 how[64];

	for (r = retirees; r != NULL; r = r->next) {
		if (r->pid != pid)
			continue;
		exit_text(status, how, sizeof(how));
		log_msg(LOG_INFO, "removed process %s stopped (%s)", r->name,
		    how);
		retire_free(d, r);
		return true;
	}
	return false;
}

void
reconfigure_fini(struct daemon *d)
{
	while (retirees != NULL)
		retire_free(d, retirees);
	if (d->pending_cfg != NULL) {
		config_free(d->pending_cfg);
		d->pending_cfg = NULL;
	}
}

static int
reconfigure_keep_name(struct stack_conf *ncfg, const struct stack_conf *ocfg)
{
	char	*name;

	if (strcmp(ncfg->name, ocfg->name) == 0)
		return 0;
	if ((name = strdup(ocfg->name)) == NULL)
		return -1;
	free(ncfg->name);
	ncfg->name = name;
	return 0;
}

/*
 * Under Type=notify-reload systemd sent the SIGHUP and waits for
 * RELOADING=1 and READY=1; without them `systemctl reload` would hang for
 * TimeoutStartSec.  A refused reload is over at once: the old file stays
 * in force, and the journal says why.
 */
static void
reconfigure_refused(struct daemon *d)
{
	if (d->m.ready_sent) {
		notify_reloading(d);
		notify_ready(d);
	}
}

/*
 * Parse and validate the file, then start the machine's reload.  Returns
 * 0, or -1 with the reason (FILE:LINE: message) in err; the running stack
 * is untouched either way until the machine moves.
 */
int
reconfigure(struct daemon *d, char *err, size_t errlen)
{
	struct stack_conf	*ncfg, *old;

	/* Whatever becomes of the file: this is logrotate's postrotate. */
	relay_reopen(d);
	if (d->m.shutting_down) {
		snprintf(err, errlen, "stackd is shutting down");
		return -1;
	}
	if ((ncfg = parse_file(d->cfg->path, err, errlen)) == NULL) {
		log_msg(LOG_ERR, "reload failed, nothing changed: %s", err);
		events_daemon(d, EVT_RELOAD_FAILED, err);
		reconfigure_refused(d);
		return -1;
	}
	if (strcmp(ncfg->name, d->cfg->name) != 0 ||
	    (ncfg->control == NULL) != (d->cfg->control == NULL) ||
	    (ncfg->control != NULL &&
	    strcmp(ncfg->control, d->cfg->control) != 0)) {
		/* The name stays too: status, metrics, the children's
		 * STACKD_STACK and the socket must keep telling one story. */
		if (reconfigure_keep_name(ncfg, d->cfg) == -1) {
			snprintf(err, errlen, "out of memory");
			config_free(ncfg);
			reconfigure_refused(d);
			return -1;
		}
		log_msg(LOG_WARNING, "reload: a new stack name or control "
		    "socket takes effect at the next start; the name stays "
		    "%s, the socket %s", d->cfg->name, d->control_path);
	}
	notify_reloading(d);
	log_msg(LOG_NOTICE, "reload: %s is valid (%d level%s, %d process%s)",
	    d->cfg->path, ncfg->nlevels, ncfg->nlevels == 1 ? "" : "s",
	    ncfg->nprocs, ncfg->nprocs == 1 ? "" : "es");
	events_daemon(d, EVT_RELOAD_OK, NULL);
	/* A reload still waiting for the stack is superseded. */
	old = d->pending_cfg;
	d->pending_cfg = ncfg;
	machine_reload(&d->m, ncfg, now_msec());
	if (old != NULL)
		config_free(old);
	daemon_run(d);
	return 0;
}

/* The machine is ready for the new configuration: swap it in. */
void
reconfigure_commit(struct daemon *d)
{
	struct stack_conf	*old = d->cfg;
	pid_t			*oldpid;
	int			*map, i;

	map = calloc((size_t)old->nprocs + 1, sizeof(*map));
	oldpid = calloc((size_t)old->nprocs + 1, sizeof(*oldpid));
	if (map == NULL || oldpid == NULL ||
	    machine_reload_commit(&d->m, map, oldpid, now_msec()) == -1) {
		/* Out of memory: try again at the next event. */
		log_msg(LOG_ERR, "reload: out of memory, retrying");
		free(map);
		free(oldpid);
		return;
	}
	/* Probes in flight carry old indices; the machine asks again (its
	 * requests are still queued, carried out after this). */
	probe_cancel_all(d);
	ready_remap(d, map, old->nprocs, d->pending_cfg->nprocs);
	for (i = 0; i < old->nprocs; i++)
		if (map[i] < 0 && oldpid[i] > 0)
			retire(d, &old->procs[i], oldpid[i]);
	d->cfg = d->pending_cfg;
	d->pending_cfg = NULL;
	config_free(old);
	free(map);
	free(oldpid);
	/* systemd waits for READY=1 after RELOADING=1; before the stack was
	 * first ready, READY=1 would say something untrue. */
	if (d->m.ready_sent)
		notify_ready(d);
}
