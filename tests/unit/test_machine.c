/*
 * test_machine.c -- the pure level state machine (machine.c, climb.c,
 * rewind.c, restart.c) driven on a fake clock.
 *
 * The harness plays the daemon: it drains the machine's actions and turns
 * them into events the way stackd.c does (a spawn is reported at once, a
 * signalled process exits at once unless the test says otherwise, probes
 * are answered at once or left pending for the test), records every action
 * with the time it was seen, and moves time only to the deadlines the
 * machine asks for, like the real event loop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "machine.h"
#include "parse.h"
#include "deadline_scan.h"

#define MAXP	16
#define ANY	(-99)
#define EXITED(n)	((n) << 8)	/* wait status of exit(n) */

/* What a process does when it gets a signal. */
enum on_signal {
	SIG_EXITS,	/* exits at once, killed by that signal */
	SIG_MANUAL,	/* the test reports the exit (h_exit) */
	SIG_KILL_ONLY	/* ignores everything but SIGKILL */
};

/* How a probe is answered. */
enum probe_mode { PR_MANUAL, PR_OK, PR_FAIL };

struct rec {
	struct action	 a;
	msec_t		 at;
};

struct harness {
	bool		 inited;
	struct stack_conf *cfg;
	struct machine	 m;
	msec_t		 now;
	pid_t		 next_pid;
	pid_t		 pid[MAXP];
	bool		 exec_fail[MAXP];
	bool		 exec_later[MAXP];	/* the test confirms it */
	int		 spawn_exit[MAXP];	/* -1: keeps running */
	enum on_signal	 on_signal[MAXP];
	enum probe_mode	 lprobe[MAXP];
	enum probe_mode	 pprobe[MAXP];
	bool		 lprobe_pending[MAXP];
	bool		 pprobe_pending[MAXP];
	struct rec	*log;
	size_t		 nlog;
	size_t		 caplog;
	int		 nexit;
	int		 exit_code;
};

static struct harness	 H;
static char		 tpath[64];

/* --- the harness -------------------------------------------------------- */

static struct stack_conf *
parse_text(const char *text)
{
	struct stack_conf	*conf;
	char			 err[PARSE_ERRMAX];
	size_t			 len = strlen(text);
	int			 fd;

	snprintf(tpath, sizeof(tpath), "/tmp/stackXXXXXX.ini");
	fd = mkstemps(tpath, 4);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	err[0] = '\0';
	conf = parse_file(tpath, err, sizeof(err));
	unlink(tpath);
	if (conf == NULL)
		fail_msg("config does not parse: %s", err);
	return conf;
}

static void
record(const struct action *a)
{
	struct rec	*r;

	if (H.nlog == H.caplog) {
		H.caplog = H.caplog ? H.caplog * 2 : 256;
		r = realloc(H.log, H.caplog * sizeof(*r));
		assert_non_null(r);
		H.log = r;
	}
	H.log[H.nlog].a = *a;
	H.log[H.nlog].at = H.now;
	H.nlog++;
}

static void	drain(void);

static void
answer_probe(int level, int proc, bool ok)
{
	if (proc >= 0)
		H.pprobe_pending[proc] = false;
	else
		H.lprobe_pending[level] = false;
	machine_probe_done(&H.m, level, proc, ok, ok ? ~(uint64_t)0 : 0, 5,
	    H.now);
}

/* Play the daemon for one action. */
static void
act(const struct action *ap)
{
	struct action	 a = *ap;
	enum probe_mode	 pm;

	record(&a);
	switch (a.kind) {
	case ACT_SPAWN:
		assert_true(a.proc >= 0 && a.proc < H.cfg->nprocs);
		assert_int_equal(H.pid[a.proc], 0);
		H.pid[a.proc] = ++H.next_pid;
		if (H.exec_fail[a.proc]) {
			machine_proc_spawned(&H.m, a.proc, H.pid[a.proc],
			    false, H.now);
			H.pid[a.proc] = 0;
			machine_proc_exited(&H.m, a.proc, EXITED(127),
			    H.now);
			break;
		}
		machine_proc_spawned(&H.m, a.proc, H.pid[a.proc],
		    !H.exec_later[a.proc], H.now);
		if (H.exec_later[a.proc])
			break;
		if (H.spawn_exit[a.proc] >= 0 && H.pid[a.proc] != 0) {
			H.pid[a.proc] = 0;
			machine_proc_exited(&H.m, a.proc,
			    H.spawn_exit[a.proc], H.now);
		}
		break;
	case ACT_SIGNAL:
		assert_true(a.proc >= 0 && a.proc < H.cfg->nprocs);
		if (H.pid[a.proc] == 0)
			break;
		if (H.on_signal[a.proc] == SIG_EXITS ||
		    (H.on_signal[a.proc] == SIG_KILL_ONLY &&
		    a.sig == SIGKILL)) {
			H.pid[a.proc] = 0;
			machine_proc_exited(&H.m, a.proc, a.sig, H.now);
		}
		break;
	case ACT_PROBE:
		if (a.proc >= 0) {
			assert_int_equal(a.level,
			    H.cfg->procs[a.proc].level);
			H.pprobe_pending[a.proc] = true;
			pm = H.pprobe[a.proc];
		} else {
			assert_true(a.level >= 0 &&
			    a.level < H.cfg->nlevels);
			H.lprobe_pending[a.level] = true;
			pm = H.lprobe[a.level];
		}
		if (pm != PR_MANUAL)
			answer_probe(a.level, a.proc, pm == PR_OK);
		break;
	case ACT_PROBE_CANCEL:
		if (a.proc >= 0)
			H.pprobe_pending[a.proc] = false;
		else
			H.lprobe_pending[a.level] = false;
		break;
	case ACT_EXIT:
		H.nexit++;
		H.exit_code = a.code;
		break;
	case ACT_HOOK:
	case ACT_LOG:
	case ACT_STATUS:
	case ACT_READY:
	case ACT_EVENT:
		break;
	}
}

/*
 * The rollout's counters agree with the processes; none is to start while
 * it runs, and only up (or climbing) levels have any share in it.
 */
static void
check_rollout(void)
{
	const struct level_rt	*l;
	enum roll_state		 r;
	int			 i, nr = 0, ns = 0;

	for (i = 0; i < H.m.cfg->nprocs; i++) {
		r = H.m.procs[i].rollout;
		nr += r != ROLL_NONE;
		ns += r == ROLL_STOP || r == ROLL_STOPPING;
		if (r == ROLL_START)
			assert_true(H.m.procs[i].state != PS_STARTING &&
			    H.m.procs[i].state != PS_RUNNING);
		l = &H.m.levels[H.m.cfg->procs[i].level];
		if (r != ROLL_NONE && !H.m.shutting_down)
			assert_true(l->state == LEVEL_UP ||
			    l->state == LEVEL_CLIMBING);
	}
	assert_int_equal(nr, H.m.rolling);
	assert_int_equal(ns, H.m.rollout_stops);
}

/* After every event: the roster agrees with a full scan of the machine. */
static void
check_roster(void)
{
	int	i;

	assert_true(roster_check(&H.m));
	check_rollout();
	assert_int_equal(machine_next_deadline(&H.m),
	    scan_next_deadline(&H.m));
	for (i = 0; i < H.m.cfg->nprocs; i++)
		if (H.m.procs[i].pid > 0)
			assert_int_equal(machine_proc_by_pid(&H.m,
			    H.m.procs[i].pid), i);
}

/* Play the daemon for every pending action, in order. */
static void
drain(void)
{
	struct action	 a;

	check_roster();
	while (machine_next_action(&H.m, &a)) {
		act(&a);
		check_roster();
	}
}

/* Parse text, set up the defaults (everything answers at once), but do not
 * start: the test may change the per-process behaviour first. */
static void
h_init_seed(const char *text, uint64_t seed)
{
	int	i;

	memset(&H, 0, sizeof(H));
	H.cfg = parse_text(text);
	assert_true(H.cfg->nprocs <= MAXP && H.cfg->nlevels <= MAXP);
	assert_int_equal(machine_init(&H.m, H.cfg, seed), 0);
	H.inited = true;
	H.next_pid = 1000;
	H.exit_code = -1;
	for (i = 0; i < MAXP; i++) {
		H.spawn_exit[i] = -1;
		H.on_signal[i] = SIG_EXITS;
		H.lprobe[i] = PR_OK;
		H.pprobe[i] = PR_OK;
	}
}

static void
h_init(const char *text)
{
	h_init_seed(text, 42);
}

static void
h_start(msec_t t)
{
	H.now = t;
	machine_start(&H.m, t);
	drain();
}

static int
teardown(void **state)
{
	(void)state;
	if (H.inited) {
		/* as the daemon, which owns a reload still pending */
		config_free((struct stack_conf *)H.m.pending);
		machine_free(&H.m);
		config_free(H.cfg);
	}
	free(H.log);
	memset(&H, 0, sizeof(H));
	return 0;
}

/* Tick at every deadline up to and including t, then stand at t. */
static void
advance_to(msec_t t)
{
	msec_t	d;
	int	guard = 0;

	drain();
	for (;;) {
		d = machine_next_deadline(&H.m);
		if (d > t)
			break;
		if (++guard > 100000)
			fail_msg("deadline loop: machine keeps asking for a "
			    "tick at %lld (now %lld)", (long long)d,
			    (long long)H.now);
		if (d > H.now)
			H.now = d;
		machine_tick(&H.m, H.now);
		drain();
	}
	if (t > H.now)
		H.now = t;
}

/* A tick the machine did not ask for (the daemon also ticks after other
 * events): it must not act early. */
static void
tick_at(msec_t t)
{
	H.now = t;
	machine_tick(&H.m, t);
	drain();
}

static void
advance_by(msec_t dt)
{
	advance_to(H.now + dt);
}

/* The process exits on its own (or after a signal the test held back). */
static void
h_exit(int proc, int wstatus)
{
	assert_true(H.pid[proc] != 0);
	H.pid[proc] = 0;
	machine_proc_exited(&H.m, proc, wstatus, H.now);
	drain();
}

/* The daemon confirms an exec it did not wait for. */
static void
h_execd(int proc)
{
	machine_proc_execd(&H.m, proc, H.now);
	drain();
}

static void
h_ready(int proc)
{
	machine_proc_ready(&H.m, proc, H.now);
	drain();
}

static void
h_probe(int level, int proc, bool ok)
{
	if (proc >= 0)
		assert_true(H.pprobe_pending[proc]);
	else
		assert_true(H.lprobe_pending[level]);
	answer_probe(level, proc, ok);
	drain();
}

static int
P(const char *name)
{
	int	i = config_proc_index(H.cfg, name);

	assert_true(i >= 0);
	return i;
}

static int
L(const char *name)
{
	int	i = config_level_index(H.cfg, name);

	assert_true(i >= 0);
	return i;
}

static bool
match(const struct rec *r, enum act_kind kind, int level, int proc)
{
	return r->a.kind == kind && (level == ANY || r->a.level == level) &&
	    (proc == ANY || r->a.proc == proc);
}

/* Actions of a kind in log[from..]. */
static int
count_since(size_t from, enum act_kind kind, int level, int proc)
{
	size_t	i;
	int	n = 0;

	for (i = from; i < H.nlog; i++)
		if (match(&H.log[i], kind, level, proc))
			n++;
	return n;
}

static int
count_act(enum act_kind kind, int level, int proc)
{
	return count_since(0, kind, level, proc);
}

static int
count_spawns(int proc)
{
	return count_act(ACT_SPAWN, ANY, proc);
}

static int
count_signals(int proc, int sig)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < H.nlog; i++)
		if (match(&H.log[i], ACT_SIGNAL, ANY, proc) &&
		    (sig == ANY || H.log[i].a.sig == sig))
			n++;
	return n;
}

static int
count_hooks(int level, enum hook_event hook)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < H.nlog; i++)
		if (match(&H.log[i], ACT_HOOK, level, ANY) &&
		    H.log[i].a.hook == hook)
			n++;
	return n;
}

/* The signal last sent to proc, 0 if none. */
static int
last_signal(int proc)
{
	size_t	i;

	for (i = H.nlog; i > 0; i--)
		if (match(&H.log[i - 1], ACT_SIGNAL, ANY, proc))
			return H.log[i - 1].a.sig;
	return 0;
}

/* Index of the first matching action at or after from; -1 if none. */
static long
find_from(size_t from, enum act_kind kind, int level, int proc)
{
	size_t	i;

	for (i = from; i < H.nlog; i++)
		if (match(&H.log[i], kind, level, proc))
			return (long)i;
	return -1;
}

static long
find_act(enum act_kind kind, int level, int proc)
{
	return find_from(0, kind, level, proc);
}

static long
find_hook(int level, enum hook_event hook)
{
	size_t	i;

	for (i = 0; i < H.nlog; i++)
		if (match(&H.log[i], ACT_HOOK, level, ANY) &&
		    H.log[i].a.hook == hook)
			return (long)i;
	return -1;
}

/* Time of the last matching action; -1 if none. */
static msec_t
last_time(enum act_kind kind, int level, int proc)
{
	size_t	i;

	for (i = H.nlog; i > 0; i--)
		if (match(&H.log[i - 1], kind, level, proc))
			return H.log[i - 1].at;
	return -1;
}

typedef bool	(*pred_fn)(void);

/* Move from deadline to deadline until pred holds; fail after limit. */
static void
run_until(pred_fn pred, msec_t limit)
{
	msec_t	d;
	int	guard = 0;

	drain();
	while (!pred()) {
		d = machine_next_deadline(&H.m);
		if (d > limit)
			fail_msg("condition not reached by %lld (now %lld, "
			    "next deadline %lld)", (long long)limit,
			    (long long)H.now, (long long)d);
		if (++guard > 100000)
			fail_msg("deadline loop");
		if (d > H.now)
			H.now = d;
		machine_tick(&H.m, H.now);
		drain();
	}
}

static bool
level_down_one(void)
{
	return H.m.current == 1 && H.m.levels[1].state == LEVEL_DOWN;
}

static int	want_level;
static bool
level_climbing(void)
{
	return H.m.levels[want_level].state == LEVEL_CLIMBING;
}

static void
run_until_climbing(int lvl, msec_t limit)
{
	want_level = lvl;
	run_until(level_climbing, limit);
}

#define STACK_HDR \
	"[stack]\n" \
	"alarm_after = 0\n" \
	"retry_min = 1s\n" \
	"retry_max = 8s\n"

/* --- 1. climb order, READY, on_up ---------------------------------------- */

static void
test_climb_order(void **state)
{
	int	a, init, b, c, l1, l2;
	long	up1, sb, sc, up2, rd;

	(void)state;
	h_init(STACK_HDR
	    "ready_level = two\n"
	    "[level one]\n"
	    "probe = /bin/true\n"
	    "probe_interval = 1s\n"
	    "on_up = /bin/echo one up\n"
	    "[level two]\n"
	    "on_up = /bin/echo two up\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\nready = notify\n"
	    "[process init]\nlevel = one\ntype = oneshot\ncommand = /bin/init\n"
	    "[process b]\nlevel = two\ncommand = /bin/b\n"
	    "[process c]\nlevel = two\ncommand = /bin/c\n");
	a = P("a"); init = P("init"); b = P("b"); c = P("c");
	l1 = L("one"); l2 = L("two");
	H.lprobe[l1] = PR_MANUAL;
	h_start(0);

	/* Level 1's processes start at once, in file order. */
	assert_int_equal(count_spawns(a), 1);
	assert_int_equal(count_spawns(init), 1);
	assert_true(find_act(ACT_SPAWN, l1, a) < find_act(ACT_SPAWN, l1, init));
	assert_int_equal(H.m.levels[l1].state, LEVEL_CLIMBING);
	advance_to(0);
	assert_true(H.lprobe_pending[l1]);

	/* The longrun gets ready: not enough. */
	advance_to(100);
	h_ready(a);
	assert_int_equal(H.m.procs[a].state, PS_RUNNING);
	assert_int_equal(H.m.levels[l1].state, LEVEL_CLIMBING);
	assert_int_equal(count_spawns(b), 0);

	/* The oneshot exits 0: still waiting for the probe. */
	advance_to(200);
	h_exit(init, EXITED(0));
	assert_int_equal(H.m.procs[init].state, PS_DONE);
	assert_int_equal(H.m.levels[l1].state, LEVEL_CLIMBING);
	assert_int_equal(H.m.current, 0);
	assert_int_equal(count_spawns(b), 0);

	/* A failed probe does not make it ready either; it is re-run one
	 * probe_interval after it finished. */
	advance_to(300);
	h_probe(l1, -1, false);
	assert_int_equal(H.m.levels[l1].state, LEVEL_CLIMBING);
	assert_int_equal(count_spawns(b), 0);
	advance_to(1299);
	assert_false(H.lprobe_pending[l1]);
	advance_to(1300);
	assert_true(H.lprobe_pending[l1]);
	assert_int_equal(count_act(ACT_PROBE, l1, -1), 2);
	assert_int_equal(count_act(ACT_READY, ANY, ANY), 0);
	assert_int_equal(count_hooks(ANY, HOOK_UP), 0);

	/* The probe passes: level 1 up, then level 2 climbs at once. */
	h_probe(l1, -1, true);
	assert_int_equal(H.m.levels[l1].state, LEVEL_UP);
	assert_int_equal(count_spawns(b), 1);
	assert_int_equal(count_spawns(c), 1);
	assert_int_equal(H.m.current, 2);
	assert_int_equal(H.m.levels[l2].state, LEVEL_UP);

	up1 = find_hook(l1, HOOK_UP);
	sb = find_act(ACT_SPAWN, l2, b);
	sc = find_act(ACT_SPAWN, l2, c);
	up2 = find_hook(l2, HOOK_UP);
	rd = find_act(ACT_READY, ANY, ANY);
	assert_true(up1 >= 0 && sb >= 0 && sc >= 0 && up2 >= 0 && rd >= 0);
	assert_true(up1 < sb);
	assert_true(sb < sc);
	assert_true(sc < up2);
	assert_true(up2 < rd);
	assert_int_equal(count_hooks(l1, HOOK_UP), 1);
	assert_int_equal(count_hooks(l2, HOOK_UP), 1);
	assert_int_equal(count_act(ACT_READY, ANY, ANY), 1);

	/* READY is sent once: a crash, a restart, a descent and a climb
	 * back do not send it again. */
	advance_by(500);
	h_exit(b, SIGSEGV);
	assert_int_equal(count_spawns(b), 2);
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	assert_int_equal(H.m.current, 1);
	assert_int_equal(machine_set_target(&H.m, 2, H.now), 0);
	drain();
	assert_int_equal(H.m.current, 2);
	assert_int_equal(count_hooks(l2, HOOK_UP), 2);
	advance_by(60000);
	assert_int_equal(count_act(ACT_READY, ANY, ANY), 1);
	assert_int_equal(H.nexit, 0);
}

/* ready_level = 1 is signalled when level 1 is up, not at the top; 0 at
 * once. */
static void
test_ready_level(void **state)
{
	int	b;

	(void)state;
	h_init(STACK_HDR
	    "ready_level = 1\n"
	    "[level one]\n[level two]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[process b]\nlevel = two\ncommand = /bin/b\nready = notify\n");
	b = P("b");
	h_start(0);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(count_act(ACT_READY, ANY, ANY), 1);
	assert_true(find_act(ACT_READY, ANY, ANY) <
	    find_act(ACT_SPAWN, ANY, b) ||
	    find_hook(0, HOOK_UP) < find_act(ACT_READY, ANY, ANY));
	advance_by(100);
	h_ready(b);
	assert_int_equal(H.m.current, 2);
	assert_int_equal(count_act(ACT_READY, ANY, ANY), 1);
	teardown(NULL);

	h_init(STACK_HDR
	    "ready_level = 0\n"
	    "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\nready = notify\n");
	h_start(0);
	assert_int_equal(H.m.current, 0);
	assert_int_equal(count_act(ACT_READY, ANY, ANY), 1);
	h_ready(P("a"));
	assert_int_equal(count_act(ACT_READY, ANY, ANY), 1);
}

