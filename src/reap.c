/*
 * reap.c -- PID 1 and subreaper duties.
 *
 * stackd owns the only waitpid in the process: every exit, of a
 * supervised process, a probe, a hook or an orphan that was reparented to
 * us, is collected here and handed to whoever started it.  As PID 1 the
 * kernel reparents every orphan of the namespace to us; otherwise we ask
 * for the same as a child subreaper, so daemons that double-fork are still
 * ours to reap and to stop.
 *
 * SIGCHLD only says "at least one": the sweep runs waitpid(-1) until
 * nothing is left, so no zombie stays behind.  Each such call walks every
 * child in the kernel; with a thousand children that is most of what one
 * exit costs stackd.  So stackd reads SIGCHLD from a signalfd of its own,
 * whose siginfo names the child that sent it, reaps that one first with
 * waitpid(pid) -- no walk -- and needs one walk, not two, to learn that
 * nothing else is left (other exits may have merged into the same signal).
 * (A child's exit signal cannot be made a queued realtime one: exec resets
 * it to SIGCHLD.)
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "spawn.h"

/* A group whose leader is gone: SIGKILL to what is left at kill_at. */
struct remnant {
	struct remnant		*next;
	pid_t			 pgid;
	unsigned long long	 born_before;	/* start time, clock ticks */
	msec_t			 kill_at;
	char			 name[64];
};

static struct remnant	*remnants;
static ev_timer		 remnant_timer;

static ev_io	sigchld;	/* signalfd of SIGCHLD */

static void	reap_sigchld(struct ev_loop *, ev_io *, int);
static void	reap_remnant_due(struct ev_loop *, ev_timer *, int);

/* False if SIGCHLD must come through libev instead (no signalfd). */
bool
reap_init(struct daemon *d)
{
	sigset_t	set;
	int		fd;

	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_errno("reap_init: PR_SET_CHILD_SUBREAPER");
	ev_timer_init(&remnant_timer, reap_remnant_due, 0., 0.);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1) {
		log_errno("reap_init: signalfd");
		return false;
	}
	ev_io_init(&sigchld, reap_sigchld, fd, EV_READ);
	ev_io_start(d->loop, &sigchld);
	return true;
}

/* Now, in the unit of /proc/PID/stat's starttime. */
static unsigned long long
reap_boot_ticks(void)
{
	struct timespec	ts;
	long		hz = sysconf(_SC_CLK_TCK);

	clock_gettime(CLOCK_BOOTTIME, &ts);
	if (hz <= 0)
		hz = 100;
	return (unsigned long long)ts.tv_sec * (unsigned long long)hz +
	    (unsigned long long)ts.tv_nsec / (1000000000ULL /
	    (unsigned long long)hz);
}

/* pgrp and starttime of pid, from /proc/PID/stat; -1 if gone. */
static int
reap_stat(const char *pid, pid_t *ppid, pid_t *pgrp,
    unsigned long long *start)
{
	char	 path[64], buf[512], *p;
	FILE	*f;
	long	 pp = -1, pg = -1;
	int	 n = 0;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	/* The command name may contain anything, even ") "; skip past the
	 * last ')' before reading "state ppid pgrp ... starttime". */
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		n = sscanf(p + 1, " %*c %ld %ld %*d %*d %*d %*u %*u %*u %*u "
		    "%*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &pp, &pg,
		    start);
	fclose(f);
	*ppid = (pid_t)pp;
	*pgrp = (pid_t)pg;
	return n == 3 ? 0 : -1;
}

static void
reap_remnant_arm(struct daemon *d)
{
	struct remnant	*r;
	msec_t		 first = MSEC_NEVER, now = now_msec();

	ev_timer_stop(d->loop, &remnant_timer);
	for (r = remnants; r != NULL; r = r->next)
		if (r->kill_at < first)
			first = r->kill_at;
	if (first == MSEC_NEVER)
		return;
	ev_timer_set(&remnant_timer, first > now ?
	    (double)(first - now) / 1000.0 : 0., 0.);
	ev_timer_start(d->loop, &remnant_timer);
}

/* SIGKILL every process of a due group that the leader left behind. */
static void
reap_remnant_kill(struct remnant *due)
{
	DIR			*dir;
	struct dirent		*de;
	struct remnant		*r;
	unsigned long long	 start;
	pid_t			 ppid, pgrp, pid;

	if ((dir = opendir("/proc")) == NULL) {
		log_errno("reap_remnant_kill: /proc");
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
		    reap_stat(de->d_name, &ppid, &pgrp, &start) == -1)
			continue;
		for (r = due; r != NULL; r = r->next)
			if (pgrp == r->pgid && start <= r->born_before)
				break;
		if (r == NULL)
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (kill(pid, SIGKILL) == 0)
			log_msg(LOG_WARNING, "%s: sending SIGKILL to process "
			    "%ld, left in its group after stop_timeout",
			    r->name, (long)pid);
	}
	closedir(dir);
}

