/*
 * hook.c -- on_up, on_down and on_alarm.
 *
 * A hook tells the outside world (a load balancer, a pager) what happened;
 * it never decides anything.  It runs without a shell in its own process
 * group with STACKD_STACK, STACKD_LEVEL and STACKD_EVENT set, its output
 * goes to the log, and it is killed as a group after hook_timeout.  A
 * failing or late hook is logged and changes nothing.  stackd waits for
 * running hooks before it exits, so on_down always completes.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "spawn.h"

struct hook_proc {
	ev_timer	  timer;
	struct hook_proc *next;
	pid_t		  pid;
	char		  what[96];
};

static struct hook_proc	*hooks;
static int		 nhooks;

static const char *
hook_event_name(enum hook_event ev)
{
	switch (ev) {
	case HOOK_UP:			return "up";
	case HOOK_DOWN:			return "down";
	case HOOK_ALARM:		return "alarm";
	case HOOK_ALARM_CLEARED:	return "alarm_cleared";
	}
	return "?";
}

static const struct command *
hook_command(const struct stack_conf *cfg, int level, enum hook_event ev,
    const char **key)
{
	switch (ev) {
	case HOOK_UP:
		*key = "on_up";
		return &cfg->levels[level].on_up;
	case HOOK_DOWN:
		*key = "on_down";
		return &cfg->levels[level].on_down;
	default:
		*key = "on_alarm";
		return &cfg->on_alarm;
	}
}

static void
hook_free(struct daemon *d, struct hook_proc *h)
{
	struct hook_proc	**pp;

	ev_timer_stop(d->loop, &h->timer);
	for (pp = &hooks; *pp != NULL; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	nhooks--;
	free(h);
}

static void
hook_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct hook_proc	*h = (struct hook_proc *)w;

	log_msg(LOG_WARNING, "%s did not finish within hook_timeout, killed",
	    h->what);
	spawn_signal(h->pid, SIGKILL);
}

void
hook_run(struct daemon *d, int level, enum hook_event ev)
{
	const struct command	*c;
	const char		*key, *lname;
	struct spawn_req	 req;
	struct hook_proc	*h;
	struct relay		*relay = NULL;
	int			 wfd;

	/* level -1: the stack holds none (on_alarm at level 0), and
	 * STACKD_LEVEL is empty. */
	if (level >= d->cfg->nlevels)
		level = d->cfg->nlevels - 1;
	lname = level >= 0 ? d->cfg->levels[level].name : "";
	c = hook_command(d->cfg, level >= 0 ? level : 0, ev, &key);
	if (c->argv == NULL)
		return;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		log_errno("hook_run");
		return;
	}
	snprintf(h->what, sizeof(h->what), "hook %s (%s, %s)", key,
	    *lname != '\0' ? lname : "level 0", hook_event_name(ev));
	memset(&req, 0, sizeof(req));
	req.what = h->what;
	req.argv = c->argv;
	req.env = spawn_env(d->cfg, lname, NULL, hook_event_name(ev), NULL);
	if (req.env == NULL ||
	    (relay = relay_log_open(d, h->what, &wfd)) == NULL) {
		log_msg(LOG_ERR, "%s: cannot start", h->what);
		spawn_env_free(req.env);
		free(h);
		return;
	}
	req.out_fd = req.err_fd = wfd;
	req.ready_fd = -1;
	h->pid = spawn(d->loop, &req, NULL, NULL);
	close(wfd);
	relay_set_pid(relay, h->pid);
	spawn_env_free(req.env);
	if (h->pid <= 0) {
		free(h);
		return;
	}
	h->next = hooks;
	hooks = h;
	nhooks++;
	ev_timer_init(&h->timer, hook_timeout,
	    (double)d->cfg->hook_timeout / 1000.0, 0.);
	ev_timer_start(d->loop, &h->timer);
}

bool
hook_reaped(struct daemon *d, pid_t pid, int status)
{
	struct hook_proc	*h;
	char			 how[64];

	for (h = hooks; h != NULL; h = h->next) {
		if (h->pid != pid)
			continue;
		if (status != 0) {
			exit_text(status, how, sizeof(how));
			log_msg(LOG_WARNING, "%s failed: %s", h->what, how);
		}
		spawn_signal_group(pid, SIGKILL);
		hook_free(d, h);
		return true;
	}
	return false;
}

int
hook_running(void)
{
	return nhooks;
}

void
hook_kill_all(struct daemon *d)
{
	struct hook_proc	*h;

	for (h = hooks; h != NULL; h = h->next)
		spawn_signal(h->pid, SIGKILL);
}
