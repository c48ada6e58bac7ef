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
 * child in the kernel; with a thousand children that was most of what one
 * exit cost stackd.  So stackd reads SIGCHLD from a signalfd of its own,
 * whose siginfo names the child that sent it, and reaps that one with
 * waitpid(pid) -- no walk.  Other exits may have merged into the same
 * signal: every child stackd starts (process, probe, hook) also has a
 * pidfd, which becomes readable when it exits whatever happened to its
 * signal, so a signal that names one of them needs no sweep.  A signal
 * that names anything else (an orphan) is followed by the sweep at once;
 * after the others, one sweep is scheduled REAP_SWEEP_LATER on, for an
 * orphan whose exit merged into another child's signal -- the only exit
 * nothing else would report.  (A child's exit signal cannot be made a
 * queued realtime one: exec resets it to SIGCHLD.)
 *
 * At shutdown stackd does not exit while any descendant lives: what is
 * left once the stack is down (orphans it never started, and their
 * children) is found in /proc -- only when /proc is this PID namespace's
 * -- and all of it gets SIGTERM at once, then SIGKILL after the stack's
 * stop_timeout.
 *
 * Group remnants.  A supervised process leads its own process group; when
 * it exits, whatever it left in the group (the worker of a wrapper script)
 * would run on unsupervised beside its successor.  So the group gets the
 * process's stop_signal at once (unless it is being stopped, and so has
 * had it already) and SIGKILL after its stop_timeout, as systemd's
 * KillMode=control-group does.  Until the group is empty the machine is
 * not told of the exit: a level is down, and a process restarted, only
 * once all of it is gone -- the level below is never stopped under a
 * worker still draining.  The group is looked at (kill(-pgid, 0)) each
 * time an orphan is reaped, which is how its members end: the leader is
 * gone, so they are ours.  The late SIGKILL does not go to the pgid
 * blindly -- by then the number could name a new group -- but to each
 * process still in that group that started before the leader was reaped
 * (start time from /proc/PID/stat); the exit is told then at the latest.
 * Oneshots are exempt: what a oneshot leaves running is usually its
 * purpose (a legacy start script); it runs until shutdown.  Nothing is
 * scheduled when nothing was left.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "launcher.h"
#include "log.h"
#include "spawn.h"

/* A group whose leader is gone: SIGKILL to what is left at kill_at. */
struct remnant {
	struct remnant		*next;
	pid_t			 pgid;		/* and the leader's pid */
	unsigned long long	 born_before;	/* start time, clock ticks */
	msec_t			 kill_at;
	bool			 untold;	/* the exit is still to tell */
	int			 status;	/* the leader's */
	char			 name[64];
};

static struct remnant	*remnants;
static ev_timer		 remnant_timer;

/* The leftovers that had their SIGTERM: (pid, start time) pairs. */
static struct termed {
	pid_t			 pid;
	unsigned long long	 start;
}			*termed;
static size_t		 ntermed, termed_cap;
static bool		 termed_all;	/* SIGTERM sent to kill(-1) */

/* A child stackd started, reaped when its pidfd says it exited. */
struct reap_watch {
	ev_io			 io;		/* on the pidfd */
	pid_t			 pid;
	struct reap_watch	*next;		/* in its hash chain */
};

#define REAP_BUCKETS		256
/* Seconds: how long a zombie orphan whose exit signal merged into a
 * supervised process's may wait for its sweep (SPEC: no zombie outlives
 * a second).  A burst of exits shares one sweep. */
#define REAP_SWEEP_LATER	0.5

static struct reap_watch	*watches[REAP_BUCKETS];
static ev_timer			 sweep_timer;
/* Reaped through their pidfd, their SIGCHLD maybe still unread: such a
 * signal needs no sweep either.  The last few are enough (a miss only
 * costs a sweep). */
#define REAP_RECENT		64
static pid_t			 pidfd_reaped[REAP_RECENT];
static unsigned			 pidfd_reaped_next;

static ev_io	sigchld;	/* signalfd of SIGCHLD */

static void	reap_sigchld(struct ev_loop *, ev_io *, int);
static void	reap_remnant_due(struct ev_loop *, ev_timer *, int);
static void	reap_sweep_due(struct ev_loop *, ev_timer *, int);
static void	reap_one(struct daemon *, pid_t, int);

