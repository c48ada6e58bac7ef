/*
 * stackd.c -- main, and the thin layer between the event loop and the
 * state machine.
 *
 * Every real event (a signal, a reaped child, a probe result, a control
 * request, the machine's own timer) becomes one call into machine.c;
 * daemon_run() then carries out the actions the machine queued -- spawn,
 * signal, probe, hook, log, notify -- and re-arms the single timer at the
 * machine's next deadline.  With nothing scheduled there is no timer at
 * all, so an idle stackd sleeps in epoll_wait and costs nothing.
 *
 * When the machine says "exit", stackd still finishes its duties before
 * it returns: running on_down hooks complete, and every descendant left
 * over (orphans it never started, and their children) gets SIGTERM, then
 * SIGKILL after the stack's stop_timeout.  stackd never exits while a
 * child of its is alive.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctlpath.h"
#include "daemon.h"
#include "launcher.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "spawn.h"
#include "status.h"

#define DEFAULT_FILE	"stack.ini"
#define SYSTEM_FILE	"/etc/stackd/stack.ini"

struct daemon	*daemon_self;

msec_t
now_msec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (msec_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* log_prefix: auto prefixes when more than one process shares stdout. */
static bool
daemon_prefixed(const struct stack_conf *cfg)
{
	return cfg->log_prefix == PREFIX_YES ||
	    (cfg->log_prefix == PREFIX_AUTO && cfg->nprocs > 1);
}

/* Readiness the child reports itself: a NOTIFY_SOCKET or an fd:N pipe. */
static int
daemon_ready_setup(struct daemon *d, int i, struct spawn_req *req)
{
	const struct proc_conf	*pc = &d->cfg->procs[i];
	char			 addr[108];

	req->ready_fd = -1;
	ready_close(d, i);
	if (pc->ready == READY_NOTIFY) {
		if (ready_notify_open(d, i, addr, sizeof(addr)) == -1 ||
		    spawn_env_set(&req->env, "NOTIFY_SOCKET", addr) == -1)
			return -1;
		if (pc->watchdog > 0 &&
		    watchdog_env(pc, &req->env, &req->own_pid) == -1)
			return -1;
	} else if (pc->ready == READY_FD) {
		if (ready_fd_open(d, i, &req->ready_fd) == -1)
			return -1;
		req->ready_num = pc->ready_fd;
	}
	return 0;
}

/* The exec of a supervised process is confirmed (or it failed: the exit
 * follows).  The pid still says which process, whatever a reload did to
 * the indexes meanwhile. */
static void
daemon_execd(pid_t pid, bool exec_ok, void *arg)
{
	struct daemon	*d = arg;
	int		 i;

	if (!exec_ok || (i = machine_proc_by_pid(&d->m, pid)) < 0)
		return;
	/* Here, not at the clone: a command that cannot run is never
	 * "started" (its exec error and exit 127 are logged instead). */
	log_msg(LOG_INFO, "process %s started, pid %ld",
	    d->cfg->procs[i].name, (long)pid);
	machine_proc_execd(&d->m, i, now_msec());
	daemon_run(d);
}

static void
daemon_spawn(struct daemon *d, int i)
{
	const struct proc_conf	*pc = &d->cfg->procs[i];
	struct spawn_req	 req;
	struct relay_out	 out;
	char			 what[96];
	pid_t			 pid = -1;

	snprintf(what, sizeof(what), "process %s", pc->name);
	memset(&req, 0, sizeof(req));
	req.what = what;
	req.argv = pc->command.argv;
	req.pc = pc;
	req.env = spawn_env(d->cfg, d->cfg->levels[pc->level].name, pc->name,
	    NULL, pc);
	relay_proc_open(d, pc, daemon_prefixed(d->cfg), &out);
	req.out_fd = out.out;
	req.err_fd = out.err;
	if (req.env != NULL && daemon_ready_setup(d, i, &req) == 0)
		pid = spawn(d->loop, &req, daemon_execd, d);
	else
		log_errno("%s: cannot prepare the child", what);
	relay_proc_spawned(&out, pid);
	if (req.ready_fd != -1)
		close(req.ready_fd);
	spawn_env_free(req.env);
	if (pid > 0)
		machine_proc_spawned(&d->m, i, pid, false, now_msec());
	else {
		/* No child at all: the same as one that failed at once. */
		ready_close(d, i);
		machine_proc_exited(&d->m, i, 127 << 8, now_msec());
	}
}