static int
count_events(enum event_kind ev, int proc)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < H.nlog; i++)
		if (H.log[i].a.kind == ACT_EVENT && H.log[i].a.event == ev &&
		    H.log[i].a.proc == proc)
			n++;
	return n;
}

/*
 * The daemon reports the fork first and the exec when it is known: only
 * then is the process "started" (and, with ready = started, ready).  One
 * that dies before its exec was confirmed was never started.
 */
static void
test_exec_confirmed_later(void **state)
{
	int	a, b;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n[level two]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[process b]\nlevel = two\ncommand = /bin/b\n");
	a = P("a");
	b = P("b");
	H.exec_later[a] = H.exec_later[b] = true;
	h_start(0);
	assert_int_equal(count_spawns(a), 1);
	assert_int_equal(count_events(EVT_PROCESS_STARTED, a), 0);
	assert_int_equal(H.m.current, 0);
	assert_int_equal(count_spawns(b), 0);
	advance_by(10);
	h_execd(a);
	assert_int_equal(count_events(EVT_PROCESS_STARTED, a), 1);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(count_spawns(b), 1);
	/* A second report of the same exec changes nothing. */
	h_execd(a);
	assert_int_equal(count_events(EVT_PROCESS_STARTED, a), 1);
	/* b's exec fails: it exits 127 before any confirmation. */
	h_exit(b, EXITED(127));
	assert_int_equal(count_events(EVT_PROCESS_STARTED, b), 0);
	assert_int_equal(count_events(EVT_PROCESS_EXITED, b), 1);
	assert_int_equal(H.m.current, 1);
	/* A late confirmation of a reaped pid is ignored. */
	h_execd(b);
	assert_int_equal(count_events(EVT_PROCESS_STARTED, b), 0);
	assert_int_equal(H.m.current, 1);
}

/* --- 2. ready_delay ------------------------------------------------------ */

static void
test_ready_delay(void **state)
{
	int	a, b;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\nready_delay = 2s\n"
	    "[process b]\nlevel = one\ncommand = /bin/b\nready_delay = 500ms\n");
	a = P("a"); b = P("b");
	h_start(1000);
	assert_int_equal(H.m.procs[a].state, PS_STARTING);
	assert_int_equal(machine_next_deadline(&H.m), 1500);
	advance_to(1500);
	assert_int_equal(H.m.procs[b].state, PS_RUNNING);
	assert_int_equal(H.m.procs[a].state, PS_STARTING);
	assert_int_equal(machine_next_deadline(&H.m), 3000);
	/* ticks before the delay do not make it ready */
	tick_at(2999);
	assert_int_equal(H.m.procs[a].state, PS_STARTING);
	assert_int_equal(H.m.levels[0].state, LEVEL_CLIMBING);
	assert_int_equal(H.m.current, 0);
	advance_to(3000);
	assert_int_equal(H.m.procs[a].state, PS_RUNNING);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(last_time(ACT_HOOK, 0, -1), 3000);

	/* A restart while up waits for the delay again. */
	advance_to(4000);
	h_exit(a, EXITED(1));
	assert_int_equal(count_spawns(a), 2);
	assert_int_equal(H.m.procs[a].state, PS_STARTING);
	advance_to(5999);
	assert_int_equal(H.m.procs[a].state, PS_STARTING);
	advance_to(6000);
	assert_int_equal(H.m.procs[a].state, PS_RUNNING);
	assert_int_equal(H.m.current, 1);
}

/* --- 3. ready_timeout and the backoff ----------------------------------- */

#define TIMEOUT_CONF \
	"[stack]\n" \
	"alarm_after = 0\n" \
	"retry_min = 1s\n" \
	"retry_max = 4s\n" \
	"[level one]\n" \
	"[process base]\nlevel = one\ncommand = /bin/base\n" \
	"[level two]\n" \
	"ready_timeout = 3s\n" \
	"intensity = 0\n" \
	"[process w]\nlevel = two\ncommand = /bin/w\nready = notify\n" \
	"stop_signal = INT\n"

/* Let the current climb of level two time out; return the failure time. */
static msec_t
timeout_once(int w)
{
	msec_t	start, fail;

	run_until_climbing(1, H.now + 100000);
	start = H.now;
	assert_int_equal(last_time(ACT_SPAWN, 1, w), start);
	assert_int_equal(H.m.levels[1].climb_deadline, start + 3000);
	advance_to(start + 2999);
	assert_int_equal(H.m.levels[1].state, LEVEL_CLIMBING);
	assert_int_equal(H.m.procs[w].state, PS_STARTING);
	advance_to(start + 3000);
	fail = start + 3000;
	assert_int_equal(last_signal(w), SIGINT);
	assert_int_equal(last_time(ACT_SIGNAL, 1, w), fail);
	assert_int_equal(H.m.levels[1].state, LEVEL_DOWN);
	assert_int_equal(H.m.current, 1);
	return fail;
}

/* Let the next climb of level two succeed; return the time it came up. */
static msec_t
up_once(int w)
{
	run_until_climbing(1, H.now + 100000);
	h_ready(w);
	assert_int_equal(H.m.current, 2);
	return H.now;
}

static void
test_ready_timeout(void **state)
{
	int	w, base;
	msec_t	fail, up, wait;

	(void)state;
	h_init(TIMEOUT_CONF);
	w = P("w"); base = P("base");
	H.on_signal[w] = SIG_MANUAL;
	h_start(0);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.levels[1].state, LEVEL_CLIMBING);

	/* First failure: stop signal; the level is down only once w has
	 * exited; current stays 1. */
	advance_to(2999);
	assert_int_equal(count_signals(w, ANY), 0);
	advance_to(3000);
	assert_int_equal(count_signals(w, SIGINT), 1);
	assert_int_equal(H.m.levels[1].state, LEVEL_STOPPING);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.levels[1].failures_total, 1);
	assert_int_equal(H.m.failed_climbs, 1);
	assert_true(H.m.last_failure[0] != '\0');
	assert_non_null(strstr(H.m.last_failure, "two"));
	advance_to(3100);
	h_exit(w, SIGINT);
	assert_int_equal(H.m.levels[1].state, LEVEL_DOWN);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(count_signals(base, ANY), 0);
	/* a level that never came up gets no on_down */
	assert_int_equal(count_hooks(1, HOOK_DOWN), 0);
	/* first failure: exactly retry_min (jitter never goes below it),
	 * counted from when the level was down (3100), not from the failure:
	 * the stack stays at level one for the whole wait */
	wait = H.m.retry_at - 3100;
	assert_true(wait >= 750 && wait <= 1000);
	assert_int_equal(wait, 1000);
	assert_int_equal(H.m.backoff, 2000);
	assert_int_equal(machine_next_deadline(&H.m), H.m.retry_at);
	advance_to(H.m.retry_at - 1);
	tick_at(H.m.retry_at - 1);
	assert_int_equal(count_spawns(w), 1);
	H.on_signal[w] = SIG_EXITS;
	advance_to(H.m.retry_at);
	assert_int_equal(count_spawns(w), 2);

	/* Second: base 2s, minus up to 25%. */
	fail = timeout_once(w);
	wait = H.m.retry_at - fail;
	assert_true(wait >= 1500 && wait <= 2000);
	assert_int_equal(H.m.backoff, 4000);
	assert_int_equal(H.m.failed_climbs, 2);
	/* Third and fourth: base capped at retry_max = 4s. */
	fail = timeout_once(w);
	wait = H.m.retry_at - fail;
	assert_true(wait >= 3000 && wait <= 4000);
	assert_int_equal(H.m.backoff, 4000);
	fail = timeout_once(w);
	wait = H.m.retry_at - fail;
	assert_true(wait >= 3000 && wait <= 4000);
	assert_int_equal(H.m.levels[1].failures_total, 4);
	assert_int_equal(H.m.levels[1].climb_attempts_total, 4);

	/* Fifth attempt succeeds, but the level falls 100ms later: the
	 * backoff is not reset. */
	run_until_climbing(1, H.now + 100000);
	advance_by(100);
	h_ready(w);
	assert_int_equal(H.m.current, 2);
	/* counted until the stack stays up for retry_max */
	assert_int_equal(H.m.failed_climbs, 4);
	up = H.now;
	assert_int_equal(H.m.stable_at, up + 4000);
	advance_to(up + 100);
	h_exit(w, EXITED(1));	/* intensity 0: the level fails */
	assert_int_equal(H.m.current, 1);
	wait = H.m.retry_at - (up + 100);
	assert_true(wait >= 3000 && wait <= 4000);

	/* Sixth succeeds and falls 1ms short of retry_max: no reset. */
	up = up_once(w);
	advance_to(up + 3999);
	h_exit(w, EXITED(1));
	wait = H.m.retry_at - (up + 3999);
	assert_true(wait >= 3000 && wait <= 4000);

	/* Seventh stays up for retry_max: base back to retry_min, applied
	 * when the next failure needs it (no timer wakes the idle stack). */
	up = up_once(w);
	assert_int_equal(machine_next_deadline(&H.m), MSEC_NEVER);
	advance_to(up + 5000);
	h_exit(w, EXITED(1));
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.retry_at - (up + 5000), 1000);
	assert_int_equal(H.m.backoff, 2000);
	assert_int_equal(H.nexit, 0);
}

/* A reset the stack earned by staying up for retry_max is not taken back
 * when a level comes up later (which starts the next stable period). */
static void
test_backoff_reset_kept_by_later_level(void **state)
{
	int	w;
	msec_t	up, fail;

	(void)state;
	h_init(TIMEOUT_CONF);
	w = P("w");
	h_start(0);
	(void)timeout_once(w);
	(void)timeout_once(w);
	assert_int_equal(H.m.backoff, 4000);
	up = up_once(w);
	/* stable for retry_max, then down and up again by target */
	advance_to(up + 5000);
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	run_until(level_down_one, H.now + 100000);
	assert_int_equal(machine_set_target(&H.m, 2, H.now), 0);
	drain();
	/* and a failure at once waits retry_min, not 4s */
	fail = up_once(w);
	h_exit(w, EXITED(1));
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.retry_at - fail, 1000);
}

/* `stackctl target` with the target the stack already has ends a backoff
 * in progress ("retry now", as documented in stackctl(1)), and keeps the
 * backoff for the next failure. */
static void
test_same_target_ends_backoff(void **state)
{
	int	w;
	msec_t	fail, backoff;

	(void)state;
	h_init(TIMEOUT_CONF);
	w = P("w");
	h_start(0);
	(void)timeout_once(w);
	fail = timeout_once(w);
	backoff = H.m.backoff;
	assert_true(H.m.retry_at > fail);
	advance_to(fail + 10);
	assert_int_equal(H.m.levels[1].state, LEVEL_DOWN);
	assert_int_equal(machine_set_target(&H.m, H.m.target, H.now), 0);
	drain();
	assert_int_equal(H.m.levels[1].state, LEVEL_CLIMBING);
	assert_int_equal(last_time(ACT_SPAWN, 1, w), fail + 10);
	assert_int_equal(H.m.backoff, backoff);
}

/* The jitter stays within [base * 3/4, base], never below retry_min, and
 * does jitter: different seeds give different waits. */
static void
test_backoff_jitter_range(void **state)
{
	msec_t	waits[40][4], fail, base, lo;
	int	seed, k, w;
	bool	differ = false;

	(void)state;
	for (seed = 1; seed <= 40; seed++) {
		h_init_seed(TIMEOUT_CONF, (uint64_t)seed * 7919);
		w = P("w");
		h_start(0);
		base = 1000;
		for (k = 0; k < 4; k++) {
			fail = timeout_once(w);
			waits[seed - 1][k] = H.m.retry_at - fail;
			lo = base - base / 4;
			if (lo < 1000)
				lo = 1000;
			if (waits[seed - 1][k] < lo ||
			    waits[seed - 1][k] > base)
				fail_msg("seed %d failure %d: wait %lld not in "
				    "[%lld, %lld]", seed, k + 1,
				    (long long)waits[seed - 1][k],
				    (long long)lo, (long long)base);
			base = base * 2 > 4000 ? 4000 : base * 2;
		}
		if (seed > 1 && waits[seed - 1][2] != waits[0][2])
			differ = true;
		teardown(NULL);
	}
	assert_true(differ);
}

/* --- 4. stop escalation -------------------------------------------------- */

static void
test_stop_escalation(void **state)
{
	int	a, b;

	(void)state;
	h_init(STACK_HDR
	    "stop_timeout = 10s\n"
	    "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\nstop_timeout = 2s\n"
	    "[process b]\nlevel = one\ncommand = /bin/b\nstop_signal = QUIT\n");
	a = P("a"); b = P("b");
	H.on_signal[a] = SIG_KILL_ONLY;
	H.on_signal[b] = SIG_KILL_ONLY;
	h_start(0);
	assert_int_equal(H.m.current, 1);
	advance_to(100);
	assert_int_equal(machine_set_target(&H.m, 0, H.now), 0);
	drain();
	assert_int_equal(last_signal(a), SIGTERM);
	assert_int_equal(last_signal(b), SIGQUIT);
	assert_int_equal(H.m.procs[a].state, PS_STOPPING);
	assert_int_equal(H.m.levels[0].state, LEVEL_STOPPING);

	advance_to(2099);
	assert_int_equal(count_signals(a, SIGKILL), 0);
	advance_to(2100);
	assert_int_equal(count_signals(a, SIGKILL), 1);
	assert_int_equal(last_time(ACT_SIGNAL, ANY, a), 2100);
	assert_int_equal(H.m.procs[a].state, PS_STOPPED);
	/* b uses the stack's 10s */
	assert_int_equal(H.m.levels[0].state, LEVEL_STOPPING);
	assert_int_equal(H.m.current, 1);
	advance_to(10099);
	assert_int_equal(count_signals(b, SIGKILL), 0);
	advance_to(10100);
	assert_int_equal(count_signals(b, SIGKILL), 1);
	assert_int_equal(H.m.levels[0].state, LEVEL_DOWN);
	assert_int_equal(H.m.current, 0);
	/* SIGKILL is sent once, not again at later ticks */
	advance_to(60000);
	assert_int_equal(count_signals(a, SIGKILL), 1);
	assert_int_equal(count_signals(b, SIGKILL), 1);
	assert_int_equal(H.nexit, 0);
}

/* --- 5. ratchet ---------------------------------------------------------- */

static void
test_ratchet(void **state)
{
	int	a, b;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\n"
	    "[process b]\nlevel = two\ncommand = /bin/b\n");
	a = P("a"); b = P("b");
	h_start(0);
	assert_int_equal(H.m.current, 2);
	advance_to(1000);
	h_exit(a, EXITED(1));
	assert_int_equal(count_spawns(a), 2);
	assert_int_equal(last_time(ACT_SPAWN, 0, a), 1000);
	assert_int_equal(H.m.procs[a].state, PS_RUNNING);
	assert_int_equal(count_spawns(b), 1);
	assert_int_equal(count_signals(b, ANY), 0);
	assert_int_equal(H.m.current, 2);
	assert_int_equal(H.m.levels[0].state, LEVEL_UP);
	assert_int_equal(H.m.levels[1].state, LEVEL_UP);
	assert_int_equal(H.m.procs[b].state, PS_RUNNING);
	assert_int_equal(H.m.procs[a].restarts_total, 1);
	/* killed by a signal: the same */
	advance_to(2000);
	h_exit(a, SIGKILL);
	assert_int_equal(count_spawns(a), 3);
	assert_int_equal(H.m.current, 2);
	assert_int_equal(count_signals(b, ANY), 0);
	assert_int_equal(count_hooks(ANY, HOOK_DOWN), 0);
	assert_int_equal(H.m.levels[0].failures_total, 0);
}

/* --- 6. restart types ---------------------------------------------------- */

static void
test_restart_types(void **state)
{
	int	perm, t1, t2, temp, temp0;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n"
	    "intensity = 100\n"
	    "[process perm]\nlevel = one\ncommand = /bin/p\n"
	    "[process t1]\nlevel = one\ncommand = /bin/t\nrestart = transient\n"
	    "[process t2]\nlevel = one\ncommand = /bin/t\nrestart = transient\n"
	    "[process temp]\nlevel = one\ncommand = /bin/x\nrestart = temporary\n"
	    "[process temp0]\nlevel = one\ncommand = /bin/x\n"
	    "restart = temporary\n");
	perm = P("perm"); t1 = P("t1"); t2 = P("t2");
	temp = P("temp"); temp0 = P("temp0");
	h_start(0);
	assert_int_equal(H.m.current, 1);

	/* transient: not after exit 0 */
	advance_to(100);
	h_exit(t1, EXITED(0));
	assert_int_equal(count_spawns(t1), 1);
	assert_int_equal(H.m.procs[t1].state, PS_EXITED);
	assert_int_equal(H.m.levels[0].state, LEVEL_UP);
	/* transient: after exit 1 and after a signal */
	advance_to(200);
	h_exit(t2, EXITED(1));
	assert_int_equal(count_spawns(t2), 2);
	assert_int_equal(H.m.procs[t2].state, PS_RUNNING);
	advance_to(300);
	h_exit(t2, SIGSEGV);
	assert_int_equal(count_spawns(t2), 3);
	/* temporary: never, whatever the status */
	advance_to(400);
	h_exit(temp, EXITED(1));
	assert_int_equal(count_spawns(temp), 1);
	assert_int_equal(H.m.procs[temp].state, PS_EXITED);
	h_exit(temp0, SIGKILL);
	assert_int_equal(count_spawns(temp0), 1);
	/* permanent: always, even after exit 0 */
	advance_to(500);
	h_exit(perm, EXITED(0));
	assert_int_equal(count_spawns(perm), 2);
	h_exit(perm, SIGTERM);
	assert_int_equal(count_spawns(perm), 3);
	assert_int_equal(H.m.procs[perm].state, PS_RUNNING);
	/* restarts that did not happen do not count: 4 restarts */
	assert_int_equal(intensity_count(&H.m.levels[0].intensity, H.now,
	    H.cfg->levels[0].period), 4);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.levels[0].state, LEVEL_UP);
	/* the exited ones are left alone */
	advance_to(60000);
	assert_int_equal(count_spawns(t1), 1);
	assert_int_equal(count_spawns(temp), 1);

	/* an exec failure is an abnormal exit: transient is restarted */
	H.exec_fail[t2] = true;
	h_exit(t2, SIGKILL);
	/* first restart fails exec (127) and is restarted, and so on until
	 * the level's intensity (100) gives up */
	assert_true(count_spawns(t2) > 10);
	assert_int_equal(H.m.current, 0);
	assert_non_null(strstr(H.m.last_failure, "one"));
}

/* --- 7. strategies ------------------------------------------------------- */