/* False if SIGCHLD must come through libev instead (no signalfd). */
bool
reap_init(struct daemon *d)
{
	sigset_t	set;
	int		fd;

	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_errno("reap_init: PR_SET_CHILD_SUBREAPER");
	ev_timer_init(&remnant_timer, reap_remnant_due, 0., 0.);
	ev_timer_init(&sweep_timer, reap_sweep_due, REAP_SWEEP_LATER, 0.);
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

/* A process as /proc/PID/stat shows it. */
struct proc_stat {
	pid_t			 pid;
	pid_t			 ppid;
	pid_t			 pgrp;
	unsigned long long	 start;		/* clock ticks after boot */
};

/* *p for process pid (a name in /proc), from its stat file; -1 if gone. */
static int
reap_stat(const char *pid, struct proc_stat *p)
{
	char	 path[64], buf[512], *s;
	FILE	*f;
	long	 pp = -1, pg = -1;
	int	 n = 0;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	/* The command name may contain anything, even ") "; skip past the
	 * last ')' before reading "state ppid pgrp ... starttime". */
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (s = strrchr(buf, ')')) != NULL)
		n = sscanf(s + 1, " %*c %ld %ld %*d %*d %*d %*u %*u %*u %*u "
		    "%*u %*u %*u %*d %*d %*d %*d %*d %*d %llu", &pp, &pg,
		    &p->start);
	fclose(f);
	p->pid = (pid_t)strtol(pid, NULL, 10);
	p->ppid = (pid_t)pp;
	p->pgrp = (pid_t)pg;
	return n == 3 ? 0 : -1;
}

/*
 * Every process in /proc, handed to visit until it returns false; -1
 * (logged, for who) when /proc cannot be read.
 */
static int
reap_proc_walk(const char *who, bool (*visit)(const struct proc_stat *,
    void *), void *arg)
{
	DIR			*dir;
	struct dirent		*de;
	struct proc_stat	 p;

	if ((dir = opendir("/proc")) == NULL) {
		log_errno("%s: /proc", who);
		return -1;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
		    reap_stat(de->d_name, &p) == -1)
			continue;	/* not a process, or gone meanwhile */
		if (!visit(&p, arg))
			break;
	}
	closedir(dir);
	return 0;
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

/* One process of /proc: SIGKILL if a due group's leader left it behind. */
static bool
reap_remnant_visit(const struct proc_stat *p, void *arg)
{
	struct remnant	*r;

	for (r = arg; r != NULL; r = r->next)
		if (p->pgrp == r->pgid && p->start <= r->born_before)
			break;
	if (r != NULL && kill(p->pid, SIGKILL) == 0)
		log_msg(LOG_WARNING, "%s: sending SIGKILL to process %ld, "
		    "left in its group after stop_timeout", r->name,
		    (long)p->pid);
	return true;
}

/* SIGKILL every process of a due group that the leader left behind. */
static void
reap_remnant_kill(struct remnant *due)
{
	(void)reap_proc_walk("reap_remnant_kill", reap_remnant_visit, due);
}

/* The whole group of r's leader is gone (or killed): tell its exit. */
static void
reap_remnant_tell(struct daemon *d, struct remnant *r)
{
	int	i;

	if (!r->untold)
		return;
	r->untold = false;
	if ((i = machine_proc_by_pid(&d->m, r->pgid)) >= 0)
		machine_proc_exited(&d->m, i, r->status, now_msec());
}

/* An orphan was reaped: tell the exits whose groups it emptied. */
static void
reap_remnant_check(struct daemon *d)
{
	struct remnant	*r, **rp;

	for (rp = &remnants; (r = *rp) != NULL; ) {
		if (!r->untold || kill(-r->pgid, 0) == 0 || errno != ESRCH) {
			rp = &r->next;
			continue;
		}
		*rp = r->next;
		reap_remnant_tell(d, r);
		free(r);
	}
	reap_remnant_arm(d);
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
		reap_remnant_tell(d, r);
		free(r);
	}
	reap_remnant_arm(d);
	daemon_run(d);
}

/*
 * Supervised process i (leader of group pid) was reaped with status: true
 * if it left processes in its group, whose end the exit now waits for.
 */