static void
daemon_signal(struct daemon *d, int i, int sig)
{
	pid_t	pid = d->m.procs[i].pid;

	if (pid <= 0)
		return;
	spawn_signal(pid, sig);
	/* A stopped process cannot act on TERM until it is continued. */
	if (sig != SIGKILL && sig != SIGCONT)
		spawn_signal(pid, SIGCONT);
}

static void	daemon_finish(struct daemon *);

static void
daemon_act(struct daemon *d, const struct action *a, bool *changed)
{
	char	text[ACT_TEXTMAX];

	switch (a->kind) {
	case ACT_SPAWN:
		daemon_spawn(d, a->proc);
		break;
	case ACT_SIGNAL:
		daemon_signal(d, a->proc, a->sig);
		break;
	case ACT_PROBE:
		probe_start(d, a->level, a->proc);
		break;
	case ACT_PROBE_CANCEL:
		probe_cancel(d, a->level, a->proc);
		break;
	case ACT_HOOK:
		hook_run(d, a->level, a->hook);
		break;
	case ACT_LOG:
		log_msg(a->prio, "%s", a->text);
		break;
	case ACT_STATUS:
		*changed = true;
		break;
	case ACT_READY:
		machine_status_text(&d->m, now_msec(), text, sizeof(text));
		log_msg(LOG_NOTICE, "ready: %s", text);
		notify_ready(d);
		break;
	case ACT_EVENT:
		events_publish(d, a);
		break;
	case ACT_EXIT:
		d->stopping = true;
		d->exit_code = a->code;
		break;
	}
}

/*
 * A burst of spawns (a level of many processes, a strategy restart) waits
 * for the launcher's answer at each one, a millisecond or more on a slow
 * host.  After this long the loop is handed back, so that control requests
 * and exits are served meanwhile, and the rest goes on once nothing else
 * is pending (an idle watcher of the lowest priority: a request that takes
 * the loop several turns -- accept, read, write -- is not held up by a
 * spawn at each one).  Until then the other callbacks leave the queue to
 * it: they only append to it (the order of actions never changes).
 */
#define DAEMON_SLICE_MS	20

static void
daemon_run_queue(struct daemon *d, bool resume)
{
	struct action	a;
	char		text[ACT_TEXTMAX];
	bool		changed = false;
	msec_t		now, deadline, start = now_msec();
	size_t		ring = d->m.actions_cap;
	/* Sliced before: the idle watcher goes on with the queue. */
	bool		sliced = !resume && ev_is_active(&d->more);

	/* Before the actions of the shutdown: STOPPING=1 precedes its
	 * STATUS= lines, however it began. */
	if (d->m.shutting_down)
		notify_stopping(d);
	while (!sliced) {
		while (!sliced && machine_next_action(&d->m, &a)) {
			daemon_act(d, &a, &changed);
			sliced = a.kind == ACT_SPAWN && d->m.nactions > 0 &&
			    now_msec() - start >= DAEMON_SLICE_MS;
		}
		/* Between two batches: no queued action has an old index
		 * (and none is left queued by a slice). */
		if (sliced || d->pending_cfg == NULL ||
		    !machine_reload_due(&d->m))
			break;
		reconfigure_commit(d);
		changed = true;
		if (d->pending_cfg != NULL)
			break;	/* out of memory: next event */
	}
	/* The ring of a burst (a level of many processes) was given back:
	 * so are its pages, which free() leaves mapped inside the heap. */
	if (ring > 0 && d->m.actions_cap == 0)
		(void)malloc_trim(0);
	if (changed) {
		now = now_msec();
		machine_status_text(&d->m, now, text, sizeof(text));
		notify_status(d, text);
		control_changed(d);
		metrics_write(d);
	}
	if (sliced && !ev_is_active(&d->more))
		ev_idle_start(d->loop, &d->more);
	ev_timer_stop(d->loop, &d->tick);
	deadline = machine_next_deadline(&d->m);
	if (deadline != MSEC_NEVER) {
		now = now_msec();
		ev_timer_set(&d->tick, deadline > now ?
		    (double)(deadline - now) / 1000.0 : 0., 0.);
		ev_timer_start(d->loop, &d->tick);
	}
	if (d->stopping)
		daemon_finish(d);
}