static void
test_one_for_all(void **state)
{
	int	a, b, c, o;
	size_t	mark;
	long	sa, sb, sc;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n"
	    "strategy = one_for_all\n"
	    "intensity = 1\n"
	    "period = 10s\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[process o]\nlevel = one\ncommand = /bin/o\ntype = oneshot\n"
	    "[process b]\nlevel = one\ncommand = /bin/b\n"
	    "[process c]\nlevel = one\ncommand = /bin/c\nstop_signal = INT\n");
	a = P("a"); b = P("b"); c = P("c"); o = P("o");
	H.spawn_exit[o] = EXITED(0);
	H.on_signal[a] = H.on_signal[b] = H.on_signal[c] = SIG_MANUAL;
	h_start(0);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.procs[o].state, PS_DONE);

	advance_to(1000);
	mark = H.nlog;
	h_exit(b, EXITED(1));
	/* every running sibling is stopped; nothing is spawned yet */
	assert_int_equal(count_signals(a, SIGTERM), 1);
	assert_int_equal(count_signals(c, SIGINT), 1);
	assert_int_equal(count_signals(b, ANY), 0);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 0);
	assert_int_equal(H.m.levels[0].state, LEVEL_UP);
	assert_int_equal(H.m.current, 1);

	advance_to(1100);
	h_exit(a, SIGTERM);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 0);
	advance_to(1200);
	h_exit(c, SIGINT);
	/* all down: all three respawned, in file order; the oneshot not */
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 3);
	sa = find_from(mark, ACT_SPAWN, 0, a);
	sb = find_from(mark, ACT_SPAWN, 0, b);
	sc = find_from(mark, ACT_SPAWN, 0, c);
	assert_true(sa >= 0 && sa < sb && sb < sc);
	assert_int_equal(H.log[sa].at, 1200);
	assert_int_equal(count_spawns(o), 1);
	assert_int_equal(H.m.procs[a].state, PS_RUNNING);
	assert_int_equal(H.m.procs[b].state, PS_RUNNING);
	assert_int_equal(H.m.procs[c].state, PS_RUNNING);
	/* one event, one count: intensity 1 is not exceeded */
	assert_int_equal(intensity_count(&H.m.levels[0].intensity, H.now,
	    10000), 1);
	assert_int_equal(H.m.levels[0].state, LEVEL_UP);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.levels[0].failures_total, 0);

	/* a second event within the period exceeds intensity 1 */
	advance_to(2000);
	h_exit(a, EXITED(1));
	assert_int_equal(H.m.levels[0].failures_total, 1);
	assert_int_equal(count_spawns(a), 2);
	/* the level is being stopped: b and c get their stop signals */
	assert_int_equal(count_signals(b, SIGTERM), 1);
	assert_int_equal(count_signals(c, SIGINT), 2);
	h_exit(b, SIGTERM);
	h_exit(c, SIGINT);
	assert_int_equal(H.m.current, 0);
	assert_int_equal(H.m.levels[0].state, LEVEL_DOWN);
}

static void
test_rest_for_one(void **state)
{
	int	a, b, c;
	size_t	mark;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n"
	    "strategy = rest_for_one\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[process b]\nlevel = one\ncommand = /bin/b\n"
	    "[process c]\nlevel = one\ncommand = /bin/c\n");
	a = P("a"); b = P("b"); c = P("c");
	H.on_signal[a] = H.on_signal[b] = H.on_signal[c] = SIG_MANUAL;
	h_start(0);
	assert_int_equal(H.m.current, 1);
	advance_to(1000);
	mark = H.nlog;
	h_exit(b, SIGSEGV);
	assert_int_equal(count_signals(a, ANY), 0);
	assert_int_equal(count_signals(c, SIGTERM), 1);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 0);
	advance_to(1500);
	h_exit(c, SIGTERM);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 2);
	assert_true(find_from(mark, ACT_SPAWN, 0, b) <
	    find_from(mark, ACT_SPAWN, 0, c));
	assert_int_equal(find_from(mark, ACT_SPAWN, 0, a), -1);
	assert_int_equal(count_spawns(a), 1);
	assert_int_equal(intensity_count(&H.m.levels[0].intensity, H.now,
	    H.cfg->levels[0].period), 1);

	/* the last one exiting restarts only itself */
	mark = H.nlog;
	h_exit(c, EXITED(2));
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 1);
	assert_int_equal(count_since(mark, ACT_SPAWN, 0, c), 1);
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, ANY), 0);

	/* the first one exiting restarts everything */
	mark = H.nlog;
	h_exit(a, EXITED(2));
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, ANY), 2);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 0);
	h_exit(c, SIGTERM);
	h_exit(b, SIGTERM);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 3);
	assert_true(find_from(mark, ACT_SPAWN, 0, a) <
	    find_from(mark, ACT_SPAWN, 0, b));
	assert_true(find_from(mark, ACT_SPAWN, 0, b) <
	    find_from(mark, ACT_SPAWN, 0, c));
	assert_int_equal(H.m.current, 1);
}

/* --- 8. intensity exceeded while up -------------------------------------- */

static void
test_intensity_rewind(void **state)
{
	int	a, b, b2, c;
	long	sc, sb2;
	msec_t	wait;

	(void)state;
	h_init("[stack]\nalarm_after = 0\nretry_min = 1s\nretry_max = 4s\n"
	    "[level one]\non_down = /bin/echo\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\nintensity = 2\nperiod = 10s\non_down = /bin/echo\n"
	    "[process b]\nlevel = two\ncommand = /bin/b\n"
	    "[process b2]\nlevel = two\ncommand = /bin/b2\nstop_signal = INT\n"
	    "[level three]\non_down = /bin/echo\n"
	    "[process c]\nlevel = three\ncommand = /bin/c\nstop_signal = HUP\n");
	a = P("a"); b = P("b"); b2 = P("b2"); c = P("c");
	H.on_signal[c] = SIG_MANUAL;
	h_start(0);
	assert_int_equal(H.m.current, 3);

	advance_to(100);
	h_exit(b, EXITED(1));
	advance_to(200);
	h_exit(b, EXITED(1));
	assert_int_equal(count_spawns(b), 3);
	assert_int_equal(H.m.current, 3);
	assert_int_equal(H.m.levels[1].failures_total, 0);
	/* the third restart within 10s is one too many */
	advance_to(300);
	h_exit(b, EXITED(1));
	assert_int_equal(count_spawns(b), 3);
	assert_int_equal(H.m.levels[1].failures_total, 1);
	assert_true(H.m.levels[1].failed);
	assert_non_null(strstr(H.m.last_failure, "two"));
	assert_non_null(strstr(H.m.last_failure, "restart"));
	/* top-down: level three is stopped first, b2 waits */
	assert_int_equal(count_signals(c, SIGHUP), 1);
	assert_int_equal(count_signals(b2, ANY), 0);
	assert_int_equal(H.m.levels[2].state, LEVEL_STOPPING);
	assert_int_equal(H.m.levels[1].state, LEVEL_UP);
	assert_int_equal(H.m.current, 3);

	advance_to(400);
	h_exit(c, SIGHUP);
	sc = find_act(ACT_SIGNAL, 2, c);
	sb2 = find_act(ACT_SIGNAL, 1, b2);
	assert_true(sc >= 0 && sb2 > sc);
	assert_int_equal(last_signal(b2), SIGINT);
	/* b2 exits at once: level two is down; level one stays */
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.levels[2].state, LEVEL_DOWN);
	assert_int_equal(H.m.levels[1].state, LEVEL_DOWN);
	assert_int_equal(H.m.levels[0].state, LEVEL_UP);
	assert_int_equal(count_signals(a, ANY), 0);
	assert_int_equal(count_hooks(2, HOOK_DOWN), 1);
	assert_int_equal(count_hooks(1, HOOK_DOWN), 1);
	assert_int_equal(count_hooks(0, HOOK_DOWN), 0);
	assert_true(find_hook(2, HOOK_DOWN) < find_hook(1, HOOK_DOWN));
	assert_false(H.m.levels[1].failed);

	/* climbing again after the backoff, counted from when the failed
	 * level was down (400), not from the failure (300) */
	wait = H.m.retry_at - 400;
	assert_int_equal(wait, 1000);
	advance_to(1399);
	assert_int_equal(count_spawns(b), 3);
	assert_int_equal(count_spawns(b2), 1);
	advance_to(1400);
	assert_int_equal(count_spawns(b), 4);
	assert_int_equal(count_spawns(b2), 2);
	assert_int_equal(count_spawns(c), 2);
	assert_int_equal(H.m.current, 3);
	/* a fresh climb starts with a fresh intensity window */
	advance_to(1400);
	h_exit(b, EXITED(1));
	assert_int_equal(H.m.current, 3);
	assert_int_equal(H.m.levels[1].failures_total, 1);
	assert_int_equal(H.nexit, 0);
}

/* The events of a climb, a crash, an intensity failure and the rewind,
 * in the order they happened, each naming its level or process. */
static int
next_event(size_t *from, enum event_kind ev, int level, int proc)
{
	size_t	i;

	for (i = *from; i < H.nlog; i++)
		if (match(&H.log[i], ACT_EVENT, level, proc) &&
		    H.log[i].a.event == ev) {
			*from = i + 1;
			return (int)i;
		}
	fail_msg("no %s event (level %d, proc %d) after action %zu",
	    event_name(ev), level, proc, *from);
	return -1;
}

static void
test_events_rewind(void **state)
{
	size_t	at = 0;
	int	a, b, i;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\nintensity = 1\n"
	    "[process b]\nlevel = two\ncommand = /bin/b\n");
	a = P("a"); b = P("b");
	h_start(0);
	assert_int_equal(H.m.current, 2);
	next_event(&at, EVT_CLIMB_STARTED, 0, -1);
	next_event(&at, EVT_PROCESS_STARTED, 0, a);
	next_event(&at, EVT_LEVEL_UP, 0, -1);
	i = next_event(&at, EVT_CLIMB_STARTED, 1, -1);
	assert_int_equal(H.log[i].a.code, 1);
	i = next_event(&at, EVT_PROCESS_STARTED, 1, b);
	assert_int_equal(H.log[i].a.pid, H.pid[b]);
	next_event(&at, EVT_PROCESS_READY, 1, b);
	next_event(&at, EVT_LEVEL_UP, 1, -1);

	advance_to(100);
	h_exit(b, SIGSEGV);
	i = next_event(&at, EVT_PROCESS_EXITED, 1, b);
	assert_int_equal(H.log[i].a.code, SIGSEGV);
	assert_false(H.log[i].a.requested);
	next_event(&at, EVT_PROCESS_STARTED, 1, b);
	advance_to(200);
	h_exit(b, EXITED(2));
	next_event(&at, EVT_PROCESS_EXITED, 1, b);
	i = next_event(&at, EVT_LEVEL_FAILED, 1, -1);
	assert_non_null(strstr(H.log[i].a.text, "restart"));
	next_event(&at, EVT_LEVEL_DOWN, 1, -1);
	assert_int_equal(H.m.current, 1);
	advance_to(2000);
	next_event(&at, EVT_CLIMB_STARTED, 1, -1);
	next_event(&at, EVT_LEVEL_UP, 1, -1);

	machine_shutdown(&H.m, H.now);
	drain();
	next_event(&at, EVT_SHUTDOWN, -1, -1);
	i = next_event(&at, EVT_PROCESS_EXITED, 1, b);
	assert_true(H.log[i].a.requested);
	next_event(&at, EVT_LEVEL_DOWN, 1, -1);
	next_event(&at, EVT_LEVEL_DOWN, 0, -1);
}

/* A failed climb says why; a target change says where to. */
static void
test_events_climb_failed(void **state)
{
	size_t	at = 0;
	int	i;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\nready_timeout = 2s\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\nready = notify\n");
	h_start(0);
	advance_to(2000);
	i = next_event(&at, EVT_CLIMB_FAILED, 0, -1);
	assert_non_null(strstr(H.log[i].a.text, "ready_timeout"));
	assert_int_equal(machine_set_target(&H.m, 0, H.now), 0);
	drain();
	i = next_event(&at, EVT_TARGET_CHANGED, -1, -1);
	assert_int_equal(H.log[i].a.code, 0);
}

/* An operator's restart: only that process, stopped the usual way, not
 * counted towards the level's intensity; refused when the level is down. */
static void
test_manual_restart(void **state)
{
	int	a, b, c, i;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\nstrategy = one_for_all\nintensity = 1\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\nstop_signal = INT\n"
	    "[process b]\nlevel = one\ncommand = /bin/b\n"
	    "[process c]\nlevel = one\ncommand = /bin/c\nrestart = temporary\n"
	    "[level two]\n[process d]\nlevel = two\ncommand = /bin/d\n");
	a = P("a"); b = P("b"); c = P("c");
	H.on_signal[a] = SIG_MANUAL;
	h_start(0);
	assert_int_equal(H.m.current, 2);
	for (i = 0; i < 3; i++) {
		assert_int_equal(machine_restart_proc(&H.m, a, H.now), 0);
		drain();
		assert_int_equal(last_signal(a), SIGINT);
		assert_int_equal(count_spawns(a), 1 + i);
		advance_by(100);
		h_exit(a, SIGINT);
		assert_int_equal(count_spawns(a), 2 + i);
	}
	/* three restarts, intensity 1: still up, and b was never touched;
	 * restarts asked for are not counted (as systemd's NRestarts) */
	assert_int_equal(H.m.current, 2);
	assert_int_equal(count_signals(b, ANY), 0);
	assert_int_equal(count_spawns(b), 1);
	assert_int_equal(H.m.procs[a].restarts_total, 0);
	assert_int_equal(H.m.procs[a].restarts.n, 0);
	/* a temporary process that exited is started again on request */
	h_exit(c, EXITED(0));
	assert_int_equal(H.m.procs[c].state, PS_EXITED);
	assert_int_equal(machine_restart_proc(&H.m, c, H.now), 0);
	drain();
	assert_int_equal(count_spawns(c), 2);
	/* a level that is not up refuses */
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	assert_int_equal(H.m.current, 1);
	assert_int_equal(machine_restart_proc(&H.m, P("d"), H.now), -1);
	drain();
	assert_int_equal(count_spawns(P("d")), 1);
}

/*
 * Reload: commit when the machine says it is due, remapping the harness's
 * per-process arrays the way the daemon remaps its own.  The machine stops
 * what leaves a level before it is due; a pid still handed back at the
 * commit ("retired", for the daemon to stop) would be one it forgot.
 */
static pid_t	retired[MAXP];
static int	nretired;

static void
h_reload_commit(void)
{
	pid_t	 pid[MAXP] = { 0 }, oldpid[MAXP];
	int	 map[MAXP], i, nold = H.cfg->nprocs;

	drain();
	assert_true(machine_reload_due(&H.m));
	assert_int_equal(machine_reload_commit(&H.m, map, oldpid, H.now), 0);
	for (i = 0; i < nold; i++) {
		if (map[i] >= 0)
			pid[map[i]] = H.pid[i];
		else if (oldpid[i] > 0)
			retired[nretired++] = oldpid[i];
	}
	memcpy(H.pid, pid, sizeof(pid));
	config_free(H.cfg);
	H.cfg = (struct stack_conf *)H.m.cfg;
	drain();
}

static void
h_reload(const char *text)
{
	struct stack_conf	*old = (struct stack_conf *)H.m.pending;

	/* A reload replaces one still pending: the daemon frees that. */
	machine_reload(&H.m, parse_text(text), H.now);
	config_free(old);
	drain();
}

#define RL_ONE	STACK_HDR "[level one]\n" \
	"[process a]\nlevel = one\ncommand = /bin/a\n" \
	"[process b]\nlevel = one\ncommand = /bin/b\n"

/* a and b at level one, c at level two, all up; nothing retired yet. */
static void
h_start_reload_stack(void)
{
	nretired = 0;
	h_init(RL_ONE "[level two]\n"
	    "[process c]\nlevel = two\ncommand = /bin/c\n");
	h_start(0);
	assert_int_equal(H.m.current, 2);
}

static void
test_reload_by_name(void **state)
{
	pid_t	apid, bpid;
	size_t	mark;

	(void)state;
	h_start_reload_stack();
	advance_to(100);
	h_exit(P("a"), EXITED(1));
	apid = H.pid[P("a")];
	bpid = H.pid[P("b")];
	assert_int_equal(H.m.procs[P("a")].restarts_total, 1);

	/* the same file: nothing at all happens */
	mark = H.nlog;
	h_reload(RL_ONE "[level two]\n"
	    "[process c]\nlevel = two\ncommand = /bin/c\n");
	assert_true(machine_reload_due(&H.m));
	h_reload_commit();
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 0);
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, ANY), 0);
	assert_int_equal(H.pid[P("a")], apid);
	assert_int_equal(H.m.procs[P("a")].restarts_total, 1);

	/* b removed, d added, c changed: a untouched */
	mark = H.nlog;
	h_reload(STACK_HDR "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[process d]\nlevel = one\ncommand = /bin/d\n"
	    "[level two]\n"
	    "[process c]\nlevel = two\ncommand = /bin/c --new\n");
	/* b was stopped (and, here, exited) before the new file came in */
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, P("b")), 1);
	assert_int_equal(machine_proc_by_pid(&H.m, bpid), -1);
	h_reload_commit();
	assert_int_equal(nretired, 0);
	assert_int_equal(H.cfg->nprocs, 3);
	assert_int_equal(H.pid[P("a")], apid);
	assert_int_equal(H.m.procs[P("a")].restarts_total, 1);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, P("d")), 1);
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, P("c")), 1);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, P("c")), 1);
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, P("a")), 0);
	assert_int_equal(H.m.current, 2);
	assert_int_equal(H.m.procs[P("d")].state, PS_RUNNING);
}

/* A target is a level, not its number: a level inserted below it moves
 * the number, and neither the file's target nor the operator's changes. */
#define TGT_DB	"[level db]\n[process d]\nlevel = db\ncommand = /bin/d\n"
#define TGT_CACHE "[level cache]\n[process c]\nlevel = cache\ncommand = /bin/c\n"
#define TGT_Q	"[level q]\n[process q]\nlevel = q\ncommand = /bin/q\n"
#define TGT_WEB	"[level web]\n[process w]\nlevel = web\ncommand = /bin/w\n"

static void
test_reload_target_is_a_level(void **state)
{
	(void)state;
	/* the file's target = web, the operator's db: a cache below web
	 * changes neither */
	h_init(STACK_HDR "target = web\n" TGT_DB TGT_WEB);
	h_start(0);
	assert_int_equal(H.m.current, 2);
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	assert_int_equal(H.m.current, 1);
	h_reload(STACK_HDR "target = web\n" TGT_DB TGT_CACHE TGT_WEB);
	h_reload_commit();
	assert_int_equal(H.m.target, 1);
	assert_true(H.m.target_by_operator);
	assert_int_equal(H.m.current, 1);
	teardown(NULL);

	/* no target in the file, the operator's = cache: a level q below
	 * it moves cache to 3, and the target with it */
	h_init(STACK_HDR TGT_DB TGT_CACHE TGT_WEB);
	h_start(0);
	assert_int_equal(machine_set_target(&H.m, 2, H.now), 0);
	drain();
	assert_int_equal(H.m.current, 2);
	h_reload(STACK_HDR TGT_DB TGT_Q TGT_CACHE TGT_WEB);
	h_reload_commit();
	assert_int_equal(H.m.target, 3);
	drain();
	assert_int_equal(H.m.current, 3);
	assert_int_equal(H.m.procs[P("c")].state, PS_RUNNING);
	assert_int_equal(H.m.procs[P("w")].state, PS_STOPPED);
	teardown(NULL);

	/* the operator's level removed: the file's target applies */
	h_init(STACK_HDR TGT_DB TGT_CACHE TGT_WEB);
	h_start(0);
	assert_int_equal(machine_set_target(&H.m, 2, H.now), 0);
	drain();
	h_reload(STACK_HDR TGT_DB TGT_WEB);
	h_reload_commit();
	assert_int_equal(H.m.target, 2);
	assert_false(H.m.target_by_operator);
}

/* A reload while a failed level is still stopping (logrotate's SIGHUP,
 * an unchanged file) leaves its wait counted from when it is down. */
static void
test_reload_keeps_a_wait_still_to_start(void **state)
{
	int	w;
	msec_t	wait;

	(void)state;
	h_init(TIMEOUT_CONF);
	w = P("w");
	H.on_signal[w] = SIG_MANUAL;
	h_start(0);
	advance_to(3000);
	assert_int_equal(H.m.levels[1].state, LEVEL_STOPPING);
	h_reload(TIMEOUT_CONF);
	h_reload_commit();
	assert_int_equal(H.m.levels[1].state, LEVEL_STOPPING);
	advance_to(5000);
	h_exit(w, SIGINT);
	assert_int_equal(H.m.levels[1].state, LEVEL_DOWN);
	wait = H.m.retry_at - 5000;
	assert_int_equal(wait, 1000);
	advance_to(5999);
	tick_at(5999);
	assert_int_equal(count_spawns(w), 1);
}