static bool
reap_group_left(struct daemon *d, int i, pid_t pid, int status)
{
	const struct proc_conf	*pc = &d->cfg->procs[i];
	struct remnant		*r;
	bool			 stopping;

	if (pc->type == PROC_ONESHOT)
		return false;
	/* Being stopped, the group had its stop signal with the leader. */
	stopping = d->m.procs[i].state == PS_STOPPING;
	if (kill(-pid, stopping ? 0 : pc->stop_signal) == -1)
		return false;	/* ESRCH: nothing was left */
	if (!stopping) {
		(void)kill(-pid, SIGCONT);
		log_msg(LOG_INFO, "process %s: sending SIG%s to what it left "
		    "in its process group", pc->name,
		    sigabbrev_np(pc->stop_signal));
	} else
		log_msg(LOG_INFO, "process %s: waiting for what it left in "
		    "its process group", pc->name);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_errno("reap_group_left");
		return false;
	}
	r->pgid = pid;
	r->born_before = reap_boot_ticks();
	r->kill_at = now_msec() + pc->stop_timeout;
	r->untold = true;
	r->status = status;
	snprintf(r->name, sizeof(r->name), "process %s", pc->name);
	r->next = remnants;
	remnants = r;
	reap_remnant_arm(d);
	return true;
}

static struct reap_watch **
reap_watch_slot(pid_t pid)
{
	struct reap_watch	**wp;

	wp = &watches[(unsigned)pid % REAP_BUCKETS];
	while (*wp != NULL && (*wp)->pid != pid)
		wp = &(*wp)->next;
	return wp;
}

/* Forget pid's pidfd; false if it had none. */
static bool
reap_unwatch(struct daemon *d, pid_t pid)
{
	struct reap_watch	**wp = reap_watch_slot(pid), *w = *wp;

	if (w == NULL)
		return false;
	*wp = w->next;
	ev_io_stop(d->loop, &w->io);
	close(w->io.fd);
	free(w);
	return true;
}

/* The pidfd says pid exited. */
static void
reap_pidfd(struct ev_loop *loop, ev_io *io, int revents)
{
	struct daemon		*d = daemon_self;
	struct reap_watch	*w = (struct reap_watch *)io;
	pid_t			 pid;
	int			 status;

	do
		pid = waitpid(w->pid, &status, WNOHANG);
	while (pid == -1 && errno == EINTR);
	if (pid > 0) {
		pidfd_reaped[pidfd_reaped_next++ % REAP_RECENT] = pid;
		reap_one(d, pid, status);
	} else {
		/* Gone already, or not a zombie yet: the sweep's turn. */
		(void)reap_unwatch(d, w->pid);
		ev_timer_start(d->loop, &sweep_timer);
	}
	daemon_run(d);
}

void
reap_watch(struct ev_loop *loop, pid_t pid)
{
	struct reap_watch	*w;
	int			 fd;

	/* Without a signalfd every SIGCHLD is swept anyway. */
	if (!ev_is_active(&sigchld))
		return;
	if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1)
		return;		/* before Linux 5.3: swept as the others */
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		close(fd);
		return;
	}
	w->pid = pid;
	ev_io_init(&w->io, reap_pidfd, fd, EV_READ);
	ev_io_start(loop, &w->io);
	w->next = watches[(unsigned)pid % REAP_BUCKETS];
	watches[(unsigned)pid % REAP_BUCKETS] = w;
}

/* At exit: forget what was scheduled. */
void
reap_fini(struct daemon *d)
{
	struct remnant	*r;
	int		 b;

	ev_timer_stop(d->loop, &remnant_timer);
	ev_timer_stop(d->loop, &sweep_timer);
	while ((r = remnants) != NULL) {
		remnants = r->next;
		free(r);
	}
	free(termed);
	termed = NULL;
	ntermed = termed_cap = 0;
	termed_all = false;
	for (b = 0; b < REAP_BUCKETS; b++)
		while (watches[b] != NULL)
			(void)reap_unwatch(d, watches[b]->pid);
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

	(void)reap_unwatch(d, pid);
	/* "started" (or why exec failed) comes before the exit, and so do
	 * its last lines. */
	spawn_settle(pid);
	relay_drain(d, pid);
	if ((i = machine_proc_by_pid(&d->m, pid)) >= 0) {
		ready_reaped(d, i);
		if (!reap_group_left(d, i, pid, status))
			machine_proc_exited(&d->m, i, status, now_msec());
		return;
	}
	if (launcher_reaped(pid, status) ||
	    probe_reaped(d, pid, status) || hook_reaped(d, pid, status) ||
	    reconfigure_reaped(d, pid, status))
		return;
	if (remnants != NULL)
		reap_remnant_check(d);
	/* Orphans are reaped silently while the stack runs (a process that
	 * forks short-lived helpers would flood the log); at shutdown each
	 * one is worth a line, since stackd waited for it. */
	if (d->stopping) {
		exit_text(status, how, sizeof(how));
		log_msg(LOG_INFO, "reaped leftover process %ld (%s)", (long)pid,
		    how);
	}
}