void
daemon_run(struct daemon *d)
{
	daemon_run_queue(d, false);
}

static void
daemon_more(struct ev_loop *loop, ev_idle *w, int revents)
{
	ev_idle_stop(loop, w);
	daemon_run_queue(daemon_self, true);
}

static void
daemon_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct daemon	*d = daemon_self;

	machine_tick(&d->m, now_msec());
	daemon_run(d);
}

/*
 * Past the grace period (or at a second shutdown request): KILL whatever
 * is left, and go on doing so every second for processes reparented to us
 * meanwhile.  A child that none of those rounds can find -- /proc of
 * another PID namespace, not remounted for ours, and stackd not PID 1 --
 * cannot be stopped from here: after ORPHAN_BLIND_MAX rounds stackd says
 * so and leaves, rather than hang for ever.
 */
#define ORPHAN_BLIND_MAX	10

static void
daemon_orphans_kill(struct daemon *d)
{
	ev_timer_stop(d->loop, &d->orphan_timer);
	d->orphan_phase = 2;
	if (reap_signal_orphans(SIGKILL) > 0)
		d->orphan_blind = 0;
	else if (++d->orphan_blind >= ORPHAN_BLIND_MAX && !reap_none_left()) {
		log_msg(LOG_ERR, "cannot find the processes still left (is "
		    "/proc this PID namespace's?); leaving them");
		ev_break(d->loop, EVBREAK_ALL);
		return;
	}
	ev_timer_set(&d->orphan_timer, 1., 0.);
	ev_timer_start(d->loop, &d->orphan_timer);
}

static void
daemon_orphan_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	daemon_orphans_kill(daemon_self);
}

/* The stack is down: finish hooks, clear out orphans, then leave.  After
 * a second shutdown request (hurry) hooks and leftovers get no grace. */
static void
daemon_finish(struct daemon *d)
{
	if (d->m.hurry)
		hook_kill_all(d);
	if (hook_running() > 0)
		return;
	launcher_stop();	/* killed and reaped, not a leftover */
	if (!reap_none_left()) {
		if (d->orphan_phase < 2 && d->m.hurry)
			daemon_orphans_kill(d);
		else if (d->orphan_phase == 0) {
			d->orphan_phase = 1;
			(void)reap_signal_orphans(SIGTERM);
			/* Armed even when none was found: it may have been a
			 * zombie (reaped next, and then nothing is left) or
			 * a process /proc does not show. */
			ev_timer_init(&d->orphan_timer, daemon_orphan_timer,
			    (double)d->cfg->stop_timeout / 1000.0, 0.);
			ev_timer_start(d->loop, &d->orphan_timer);
		} else	/* to those reparented since */
			(void)reap_signal_orphans(d->orphan_phase == 1 ?
			    SIGTERM : SIGKILL);
		return;
	}
	ev_timer_stop(d->loop, &d->orphan_timer);
	ev_break(d->loop, EVBREAK_ALL);
}

/* "TERM"; a real-time one as kill -l names it: "RTMIN+3", "RTMAX-2". */
static const char *
daemon_signame(int sig, char *buf, size_t len)
{
	const char	*name;
	int		 above_min = sig - SIGRTMIN, below_max = SIGRTMAX - sig;

	if ((name = sigabbrev_np(sig)) != NULL)
		return name;
	if (above_min == 0 || below_max == 0)
		snprintf(buf, len, "%s", above_min == 0 ? "RTMIN" : "RTMAX");
	else if (above_min <= (SIGRTMAX - SIGRTMIN) / 2)
		snprintf(buf, len, "RTMIN+%d", above_min);
	else
		snprintf(buf, len, "RTMAX-%d", below_max);
	return buf;
}