/* A process moved to another level is gone before its successor starts:
 * the two never run at once. */
static void
test_reload_moved_process_stops_first(void **state)
{
	size_t	mark;
	int	cold;

	(void)state;
	h_start_reload_stack();
	cold = P("c");
	H.on_signal[cold] = SIG_MANUAL;
	mark = H.nlog;
	h_reload(RL_ONE "[process c]\nlevel = one\ncommand = /bin/c\n"
	    "[level two]\n");
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, cold), 1);
	assert_int_equal(H.m.procs[cold].state, PS_STOPPING);
	advance_by(100);
	assert_false(machine_reload_due(&H.m));
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 0);
	/* a restart of a process on its way out is refused */
	assert_int_equal(machine_restart_proc(&H.m, cold, H.now), -1);
	h_exit(cold, SIGTERM);
	h_reload_commit();
	assert_int_equal(nretired, 0);
	assert_int_equal(H.cfg->procs[P("c")].level, 0);
	assert_int_equal(count_since(mark, ACT_SPAWN, 0, P("c")), 1);
	assert_int_equal(H.m.procs[P("c")].state, PS_RUNNING);
}

/* A process removed from a level that is coming down: the level still
 * comes down once it has gone, and the stack can still shut down. */
static void
test_reload_removed_from_stopping_level(void **state)
{
	size_t	mark;
	int	c;

	(void)state;
	h_start_reload_stack();
	c = P("c");
	H.on_signal[c] = SIG_MANUAL;
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	assert_int_equal(H.m.levels[1].state, LEVEL_STOPPING);
	h_reload(RL_ONE "[level two]\n");
	assert_false(machine_reload_due(&H.m));
	h_exit(c, SIGTERM);
	assert_int_equal(H.m.levels[1].state, LEVEL_DOWN);
	assert_int_equal(H.m.current, 1);
	h_reload_commit();
	assert_int_equal(nretired, 0);
	mark = H.nlog;
	machine_shutdown(&H.m, H.now);
	drain();
	assert_int_equal(H.m.current, 0);
	assert_int_equal(count_since(mark, ACT_EXIT, ANY, ANY), 1);
}

/* Nothing climbs while a reload waits: a level that comes down with a
 * reload pending and the target raised meanwhile climbs with the new file
 * once it is in force -- not with the old one first (which started the
 * removed process again and left the new one unstarted). */
static void
test_reload_no_climb_before_commit(void **state)
{
	size_t	mark;
	int	p2;

	(void)state;
	nretired = 0;
	h_init(STACK_HDR "[level b]\n[process p2]\nlevel = b\n"
	    "command = /bin/p2\n");
	h_start(0);
	assert_int_equal(H.m.current, 1);
	p2 = P("p2");
	H.on_signal[p2] = SIG_MANUAL;
	assert_int_equal(machine_set_target(&H.m, 0, H.now), 0);
	drain();
	assert_int_equal(H.m.levels[0].state, LEVEL_STOPPING);
	h_reload(STACK_HDR "[level b]\n[process q2]\nlevel = b\n"
	    "command = /bin/q2\n");
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	mark = H.nlog;
	advance_by(100);
	h_exit(p2, SIGKILL);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 0);
	h_reload_commit();
	assert_int_equal(nretired, 0);
	assert_int_equal(count_since(mark, ACT_SPAWN, 0, P("q2")), 1);
	assert_int_equal(H.m.procs[P("q2")].state, PS_RUNNING);
	assert_int_equal(H.m.current, 1);
}

/* A reload still waiting when shutdown begins is never put in force:
 * that would start what is being stopped. */
static void
test_reload_pending_at_shutdown_dropped(void **state)
{
	size_t	mark;
	int	c;

	(void)state;
	h_start_reload_stack();
	c = P("c");
	H.on_signal[c] = SIG_MANUAL;
	h_reload(RL_ONE "[level two]\n");
	assert_false(machine_reload_due(&H.m));
	mark = H.nlog;
	machine_shutdown(&H.m, H.now);
	drain();
	h_exit(c, SIGTERM);
	assert_false(machine_reload_due(&H.m));
	assert_int_equal(H.m.current, 0);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 0);
	assert_int_equal(count_since(mark, ACT_EXIT, ANY, ANY), 1);
	/* the daemon frees the file it never put in force */
	config_free((struct stack_conf *)H.m.pending);
	H.m.pending = NULL;
}

/* `stackctl target top` (the file's own target) hands the target back to
 * the file: a reload that adds a level then climbs it.  Any other target
 * an operator sets stays through the reload. */
static void
test_reload_after_target_top_follows_file(void **state)
{
	(void)state;
	nretired = 0;
	h_init(RL_ONE);
	h_start(0);
	assert_int_equal(machine_set_target(&H.m, 0, H.now), 0);
	drain();
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	assert_int_equal(H.m.current, 1);
	h_reload(RL_ONE "[level two]\n[process c]\nlevel = two\n"
	    "command = /bin/c\n");
	h_reload_commit();
	assert_int_equal(H.m.target, 2);
	assert_int_equal(H.m.current, 2);
	/* an operator's target below the file's stays */
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	h_reload(RL_ONE "[level two]\n[process c]\nlevel = two\n"
	    "command = /bin/c\n[level three]\n");
	h_reload_commit();
	assert_int_equal(H.m.target, 1);
	assert_int_equal(H.m.current, 1);
}

/* What only stackd reads while a process runs changes in place: a new
 * [stack] stop_timeout (inherited by every process), a process's restart,
 * stop_signal and probe_timeout restart nothing. */
static void
test_reload_in_place_settings(void **state)
{
	size_t	mark;
	pid_t	apid;

	(void)state;
	h_start_reload_stack();
	apid = H.pid[P("a")];
	mark = H.nlog;
	h_reload(STACK_HDR "stop_timeout = 42s\n[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\nrestart = transient\n"
	    "stop_signal = SIGINT\nprobe_timeout = 3s\n"
	    "[process b]\nlevel = one\ncommand = /bin/b\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c\n");
	h_reload_commit();
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, ANY), 0);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 0);
	assert_int_equal(H.pid[P("a")], apid);
	assert_int_equal(H.cfg->procs[P("b")].stop_timeout, 42000);
	/* and the next stop uses them */
	assert_int_equal(machine_set_target(&H.m, 0, H.now), 0);
	drain();
	assert_int_equal(last_signal(P("a")), SIGINT);
}

/* Each probe of a climbing level must pass once, not all in one run: two
 * checks that pass on alternate runs still let the level up.  Up, a run
 * in which one fails is a failing run. */
static void
probe_answer_bits(int l, bool ok, uint64_t passed)
{
	advance_to(H.m.levels[l].probe_next);
	assert_true(H.lprobe_pending[l]);
	H.lprobe_pending[l] = false;
	machine_probe_done(&H.m, l, -1, ok, passed, 5, H.now);
	drain();
}

static void
test_probes_pass_once_each(void **state)
{
	int	l;

	(void)state;
	nretired = 0;
	h_init(STACK_HDR "[level one]\nprobe = /bin/p1\nprobe = /bin/p2\n"
	    "failure_threshold = 2\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n");
	l = L("one");
	H.lprobe[l] = PR_MANUAL;
	h_start(0);
	probe_answer_bits(l, false, 1);		/* p1 passed, p2 not */
	assert_int_equal(H.m.levels[l].state, LEVEL_CLIMBING);
	probe_answer_bits(l, false, 2);		/* p2 passed, p1 not */
	assert_int_equal(H.m.levels[l].state, LEVEL_UP);
	assert_int_equal(H.m.current, 1);
	/* up: a run where one fails counts towards failure_threshold */
	probe_answer_bits(l, false, 1);
	assert_int_equal(H.m.levels[l].probe_failures, 1);
	assert_int_equal(H.m.levels[l].state, LEVEL_UP);
}

/* During shutdown a crash in a lower level restarts nothing: that level
 * is stopped next anyway. */
static void
test_no_restart_while_shutting_down(void **state)
{
	int	a, c, spawns;

	(void)state;
	h_start_reload_stack();
	a = P("a");
	c = P("c");
	H.on_signal[c] = SIG_MANUAL;
	machine_shutdown(&H.m, H.now);
	drain();
	assert_int_equal(H.m.levels[1].state, LEVEL_STOPPING);
	spawns = count_spawns(a);
	h_exit(a, EXITED(1));
	assert_int_equal(count_spawns(a), spawns);
	assert_int_equal(H.m.procs[a].state, PS_EXITED);
	assert_int_equal(H.m.levels[0].intensity.n, 0);
	h_exit(c, SIGTERM);
	assert_int_equal(H.m.current, 0);
	assert_int_equal(count_act(ACT_EXIT, ANY, ANY), 1);
}

/*
 * A strategy restart in a level on its way down (a lower target, the
 * levels above still stopping) is held, not made and undone a moment
 * later; if the target rises again before the level went down, it is
 * made then.  An operator's restart there is refused.
 */
static void
test_restart_held_while_descending(void **state)
{
	int	a, b, c;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\nstrategy = one_for_all\nintensity = 5\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[process b]\nlevel = one\ncommand = /bin/b\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c\n");
	a = P("a"); b = P("b"); c = P("c");
	H.on_signal[a] = H.on_signal[c] = SIG_MANUAL;
	h_start(0);
	assert_int_equal(H.m.current, 2);

	advance_to(1000);
	h_exit(b, EXITED(1));
	assert_int_equal(count_signals(a, SIGTERM), 1);
	assert_int_equal(machine_set_target(&H.m, 0, H.now), 0);
	drain();
	assert_int_equal(H.m.levels[1].state, LEVEL_STOPPING);
	h_exit(a, SIGTERM);
	/* held: level one stops as soon as c is down */
	assert_int_equal(count_spawns(a), 1);
	assert_int_equal(count_spawns(b), 1);
	assert_int_equal(machine_restart_proc(&H.m, a, H.now), -1);
	drain();
	assert_int_equal(count_spawns(a), 1);

	/* the target rises again first: the restart is made now */
	assert_int_equal(machine_set_target(&H.m, 2, H.now), 0);
	drain();
	assert_int_equal(count_spawns(a), 2);
	assert_int_equal(count_spawns(b), 2);
	assert_int_equal(H.m.procs[a].state, PS_RUNNING);
	h_exit(c, SIGTERM);
	assert_int_equal(H.m.current, 2);

	/* the same again, and this time the level goes down */
	advance_to(2000);
	h_exit(b, EXITED(1));
	assert_int_equal(machine_set_target(&H.m, 0, H.now), 0);
	drain();
	h_exit(a, SIGTERM);
	assert_int_equal(count_spawns(a), 2);
	h_exit(c, SIGTERM);
	assert_int_equal(H.m.current, 0);
	assert_int_equal(H.m.levels[0].state, LEVEL_DOWN);
	assert_int_equal(count_spawns(a), 2);
	assert_int_equal(count_spawns(b), 2);
	assert_false(H.m.procs[a].restart_pending);
	assert_false(H.m.procs[b].restart_pending);
}

/*
 * A reload's changes roll through the stack in its order: the changed
 * processes are stopped top-down, each level once the one above is down,
 * then started bottom-up, each level once the one below is ready (or its
 * ready_timeout has passed).  New processes start in the same wave.
 */
#define ROLL_STACK(acmd, ccmd, extra) STACK_HDR \
	"[level one]\nready_timeout = 5s\n" \
	"[process a]\nlevel = one\ncommand = " acmd "\nready = notify\n" \
	"[level two]\n[process b]\nlevel = two\ncommand = /bin/b\n" \
	"[level three]\n[process c]\nlevel = three\ncommand = " ccmd "\n" \
	extra

static void
test_reload_rolls_top_down_then_bottom_up(void **state)
{
	int	a, b, c, d;
	size_t	mark;

	(void)state;
	nretired = 0;
	h_init(ROLL_STACK("/bin/a", "/bin/c", ""));
	a = P("a"); b = P("b"); c = P("c");
	H.on_signal[a] = H.on_signal[c] = SIG_MANUAL;
	h_start(0);
	h_ready(a);
	assert_int_equal(H.m.current, 3);

	advance_to(1000);
	mark = H.nlog;
	h_reload(ROLL_STACK("/bin/a --new", "/bin/c --new",
	    "[process d]\nlevel = two\ncommand = /bin/d\n"));
	h_reload_commit();
	d = P("d");
	/* c first; a, below, still runs; nothing starts yet */
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, c), 1);
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, a), 0);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 0);
	advance_to(1100);
	h_exit(c, SIGTERM);
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, a), 1);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 0);
	/* all down: a, the lowest, starts first and is waited for */
	advance_to(1200);
	h_exit(a, SIGTERM);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, a), 1);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 1);
	advance_to(2000);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 1);
	h_ready(a);
	/* then d (level two: b unchanged, untouched), then c */
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, d), 1);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, c), 1);
	assert_true(find_from(mark, ACT_SPAWN, ANY, d) <
	    find_from(mark, ACT_SPAWN, ANY, c));
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, b), 0);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, b), 0);
	assert_int_equal(H.m.procs[c].state, PS_RUNNING);
	assert_int_equal(H.m.rolling, 0);
	assert_int_equal(H.m.current, 3);
	/* a reload's restarts are not counted as the supervisor's */
	assert_int_equal(H.m.procs[a].restarts_total, 0);
	assert_int_equal(H.m.procs[c].restarts_total, 0);
	assert_int_equal(H.m.levels[0].intensity.n, 0);

	/* a never ready: the levels above start after its ready_timeout */
	mark = H.nlog;
	h_reload(ROLL_STACK("/bin/a --newer", "/bin/c --newer",
	    "[process d]\nlevel = two\ncommand = /bin/d\n"));
	h_reload_commit();
	h_exit(c, SIGTERM);
	h_exit(a, SIGTERM);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, a), 1);
	advance_to(H.now + 4999);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, c), 0);
	advance_to(H.now + 1);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, c), 1);
	assert_int_equal(H.m.procs[a].state, PS_STARTING);
	assert_int_equal(H.m.rolling, 0);
	assert_int_equal(machine_next_deadline(&H.m), MSEC_NEVER);
}

/*
 * The wait for a start that is not ready yet, while a level stops above:
 * no tick comes while the machine would leave the rollout alone (the
 * harness fails on a deadline that keeps coming back), and the wait ends
 * once the level is down.  A later reload's changes above a start that
 * is not ready yet still wait for it, until its ready_timeout.
 */
static void
test_reload_rollout_wait_and_busy_levels(void **state)
{
	int	a, b, c, d;
	size_t	mark;

	(void)state;
	nretired = 0;
	h_init(ROLL_STACK("/bin/a", "/bin/c",
	    "[level four]\n[process d]\nlevel = four\ncommand = /bin/d\n"));
	a = P("a"); b = P("b"); c = P("c"); d = P("d");
	H.on_signal[a] = H.on_signal[d] = SIG_MANUAL;
	h_start(0);
	h_ready(a);
	assert_int_equal(H.m.current, 4);
	mark = H.nlog;
	h_reload(ROLL_STACK("/bin/a --new", "/bin/c --new",
	    "[level four]\n[process d]\nlevel = four\ncommand = /bin/d\n"));
	h_reload_commit();
	/* c is stopped at once (SIG_EXITS), then a */
	h_exit(a, SIGTERM);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, a), 1);
	assert_int_equal(H.m.procs[c].rollout, ROLL_START);
	/* level four goes: busy for a while, past a's ready_timeout */
	assert_int_equal(machine_set_target(&H.m, 3, H.now), 0);
	drain();
	assert_int_equal(H.m.levels[3].state, LEVEL_STOPPING);
	advance_to(H.now + 20000);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, c), 0);
	h_exit(d, SIGTERM);
	/* down: a's wait is over, c starts */
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, c), 1);
	assert_int_equal(H.m.rolling, 0);

	/* a never got ready; a reload changing b ends any wait for it */
	mark = H.nlog;
	h_reload(ROLL_STACK("/bin/a --newer", "/bin/c --new",
	    "[level four]\n[process d]\nlevel = four\ncommand = /bin/d\n"));
	h_reload_commit();
	h_exit(a, SIGTERM);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, a), 1);
	assert_int_equal(H.m.procs[a].rollout, ROLL_STARTING);
	h_reload(STACK_HDR
	    "[level one]\nready_timeout = 5s\n"
	    "[process a]\nlevel = one\ncommand = /bin/a --newer\n"
	    "ready = notify\n"
	    "[level two]\n[process b]\nlevel = two\ncommand = /bin/b 2\n"
	    "[level three]\n[process c]\nlevel = three\n"
	    "command = /bin/c --new\n"
	    "[level four]\n[process d]\nlevel = four\ncommand = /bin/d\n");
	h_reload_commit();
	/* b, above a, is stopped (SIG_EXITS) and waits for a, at most
	 * until a's ready_timeout, which runs on from a's start */
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, b), 1);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, b), 0);
	advance_to(H.now + 4999);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, b), 0);
	advance_to(H.now + 1);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, b), 1);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, c), 0);
	assert_int_equal(H.m.procs[a].state, PS_STARTING);
	assert_int_equal(H.m.rolling, 0);
}

/*
 * A level that goes down during the rollout drops its share: nothing of
 * it is started again, and nothing climbs while the rollout runs.
 */
static void
test_reload_rollout_and_a_lower_target(void **state)
{
	int	a, c;
	size_t	mark;

	(void)state;
	nretired = 0;
	h_init(ROLL_STACK("/bin/a", "/bin/c", ""));
	a = P("a"); c = P("c");
	H.on_signal[a] = H.on_signal[c] = SIG_MANUAL;
	h_start(0);
	h_ready(a);
	mark = H.nlog;
	h_reload(ROLL_STACK("/bin/a --new", "/bin/c --new", ""));
	h_reload_commit();
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, c), 1);
	/* level three is to go: c's stop becomes the level's */
	assert_int_equal(machine_set_target(&H.m, 2, H.now), 0);
	drain();
	h_exit(c, SIGTERM);
	assert_int_equal(H.m.current, 2);
	assert_int_equal(count_since(mark, ACT_SIGNAL, ANY, a), 1);
	h_exit(a, SIGTERM);
	h_ready(a);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, c), 0);
	assert_int_equal(H.m.rolling, 0);
	/* raised again: level three climbs, c with the new file */
	assert_int_equal(machine_set_target(&H.m, 3, H.now), 0);
	drain();
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, c), 1);
	assert_int_equal(H.m.current, 3);
}

/*
 * A held restart of a process that a pending reload moves away must not
 * start the old one: its successor would run beside it.  (Found by
 * review: the old b was respawned when the target rose, then handed back
 * at the commit, unwaited, while the new b started.)
 */