static bool
reap_was_pidfd(pid_t pid)
{
	unsigned	k;

	for (k = 0; k < REAP_RECENT; k++)
		if (pidfd_reaped[k] == pid) {
			pidfd_reaped[k] = 0;
			return true;
		}
	return false;
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
	bool			 sweep;

	do
		n = read(w->fd, si, sizeof(si));
	while (n == -1 && errno == EINTR);
	/* A full buffer may have left signals behind: sweep for them. */
	sweep = n <= 0 || n == (ssize_t)sizeof(si) || d->stopping;
	for (i = 0; n > 0 && i < (size_t)n / sizeof(si[0]); i++) {
		if (si[i].ssi_code != CLD_EXITED &&
		    si[i].ssi_code != CLD_KILLED &&
		    si[i].ssi_code != CLD_DUMPED)
			continue;	/* stopped or continued */
		if (*reap_watch_slot((pid_t)si[i].ssi_pid) == NULL &&
		    !reap_was_pidfd((pid_t)si[i].ssi_pid))
			sweep = true;
		do
			pid = waitpid((pid_t)si[i].ssi_pid, &status, WNOHANG);
		while (pid == -1 && errno == EINTR);
		if (pid > 0)
			reap_one(d, pid, status);
	}
	/* Restart what exited before any sweep, whose walk over every
	 * child is the slow part with many children. */
	daemon_run(d);
	if (sweep)
		reap_children(d);
	else if (!ev_is_active(&sweep_timer))
		ev_timer_start(d->loop, &sweep_timer);
}

static void
reap_sweep_due(struct ev_loop *loop, ev_timer *w, int revents)
{
	reap_children(daemon_self);
}