static void
daemon_sigignore(struct ev_loop *loop, ev_signal *w, int revents)
{
	char	buf[24];

	log_msg(LOG_NOTICE, "ignoring SIG%s",
	    daemon_signame(w->signum, buf, sizeof(buf)));
}

static void
daemon_sigterm(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct daemon	*d = daemon_self;
	char		 buf[24];

	log_msg(LOG_INFO, "received SIG%s",
	    daemon_signame(w->signum, buf, sizeof(buf)));
	/* A second request also hurries what daemon_finish waits for. */
	machine_shutdown(&d->m, now_msec());
	daemon_run(d);
}

static void
daemon_sighup(struct ev_loop *loop, ev_signal *w, int revents)
{
	char	err[PARSE_ERRMAX];

	log_msg(LOG_INFO, "received SIGHUP: reloading %s", daemon_self->cfg->path);
	(void)reconfigure(daemon_self, err, sizeof(err));
}

/*
 * Log files only, the stack file untouched: logrotate's postrotate runs
 * whenever it runs, and a SIGHUP then would also apply whatever edit of
 * stack.ini an operator has saved and not yet meant to apply.  The signal
 * is supervisord's for the same job.
 */
static void
daemon_sigusr2(struct ev_loop *loop, ev_signal *w, int revents)
{
	log_msg(LOG_INFO, "received SIGUSR2: reopening log files");
	relay_reopen(daemon_self);
}

static void
daemon_sigchld(struct ev_loop *loop, ev_signal *w, int revents)
{
	reap_children(daemon_self);
}

/*
 * With 0, 1 or 2 closed, the next pipe or socket would land there and a
 * child (or stackd's log) would write into it.
 */
static void
daemon_stdio(void)
{
	int	fd;

	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= STDERR_FILENO)
		;
	if (fd > STDERR_FILENO)
		close(fd);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: stackd [-f FILE] [--check] [--version] "
	    "[--help]\n"
	    "  -f FILE   the stack (default ./%s, else %s)\n"
	    "  --check   validate FILE, print problems as FILE:LINE: "
	    "message\n", DEFAULT_FILE, SYSTEM_FILE);
}

static const char *
default_file(void)
{
	return access(DEFAULT_FILE, F_OK) == 0 ? DEFAULT_FILE : SYSTEM_FILE;
}

typedef void (*signal_cb)(struct ev_loop *, ev_signal *, int);

/*
 * Every signal whose default action would end stackd, and what stackd
 * does instead.  Dying of one would orphan the stack; as PID 1 the kernel
 * would drop it without a word.  (Core-dumping ones are left alone: they
 * mean a bug.  SIGTSTP and company stop stackd on a terminal, as job
 * control should.  The real-time ones follow, in daemon_watched.)
 */
static const struct {
	int		 signo;
	signal_cb	 cb;
} daemon_signals[] = {
	{ SIGTERM,	daemon_sigterm },
	{ SIGINT,	daemon_sigterm },
	/* Some images stop their PID 1 with SIGQUIT (nginx's STOPSIGNAL). */
	{ SIGQUIT,	daemon_sigterm },
	/* How lxc-stop and sysvinit's powerfail ask an init to halt. */
	{ SIGPWR,	daemon_sigterm },
	{ SIGHUP,	daemon_sighup },
	{ SIGUSR2,	daemon_sigusr2 },
	/* No meaning for stackd: said so, instead of dying of them. */
	{ SIGUSR1,	daemon_sigignore },
	{ SIGALRM,	daemon_sigignore },
	{ SIGVTALRM,	daemon_sigignore },
	{ SIGPROF,	daemon_sigignore },
	{ SIGIO,	daemon_sigignore },
	{ SIGSTKFLT,	daemon_sigignore },
};