static void
test_held_restart_of_a_process_the_reload_moves(void **state)
{
	int	a, b, c;
	size_t	mark;

	(void)state;
	nretired = 0;
	h_init(STACK_HDR
	    "[level one]\n[process x]\nlevel = one\ncommand = /bin/x\n"
	    "[level two]\nstrategy = one_for_all\n"
	    "[process a]\nlevel = two\ncommand = /bin/a\n"
	    "[process b]\nlevel = two\ncommand = /bin/b\n"
	    "[level three]\n[process c]\nlevel = three\ncommand = /bin/c\n");
	a = P("a"); b = P("b"); c = P("c");
	H.on_signal[a] = H.on_signal[c] = SIG_MANUAL;
	h_start(0);
	advance_to(1000);
	h_exit(b, EXITED(1));
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	h_exit(a, SIGTERM);
	assert_int_equal(count_spawns(b), 1);
	/* b moves to level one; level three renamed: the floor is 2 */
	h_reload(STACK_HDR
	    "[level one]\n[process x]\nlevel = one\ncommand = /bin/x\n"
	    "[process b]\nlevel = one\ncommand = /bin/b\n"
	    "[level two]\nstrategy = one_for_all\n"
	    "[process a]\nlevel = two\ncommand = /bin/a\n"
	    "[level three2]\n[process c]\nlevel = three2\n"
	    "command = /bin/c\n");
	assert_int_equal(machine_set_target(&H.m, 3, H.now), 0);
	drain();
	/* a is made again (it stays), the old b is not */
	assert_int_equal(count_spawns(a), 2);
	assert_int_equal(count_spawns(b), 1);
	h_exit(c, SIGTERM);
	mark = H.nlog;
	h_reload_commit();
	assert_int_equal(nretired, 0);
	/* the new b starts in level one */
	assert_int_equal(count_since(mark, ACT_SPAWN, 0, P("b")), 1);
	assert_int_equal(H.m.procs[P("b")].state, PS_RUNNING);
}

/*
 * A process that exits while its level is to go down: nothing counted,
 * its restart held and made if the target rises again first.  (Found by
 * review: it stayed exited in an up level, for good.)
 */
static void
test_exit_while_descending_then_target_rises(void **state)
{
	int	a, b, c;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\nstrategy = one_for_all\nintensity = 0\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[process b]\nlevel = one\ncommand = /bin/b\n"
	    "[process t]\nlevel = one\ncommand = /bin/t\n"
	    "restart = temporary\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c\n");
	a = P("a"); b = P("b"); c = P("c");
	H.on_signal[c] = SIG_MANUAL;
	h_start(0);
	advance_to(1000);
	assert_int_equal(machine_set_target(&H.m, 0, H.now), 0);
	drain();
	h_exit(P("t"), EXITED(1));
	h_exit(b, EXITED(1));
	/* held; one_for_all stopped a (SIG_EXITS) as it would when up */
	assert_int_equal(count_spawns(b), 1);
	assert_int_equal(count_spawns(a), 1);
	assert_int_equal(H.m.levels[0].intensity.n, 0);
	assert_int_equal(machine_set_target(&H.m, 2, H.now), 0);
	drain();
	assert_int_equal(count_spawns(a), 2);
	assert_int_equal(count_spawns(b), 2);
	assert_int_equal(H.m.procs[b].state, PS_RUNNING);
	/* temporary: not restarted, held or not */
	assert_int_equal(H.m.procs[P("t")].state, PS_EXITED);
	assert_int_equal(count_spawns(P("t")), 1);
	h_exit(c, SIGTERM);
	advance_to(60000);
	assert_int_equal(H.m.current, 2);
	assert_int_equal(H.m.levels[0].failures_total, 0);
}

#define ONE_A	STACK_HDR "[level one]\n" \
	"[process a]\nlevel = one\ncommand = /bin/a\n"

/*
 * stackctl restart of a process that the pending reload removes, while
 * the reload still waits for another removed process (u) to stop: it is
 * refused, as for a live one (p->retiring).  It used to start t, handed
 * back at the commit for the daemon to kill.  Found by test_chaos.c.
 */
static void
test_restart_of_a_process_the_reload_removes(void **state)
{
	int	t, u;

	(void)state;
	nretired = 0;
	h_init(ONE_A "[process t]\nlevel = one\ncommand = /bin/t\n"
	    "restart = temporary\n"
	    "[process u]\nlevel = one\ncommand = /bin/u\n");
	h_start(0);
	t = P("t");
	u = P("u");
	H.on_signal[u] = SIG_MANUAL;		/* u takes its time to stop */
	h_exit(t, EXITED(0));			/* temporary: stays down */
	h_reload(ONE_A);			/* t and u removed */
	assert_false(machine_reload_due(&H.m));	/* u is stopping */
	assert_int_equal(machine_restart_proc(&H.m, t, H.now), -1);
	drain();
	assert_int_equal(count_spawns(t), 1);
	h_exit(u, SIGTERM);
	h_reload_commit();
	assert_int_equal(nretired, 0);
}

/*
 * The same with a move: t goes to level two, which is up.  A restarted
 * old t would run in level one while the commit starts the new t in level
 * two, until the daemon's retire() had killed the old one.
 */
static void
test_restart_of_a_process_the_reload_moves(void **state)
{
	int	t, u;

	(void)state;
	nretired = 0;
	h_init(ONE_A "[process t]\nlevel = one\ncommand = /bin/t\n"
	    "restart = temporary\n"
	    "[process u]\nlevel = one\ncommand = /bin/u\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c\n");
	h_start(0);
	assert_int_equal(H.m.current, 2);
	t = P("t");
	u = P("u");
	H.on_signal[u] = SIG_MANUAL;
	h_exit(t, EXITED(0));
	h_reload(ONE_A "[level two]\n[process c]\nlevel = two\n"
	    "command = /bin/c\n"
	    "[process t]\nlevel = two\ncommand = /bin/t\n"
	    "restart = temporary\n");		/* t moved, u removed */
	assert_int_equal(machine_restart_proc(&H.m, t, H.now), -1);
	drain();
	h_exit(u, SIGTERM);
	h_reload_commit();
	assert_int_equal(nretired, 0);
	assert_true(H.pid[P("t")] != 0);	/* the new t, in level two */
}

/*
 * A changed temporary process that exits on its own before the rollout
 * reaches its level stays exited, as it would after its restart.  (Found
 * by review: the rollout started it again.)
 */
static void
test_rollout_leaves_an_exited_temporary_alone(void **state)
{
	int	a, b;
	size_t	mark;

	(void)state;
	nretired = 0;
	h_init(STACK_HDR "[level one]\n[process a]\nlevel = one\n"
	    "command = /bin/a\nrestart = temporary\n"
	    "[level two]\n[process b]\nlevel = two\ncommand = /bin/b\n");
	a = P("a"); b = P("b");
	H.on_signal[b] = SIG_MANUAL;
	h_start(0);
	mark = H.nlog;
	h_reload(STACK_HDR "[level one]\n[process a]\nlevel = one\n"
	    "command = /bin/a --v2\nrestart = temporary\n"
	    "[level two]\n[process b]\nlevel = two\n"
	    "command = /bin/b --v2\n");
	h_reload_commit();
	h_exit(a, EXITED(0));
	h_exit(b, SIGTERM);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, a), 0);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, b), 1);
	assert_int_equal(H.m.procs[a].state, PS_EXITED);
	assert_int_equal(H.m.rolling, 0);
}

/*
 * `ready` and `restart` agree: a level above the limit (the target was
 * lowered, the levels above it still stop) no longer counts as up.
 */
static void
test_up_level_stops_at_the_limit(void **state)
{
	(void)state;
	h_init(STACK_HDR "[level one]\n[process a]\nlevel = one\n"
	    "command = /bin/a\n[level two]\n[process b]\nlevel = two\n"
	    "command = /bin/b\n[level three]\n[process c]\nlevel = three\n"
	    "command = /bin/c\n");
	H.on_signal[P("c")] = SIG_MANUAL;
	h_start(0);
	assert_int_equal(machine_up_level(&H.m), 3);
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	assert_int_equal(H.m.current, 3);
	assert_int_equal(machine_up_level(&H.m), 1);
	assert_int_equal(machine_restart_proc(&H.m, P("b"), H.now), -1);
	h_exit(P("c"), SIGTERM);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(machine_set_target(&H.m, 3, H.now), 0);
	drain();
	assert_int_equal(machine_up_level(&H.m), 3);
}

/*
 * A reload moves p away (retiring it: it is being stopped), a second one
 * puts it back before the first is in force.  p is still the retiring one
 * until the commit starts it anew: stackctl restart must not start it
 * meanwhile.  (Found by test_chaos, seed 3178: the restarted old p ran
 * beside the new one, its pid handed back at the commit.)
 */
static void
test_restart_of_a_process_a_superseded_reload_moved(void **state)
{
	int	p;
	size_t	mark;

	(void)state;
	nretired = 0;
	h_init(STACK_HDR "[level one]\n[process p]\nlevel = one\n"
	    "command = /bin/p\n[level two]\n[process q]\nlevel = two\n"
	    "command = /bin/q\n");
	p = P("p");
	H.on_signal[p] = SIG_MANUAL;
	h_start(0);
	h_reload(STACK_HDR "[level one]\n[level two]\n[process p]\n"
	    "level = two\ncommand = /bin/p\n[process q]\nlevel = two\n"
	    "command = /bin/q\n");
	assert_true(H.m.procs[p].retiring);
	h_reload(STACK_HDR "[level one]\n[process p]\nlevel = one\n"
	    "command = /bin/p\n[level two]\n[process q]\nlevel = two\n"
	    "command = /bin/q\n");
	assert_int_equal(machine_restart_proc(&H.m, p, H.now), -1);
	drain();
	mark = H.nlog;
	h_exit(p, SIGTERM);
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, p), 0);
	h_reload_commit();
	assert_int_equal(nretired, 0);
	/* the commit starts p anew, once */
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, P("p")), 1);
	assert_int_equal(H.m.procs[P("p")].state, PS_RUNNING);
}

/* A climb abandoned for a lower target is a descent, not a retry. */
static void
test_abandoned_climb_is_descending(void **state)
{
	(void)state;
	nretired = 0;
	h_init(STACK_HDR "[level one]\n[process a]\nlevel = one\n"
	    "command = /bin/a\n[level two]\nready_timeout = 10s\n"
	    "[process w]\nlevel = two\ncommand = /bin/w\nready = notify\n");
	H.on_signal[P("w")] = SIG_MANUAL;
	h_start(0);
	assert_int_equal(H.m.levels[1].state, LEVEL_CLIMBING);
	assert_string_equal(machine_state_name(&H.m, H.now), "climbing");
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	assert_int_equal(H.m.levels[1].state, LEVEL_STOPPING);
	assert_string_equal(machine_state_name(&H.m, H.now), "descending");
	h_exit(P("w"), SIGTERM);
	assert_string_equal(machine_state_name(&H.m, H.now), "up");
}

/* A level or process rebuilt by a reload keeps its counters under its
 * name: metrics must not drop to 0 as if stackd had restarted. */
static void
test_reload_keeps_counters(void **state)
{
	(void)state;
	h_start_reload_stack();
	h_exit(P("c"), EXITED(1));
	assert_int_equal(H.m.procs[P("c")].restarts_total, 1);
	assert_int_equal(H.m.levels[1].climb_attempts_total, 1);
	h_reload(RL_ONE "[level mid]\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c\n");
	h_reload_commit();
	advance_by(10);
	assert_int_equal(H.m.current, 3);
	/* the old attempt and the climb after the reload */
	assert_int_equal(H.m.levels[2].climb_attempts_total, 2);
	assert_int_equal(H.m.procs[P("c")].restarts_total, 1);
}

/* A reload that lowers retry_max cuts a wait already scheduled. */
static void
test_reload_cuts_the_backoff(void **state)
{
#define RB_LEVELS "[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n" \
	"[level two]\nready_timeout = 1s\n[process w]\nlevel = two\n" \
	"command = /bin/w\nready = notify\n"
	(void)state;
	nretired = 0;
	h_init("[stack]\nalarm_after = 0\nretry_min = 20s\nretry_max = 60s\n"
	    RB_LEVELS);
	h_start(0);
	run_until(level_down_one, 5000);	/* w never ready: failed */
	assert_true(H.m.retry_at >= H.now + 15000);
	h_reload("[stack]\nalarm_after = 0\nretry_min = 200ms\n"
	    "retry_max = 1s\n" RB_LEVELS);
	h_reload_commit();
	assert_true(H.m.retry_at <= H.now + 1000);
	assert_true(H.m.backoff <= 1000);
	advance_by(1000);
	assert_int_equal(count_spawns(P("w")), 2);
#undef RB_LEVELS
}

/* The target across reloads: the file's "top" (also unset) follows the
 * levels; an operator's target stays unless the file's target changed. */
static void
test_reload_target(void **state)
{
	(void)state;
	h_start_reload_stack();
	/* no stackctl target: a level added on top is climbed */
	h_reload(RL_ONE "[level two]\n[process c]\nlevel = two\n"
	    "command = /bin/c\n[level three]\n");
	h_reload_commit();
	assert_int_equal(H.m.target, 3);
	advance_by(10);
	assert_int_equal(H.m.current, 3);
	/* the operator's target survives a reload that adds a level */
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	h_reload(RL_ONE "[level two]\n[process c]\nlevel = two\n"
	    "command = /bin/c\n[level three]\n[level four]\n");
	h_reload_commit();
	assert_int_equal(H.m.target, 1);
	/* ... but not one that changes the file's target */
	h_reload(STACK_HDR "target = 2\n[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[process b]\nlevel = one\ncommand = /bin/b\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c\n"
	    "[level three]\n[level four]\n");
	h_reload_commit();
	assert_int_equal(H.m.target, 2);
}

static void
test_reload_level_sequence(void **state)
{
	pid_t	apid;
	size_t	mark;

	(void)state;
	nretired = 0;
	h_init(STACK_HDR "[level one]\non_down = /bin/echo\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\non_down = /bin/echo\n"
	    "[process c]\nlevel = two\ncommand = /bin/c\n");
	H.on_signal[P("c")] = SIG_MANUAL;
	h_start(0);
	apid = H.pid[P("a")];
	mark = H.nlog;
	/* a level inserted below two: two comes down first */
	h_reload(STACK_HDR "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level mid]\n[process m]\nlevel = mid\ncommand = /bin/m\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c\n");
	assert_false(machine_reload_due(&H.m));
	assert_int_equal(H.m.levels[1].state, LEVEL_STOPPING);
	/* nothing climbs while the reload waits */
	advance_by(5000);
	assert_false(machine_reload_due(&H.m));
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, ANY), 0);
	h_exit(P("c"), SIGTERM);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(count_hooks(1, HOOK_DOWN), 1);
	h_reload_commit();
	assert_int_equal(nretired, 0);
	assert_int_equal(H.cfg->nlevels, 3);
	advance_by(10);
	assert_int_equal(H.m.current, 3);
	assert_int_equal(H.pid[P("a")], apid);
	assert_true(find_from(mark, ACT_SPAWN, 1, P("m")) >= 0);
	assert_true(find_from(mark, ACT_SPAWN, 1, P("m")) <
	    find_from(mark, ACT_SPAWN, 2, P("c")));
	assert_int_equal(count_signals(P("a"), ANY), 0);
}

/* The top level failing rewinds only itself. */
static void
test_top_level_fails(void **state)
{
	int	a, b;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\nintensity = 0\non_down = /bin/echo\n"
	    "[process b]\nlevel = two\ncommand = /bin/b\n");
	a = P("a"); b = P("b");
	h_start(0);
	advance_to(500);
	h_exit(b, EXITED(3));
	assert_int_equal(H.m.current, 1);
	assert_int_equal(count_signals(a, ANY), 0);
	assert_int_equal(count_hooks(1, HOOK_DOWN), 1);
	assert_int_equal(H.m.levels[1].failures_total, 1);
	assert_int_equal(H.m.retry_at, 1500);
	advance_to(1500);
	assert_int_equal(count_spawns(b), 2);
	assert_int_equal(H.m.current, 2);
}

/* --- 9. oneshot ---------------------------------------------------------- */

static void
test_oneshot(void **state)
{
	int	a, init;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[process init]\nlevel = one\ntype = oneshot\ncommand = /bin/init\n");
	a = P("a"); init = P("init");
	h_start(0);
	/* a is ready, init still running: not up */
	assert_int_equal(H.m.procs[a].state, PS_RUNNING);
	assert_int_equal(H.m.procs[init].state, PS_STARTING);
	assert_int_equal(H.m.levels[0].state, LEVEL_CLIMBING);
	advance_to(500);
	assert_int_equal(H.m.current, 0);

	/* a non-zero exit fails the attempt */
	h_exit(init, EXITED(2));
	assert_int_equal(H.m.procs[init].state, PS_EXITED);
	assert_int_equal(count_signals(a, SIGTERM), 1);
	assert_int_equal(H.m.levels[0].state, LEVEL_DOWN);
	assert_int_equal(H.m.current, 0);
	assert_int_equal(H.m.levels[0].failures_total, 1);
	assert_int_equal(H.m.failed_climbs, 1);
	assert_int_equal(H.m.retry_at, 1500);
	assert_non_null(strstr(H.m.last_failure, "init"));
	/* restart does not apply to a oneshot: not respawned in place */
	assert_int_equal(count_spawns(init), 1);

	/* the next attempt runs it again; killed by a signal also fails */
	advance_to(1500);
	assert_int_equal(count_spawns(init), 2);
	assert_int_equal(count_spawns(a), 2);
	advance_to(1600);
	h_exit(init, SIGKILL);
	assert_int_equal(H.m.current, 0);
	assert_int_equal(H.m.levels[0].failures_total, 2);

	/* third attempt: exit 0 makes the level ready */
	run_until_climbing(0, 100000);
	h_exit(init, EXITED(0));
	assert_int_equal(H.m.procs[init].state, PS_DONE);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.failed_climbs, 2);	/* until stable */
	/* and it is not run again while the level stays up */
	advance_by(60000);
	assert_int_equal(count_spawns(init), 3);
	assert_int_equal(H.m.current, 1);
}

/* --- 10. longrun exit during a climb ------------------------------------- */

static void
test_longrun_exit_during_climb(void **state)
{
	int	a, b, base;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n[process base]\nlevel = one\ncommand = /bin/base\n"
	    "[level two]\n"
	    "[process a]\nlevel = two\ncommand = /bin/a\nready = notify\n"
	    "[process b]\nlevel = two\ncommand = /bin/b\nready = notify\n"
	    "stop_signal = USR1\n");
	a = P("a"); b = P("b"); base = P("base");
	h_start(0);
	assert_int_equal(H.m.current, 1);
	advance_to(200);
	h_ready(b);
	/* even exit 0 of a permanent longrun fails the attempt */
	h_exit(a, EXITED(0));
	assert_int_equal(count_spawns(a), 1);
	assert_int_equal(count_signals(b, SIGUSR1), 1);
	assert_int_equal(H.m.levels[1].state, LEVEL_DOWN);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.levels[1].failures_total, 1);
	assert_int_equal(H.m.failed_climbs, 1);
	assert_int_equal(H.m.retry_at, 1200);
	assert_int_equal(count_signals(base, ANY), 0);
	assert_non_null(strstr(H.m.last_failure, "a"));

	/* an exec failure during the climb fails it too */
	H.exec_fail[b] = true;
	advance_to(1200);
	assert_int_equal(count_spawns(a), 2);
	assert_int_equal(count_spawns(b), 2);
	assert_int_equal(H.m.levels[1].failures_total, 2);
	assert_int_equal(H.m.levels[1].state, LEVEL_DOWN);
	assert_int_equal(count_signals(a, SIGTERM), 1);
	assert_int_equal(H.m.current, 1);
}

/* --- 11. level probes while up ------------------------------------------- */