static void
reap_remnant_due(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon	*d = daemon_self;
	struct remnant	*r, **rp, *due = NULL;
	msec_t		 now = now_msec();

	for (rp = &remnants; (r = *rp) != NULL; ) {
		if (r->kill_at > now) {
			rp = &r->next;
			continue;
		}
		*rp = r->next;
		r->next = due;
		due = r;
	}
	if (due != NULL)
		reap_remnant_kill(due);
	while ((r = due) != NULL) {
		due = r->next;
		free(r);
	}
	reap_remnant_arm(d);
}

/* Supervised process i (leader of group pid) was reaped. */
static void
reap_group_left(struct daemon *d, int i, pid_t pid)
{
	const struct proc_conf	*pc = &d->cfg->procs[i];
	struct remnant		*r;

	if (pc->type == PROC_ONESHOT || kill(-pid, pc->stop_signal) == -1)
		return;		/* ESRCH: nothing was left */
	(void)kill(-pid, SIGCONT);
	log_msg(LOG_INFO, "process %s: sending SIG%s to what it left in "
	    "its process group", pc->name, sigabbrev_np(pc->stop_signal));
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_errno("reap_group_left");
		return;
	}
	r->pgid = pid;
	r->born_before = reap_boot_ticks();
	r->kill_at = now_msec() + pc->stop_timeout;
	snprintf(r->name, sizeof(r->name), "process %s", pc->name);
	r->next = remnants;
	remnants = r;
	reap_remnant_arm(d);
}

/* At exit: forget what was scheduled. */
void
reap_fini(struct daemon *d)
{
	struct remnant	*r;

	ev_timer_stop(d->loop, &remnant_timer);
	while ((r = remnants) != NULL) {
		remnants = r->next;
		free(r);
	}
	if (ev_is_active(&sigchld)) {
		ev_io_stop(d->loop, &sigchld);
		close(sigchld.fd);
	}
}

static void
reap_one(struct daemon *d, pid_t pid, int status)
{
	int	i;
	char	how[64];

	/* "started" (or why exec failed) comes before the exit, and so do
	 * its last lines. */
	spawn_settle(pid);
	relay_drain(d, pid);
	if ((i = machine_proc_by_pid(&d->m, pid)) >= 0) {
		reap_group_left(d, i, pid);
		ready_reaped(d, i);
		machine_proc_exited(&d->m, i, status, now_msec());
		return;
	}
	if (probe_reaped(d, pid, status) || hook_reaped(d, pid, status) ||
	    reconfigure_reaped(d, pid, status))
		return;
	/* Orphans are reaped silently while the stack runs (a process that
	 * forks short-lived helpers would flood the log); at shutdown each
	 * one is worth a line, since stackd waited for it. */
	if (d->stopping) {
		exit_text(status, how, sizeof(how));
		log_msg(LOG_INFO, "reaped leftover process %ld (%s)", (long)pid,
		    how);
	}
}

/* The children the signals name first, then the sweep for the rest. */
static void
reap_sigchld(struct ev_loop *loop, ev_io *w, int revents)
{
	struct daemon		*d = daemon_self;
	struct signalfd_siginfo	 si[8];
	ssize_t			 n;
	size_t			 i;
	pid_t			 pid;
	int			 status;

	do
		n = read(w->fd, si, sizeof(si));
	while (n == -1 && errno == EINTR);
	for (i = 0; n > 0 && i < (size_t)n / sizeof(si[0]); i++) {
		if (si[i].ssi_code != CLD_EXITED &&
		    si[i].ssi_code != CLD_KILLED &&
		    si[i].ssi_code != CLD_DUMPED)
			continue;	/* stopped or continued */
		do
			pid = waitpid((pid_t)si[i].ssi_pid, &status, WNOHANG);
		while (pid == -1 && errno == EINTR);
		if (pid > 0)
			reap_one(d, pid, status);
	}
	reap_children(d);
}

void
reap_children(struct daemon *d)
{
	pid_t	pid;
	int	status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid > 0) {
			reap_one(d, pid, status);
			continue;
		}
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid == -1 && errno != ECHILD)
			log_errno("reap_children: waitpid");
		break;
	}
	daemon_run(d);
}

/* Parent pid of pid, from /proc/PID/stat; -1 if gone. */
static pid_t
reap_ppid(const char *pid)
{
	unsigned long long	start;
	pid_t			ppid, pgrp;

	if (reap_stat(pid, &ppid, &pgrp, &start) == -1)
		return -1;
	return ppid;
}

/* Signal every living child; returns how many were signalled. */
int
reap_signal_orphans(int sig)
{
	DIR		*dir;
	struct dirent	*de;
	pid_t		 self = getpid(), pid;
	int		 n = 0;

	if ((dir = opendir("/proc")) == NULL) {
		log_errno("reap_signal_orphans: /proc");
		return 0;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		if (reap_ppid(de->d_name) != self)
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (kill(pid, sig) == 0) {
			log_msg(LOG_INFO, "sending SIG%s to leftover process "
			    "%ld", sig == SIGKILL ? "KILL" : "TERM", (long)pid);
			n++;
		}
	}
	closedir(dir);
	return n;
}

/* True when stackd has no child left at all. */
bool
reap_none_left(void)
{
	siginfo_t	si;

	memset(&si, 0, sizeof(si));
	/* WNOWAIT: look without reaping, reap_children does that. */
	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == -1 &&
	    errno == ECHILD;
}