_Static_assert(sizeof(daemon_signals) / sizeof(daemon_signals[0]) ==
    DAEMON_NSIGNALS, "struct daemon has a watcher for each signal");

/*
 * Real-time signals end a process at their default too.  systemd, as an
 * init, halts on SIGRTMIN+3 and powers off on SIGRTMIN+4 -- the STOPSIGNAL
 * of images built around it, and what `machinectl poweroff` sends -- so
 * those two are an ordered shutdown; the others are logged and ignored.
 */
static size_t
daemon_nsignals(void)
{
	int	n = SIGRTMAX - SIGRTMIN + 1;

	if (n > DAEMON_NRTSIGNALS)
		n = DAEMON_NRTSIGNALS;
	return DAEMON_NSIGNALS + (size_t)(n > 0 ? n : 0);
}

/* The k-th signal stackd watches; *cb is set to its callback. */
static int
daemon_watched(size_t k, signal_cb *cb)
{
	int	sig;

	if (k < DAEMON_NSIGNALS) {
		*cb = daemon_signals[k].cb;
		return daemon_signals[k].signo;
	}
	sig = SIGRTMIN + (int)(k - DAEMON_NSIGNALS);
	*cb = sig == SIGRTMIN + 3 || sig == SIGRTMIN + 4 ? daemon_sigterm :
	    daemon_sigignore;
	return sig;
}

/*
 * Blocked from the first line of main() on: a SIGTERM sent while the
 * stack is being read must wait for the loop, not kill stackd -- or, as
 * PID 1, be dropped by the kernel, leaving `docker stop` to its SIGKILL.
 * The loop's signalfds read what is pending.  Children get an empty mask
 * (spawn.c), the launcher blocks everything anyway.
 */
static void
daemon_block_signals(void)
{
	signal_cb	cb;
	sigset_t	set;
	size_t		i;

	sigemptyset(&set);
	for (i = 0; i < daemon_nsignals(); i++)
		sigaddset(&set, daemon_watched(i, &cb));
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* SIGCHLD normally has a signalfd of its own (reap.c). */
static void
daemon_watch_signals(struct daemon *d, bool sigchld)
{
	signal_cb	cb;
	size_t		i;
	int		sig;

	d->nsigs = daemon_nsignals();
	for (i = 0; i < d->nsigs; i++) {
		sig = daemon_watched(i, &cb);
		ev_signal_init(&d->sigs[i], cb, sig);
		ev_signal_start(d->loop, &d->sigs[i]);
	}
	ev_signal_init(&d->sig_chld, daemon_sigchld, SIGCHLD);
	if (sigchld)
		ev_signal_start(d->loop, &d->sig_chld);
}

/*
 * At exit, with the exit code decided.  Stopping a watcher unblocks its
 * signal, and one that came after the loop's last read would then kill
 * stackd at its default (a second ^C turning exit 0 into death by
 * SIGINT): ignored first, which also discards what is pending.
 */
static void
daemon_unwatch_signals(struct daemon *d)
{
	size_t	i;

	for (i = 0; i < d->nsigs; i++) {
		signal(d->sigs[i].signum, SIG_IGN);
		ev_signal_stop(d->loop, &d->sigs[i]);
	}
	ev_signal_stop(d->loop, &d->sig_chld);
}

/* Runs the stack to the end; owns cfg (and every reloaded one). */
static int
daemon_main(struct stack_conf *cfg)
{
	struct daemon	d;
	int		code;

	memset(&d, 0, sizeof(d));
	daemon_self = &d;
	d.cfg = cfg;
	/* Not the default loop: that one would install its own SIGCHLD
	 * handler and waitpid(-1), and stackd owns the only one.  Signals
	 * through a signalfd: a burst of SIGCHLDs (a thousand orphans at
	 * once) is one read, not a signal delivery each; children get an
	 * empty signal mask back in spawn.c. */
	if ((d.loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV |
	    EVFLAG_SIGNALFD)) == NULL) {
		log_msg(LOG_ERR, "cannot create the event loop");
		config_free(cfg);
		return 1;
	}
	log_attach(d.loop);
	if (machine_init(&d.m, cfg, (uint64_t)getpid() << 32 ^
	    (uint64_t)time(NULL)) == -1) {
		log_errno("machine_init");
		goto fail;
	}
	if (control_init(&d) == -1) {
		machine_free(&d.m);
		goto fail;
	}
	daemon_watch_signals(&d, !reap_init(&d));
	notify_init(&d);
	ev_timer_init(&d.tick, daemon_tick, 0., 0.);
	ev_idle_init(&d.more, daemon_more);
	ev_set_priority(&d.more, EV_MINPRI);
	machine_start(&d.m, now_msec());
	daemon_run(&d);
	/* Exits from before the signalfd (the launcher's, say, or zombies
	 * stackd inherited) sent a SIGCHLD nobody read. */
	reap_children(&d);
	metrics_write(&d);
	ev_run(d.loop, 0);

	code = d.exit_code;
	/* Every child is gone: their last lines before stackd's last. */
	relay_close_all(&d);
	log_msg(LOG_INFO, "exiting with status %d", code);
	ev_timer_stop(d.loop, &d.tick);
	ev_timer_stop(d.loop, &d.orphan_timer);
	probe_cancel_all(&d);
	spawn_forget_all();
	reap_fini(&d);
	ready_close_all(&d);
	reconfigure_fini(&d);
	control_fini(&d);
	notify_fini(&d);
	daemon_unwatch_signals(&d);
	machine_free(&d.m);
	/* After a reload, not the configuration main() passed in. */
	config_free(d.cfg);
	log_detach();
	ev_loop_destroy(d.loop);
	daemon_self = NULL;
	return code;
fail:
	config_free(cfg);
	log_detach();
	ev_loop_destroy(d.loop);
	daemon_self = NULL;
	return 1;
}