static void
test_level_probe_while_up(void **state)
{
	int	a, l;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n"
	    "probe = /bin/check\n"
	    "probe_interval = 1s\n"
	    "failure_threshold = 3\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n");
	a = P("a"); l = L("one");
	H.lprobe[l] = PR_MANUAL;
	h_start(0);
	advance_to(0);
	h_probe(l, -1, true);
	assert_int_equal(H.m.current, 1);

	/* fail, fail, ok, fail, fail: still up */
	advance_to(999);
	assert_false(H.lprobe_pending[l]);
	advance_to(1000);
	h_probe(l, -1, false);
	assert_int_equal(H.m.levels[l].probe_failures, 1);
	advance_to(2000);
	h_probe(l, -1, false);
	assert_int_equal(H.m.levels[l].probe_failures, 2);
	advance_to(3000);
	h_probe(l, -1, true);
	assert_int_equal(H.m.levels[l].probe_failures, 0);
	advance_to(4000);
	h_probe(l, -1, false);
	advance_to(5000);
	h_probe(l, -1, false);
	assert_int_equal(H.m.levels[l].probe_failures, 2);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(count_signals(a, ANY), 0);
	assert_int_equal(count_act(ACT_PROBE, l, -1), 6);

	/* the third in a row fails the level */
	advance_to(6000);
	h_probe(l, -1, false);
	assert_int_equal(count_signals(a, SIGTERM), 1);
	assert_int_equal(H.m.current, 0);
	assert_int_equal(H.m.levels[l].state, LEVEL_DOWN);
	assert_int_equal(H.m.levels[l].failures_total, 1);
	assert_non_null(strstr(H.m.last_failure, "probe"));
	assert_int_equal(H.m.retry_at, 7000);
	assert_false(H.lprobe_pending[l]);
	/* no probes while down */
	advance_to(6999);
	assert_int_equal(count_act(ACT_PROBE, l, -1), 7);
	/* climbing again */
	advance_to(7000);
	assert_int_equal(count_spawns(a), 2);
	assert_true(H.lprobe_pending[l]);
	h_probe(l, -1, true);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.levels[l].probe_failures, 0);
}

/* A level probe still running when the level is stopped is cancelled. */
static void
test_level_probe_cancelled(void **state)
{
	int	l;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\nprobe = /bin/check\nprobe_interval = 1s\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n");
	l = L("one");
	h_start(0);
	advance_to(0);
	assert_int_equal(H.m.current, 1);
	H.lprobe[l] = PR_MANUAL;
	advance_to(1000);
	assert_true(H.lprobe_pending[l]);
	assert_int_equal(machine_set_target(&H.m, 0, H.now), 0);
	drain();
	assert_int_equal(count_act(ACT_PROBE_CANCEL, l, -1), 1);
	assert_false(H.lprobe_pending[l]);
	assert_int_equal(H.m.current, 0);
	/* a late result is ignored */
	machine_probe_done(&H.m, l, -1, false, 0, 5, H.now);
	drain();
	assert_int_equal(H.m.levels[l].failures_total, 0);
	assert_int_equal(H.m.levels[l].state, LEVEL_DOWN);
}

/* --- 12. target ---------------------------------------------------------- */

static void
test_target(void **state)
{
	int	a, b, c;
	size_t	mark;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\n[process b]\nlevel = two\ncommand = /bin/b\n"
	    "[level three]\n[process c]\nlevel = three\ncommand = /bin/c\n");
	a = P("a"); b = P("b"); c = P("c");
	H.on_signal[b] = H.on_signal[c] = SIG_MANUAL;
	h_start(0);
	assert_int_equal(H.m.current, 3);
	assert_int_equal(machine_set_target(&H.m, -1, 0), -1);
	assert_int_equal(machine_set_target(&H.m, 4, 0), -1);
	drain();
	assert_int_equal(H.m.target, 3);

	/* lower: three stops first, two only once three is down */
	advance_to(1000);
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	assert_int_equal(count_signals(c, SIGTERM), 1);
	assert_int_equal(count_signals(b, ANY), 0);
	assert_int_equal(H.m.levels[2].state, LEVEL_STOPPING);
	advance_to(1100);
	h_exit(c, SIGTERM);
	assert_int_equal(H.m.current, 2);
	assert_int_equal(count_signals(b, SIGTERM), 1);
	h_exit(b, SIGTERM);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.levels[0].state, LEVEL_UP);
	assert_int_equal(count_signals(a, ANY), 0);
	/* a descent is not a failure */
	assert_int_equal(H.m.levels[1].failures_total, 0);
	assert_int_equal(H.m.levels[2].failures_total, 0);
	assert_int_equal(H.m.last_failure[0], '\0');
	advance_to(60000);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(count_spawns(b), 1);

	/* higher: climbs at once */
	mark = H.nlog;
	assert_int_equal(machine_set_target(&H.m, 3, H.now), 0);
	drain();
	assert_int_equal(H.m.current, 3);
	assert_true(find_from(mark, ACT_SPAWN, 1, b) <
	    find_from(mark, ACT_SPAWN, 2, c));

	/* 0: everything down, and stackd keeps running */
	H.on_signal[b] = H.on_signal[c] = SIG_EXITS;
	mark = H.nlog;
	assert_int_equal(machine_set_target(&H.m, 0, H.now), 0);
	drain();
	assert_true(find_from(mark, ACT_SIGNAL, 2, c) <
	    find_from(mark, ACT_SIGNAL, 1, b));
	assert_true(find_from(mark, ACT_SIGNAL, 1, b) <
	    find_from(mark, ACT_SIGNAL, 0, a));
	assert_int_equal(H.m.current, 0);
	assert_int_equal(H.m.levels[0].state, LEVEL_DOWN);
	advance_to(120000);
	assert_int_equal(count_act(ACT_EXIT, ANY, ANY), 0);
	assert_false(H.m.exit_sent);
	assert_int_equal(H.m.current, 0);
	assert_int_equal(count_spawns(a), 1);
}

/* Lowering the target while the level above is climbing abandons the
 * climb without counting a failure. */
static void
test_target_abandons_climb(void **state)
{
	int	b;

	(void)state;
	h_init(STACK_HDR
	    "give_up_after = 1\n"
	    "[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\n[process b]\nlevel = two\ncommand = /bin/b\n"
	    "ready = notify\n");
	b = P("b");
	h_start(0);
	assert_int_equal(H.m.levels[1].state, LEVEL_CLIMBING);
	advance_to(100);
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	assert_int_equal(count_signals(b, SIGTERM), 1);
	assert_int_equal(H.m.levels[1].state, LEVEL_DOWN);
	assert_int_equal(H.m.levels[1].failures_total, 0);
	assert_int_equal(H.m.failed_climbs, 0);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(count_hooks(1, HOOK_DOWN), 0);
	assert_int_equal(H.nexit, 0);
}

/* --- 13. shutdown -------------------------------------------------------- */

static void
test_shutdown(void **state)
{
	int	a, b;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\non_down = /bin/echo\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\non_down = /bin/echo\n"
	    "[process b]\nlevel = two\ncommand = /bin/b\n");
	a = P("a"); b = P("b");
	H.on_signal[a] = H.on_signal[b] = SIG_MANUAL;
	h_start(0);
	assert_int_equal(H.m.current, 2);
	advance_to(1000);
	machine_shutdown(&H.m, H.now);
	drain();
	assert_int_equal(count_signals(b, SIGTERM), 1);
	assert_int_equal(count_signals(a, ANY), 0);
	assert_int_equal(H.nexit, 0);
	advance_to(1500);
	h_exit(b, SIGTERM);
	assert_int_equal(count_hooks(1, HOOK_DOWN), 1);
	assert_int_equal(count_signals(a, SIGTERM), 1);
	assert_int_equal(H.nexit, 0);
	advance_to(2000);
	h_exit(a, EXITED(0));
	assert_int_equal(H.m.current, 0);
	assert_int_equal(count_hooks(0, HOOK_DOWN), 1);
	assert_int_equal(H.nexit, 1);
	assert_int_equal(H.exit_code, 0);
	assert_true(find_hook(0, HOOK_DOWN) <
	    find_act(ACT_EXIT, ANY, ANY));
	/* nothing climbs again, EXIT is not repeated */
	advance_to(120000);
	assert_int_equal(H.nexit, 1);
	assert_int_equal(count_spawns(a), 1);
	assert_int_equal(machine_next_deadline(&H.m), MSEC_NEVER);
	/* target can no longer be changed */
	assert_int_equal(machine_set_target(&H.m, 2, H.now), -1);
}

static void
test_shutdown_twice(void **state)
{
	int	a, b;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\n[process b]\nlevel = two\ncommand = /bin/b\n"
	    "[process b2]\nlevel = two\ncommand = /bin/b2\n");
	a = P("a"); b = P("b");
	H.on_signal[a] = H.on_signal[b] = SIG_KILL_ONLY;
	h_start(0);
	advance_to(1000);
	machine_shutdown(&H.m, H.now);
	drain();
	assert_int_equal(count_signals(b, SIGTERM), 1);
	assert_int_equal(H.m.levels[1].state, LEVEL_STOPPING);
	advance_to(1500);
	/* the second request: SIGKILL now, not after stop_timeout */
	machine_shutdown(&H.m, H.now);
	drain();
	assert_int_equal(count_signals(b, SIGKILL), 1);
	assert_int_equal(last_time(ACT_SIGNAL, 1, b), 1500);
	/* and level one gets no grace either */
	assert_int_equal(last_signal(a), SIGKILL);
	assert_int_equal(count_signals(a, SIGTERM), 0);
	assert_int_equal(H.m.current, 0);
	assert_int_equal(H.nexit, 1);
	assert_int_equal(H.exit_code, 0);
	/* a third request changes nothing */
	machine_shutdown(&H.m, H.now);
	drain();
	assert_int_equal(H.nexit, 1);
	assert_int_equal(count_signals(b, SIGKILL), 1);
}

/* Shutdown during a climb: the climb is abandoned, all goes down. */
static void
test_shutdown_during_climb(void **state)
{
	int	a, b;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\n[process b]\nlevel = two\ncommand = /bin/b\n"
	    "ready = notify\n");
	a = P("a"); b = P("b");
	H.on_signal[b] = SIG_MANUAL;
	h_start(0);
	assert_int_equal(H.m.levels[1].state, LEVEL_CLIMBING);
	machine_shutdown(&H.m, 10);
	H.now = 10;
	drain();
	assert_int_equal(count_signals(b, SIGTERM), 1);
	assert_int_equal(count_signals(a, ANY), 0);
	h_exit(b, SIGTERM);
	assert_int_equal(count_signals(a, SIGTERM), 1);
	assert_int_equal(H.nexit, 1);
	assert_int_equal(H.exit_code, 0);
	assert_int_equal(H.m.levels[1].failures_total, 0);
}

/* At level 0 (target 0) a shutdown exits at once. */
static void
test_shutdown_at_zero(void **state)
{
	(void)state;
	h_init(STACK_HDR "target = 0\n"
	    "[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n");
	h_start(0);
	assert_int_equal(count_spawns(P("a")), 0);
	assert_int_equal(H.nexit, 0);
	assert_int_equal(machine_next_deadline(&H.m), MSEC_NEVER);
	machine_shutdown(&H.m, 5);
	drain();
	assert_int_equal(H.nexit, 1);
	assert_int_equal(H.exit_code, 0);
	assert_int_equal(count_act(ACT_SIGNAL, ANY, ANY), 0);
}

/* --- 14. give_up_after --------------------------------------------------- */

static void
test_give_up(void **state)
{
	int	a, b;

	(void)state;
	h_init(STACK_HDR
	    "give_up_after = 2\n"
	    "[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\nready_timeout = 1s\n"
	    "[process b]\nlevel = two\ncommand = /bin/b\nready = notify\n");
	a = P("a"); b = P("b");
	h_start(0);
	advance_to(1000);
	assert_int_equal(H.m.failed_climbs, 1);
	assert_int_equal(H.nexit, 0);
	assert_int_equal(count_signals(a, ANY), 0);
	assert_int_equal(H.m.current, 1);
	advance_to(2000);
	assert_int_equal(count_spawns(b), 2);
	advance_to(2999);
	assert_int_equal(H.nexit, 0);
	advance_to(3000);
	assert_int_equal(H.m.failed_climbs, 2);
	/* everything stopped, then exit 3 */
	assert_int_equal(count_signals(b, SIGTERM), 2);
	assert_int_equal(count_signals(a, SIGTERM), 1);
	assert_int_equal(H.m.current, 0);
	assert_int_equal(H.nexit, 1);
	assert_int_equal(H.exit_code, 3);
	assert_true(find_act(ACT_SIGNAL, 0, a) < find_act(ACT_EXIT, ANY, ANY));
	advance_to(100000);
	assert_int_equal(H.nexit, 1);
	assert_int_equal(count_spawns(b), 2);
	assert_int_equal(count_spawns(a), 1);
}

#define GIVE_UP_CONF \
	STACK_HDR \
	"give_up_after = 2\n" \
	"[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n" \
	"[level two]\nready_timeout = 1s\nintensity = 0\n" \
	"[process b]\nlevel = two\ncommand = /bin/b\nready = notify\n"

/* Failed climbs must be consecutive: a level that stays up for retry_max
 * resets the count, and its later failure is no failed climb. */
static void
test_give_up_consecutive(void **state)
{
	int	b;

	(void)state;
	h_init(GIVE_UP_CONF);
	b = P("b");
	h_start(0);
	advance_to(1000);
	assert_int_equal(H.m.failed_climbs, 1);
	run_until_climbing(1, 10000);
	h_ready(b);
	assert_int_equal(H.m.current, 2);
	advance_by(8000);		/* retry_max */
	h_exit(b, EXITED(1));		/* fails after a stable spell */
	assert_int_equal(H.m.failed_climbs, 0);
	assert_int_equal(H.m.current, 1);
	run_until_climbing(1, 100000);
	advance_by(1000);		/* times out */
	assert_int_equal(H.m.failed_climbs, 1);
	assert_int_equal(H.nexit, 0);
	assert_int_equal(H.m.current, 1);
}

/* A level that comes up and falls at once is a failed climb: a flapping
 * level cannot keep give_up_after from ever firing. */
static void
test_give_up_on_quick_falls(void **state)
{
	int	b;

	(void)state;
	h_init(GIVE_UP_CONF);
	b = P("b");
	h_start(0);
	run_until_climbing(1, 10000);
	h_ready(b);
	assert_int_equal(H.m.current, 2);
	advance_by(10);
	h_exit(b, EXITED(1));
	assert_int_equal(H.m.failed_climbs, 1);
	assert_int_equal(H.nexit, 0);
	run_until_climbing(1, 100000);
	h_ready(b);
	advance_by(10);
	h_exit(b, EXITED(1));
	assert_int_equal(H.m.failed_climbs, 2);
	drain();
	assert_int_equal(H.nexit, 1);
	assert_int_equal(H.exit_code, 3);
}

/* --- 15. alarm ----------------------------------------------------------- */

#define ALARM_CONF(after) \
	"[stack]\nalarm_after = " after "\nretry_min = 1s\nretry_max = 2s\n" \
	"on_alarm = /bin/page\n" \
	"[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n" \
	"[level two]\nready_timeout = 2s\n" \
	"[process b]\nlevel = two\ncommand = /bin/b\nready = notify\n"

static void
test_alarm(void **state)
{
	int	b;

	(void)state;
	h_init(ALARM_CONF("5s"));
	b = P("b");
	h_start(0);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.below_since, 0);
	advance_to(4999);
	assert_false(H.m.alarm);
	assert_int_equal(count_hooks(ANY, HOOK_ALARM), 0);
	advance_to(5000);
	assert_true(H.m.alarm);
	assert_int_equal(count_hooks(ANY, HOOK_ALARM), 1);
	assert_int_equal(last_time(ACT_HOOK, ANY, -1), 5000);
	/* raised once, not at every tick */
	advance_to(20000);
	assert_true(H.m.alarm);
	assert_int_equal(count_hooks(ANY, HOOK_ALARM), 1);
	assert_int_equal(count_hooks(ANY, HOOK_ALARM_CLEARED), 0);
	/* reaching the target clears it */
	run_until_climbing(1, 100000);
	h_ready(b);
	assert_int_equal(H.m.current, 2);
	assert_false(H.m.alarm);
	assert_int_equal(count_hooks(ANY, HOOK_ALARM_CLEARED), 1);
	assert_int_equal(H.m.below_since, MSEC_NEVER);
	assert_true(find_hook(ANY, HOOK_ALARM) <
	    find_hook(ANY, HOOK_ALARM_CLEARED));
	advance_by(60000);
	assert_int_equal(count_hooks(ANY, HOOK_ALARM_CLEARED), 1);
	assert_int_equal(count_hooks(ANY, HOOK_ALARM), 1);
}

/* Below target only briefly (less than alarm_after) raises nothing; the
 * time below is counted afresh after the target was reached. */
static void
test_alarm_resets(void **state)
{
	int	b;

	(void)state;
	h_init(ALARM_CONF("5s"));
	b = P("b");
	h_start(0);
	advance_to(3000);
	h_ready(b);
	assert_int_equal(H.m.current, 2);
	assert_false(H.m.alarm);
	/* fall at 4000 */
	advance_to(4000);
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	assert_int_equal(machine_set_target(&H.m, 2, H.now), 0);
	drain();
	assert_int_equal(H.m.below_since, 4000);
	advance_to(8999);
	assert_false(H.m.alarm);
	advance_to(9000);
	assert_true(H.m.alarm);
	assert_int_equal(count_hooks(ANY, HOOK_ALARM), 1);
}

static void
test_alarm_disabled(void **state)
{
	(void)state;
	h_init(ALARM_CONF("0"));
	h_start(0);
	advance_to(600000);
	assert_false(H.m.alarm);
	assert_int_equal(count_hooks(ANY, HOOK_ALARM), 0);
	assert_int_equal(H.m.current, 1);
	assert_true(H.m.levels[1].failures_total > 10);
}

/*
 * Giving up is not reaching the target: an alarm that was raised must not
 * be reported as cleared (on_alarm with STACKD_EVENT=alarm_cleared, "alarm
 * cleared: level N reached") when stackd stops everything to exit 3.
 */
static void
test_alarm_not_cleared_by_give_up(void **state)
{
	(void)state;
	h_init("[stack]\nalarm_after = 1500ms\nretry_min = 1s\n"
	    "retry_max = 1s\ngive_up_after = 3\non_alarm = /bin/page\n"
	    "[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\nready_timeout = 1s\n"
	    "[process b]\nlevel = two\ncommand = /bin/b\nready = notify\n");
	h_start(0);
	advance_to(1500);
	assert_true(H.m.alarm);
	assert_int_equal(count_hooks(ANY, HOOK_ALARM), 1);
	advance_to(100000);
	assert_int_equal(H.nexit, 1);
	assert_int_equal(H.exit_code, 3);
	assert_int_equal(H.m.current, 0);
	/* BUG: machine_alarm() treats shutting_down as "not below target"
	 * and emits HOOK_ALARM_CLEARED while giving up. */
	assert_int_equal(count_hooks(ANY, HOOK_ALARM_CLEARED), 0);
}

/* --- 16. process probe --------------------------------------------------- */

static void
test_process_probe(void **state)
{
	int	a, l;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\nprobe_interval = 1s\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\nready = probe\n"
	    "probe = /bin/check-a\n");
	a = P("a"); l = L("one");
	H.pprobe[a] = PR_MANUAL;
	h_start(0);
	assert_int_equal(H.m.procs[a].state, PS_STARTING);
	advance_to(0);
	assert_int_equal(count_act(ACT_PROBE, l, a), 1);
	assert_true(H.pprobe_pending[a]);
	assert_int_equal(count_act(ACT_PROBE, ANY, -1), 0);
	/* a failure: still starting, re-probed one interval later */
	advance_to(200);
	h_probe(l, a, false);
	assert_int_equal(H.m.procs[a].state, PS_STARTING);
	assert_int_equal(H.m.current, 0);
	advance_to(1199);
	assert_int_equal(count_act(ACT_PROBE, l, a), 1);
	advance_to(1200);
	assert_int_equal(count_act(ACT_PROBE, l, a), 2);
	/* ok: ready, level up */
	advance_to(1300);
	h_probe(l, a, true);
	assert_int_equal(H.m.procs[a].state, PS_RUNNING);
	assert_int_equal(H.m.current, 1);
	/* a process probe is for readiness only: none once it is ready */
	advance_to(60000);
	assert_int_equal(count_act(ACT_PROBE, l, a), 2);
	assert_int_equal(machine_next_deadline(&H.m), MSEC_NEVER);
}

