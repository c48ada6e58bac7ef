/*
 * reap.c -- PID 1 and subreaper duties.
 *
 * stackd owns the only waitpid(-1) in the process: every exit, of a
 * supervised process, a probe, a hook or an orphan that was reparented to
 * us, is collected here and handed to whoever started it.  As PID 1 the
 * kernel reparents every orphan of the namespace to us; otherwise we ask
 * for the same as a child subreaper, so daemons that double-fork are still
 * ours to reap and to stop.  SIGCHLD only says "at least one"; the loop
 * runs until waitpid has nothing more, so no zombie is left behind.
 *
 * At shutdown stackd does not exit while any descendant lives: the
 * children it still has (orphans it never started) are found in /proc and
 * get SIGTERM, then SIGKILL after the stack's stop_timeout.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

void
reap_init(void)
{
	if (getpid() == 1)
		return;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_errno("reap_init: PR_SET_CHILD_SUBREAPER");
}

static void
reap_one(struct daemon *d, pid_t pid, int status)
{
	int	i;
	char	how[64];

	/* Its last lines come before its exit in the log. */
	relay_drain(d, pid);
	if ((i = machine_proc_by_pid(&d->m, pid)) >= 0) {
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
	char	 path[64], buf[512], *p;
	FILE	*f;
	long	 ppid = -1;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	/* The command name may contain anything, even ") "; skip past the
	 * last ')' before reading "state ppid". */
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL)
		sscanf(p + 1, " %*c %ld", &ppid);
	fclose(f);
	return (pid_t)ppid;
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