int
main(int argc, char *argv[])
{
	static const struct option	 opts[] = {
		{ "check",	no_argument,		NULL, 'c' },
		{ "file",	required_argument,	NULL, 'f' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct stack_conf		*cfg;
	const char			*file = NULL;
	char				 err[PARSE_ERRMAX];
	bool				 check = false;
	int				 ch;

	daemon_stdio();
	log_init("stackd");
	while ((ch = getopt_long(argc, argv, "cf:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			check = true;
			break;
		case 'f':
			file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("stackd %s\n", STACKD_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (file == NULL)
		file = default_file();
	/* Before the stack is read: the launcher is a copy of stackd as it
	 * is now, and the smaller it is, the cheaper its forks. */
	if (!check) {
		daemon_block_signals();
		/* Inherited ignored, SIGCHLD would have the kernel reap
		 * stackd's children before it saw them exit. */
		signal(SIGCHLD, SIG_DFL);
		launcher_start();
		spawn_raise_nofile();	/* after: the launcher keeps it */
	}
	if ((cfg = parse_file(file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		launcher_stop();
		return 1;
	}
	/* The socket path depends on the name (and the environment): a
	 * name too long for it is the file's problem, found by --check. */
	if (ctlpath(cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s for stack '%.40s%s': set a shorter "
		    "name or control =\n", file, err, cfg->name,
		    strlen(cfg->name) > 40 ? "..." : "");
		config_free(cfg);
		launcher_stop();
		return 1;
	}
	if (check) {
		printf("%s: ok: stack %s, %d level%s, %d process%s\n", file,
		    cfg->name, cfg->nlevels, cfg->nlevels == 1 ? "" : "s",
		    cfg->nprocs, cfg->nprocs == 1 ? "" : "es");
		config_free(cfg);
		return 0;
	}
	/*
	 * A closed pipe or a log file at RLIMIT_FSIZE must be a failed write
	 * that the relay reports, not a signal that kills the supervisor and
	 * orphans the stack.  Children get both back at SIG_DFL (spawn.c).
	 */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	return daemon_main(cfg);
}