/* A process probe still running when the process exits is cancelled. */
static void
test_process_probe_cancelled_on_exit(void **state)
{
	int	a;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\nready = probe\n"
	    "probe = /bin/check-a\n");
	a = P("a");
	H.pprobe[a] = PR_MANUAL;
	h_start(0);
	advance_to(0);
	assert_true(H.pprobe_pending[a]);
	h_exit(a, EXITED(1));
	assert_int_equal(count_act(ACT_PROBE_CANCEL, 0, a), 1);
	assert_false(H.pprobe_pending[a]);
	assert_int_equal(H.m.levels[0].failures_total, 1);
}

/*
 * The climb of a level whose process is ready = probe, started from a
 * tick (the level below got ready by ready_delay in that same tick): the
 * machine must not ask for a probe of a process whose spawn it has not
 * heard of yet, and exactly one probe of it may be in flight.
 */
static void
test_process_probe_from_tick(void **state)
{
	struct action	 q[64];
	int		 a, b, nq = 0, i, probes_before_spawn = 0;
	bool		 spawned = false;

	(void)state;
	h_init(STACK_HDR
	    "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\nready_delay = 1s\n"
	    "[level two]\nprobe_interval = 1s\n"
	    "[process b]\nlevel = two\ncommand = /bin/b\nready = probe\n"
	    "probe = /bin/check-b\n");
	a = P("a"); b = P("b");
	H.pprobe[b] = PR_MANUAL;
	h_start(0);
	assert_int_equal(machine_next_deadline(&H.m), 1000);
	assert_int_equal(H.m.procs[a].state, PS_STARTING);

	/* The tick at 1000, before the daemon has carried out anything. */
	H.now = 1000;
	machine_tick(&H.m, H.now);
	while (nq < 64 && machine_next_action(&H.m, &q[nq]))
		nq++;
	assert_int_equal(H.m.current, 1);
	for (i = 0; i < nq; i++) {
		if (q[i].kind == ACT_SPAWN && q[i].proc == b)
			spawned = true;
		if (q[i].kind == ACT_PROBE && q[i].proc == b)
			probes_before_spawn++;
	}
	assert_true(spawned);
	/* BUG: machine_tick asks for a probe of b in the same pass that
	 * queued its spawn (stale probe_next = 0). */
	assert_int_equal(probes_before_spawn, 0);
	for (i = 0; i < nq; i++)
		act(&q[i]);
	drain();
	advance_to(1000);
	/* one probe started, not two */
	assert_int_equal(count_act(ACT_PROBE, 1, b), 1);
	h_probe(1, b, true);
	assert_int_equal(H.m.current, 2);
}

/* --- 17. idle ------------------------------------------------------------ */

static void
test_idle(void **state)
{
	int	a;

	(void)state;
	h_init("[stack]\nretry_max = 4s\n"
	    "[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\n[process b]\nlevel = two\ncommand = /bin/b\n"
	    "ready_delay = 100ms\n");
	a = P("a");
	h_start(0);
	advance_to(100);
	assert_int_equal(H.m.current, 2);
	/* nothing is due: not even the backoff reset after retry_max */
	assert_int_equal(machine_next_deadline(&H.m), MSEC_NEVER);
	advance_to(4100);
	assert_int_equal(machine_next_deadline(&H.m), MSEC_NEVER);
	/* a restart in place leaves it idle again once ready */
	h_exit(a, EXITED(1));
	assert_int_equal(H.m.current, 2);
	assert_int_equal(machine_next_deadline(&H.m), MSEC_NEVER);
	assert_false(H.m.alarm);
}

/* With level probes, the only wake-ups are the probes. */
static void
test_idle_with_probe(void **state)
{
	int	l;

	(void)state;
	h_init("[stack]\nretry_max = 1s\n"
	    "[level one]\nprobe = /bin/c\nprobe_interval = 5s\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n");
	l = L("one");
	h_start(0);
	advance_to(0);
	assert_int_equal(H.m.current, 1);
	advance_to(1000);
	assert_int_equal(machine_next_deadline(&H.m), 5000);
	advance_to(20000);
	assert_int_equal(count_act(ACT_PROBE, l, -1), 5);
	assert_int_equal(machine_next_deadline(&H.m), 25000);
}

/* --- 18. the roster: pid -> process, timers, level counts --------------- */

/* A stack of n processes in one level, set up without the harness's
 * MAXP limit: these tests drive the roster, not the daemon. */
static void
h_init_many(int n)
{
	char	*text, *at;
	size_t	 len = 256 + (size_t)n * 64;
	int	 i;

	text = malloc(len);
	assert_non_null(text);
	at = text + snprintf(text, len, STACK_HDR "[level one]\n");
	for (i = 0; i < n; i++)
		at += snprintf(at, len - (size_t)(at - text),
		    "[process p%d]\nlevel = one\ncommand = /bin/p\n", i);
	memset(&H, 0, sizeof(H));
	H.cfg = parse_text(text);
	free(text);
	assert_int_equal(machine_init(&H.m, H.cfg, 1), 0);
	H.inited = true;
}

static int
scan_proc_by_pid(pid_t pid)
{
	int	i;

	for (i = 0; i < H.m.cfg->nprocs; i++)
		if (H.m.procs[i].pid == pid)
			return i;
	return -1;
}

/*
 * Thousands of pids coming and going over a small range, as after years
 * of restarts: collisions, runs that wrap around the end of the table,
 * removals from the middle of a run, a pid reused by another process.
 * The map always answers what a scan of every process answers.
 */
static void
test_roster_pid_map(void **state)
{
	uint64_t	rng = 88172645463325252ULL;
	pid_t		pid;
	int		i, n = 200, step;

	(void)state;
	h_init_many(n);
	for (step = 0; step < 50000; step++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		i = (int)(rng % (uint64_t)n);
		pid = (pid_t)(rng >> 40) % 600 + 1;
		if (H.m.procs[i].pid > 0)
			roster_pid(&H.m, i, 0);
		else if (scan_proc_by_pid(pid) < 0)
			roster_pid(&H.m, i, pid);
		assert_int_equal(machine_proc_by_pid(&H.m, pid),
		    scan_proc_by_pid(pid));
		if (step % 997 == 0)
			assert_true(roster_check(&H.m));
	}
	assert_true(roster_check(&H.m));

	/* one process's pid, gone, comes back as another's */
	for (i = 0; i < n; i++)
		roster_pid(&H.m, i, 0);
	roster_pid(&H.m, 3, 4242);
	assert_int_equal(machine_proc_by_pid(&H.m, 4242), 3);
	roster_pid(&H.m, 3, 0);
	assert_int_equal(machine_proc_by_pid(&H.m, 4242), -1);
	roster_pid(&H.m, 7, 4242);
	assert_int_equal(machine_proc_by_pid(&H.m, 4242), 7);
	assert_int_equal(machine_proc_by_pid(&H.m, 0), -1);
	assert_int_equal(machine_proc_by_pid(&H.m, -1), -1);
	assert_true(roster_check(&H.m));
}

/* Through the machine: a restart files the new pid, drops the old one. */
static void
test_roster_pid_restart(void **state)
{
	pid_t	old;
	int	a, b;

	(void)state;
	h_init(RL_ONE);
	a = P("a"); b = P("b");
	h_start(0);
	assert_int_equal(machine_proc_by_pid(&H.m, H.pid[a]), a);
	assert_int_equal(machine_proc_by_pid(&H.m, H.pid[b]), b);
	old = H.pid[a];
	advance_to(100);
	h_exit(a, EXITED(1));
	assert_int_equal(count_spawns(a), 2);
	assert_true(H.pid[a] != old);
	assert_int_equal(machine_proc_by_pid(&H.m, old), -1);
	assert_int_equal(machine_proc_by_pid(&H.m, H.pid[a]), a);
	/* the kernel hands the old pid to b's next run */
	H.next_pid = old - 1;
	h_exit(b, EXITED(1));
	assert_int_equal(H.pid[b], old);
	assert_int_equal(machine_proc_by_pid(&H.m, old), b);
	assert_int_equal(machine_proc_by_pid(&H.m, H.pid[a]), a);
}

/*
 * A reload renumbers the processes: the pids that keep running are found
 * under their new indexes, a removed process's pid under none (the daemon
 * retires it), and the timers and level counts follow.
 */
static void
test_roster_reload_renumbers(void **state)
{
	pid_t	apid, bpid, cpid;

	(void)state;
	h_start_reload_stack();
	apid = H.pid[P("a")];
	bpid = H.pid[P("b")];
	cpid = H.pid[P("c")];
	assert_int_equal(machine_proc_by_pid(&H.m, cpid), 2);

	/* c first, then a new d, then a; b is gone */
	h_reload(STACK_HDR "[level one]\n"
	    "[process c]\nlevel = one\ncommand = /bin/c\n"
	    "[process d]\nlevel = one\ncommand = /bin/d\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[level two]\n");
	h_reload_commit();
	assert_int_equal(nretired, 0);	/* b, and c (it moved level), were
					 * stopped before the commit */
	assert_int_equal(P("a"), 2);
	assert_int_equal(machine_proc_by_pid(&H.m, apid), 2);
	assert_int_equal(machine_proc_by_pid(&H.m, bpid), -1);
	assert_int_equal(machine_proc_by_pid(&H.m, cpid), -1);
	assert_int_equal(machine_proc_by_pid(&H.m, H.pid[P("d")]), P("d"));
	assert_int_equal(H.m.roster.levels[0].nprocs, 3);
	assert_int_equal(H.m.roster.levels[1].nprocs, 0);
	advance_by(1000);
	assert_int_equal(H.m.procs[P("c")].state, PS_RUNNING);
	assert_int_equal(machine_proc_by_pid(&H.m, H.pid[P("c")]), P("c"));
	assert_int_equal(H.m.roster.levels[0].nready, 3);
	assert_int_equal(H.m.roster.ntimed, 0);

	/* the renumbered a still restarts under its own pid */
	h_exit(P("a"), EXITED(1));
	assert_int_equal(machine_proc_by_pid(&H.m, apid), -1);
	assert_int_equal(machine_proc_by_pid(&H.m, H.pid[P("a")]), P("a"));
}

/*
 * Processes due in the same tick act in file order, whatever order they
 * started or stopped in -- as when every process was looked at in turn.
 */
static void
test_tick_file_order(void **state)
{
	size_t	at, mark;
	int	a, b, c;

	(void)state;
	h_init(STACK_HDR "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\nready_delay = 3s\n"
	    "[process b]\nlevel = one\ncommand = /bin/b\nready_delay = 1s\n"
	    "[process c]\nlevel = one\ncommand = /bin/c\nready_delay = 2s\n");
	a = P("a"); b = P("b"); c = P("c");
	h_start(0);
	advance_to(3000);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.roster.ntimed, 0);
	/* restarted in the order c, a, b; ready at 6000, 7100, 5200 */
	advance_to(4000);
	h_exit(c, EXITED(1));
	advance_to(4100);
	h_exit(a, EXITED(1));
	advance_to(4200);
	h_exit(b, EXITED(1));
	assert_int_equal(H.m.roster.ntimed, 3);
	assert_int_equal(machine_next_deadline(&H.m), 5200);
	mark = H.nlog;
	tick_at(9000);		/* late: all three are due */
	at = mark;
	next_event(&at, EVT_PROCESS_READY, 0, a);
	next_event(&at, EVT_PROCESS_READY, 0, b);
	next_event(&at, EVT_PROCESS_READY, 0, c);
	assert_int_equal(H.m.roster.ntimed, 0);
	assert_int_equal(machine_next_deadline(&H.m),
	    scan_next_deadline(&H.m));
}

/* --- what a notify child said about itself ------------------------------ */

/* The first log line at or after from that contains text; NULL if none. */
static const struct action *
find_log(size_t from, const char *text)
{
	size_t	i;

	for (i = from; i < H.nlog; i++)
		if (H.log[i].a.kind == ACT_LOG &&
		    strstr(H.log[i].a.text, text) != NULL)
			return &H.log[i].a;
	return NULL;
}

/*
 * ready.c writes ERRNO=, MAINPID= and STOPPING=1 into proc_rt.  ERRNO=
 * goes with the exit that follows and is logged with it; STOPPING=1 makes
 * that exit an expected one in the log, but the restart type still
 * decides; all of it belongs to one run and is gone at the next.
 */
static void
test_notify_reports(void **state)
{
	const struct action	*l;
	size_t			 mark;
	int			 a;

	(void)state;
	h_init(STACK_HDR "intensity = 10\n"
	    "[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n"
	    "ready = notify\n");
	a = P("a");
	h_start(0);
	h_ready(a);
	assert_int_equal(H.m.current, 1);

	H.m.procs[a].errnum = 98;
	H.m.procs[a].main_pid = H.pid[a] + 1;
	mark = H.nlog;
	h_exit(a, EXITED(1));
	assert_non_null(l = find_log(mark, "process a exited 1, ERRNO=98: "));
	assert_int_equal(l->prio, LOG_WARNING);
	assert_int_equal(H.m.procs[a].last_errno, 98);
	assert_int_equal(count_spawns(a), 2);
	assert_int_equal(H.m.procs[a].errnum, 0);
	assert_int_equal(H.m.procs[a].main_pid, 0);
	h_ready(a);

	/* announced: not a warning, even when abnormal; still restarted */
	H.m.procs[a].stop_announced = true;
	mark = H.nlog;
	h_exit(a, EXITED(3));
	assert_non_null(l = find_log(mark,
	    "process a exited 3 (announced by STOPPING=1)"));
	assert_int_equal(l->prio, LOG_INFO);
	assert_int_equal(H.m.procs[a].last_errno, 0);
	assert_int_equal(count_spawns(a), 3);
	assert_false(H.m.procs[a].stop_announced);
	h_ready(a);

	/* not announced: the same exit is a warning again */
	mark = H.nlog;
	h_exit(a, EXITED(3));
	assert_non_null(l = find_log(mark, "process a exited 3"));
	assert_int_equal(l->prio, LOG_WARNING);
	assert_null(strstr(l->text, "STOPPING"));
}

/* --- the action FIFO ---------------------------------------------------- */

#define ONE_PROC	"[level one]\n[process a]\nlevel = one\ncommand = /bin/a\n"

/* Pop the next action, which must be the log line "tag-i". */
static void
pop_log(const char *tag, int i)
{
	struct action	a;
	char		want[32];

	snprintf(want, sizeof(want), "%s-%d", tag, i);
	assert_true(machine_next_action(&H.m, &a));
	assert_int_equal(a.kind, ACT_LOG);
	assert_string_equal(a.text, want);
}

static void
test_actions_order_across_wrap(void **state)
{
	struct action	a;
	int		i;

	(void)state;
	h_init(ONE_PROC);
	for (i = 0; i < 10; i++)
		machine_log(&H.m, LOG_INFO, "a-%d", i);
	for (i = 0; i < 6; i++)
		pop_log("a", i);
	/* the next ones wrap around the ring's end, then it grows while
	 * wrapped: the order must survive both */
	for (i = 0; i < 40; i++)
		machine_log(&H.m, LOG_INFO, "b-%d", i);
	assert_true(H.m.actions_cap >= 44);
	for (i = 6; i < 10; i++)
		pop_log("a", i);
	for (i = 0; i < 20; i++)
		pop_log("b", i);
	for (i = 0; i < 30; i++)
		machine_log(&H.m, LOG_INFO, "c-%d", i);
	for (i = 20; i < 40; i++)
		pop_log("b", i);
	for (i = 0; i < 30; i++)
		pop_log("c", i);
	assert_false(machine_next_action(&H.m, &a));
	assert_int_equal(H.m.nactions, 0);
}

static void
test_actions_shrink_after_burst(void **state)
{
	struct action	a;
	size_t		cap;
	int		i, n = 0;

	(void)state;
	h_init(ONE_PROC);
	for (i = 0; i < 5000; i++)
		machine_log(&H.m, LOG_INFO, "x-%d", i);
	assert_true((cap = H.m.actions_cap) >= 5000);
	/* what is queued while it drains reuses the slots taken out */
	for (i = 0; i < 5000; i++) {
		pop_log("x", i);
		if (i % 2 == 0)
			machine_log(&H.m, LOG_INFO, "y-%d", n++);
	}
	assert_int_equal(H.m.actions_cap, cap);
	for (i = 0; i < n; i++)
		pop_log("y", i);
	assert_false(machine_next_action(&H.m, &a));
	/* drained: the burst's memory is given back */
	assert_true(H.m.actions_cap <= 64);
	machine_log(&H.m, LOG_INFO, "z-%d", 0);
	pop_log("z", 0);
}

/* A climb of many processes: the queue is drained small again. */
static void
test_actions_shrink_after_climb(void **state)
{
	char	text[4096];
	size_t	len;
	int	i;

	(void)state;
	len = (size_t)snprintf(text, sizeof(text), "[level one]\n");
	for (i = 0; i < MAXP; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "[process p%d]\nlevel = one\ncommand = /bin/p\n", i);
	h_init(text);
	h_start(0);
	advance_by(1000);
	assert_int_equal(H.m.current, 1);
	assert_int_equal(H.m.nactions, 0);
	assert_true(H.m.actions_cap <= 64);
}

static int
count_status_queued(void)
{
	struct action	a;
	int		n = 0;

	while (machine_next_action(&H.m, &a))
		if (a.kind == ACT_STATUS)
			n++;
	return n;
}

static void
test_status_coalesced(void **state)
{
	struct action	a;

	(void)state;
	h_init(ONE_PROC);
	machine_status_changed(&H.m);
	machine_log(&H.m, LOG_INFO, "between");
	machine_status_changed(&H.m);
	machine_status_changed(&H.m);
	/* one, where the first was asked for */
	assert_true(machine_next_action(&H.m, &a));
	assert_int_equal(a.kind, ACT_STATUS);
	/* taken out: the next change queues another */
	machine_status_changed(&H.m);
	assert_true(machine_next_action(&H.m, &a));
	assert_int_equal(a.kind, ACT_LOG);
	assert_true(machine_next_action(&H.m, &a));
	assert_int_equal(a.kind, ACT_STATUS);
	assert_false(machine_next_action(&H.m, &a));

	/* a whole start: many changes, one ACT_STATUS pending at a time */
	machine_start(&H.m, 0);
	assert_int_equal(count_status_queued(), 1);
}

/* --- a reload's rollout, by review: each of these failed once ---------- */

#define RO_STACK(acmd, bcmd) STACK_HDR \
	"[level one]\nready_timeout = 5s\n" \
	"[process a]\nlevel = one\ncommand = " acmd "\nready = notify\n" \
	"[level two]\nready_timeout = 5s\n" \
	"[process b]\nlevel = two\ncommand = " bcmd "\nready = notify\n" \
	"[level three]\n[process c]\nlevel = three\ncommand = /bin/c\n"

/*
 * Two levels with a start not ready yet (b from a first reload, a from a
 * second one): each wait ends (it once ended a's and left b waiting on
 * NEVER -- m->rolling stayed 1, and no climb ever started again).
 */
static void
test_rollout_wait_lost(void **state)
{
	int	a, b, c;

	(void)state;
	nretired = 0;
	h_init(RO_STACK("/bin/a", "/bin/b"));
	a = P("a"); b = P("b"); c = P("c");
	h_start(0);
	h_ready(a);
	h_ready(b);
	assert_int_equal(H.m.current, 3);
	assert_int_equal(machine_set_target(&H.m, 2, H.now), 0);
	drain();
	assert_int_equal(H.m.current, 2);
	advance_to(1000);
	/* reload 1: b changed; restarted, never ready */
	h_reload(RO_STACK("/bin/a", "/bin/b --new"));
	h_reload_commit();
	assert_int_equal(H.m.procs[b].rollout, ROLL_STARTING);
	advance_to(2000);
	/* reload 2: a changed too; restarted below b, never ready either */
	h_reload(RO_STACK("/bin/a --new", "/bin/b --new"));
	h_reload_commit();
	assert_int_equal(H.m.procs[a].rollout, ROLL_STARTING);
	assert_int_equal(H.m.procs[b].rollout, ROLL_STARTING);
	advance_to(60000);
	/* every wait is long over */
	assert_int_equal(H.m.rolling, 0);
	assert_int_equal(machine_set_target(&H.m, 3, H.now), 0);
	drain();
	assert_int_equal(count_spawns(c), 2);
}