void
reap_children(struct daemon *d)
{
	pid_t	pid;
	int	status;

	ev_timer_stop(d->loop, &sweep_timer);
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

/* Has pid (started at start) had its SIGTERM?  If not, note that it has;
 * false as well when there is no memory to note it in. */
static bool
reap_termed_before(pid_t pid, unsigned long long start)
{
	struct termed	*t;
	size_t		 i;

	for (i = 0; i < ntermed; i++)
		if (termed[i].pid == pid && termed[i].start == start)
			return true;
	if (ntermed == termed_cap) {
		t = reallocarray(termed, termed_cap ? termed_cap * 2 : 64,
		    sizeof(*t));
		if (t == NULL)
			return false;
		termed = t;
		termed_cap = termed_cap ? termed_cap * 2 : 64;
	}
	termed[ntermed].pid = pid;
	termed[ntermed++].start = start;
	return false;
}

/* A process as /proc showed it, for the walk down from stackd. */
struct proc_seen {
	struct proc_stat	 st;
	signed char		 ours;	/* a descendant: 1, not: 0, -1 */
};

static int
proc_seen_cmp(const void *a, const void *b)
{
	pid_t	x = ((const struct proc_seen *)a)->st.pid;
	pid_t	y = ((const struct proc_seen *)b)->st.pid;

	return (x > y) - (x < y);
}

/* q's parent in the table; NULL for none, or one /proc did not show. */
static struct proc_seen *
proc_seen_parent(struct proc_seen *ps, size_t n, const struct proc_seen *q)
{
	struct proc_seen	key = { .st.pid = q->st.ppid };

	if (q->st.ppid <= 0)
		return NULL;
	return bsearch(&key, ps, n, sizeof(*ps), proc_seen_cmp);
}

/* Is /proc this PID namespace's?  Another's names other processes. */
static bool
reap_proc_is_ours(void)
{
	char	buf[32];
	ssize_t	len;

	if ((len = readlink("/proc/self", buf, sizeof(buf) - 1)) <= 0)
		return false;
	buf[len] = '\0';
	return strtol(buf, NULL, 10) == (long)getpid();
}

/* The table reap_proc_table fills. */
struct proc_table {
	struct proc_seen	*ps;
	size_t			 n;
	size_t			 cap;
};

static bool
reap_proc_table_add(const struct proc_stat *p, void *arg)
{
	struct proc_table	*t = arg;
	struct proc_seen	*ps;

	if (t->n == t->cap) {
		if ((ps = reallocarray(t->ps, t->cap ? t->cap * 2 : 256,
		    sizeof(*ps))) == NULL)
			return false;	/* what was read so far */
		t->ps = ps;
		t->cap = t->cap ? t->cap * 2 : 256;
	}
	t->ps[t->n].st = *p;
	t->ps[t->n].ours = -1;
	t->n++;
	return true;
}

/* Every process in /proc, sorted by pid; NULL (n = 0) if none or out of
 * memory. */
static struct proc_seen *
reap_proc_table(size_t *n)
{
	struct proc_table	t = { NULL, 0, 0 };

	(void)reap_proc_walk("reap_proc_table", reap_proc_table_add, &t);
	if (t.n > 1)
		qsort(t.ps, t.n, sizeof(*t.ps), proc_seen_cmp);
	*n = t.n;
	return t.ps;
}

/* Does p's line of parents reach stackd?  Each answer is kept, so the
 * whole table costs one walk up per process, not one per level. */
static bool
reap_descends(struct proc_seen *ps, size_t n, struct proc_seen *p,
    pid_t self)
{
	struct proc_seen	*q, *next;
	size_t			 hops;
	int			 ours = 0;

	for (q = p, hops = 0; q != NULL && hops <= n; hops++) {
		if (q->ours != -1) {
			ours = q->ours;
			break;
		}
		if (q->st.ppid == self) {
			ours = 1;
			break;
		}
		q = proc_seen_parent(ps, n, q);
	}
	/* The same answer for each process on the way up. */
	for (q = p; q != NULL && q->ours == -1; q = next) {
		q->ours = (signed char)ours;
		next = q->st.ppid != self ? proc_seen_parent(ps, n, q) : NULL;
	}
	return ours == 1;
}

/*
 * Signal every living descendant; returns how many were signalled.  All
 * of them at once, not only stackd's children: a leftover that ignores
 * SIGTERM must not keep its own children from theirs until it is killed
 * (as in one cgroup under systemd).  SIGTERM goes once to each: it is
 * sent again for orphans reparented since, and a drain that starts over
 * on every TERM must not be held off for ever.
 */
int
reap_signal_orphans(int sig)
{
	struct proc_seen	*ps = NULL;
	size_t			 nps = 0, i;
	pid_t			 self = getpid(), pid;
	int			 n = 0, seen = 0;

	if (reap_proc_is_ours())
		ps = reap_proc_table(&nps);
	for (i = 0; i < nps; i++) {
		if (!reap_descends(ps, nps, &ps[i], self))
			continue;
		pid = ps[i].st.pid;
		if (kill(pid, 0) == -1)
			continue;	/* gone meanwhile */
		seen++;
		if (sig == SIGTERM && reap_termed_before(pid, ps[i].st.start))
			continue;
		if (kill(pid, sig) == 0) {
			log_msg(LOG_INFO, "sending SIG%s to leftover process "
			    "%ld", sig == SIGKILL ? "KILL" : "TERM", (long)pid);
			/* A stopped one cannot act on TERM until continued. */
			if (sig != SIGKILL)
				(void)kill(pid, SIGCONT);
			n++;
		}
	}
	free(ps);
	/* No /proc, or that of another PID namespace (not remounted for
	 * ours), shows none of them; as PID 1, every other process of the
	 * namespace is ours to stop. */
	if (seen == 0 && getpid() == 1 && !reap_none_left() &&
	    !(sig == SIGTERM && termed_all) && kill(-1, sig) == 0) {
		termed_all = sig == SIGTERM;
		log_msg(LOG_INFO, "sending SIG%s to every process left (/proc "
		    "shows none of them)", sig == SIGKILL ? "KILL" : "TERM");
		if (sig != SIGKILL)
			(void)kill(-1, SIGCONT);
		n = 1;
	}
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