/*
 * A second reload removes a, which the first reload's rollout has still
 * to restart (ROLL_STOP, waiting for level two).  The retire stops it;
 * while r (also removed) is still stopping, the rollout must not start a
 * again (it did: its pid was handed back at the commit).
 */
static void
test_rollout_starts_removed_process(void **state)
{
	int	a, c, r;
	size_t	mark;

	(void)state;
	nretired = 0;
	h_init(STACK_HDR
	    "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[process r]\nlevel = one\ncommand = /bin/r\n"
	    "[process k]\nlevel = one\ncommand = /bin/k\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c\n");
	a = P("a"); c = P("c"); r = P("r");
	H.on_signal[c] = H.on_signal[r] = SIG_MANUAL;
	h_start(0);
	assert_int_equal(H.m.current, 2);
	advance_to(1000);
	h_reload(STACK_HDR
	    "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a --new\n"
	    "[process r]\nlevel = one\ncommand = /bin/r\n"
	    "[process k]\nlevel = one\ncommand = /bin/k\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c --new\n");
	h_reload_commit();
	assert_int_equal(H.m.procs[a].rollout, ROLL_STOP);
	/* reload 2 removes a and r while c is still stopping */
	mark = H.nlog;
	h_reload(STACK_HDR
	    "[level one]\n"
	    "[process k]\nlevel = one\ncommand = /bin/k\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c --new\n");
	assert_int_equal(H.m.retiring, 1);	/* a gone at once, r not */
	h_exit(c, SIGTERM);
	/* a is removed: it must not be started again */
	assert_int_equal(count_since(mark, ACT_SPAWN, ANY, a), 0);
	h_exit(r, SIGTERM);
	h_reload_commit();
	assert_int_equal(nretired, 0);
}

/*
 * The same, where the respawned a (still marked retiring) exited:
 * m->retiring went down a second time, and the commit was due while r
 * still ran (r's pid handed back unwaited).
 */
static void
test_rollout_retiring_count(void **state)
{
	int	a, c, r;

	(void)state;
	nretired = 0;
	h_init(STACK_HDR
	    "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\n"
	    "[process r]\nlevel = one\ncommand = /bin/r\n"
	    "[process k]\nlevel = one\ncommand = /bin/k\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c\n");
	a = P("a"); c = P("c"); r = P("r");
	H.on_signal[c] = H.on_signal[r] = SIG_MANUAL;
	h_start(0);
	advance_to(1000);
	h_reload(STACK_HDR
	    "[level one]\n"
	    "[process a]\nlevel = one\ncommand = /bin/a --new\n"
	    "[process r]\nlevel = one\ncommand = /bin/r\n"
	    "[process k]\nlevel = one\ncommand = /bin/k\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c --new\n");
	h_reload_commit();
	h_reload(STACK_HDR
	    "[level one]\n"
	    "[process k]\nlevel = one\ncommand = /bin/k\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c --new\n");
	h_exit(c, SIGTERM);
	if (H.pid[a] != 0)
		h_exit(a, EXITED(127));	/* its binary is gone */
	/* r still runs: the commit must not be due */
	assert_true(H.pid[r] != 0);
	assert_int_equal(H.m.retiring, 1);
	assert_false(machine_reload_due(&H.m));
}

/* Mid-rollout: each of these must end with the rollout done. */
#define RM_STACK(acmd, bcmd, ccmd, extra) STACK_HDR \
	"[level one]\nready_timeout = 5s\n" \
	"[process a]\nlevel = one\ncommand = " acmd "\nready = notify\n" \
	"[level two]\nready_timeout = 5s\nstrategy = one_for_all\n" \
	"[process b]\nlevel = two\ncommand = " bcmd "\n" \
	"[process b2]\nlevel = two\ncommand = /bin/b2\n" \
	"[level three]\n[process c]\nlevel = three\ncommand = " ccmd "\n" \
	extra

static void
rollout_mid_up(void)
{
	nretired = 0;
	h_init(RM_STACK("/bin/a", "/bin/b", "/bin/c", ""));
	H.on_signal[P("c")] = SIG_MANUAL;
	h_start(0);
	h_ready(P("a"));
	assert_int_equal(H.m.current, 3);
	advance_to(1000);
}

static void
rollout_mid_settles(void)
{
	advance_to(H.now + 120000);
	assert_int_equal(H.m.rolling, 0);
	assert_int_equal(H.m.rollout_stops, 0);
}

/* shutdown while c stops and a, b wait */
static void
test_rollout_mid_shutdown(void **state)
{
	(void)state;
	rollout_mid_up();
	h_reload(RM_STACK("/bin/a 2", "/bin/b 2", "/bin/c 2", ""));
	h_reload_commit();
	machine_shutdown(&H.m, H.now);
	drain();
	h_exit(P("c"), SIGTERM);
	rollout_mid_settles();
	assert_int_equal(H.nexit, 1);
}

/* shutdown while a starts (not ready) */
static void
test_rollout_mid_shutdown2(void **state)
{
	(void)state;
	rollout_mid_up();
	h_reload(RM_STACK("/bin/a 2", "/bin/b 2", "/bin/c 2", ""));
	h_reload_commit();
	h_exit(P("c"), SIGTERM);
	assert_int_equal(H.m.procs[P("a")].rollout, ROLL_STARTING);
	machine_shutdown(&H.m, H.now);
	drain();
	rollout_mid_settles();
	assert_int_equal(H.nexit, 1);
}

/* b crashes while ROLL_STOP (one_for_all) */
static void
test_rollout_mid_crash_roll_stop(void **state)
{
	int b;
	(void)state;
	rollout_mid_up();
	b = P("b");
	h_reload(RM_STACK("/bin/a 2", "/bin/b 2", "/bin/c 2", ""));
	h_reload_commit();
	h_exit(b, EXITED(1));
	h_exit(P("c"), SIGTERM);
	advance_to(H.now + 10);
	h_ready(P("a"));
	rollout_mid_settles();
	assert_int_equal(H.m.current, 3);
	assert_int_equal(H.m.procs[b].state, PS_RUNNING);
	assert_int_equal(H.m.procs[P("c")].state, PS_RUNNING);
}

/* stackctl restart of ROLL_STOP, then ROLL_START processes */
static void
test_rollout_mid_manual_restart(void **state)
{
	int b;
	(void)state;
	rollout_mid_up();
	b = P("b");
	h_reload(RM_STACK("/bin/a 2", "/bin/b 2", "/bin/c 2", ""));
	h_reload_commit();
	assert_int_equal(machine_restart_proc(&H.m, b, H.now), 0);
	drain();
	h_exit(P("c"), SIGTERM);
	assert_int_equal(machine_restart_proc(&H.m, P("c"), H.now), 0);
	drain();
	h_ready(P("a"));
	rollout_mid_settles();
	assert_int_equal(H.m.procs[P("c")].state, PS_RUNNING);
	assert_int_equal(H.m.procs[b].state, PS_RUNNING);
}

/* target down to 1 and back up mid-rollout */
static void
test_rollout_mid_target(void **state)
{
	(void)state;
	rollout_mid_up();
	h_reload(RM_STACK("/bin/a 2", "/bin/b 2", "/bin/c 2", ""));
	h_reload_commit();
	h_exit(P("c"), SIGTERM);
	assert_int_equal(machine_set_target(&H.m, 1, H.now), 0);
	drain();
	assert_int_equal(machine_set_target(&H.m, 3, H.now), 0);
	drain();
	h_ready(P("a"));
	rollout_mid_settles();
	assert_int_equal(H.m.current, 3);
	assert_int_equal(H.m.procs[P("c")].state, PS_RUNNING);
}

/* level two fails while a (below) is ROLL_STARTING */
static void
test_rollout_mid_level_fails(void **state)
{
	(void)state;
	nretired = 0;
	h_init(RM_STACK("/bin/a", "/bin/b", "/bin/c", ""));
	H.on_signal[P("c")] = SIG_MANUAL;
	h_start(0);
	h_ready(P("a"));
	advance_to(1000);
	h_reload(RM_STACK("/bin/a 2", "/bin/b 2", "/bin/c 2",
	    ""));
	h_reload_commit();
	h_exit(P("c"), SIGTERM);
	assert_int_equal(H.m.procs[P("a")].rollout, ROLL_STARTING);
	/* b2 crashes too often: level two fails */
	H.cfg = H.cfg;
	{
		int k;
		for (k = 0; k < 5 && H.m.levels[1].state == LEVEL_UP &&
		    !H.m.levels[1].failed; k++)
			if (H.pid[P("b2")] != 0)
				h_exit(P("b2"), EXITED(1));
	}
	advance_to(H.now + 100);
	h_ready(P("a"));
	rollout_mid_settles();
	advance_to(H.now + 60000);
	if (H.pid[P("a")] && H.m.procs[P("a")].state == PS_STARTING)
		h_ready(P("a"));
	advance_to(H.now + 60000);
	assert_int_equal(H.m.current, 3);
}

/* a oneshot made a longrun, and a running oneshot changed */
static void
test_rollout_mid_oneshot(void **state)
{
	int o;
	(void)state;
	nretired = 0;
	h_init(STACK_HDR "[level one]\n[process o]\nlevel = one\n"
	    "command = /bin/o\ntype = oneshot\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c\n");
	o = P("o");
	H.spawn_exit[o] = EXITED(0);
	h_start(0);
	assert_int_equal(H.m.current, 2);
	advance_to(1000);
	H.spawn_exit[o] = -1;
	h_reload(STACK_HDR "[level one]\n[process o]\nlevel = one\n"
	    "command = /bin/o\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c 2\n");
	h_reload_commit();
	rollout_mid_settles();
	assert_int_equal(H.m.procs[o].state, PS_RUNNING);
	/* and back to a oneshot that keeps running */
	h_reload(STACK_HDR "[level one]\n[process o]\nlevel = one\n"
	    "command = /bin/o 3\ntype = oneshot\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c 3\n");
	h_reload_commit();
	rollout_mid_settles();
	h_exit(o, EXITED(0));
	rollout_mid_settles();
	assert_int_equal(H.m.procs[o].state, PS_DONE);
}

/* a process probe that never passes */
static void
test_rollout_mid_probe_never(void **state)
{
	int a;
	(void)state;
	nretired = 0;
	h_init(STACK_HDR "[level one]\nready_timeout = 5s\n"
	    "[process a]\nlevel = one\ncommand = /bin/a\nready = probe\n"
	    "probe = /bin/true\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c\n");
	a = P("a");
	h_start(0);
	advance_to(1000);
	assert_int_equal(H.m.current, 2);
	H.pprobe[a] = PR_FAIL;
	h_reload(STACK_HDR "[level one]\nready_timeout = 5s\n"
	    "[process a]\nlevel = one\ncommand = /bin/a 2\nready = probe\n"
	    "probe = /bin/true\n"
	    "[level two]\n[process c]\nlevel = two\ncommand = /bin/c 2\n");
	h_reload_commit();
	rollout_mid_settles();
	assert_int_equal(H.m.procs[P("c")].state, PS_RUNNING);
}

/* a second reload renames level three (floor 2) mid-rollout */
static void
test_rollout_mid_second_reload_floor(void **state)
{
	(void)state;
	rollout_mid_up();
	h_reload(RM_STACK("/bin/a 2", "/bin/b 2", "/bin/c 2", ""));
	h_reload_commit();
	h_reload(STACK_HDR
	    "[level one]\nready_timeout = 5s\n"
	    "[process a]\nlevel = one\ncommand = /bin/a 2\nready = notify\n"
	    "[level two]\nready_timeout = 5s\nstrategy = one_for_all\n"
	    "[process b]\nlevel = two\ncommand = /bin/b 2\n"
	    "[process b2]\nlevel = two\ncommand = /bin/b2\n"
	    "[level three3]\n[process c]\nlevel = three3\ncommand = /bin/c 2\n");
	h_exit(P("c"), SIGTERM);
	h_reload_commit();
	advance_to(H.now + 10);
	if (H.m.procs[P("a")].state == PS_STARTING)
		h_ready(P("a"));
	rollout_mid_settles();
	assert_int_equal(H.m.current, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_climb_order, teardown),
		cmocka_unit_test_teardown(test_ready_level, teardown),
		cmocka_unit_test_teardown(test_exec_confirmed_later,
		    teardown),
		cmocka_unit_test_teardown(test_ready_delay, teardown),
		cmocka_unit_test_teardown(test_ready_timeout, teardown),
		cmocka_unit_test_teardown(test_backoff_reset_kept_by_later_level,
		    teardown),
		cmocka_unit_test_teardown(test_same_target_ends_backoff,
		    teardown),
		cmocka_unit_test_teardown(test_backoff_jitter_range, teardown),
		cmocka_unit_test_teardown(test_stop_escalation, teardown),
		cmocka_unit_test_teardown(test_ratchet, teardown),
		cmocka_unit_test_teardown(test_restart_types, teardown),
		cmocka_unit_test_teardown(test_one_for_all, teardown),
		cmocka_unit_test_teardown(test_rest_for_one, teardown),
		cmocka_unit_test_teardown(test_intensity_rewind, teardown),
		cmocka_unit_test_teardown(test_events_rewind, teardown),
		cmocka_unit_test_teardown(test_events_climb_failed, teardown),
		cmocka_unit_test_teardown(test_manual_restart, teardown),
		cmocka_unit_test_teardown(test_reload_by_name, teardown),
		cmocka_unit_test_teardown(test_reload_keeps_a_wait_still_to_start,
		    teardown),
		cmocka_unit_test_teardown(test_reload_target_is_a_level,
		    teardown),
		cmocka_unit_test_teardown(test_reload_moved_process_stops_first,
		    teardown),
		cmocka_unit_test_teardown(test_reload_removed_from_stopping_level,
		    teardown),
		cmocka_unit_test_teardown(test_reload_no_climb_before_commit,
		    teardown),
		cmocka_unit_test_teardown(test_reload_pending_at_shutdown_dropped,
		    teardown),
		cmocka_unit_test_teardown(
		    test_reload_after_target_top_follows_file, teardown),
		cmocka_unit_test_teardown(test_reload_in_place_settings,
		    teardown),
		cmocka_unit_test_teardown(test_reload_cuts_the_backoff,
		    teardown),
		cmocka_unit_test_teardown(test_reload_keeps_counters, teardown),
		cmocka_unit_test_teardown(test_probes_pass_once_each, teardown),
		cmocka_unit_test_teardown(test_no_restart_while_shutting_down,
		    teardown),
		cmocka_unit_test_teardown(
		    test_reload_rolls_top_down_then_bottom_up, teardown),
		cmocka_unit_test_teardown(test_reload_rollout_wait_and_busy_levels,
		    teardown),
		cmocka_unit_test_teardown(test_reload_rollout_and_a_lower_target,
		    teardown),
		cmocka_unit_test_teardown(test_restart_held_while_descending,
		    teardown),
		cmocka_unit_test_teardown(
		    test_rollout_leaves_an_exited_temporary_alone, teardown),
		cmocka_unit_test_teardown(test_up_level_stops_at_the_limit,
		    teardown),
		cmocka_unit_test_teardown(
		    test_restart_of_a_process_the_reload_removes, teardown),
		cmocka_unit_test_teardown(
		    test_restart_of_a_process_the_reload_moves, teardown),
		cmocka_unit_test_teardown(
		    test_restart_of_a_process_a_superseded_reload_moved,
		    teardown),
		cmocka_unit_test_teardown(
		    test_held_restart_of_a_process_the_reload_moves, teardown),
		cmocka_unit_test_teardown(
		    test_exit_while_descending_then_target_rises, teardown),
		cmocka_unit_test_teardown(test_abandoned_climb_is_descending,
		    teardown),
		cmocka_unit_test_teardown(test_reload_target, teardown),
		cmocka_unit_test_teardown(test_reload_level_sequence, teardown),
		cmocka_unit_test_teardown(test_top_level_fails, teardown),
		cmocka_unit_test_teardown(test_oneshot, teardown),
		cmocka_unit_test_teardown(test_longrun_exit_during_climb,
		    teardown),
		cmocka_unit_test_teardown(test_level_probe_while_up, teardown),
		cmocka_unit_test_teardown(test_level_probe_cancelled, teardown),
		cmocka_unit_test_teardown(test_target, teardown),
		cmocka_unit_test_teardown(test_target_abandons_climb, teardown),
		cmocka_unit_test_teardown(test_shutdown, teardown),
		cmocka_unit_test_teardown(test_shutdown_twice, teardown),
		cmocka_unit_test_teardown(test_shutdown_during_climb, teardown),
		cmocka_unit_test_teardown(test_shutdown_at_zero, teardown),
		cmocka_unit_test_teardown(test_give_up, teardown),
		cmocka_unit_test_teardown(test_give_up_consecutive, teardown),
		cmocka_unit_test_teardown(test_give_up_on_quick_falls, teardown),
		cmocka_unit_test_teardown(test_alarm, teardown),
		cmocka_unit_test_teardown(test_alarm_resets, teardown),
		cmocka_unit_test_teardown(test_alarm_disabled, teardown),
		cmocka_unit_test_teardown(test_alarm_not_cleared_by_give_up,
		    teardown),
		cmocka_unit_test_teardown(test_process_probe, teardown),
		cmocka_unit_test_teardown(test_process_probe_cancelled_on_exit,
		    teardown),
		cmocka_unit_test_teardown(test_process_probe_from_tick,
		    teardown),
		cmocka_unit_test_teardown(test_idle, teardown),
		cmocka_unit_test_teardown(test_idle_with_probe, teardown),
		cmocka_unit_test_teardown(test_notify_reports, teardown),
		cmocka_unit_test_teardown(test_roster_pid_map, teardown),
		cmocka_unit_test_teardown(test_roster_pid_restart, teardown),
		cmocka_unit_test_teardown(test_roster_reload_renumbers,
		    teardown),
		cmocka_unit_test_teardown(test_tick_file_order, teardown),
		cmocka_unit_test_teardown(test_actions_order_across_wrap,
		    teardown),
		cmocka_unit_test_teardown(test_actions_shrink_after_burst,
		    teardown),
		cmocka_unit_test_teardown(test_actions_shrink_after_climb,
		    teardown),
		cmocka_unit_test_teardown(test_rollout_wait_lost, teardown),
		cmocka_unit_test_teardown(test_rollout_starts_removed_process, teardown),
		cmocka_unit_test_teardown(test_rollout_retiring_count, teardown),
		cmocka_unit_test_teardown(test_rollout_mid_shutdown, teardown),
		cmocka_unit_test_teardown(test_rollout_mid_shutdown2, teardown),
		cmocka_unit_test_teardown(test_rollout_mid_crash_roll_stop, teardown),
		cmocka_unit_test_teardown(test_rollout_mid_manual_restart, teardown),
		cmocka_unit_test_teardown(test_rollout_mid_target, teardown),
		cmocka_unit_test_teardown(test_rollout_mid_level_fails, teardown),
		cmocka_unit_test_teardown(test_rollout_mid_oneshot, teardown),
		cmocka_unit_test_teardown(test_rollout_mid_probe_never, teardown),
		cmocka_unit_test_teardown(test_rollout_mid_second_reload_floor, teardown),
		cmocka_unit_test_teardown(test_status_coalesced, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
