/*
 * test_chaos.c -- the pure level state machine under random events.
 *
 * For each of a fixed list of seeds: a random stack (2-4 levels, 1-4
 * processes each, random strategy, restart type, readiness, probes and
 * intensity) is started on a fake clock, then hit by random events --
 * processes exit (0, 1, or by a signal), execs are confirmed late, notify
 * processes send READY, probes pass or fail, signalled processes take
 * their time or ignore all but SIGKILL, time moves, the operator sets a
 * target or restarts a process, the file is reloaded with a variant (a
 * command changed, a process added, removed or moved, a level renamed,
 * added or removed, settings changed), a quarter of the cases are shut
 * down amid it all -- and after every event the invariants of
 * check_invariants() are checked.  Then every process behaves (execs at
 * once, READY at once, probes pass, signals obeyed) and the stack must
 * reach its target within ten minutes of fake time, with no rollout,
 * reload or restart left over (in a third of the cases a notify process
 * or two stays silent: then only that nothing is left over and nothing is
 * wedged); then it is shut down and must exit exactly once with nothing
 * left running.
 *
 * The randomness is the test's own xorshift, seeded per case, so a failure
 * is reproducible: it prints the seed, the last events and the state.
 *   CHAOS_SEED=N      run that seed only, with the whole event trace and
 *                     the machine's log lines
 *   CHAOS_SEEDS=N     run seeds 1..N (default 200; more find rarer faults)
 *   CHAOS_STEPS=N     events per seed (default 400)
 *   CHAOS_VERBOSE=1   the whole trace of every seed
 *
 * The harness follows test_machine.c's (act, drain, advance_to; the slow
 * scan of the next deadline is shared: deadline_scan.c).  Unlike it,
 * every process's behaviour is drawn at random, and a reload is
 * committed whenever machine_reload_due says so, between two batches of
 * actions, as stackd.c's daemon_run_queue does.
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
#include <unistd.h>

#include "config.h"
#include "machine.h"
#include "parse.h"
#include "deadline_scan.h"

#define MAXL		8	/* levels in a model */
#define MAXP		24	/* processes in a model */
#define MAXB		512	/* process names ever used in a case */
#define EXITED(n)	((n) << 8)
#define TRACE_KEEP	40	/* events printed on a failure */
#define NAMELEN		24
#define MODEL_TEXTMAX	16384	/* a model's stack.ini */

/* --- deterministic randomness ------------------------------------------- */

static uint64_t	rng;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
rn(int n)
{
	return n <= 1 ? 0 : (int)(rnd() % (uint64_t)n);
}

static bool
chance(int pct)
{
	return rn(100) < pct;
}

/* A duration in [lo, hi] milliseconds. */
static msec_t
rms(msec_t lo, msec_t hi)
{
	return lo + (msec_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* --- the model of the file ------------------------------------------------ */

struct mlevel {
	char	 name[NAMELEN];
	int	 strategy;		/* enum strategy */
	int	 intensity;
	msec_t	 period;
	int	 nprobes;
	msec_t	 probe_interval;
	int	 failure_threshold;
	msec_t	 ready_timeout;
};

struct mproc {
	char	 name[NAMELEN];
	int	 level;			/* index into model.levels */
	bool	 oneshot;
	int	 ready;			/* enum proc_ready (not EXIT) */
	int	 restart;		/* enum proc_restart */
	int	 ver;			/* in the command: a change */
	msec_t	 ready_delay;
	msec_t	 stop_timeout;
	bool	 sigint;		/* stop_signal = INT, else TERM */
};

struct model {
	int		 nlevels;
	struct mlevel	 levels[MAXL];
	int		 nprocs;
	struct mproc	 procs[MAXP];
	msec_t		 retry_min, retry_max, alarm_after, stop_timeout;
	int		 give_up_after;
	int		 target;	/* -1: top, else a level index */
	int		 names;		/* level and process names made */
};

/* What a process does, by name, for the whole case. */
enum on_term {
	TERM_EXITS,	/* exits at once */
	TERM_LATER,	/* exits at a later event ("reap") */
	TERM_IGNORES	/* only SIGKILL stops it */
};

struct beh {
	char		 name[NAMELEN];
	enum on_term	 on_term;
	bool		 ever_other;	/* was ever not a permanent longrun */
	bool		 silent;	/* notify: never READY once calm */
};

/* --- the harness ---------------------------------------------------------- */

struct harness {
	uint64_t	 seed;
	int		 step;
	struct model	 md;
	struct stack_conf *cfg;		/* in force */
	struct stack_conf *pending;	/* handed to machine_reload */
	struct machine	 m;
	bool		 inited;
	msec_t		 now;
	pid_t		 next_pid;
	pid_t		 pid[MAXP];	/* by the in-force index */
	bool		 execd[MAXP];
	bool		 dying[MAXP];	/* signalled, exits at a later event */
	bool		 pprobe_pending[MAXP];
	bool		 lprobe_pending[MAXL];
	bool		 hooked_up[MAXL];	/* on_up ran, on_down not yet */
	int		 nready;		/* ACT_READY */
	bool		 behave;	/* no more chaos: everything answers */
	bool		 quiet;		/* ...but for the silent processes */
	bool		 shutdown_asked; /* machine_shutdown called by us */
	int		 nexit;
	int		 same_time_ticks;
	struct beh	 beh[MAXB];
	int		 nbeh;
	char		 trace[TRACE_KEEP][128];
	int		 ntrace;
	bool		 verbose;
};

static struct harness	 H;
static jmp_buf		 case_fail;
static char		 fail_why[512];

static void	dump_state(void);

/* The file's words for config.h's enums, in their order. */
static const char *const readies[] = {
	"started", "notify", "fd:3", "probe", "exit"
};
_Static_assert(sizeof(readies) / sizeof(readies[0]) == READY_EXIT + 1,
    "one word per enum proc_ready");

/* An event of the case, kept for the report (printed at once if verbose). */
static void __attribute__((format(printf, 1, 2)))
trace(const char *fmt, ...)
{
	char	*t = H.trace[H.ntrace++ % TRACE_KEEP];
	int	 n;
	va_list	 ap;

	n = snprintf(t, sizeof(H.trace[0]), "%4d t=%-7lld ", H.step,
	    (long long)H.now);
	va_start(ap, fmt);
	vsnprintf(t + n, sizeof(H.trace[0]) - (size_t)n, fmt, ap);
	va_end(ap);
	if (H.verbose)
		fprintf(stderr, "  %s\n", t);
}

/* An invariant does not hold: report the case, go on with the next. */
static void __attribute__((format(printf, 1, 2), noreturn))
violation(const char *fmt, ...)
{
	va_list	ap;
	int	i, first;

	va_start(ap, fmt);
	vsnprintf(fail_why, sizeof(fail_why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "chaos: seed %llu, step %d, t=%lld: %s\n",
	    (unsigned long long)H.seed, H.step, (long long)H.now, fail_why);
	if (!H.verbose) {
		fprintf(stderr, "  last events (CHAOS_SEED=%llu for all):\n",
		    (unsigned long long)H.seed);
		first = H.ntrace > TRACE_KEEP ? H.ntrace - TRACE_KEEP : 0;
		for (i = first; i < H.ntrace; i++)
			fprintf(stderr, "  %s\n", H.trace[i % TRACE_KEEP]);
	}
	dump_state();
	longjmp(case_fail, 1);
}

#define CHECK(c, ...)	do { if (!(c)) violation(__VA_ARGS__); } while (0)

static void
dump_state(void)
{
	const struct machine	*m = &H.m;
	int			 i;

	if (!H.inited)
		return;
	fprintf(stderr, "  machine: current %d target %d cap %d hold %d "
	    "rolling %d stops %d retiring %d pending %s shutting_down %d "
	    "retry_at %lld deadline %lld\n", m->current, m->target,
	    m->cap == CAP_NONE ? -1 : m->cap, m->hold == CAP_NONE ? -1 :
	    m->hold, m->rolling, m->rollout_stops, m->retiring,
	    m->pending ? "yes" : "no", m->shutting_down,
	    (long long)m->retry_at, (long long)machine_next_deadline(m));
	for (i = 0; i < m->cfg->nlevels; i++)
		fprintf(stderr, "  level %d %-8s %-8s failed %d probing %d "
		    "strategy %d\n", i + 1, m->cfg->levels[i].name,
		    level_state_name(m->levels[i].state), m->levels[i].failed,
		    m->levels[i].probing, m->cfg->levels[i].strategy);
	for (i = 0; i < m->cfg->nprocs; i++)
		fprintf(stderr, "  proc %2d %-6s L%d %-8s pid %d/%d "
		    "execd %d/%d probing %d ready=%s "
		    "restart_pending %d rollout %d retiring %d %s %s\n", i,
		    m->cfg->procs[i].name, m->cfg->procs[i].level + 1,
		    proc_state_name(m->procs[i].state), m->procs[i].pid,
		    H.pid[i], m->procs[i].exec_seen, H.execd[i],
		    m->procs[i].probing, readies[m->cfg->procs[i].ready],
		    m->procs[i].restart_pending,
		    m->procs[i].rollout, m->procs[i].retiring,
		    m->cfg->procs[i].type == PROC_ONESHOT ? "oneshot" :
		    "longrun", m->cfg->procs[i].restart == RESTART_PERMANENT ?
		    "permanent" : m->cfg->procs[i].restart ==
		    RESTART_TRANSIENT ? "transient" : "temporary");
}

static struct beh *
beh_of(const char *name)
{
	struct beh	*b;
	int		 i;

	for (i = 0; i < H.nbeh; i++)
		if (strcmp(H.beh[i].name, name) == 0)
			return &H.beh[i];
	CHECK(H.nbeh < MAXB, "harness: too many process names");
	b = &H.beh[H.nbeh++];
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->on_term = chance(65) ? TERM_EXITS : chance(60) ? TERM_LATER :
	    TERM_IGNORES;
	return b;
}

/* --- the file: make, vary, write, parse ---------------------------------- */

static void
model_new_level(struct mlevel *l)
{
	snprintf(l->name, sizeof(l->name), "L%d", H.md.names++);
	l->strategy = rn(3);
	l->intensity = 1 + rn(5);
	l->period = rms(1000, 10000);
	l->nprobes = chance(60) ? 0 : 1 + rn(2);
	l->probe_interval = rms(300, 3000);
	l->failure_threshold = 1 + rn(3);
	l->ready_timeout = rms(2500, 15000);
}

static void
model_new_proc(struct mproc *p, int level, int tmpl)
{
	struct beh	*b;

	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "p%d", H.md.names++);
	p->level = level;
	/* Template 0: plain started longruns; 1: notify and probes; else
	 * anything. */
	p->oneshot = tmpl != 0 && chance(20);
	p->ready = tmpl == 0 ? READY_STARTED : tmpl == 1 ?
	    (chance(50) ? READY_NOTIFY : READY_PROBE) : rn(4);
	if (p->oneshot)
		p->ready = READY_EXIT;
	p->restart = chance(60) ? RESTART_PERMANENT : rn(3);
	/* Below any ready_timeout: a delay that outlasts it never
	 * comes up, by configuration. */
	p->ready_delay = p->ready == READY_STARTED && chance(30) ?
	    rms(50, 1000) : 0;
	p->stop_timeout = rms(100, 5000);
	p->sigint = chance(20);
	b = beh_of(p->name);
	if (p->oneshot || p->restart != RESTART_PERMANENT)
		b->ever_other = true;
}

static void
model_random(int tmpl)
{
	struct model	*md = &H.md;
	int		 i, j, n;

	memset(md, 0, sizeof(*md));
	md->retry_min = rms(100, 1000);
	md->retry_max = md->retry_min + rms(0, 8000);
	md->alarm_after = chance(50) ? 0 : rms(1000, 10000);
	md->stop_timeout = rms(100, 5000);
	md->give_up_after = chance(10) ? 3 + rn(4) : 0;
	md->nlevels = 2 + rn(3);
	md->target = chance(80) ? -1 : rn(md->nlevels);
	for (i = 0; i < md->nlevels; i++) {
		model_new_level(&md->levels[i]);
		n = 1 + rn(4);
		for (j = 0; j < n; j++)
			model_new_proc(&md->procs[md->nprocs++], i, tmpl);
	}
}

static const char *const strategies[] = {
	"one_for_one", "one_for_all", "rest_for_one"
};
_Static_assert(sizeof(strategies) / sizeof(strategies[0]) ==
    STRATEGY_REST_FOR_ONE + 1, "one word per enum strategy");
static const char *const restarts[] = {
	"permanent", "transient", "temporary"
};
_Static_assert(sizeof(restarts) / sizeof(restarts[0]) ==
    RESTART_TEMPORARY + 1, "one word per enum proc_restart");

static size_t
model_text(char *buf, size_t len)
{
	const struct model	*md = &H.md;
	const struct mlevel	*l;
	const struct mproc	*p;
	size_t			 n = 0;
	int			 i, k;

#define OUT(...)	do { n += (size_t)snprintf(buf + n, len - n, \
			    __VA_ARGS__); CHECK(n < len, "model too long"); \
			} while (0)
	OUT("[stack]\nname = chaos\nretry_min = %lldms\nretry_max = %lldms\n"
	    "alarm_after = %lldms\nstop_timeout = %lldms\n"
	    "give_up_after = %d\n", (long long)md->retry_min,
	    (long long)md->retry_max, (long long)md->alarm_after,
	    (long long)md->stop_timeout, md->give_up_after);
	if (md->target >= 0)
		OUT("target = %s\n", md->levels[md->target].name);
	for (i = 0; i < md->nlevels; i++) {
		l = &md->levels[i];
		OUT("[level %s]\nstrategy = %s\nintensity = %d\n"
		    "period = %lldms\nready_timeout = %lldms\n", l->name,
		    strategies[l->strategy], l->intensity,
		    (long long)l->period, (long long)l->ready_timeout);
		for (k = 0; k < l->nprobes; k++)
			OUT("probe = /bin/check-%s-%d\n", l->name, k);
		if (l->nprobes > 0)
			OUT("probe_interval = %lldms\nfailure_threshold = %d\n",
			    (long long)l->probe_interval, l->failure_threshold);
	}
	for (i = 0; i < md->nprocs; i++) {
		p = &md->procs[i];
		OUT("[process %s]\nlevel = %s\ncommand = /bin/%s --v%d\n"
		    "restart = %s\nstop_timeout = %lldms\nstop_signal = %s\n",
		    p->name, md->levels[p->level].name, p->name, p->ver,
		    restarts[p->restart], (long long)p->stop_timeout,
		    p->sigint ? "INT" : "TERM");
		if (p->oneshot)
			OUT("type = oneshot\n");
		else
			OUT("ready = %s\n", readies[p->ready]);
		if (p->ready == READY_PROBE)
			OUT("probe = /bin/check-%s\n", p->name);
		if (p->ready_delay > 0)
			OUT("ready_delay = %lldms\n",
			    (long long)p->ready_delay);
	}
#undef OUT
	return n;
}

static struct stack_conf *
model_parse(void)
{
	static char		 text[MODEL_TEXTMAX];
	char			 path[64], err[PARSE_ERRMAX];
	struct stack_conf	*conf;
	size_t			 len;
	int			 fd;

	len = model_text(text, sizeof(text));
	snprintf(path, sizeof(path), "/tmp/chaosXXXXXX.ini");
	fd = mkstemps(path, 4);
	CHECK(fd >= 0, "mkstemps failed");
	CHECK(write(fd, text, len) == (ssize_t)len, "write failed");
	close(fd);
	err[0] = '\0';
	conf = parse_file(path, err, sizeof(err));
	unlink(path);
	if (conf == NULL) {
		fprintf(stderr, "%s", text);
		violation("harness: the model does not parse: %s", err);
	}
	return conf;
}

/* Remove model process k. */
static void
model_del_proc(int k)
{
	struct model	*md = &H.md;

	memmove(&md->procs[k], &md->procs[k + 1],
	    (size_t)(md->nprocs - k - 1) * sizeof(md->procs[0]));
	md->nprocs--;
}

/* One change to the file; says what in buf. */
static void
model_vary(char *buf, size_t len)
{
	struct model	*md = &H.md;
	struct mproc	*p;
	struct mlevel	*l;
	int		 k, j, lvl;

	switch (rn(11)) {
	case 0:
	case 1:
		if (md->nprocs == 0)
			break;
		p = &md->procs[rn(md->nprocs)];
		p->ver++;
		snprintf(buf, len, "command of %s", p->name);
		return;
	case 2:
		if (md->nprocs >= MAXP)
			break;
		p = &md->procs[md->nprocs++];
		model_new_proc(p, rn(md->nlevels), 2);
		/* Sometimes an old name comes back. */
		if (H.nbeh > 1 && chance(30)) {
			k = rn(H.nbeh);
			for (j = 0; j < md->nprocs - 1; j++)
				if (strcmp(md->procs[j].name,
				    H.beh[k].name) == 0)
					break;
			if (j == md->nprocs - 1) {
				memcpy(p->name, H.beh[k].name,
				    sizeof(p->name));
				if (p->oneshot ||
				    p->restart != RESTART_PERMANENT)
					H.beh[k].ever_other = true;
			}
		}
		snprintf(buf, len, "add %s to %s", p->name,
		    md->levels[p->level].name);
		return;
	case 3:
		if (md->nprocs <= 1)
			break;
		k = rn(md->nprocs);
		snprintf(buf, len, "remove %s", md->procs[k].name);
		model_del_proc(k);
		return;
	case 4:
		if (md->nprocs == 0 || md->nlevels < 2)
			break;
		p = &md->procs[rn(md->nprocs)];
		lvl = (p->level + 1 + rn(md->nlevels - 1)) % md->nlevels;
		snprintf(buf, len, "move %s from %s to %s", p->name,
		    md->levels[p->level].name, md->levels[lvl].name);
		p->level = lvl;
		return;
	case 5:
		l = &md->levels[rn(md->nlevels)];
		snprintf(buf, len, "rename level %s", l->name);
		snprintf(l->name, sizeof(l->name), "L%d", md->names++);
		return;
	case 6:
		l = &md->levels[rn(md->nlevels)];
		l->strategy = rn(3);
		l->intensity = 1 + rn(5);
		l->nprobes = chance(60) ? 0 : 1 + rn(2);
		snprintf(buf, len, "settings of level %s", l->name);
		return;
	case 7:
		if (md->nprocs == 0)
			break;
		p = &md->procs[rn(md->nprocs)];
		p->restart = rn(3);
		if (!p->oneshot && chance(50))
			p->ready = rn(4);
		if (p->ready != READY_STARTED)
			p->ready_delay = 0;
		if (p->restart != RESTART_PERMANENT)
			beh_of(p->name)->ever_other = true;
		snprintf(buf, len, "restart/ready of %s", p->name);
		return;
	case 8:
		/* A level added (anywhere) or the top one removed. */
		if (md->nlevels < MAXL - 1 && (md->nlevels < 3 || chance(50))) {
			lvl = rn(md->nlevels + 1);
			memmove(&md->levels[lvl + 1], &md->levels[lvl],
			    (size_t)(md->nlevels - lvl) *
			    sizeof(md->levels[0]));
			md->nlevels++;
			model_new_level(&md->levels[lvl]);
			for (k = 0; k < md->nprocs; k++)
				if (md->procs[k].level >= lvl)
					md->procs[k].level++;
			if (md->target >= lvl)
				md->target++;
			if (md->nprocs < MAXP)
				model_new_proc(&md->procs[md->nprocs++], lvl,
				    2);
			snprintf(buf, len, "insert level %s at %d",
			    md->levels[lvl].name, lvl + 1);
			return;
		}
		if (md->nlevels <= 2)
			break;
		md->nlevels--;
		for (k = md->nprocs - 1; k >= 0; k--)
			if (md->procs[k].level == md->nlevels)
				model_del_proc(k);
		if (md->target >= md->nlevels)
			md->target = -1;
		snprintf(buf, len, "remove top level %s",
		    md->levels[md->nlevels].name);
		return;
	case 9:
		md->target = chance(50) ? -1 : rn(md->nlevels);
		snprintf(buf, len, "file target %d", md->target + 1);
		return;
	default:
		break;
	}
	snprintf(buf, len, "nothing");
}

/* --- playing the daemon ------------------------------------------------- */

static bool
live_state(enum proc_state s)
{
	return s == PS_STARTING || s == PS_RUNNING || s == PS_STOPPING;
}

static void	drain(void);

/* Process i is gone: the harness reaps it. */
static void
h_die(int i, int wstatus)
{
	H.pid[i] = 0;
	H.execd[i] = false;
	H.dying[i] = false;
	H.pprobe_pending[i] = false;
	machine_proc_exited(&H.m, i, wstatus, H.now);
}

static void
h_answer(int level, int proc, bool ok)
{
	int		n = H.cfg->levels[level].nprobes;
	uint64_t	passed;

	if (proc >= 0)
		H.pprobe_pending[proc] = false;
	else
		H.lprobe_pending[level] = false;
	/* A failed run of several probes may still have some pass. */
	passed = ok ? ~(uint64_t)0 : proc < 0 && n > 1 ? rnd() &
	    (((uint64_t)1 << n) - 1) : 0;
	if (proc < 0 && n > 1 && !ok && passed == ((uint64_t)1 << n) - 1)
		passed = 0;
	machine_probe_done(&H.m, level, proc, ok, passed, 5, H.now);
}

/* The exec of process i is confirmed (stackd.c: daemon_execd). */
static void
h_execd(int i)
{
	const struct proc_conf	*pc = &H.cfg->procs[i];

	H.execd[i] = true;
	machine_proc_execd(&H.m, i, H.now);
	if (H.pid[i] == 0)
		return;
	/* A prompt child: READY at once, a oneshot done at once. */
	if ((pc->ready == READY_NOTIFY || pc->ready == READY_FD) &&
	    (H.behave ? !beh_of(pc->name)->silent : chance(50)))
		machine_proc_ready(&H.m, i, H.now);
	if (pc->type == PROC_ONESHOT && (H.behave || chance(40)))
		h_die(i, EXITED(H.behave || chance(80) ? 0 : 1));
}

/* Play the daemon for one action. */
static void
act(const struct action *a)
{
	enum on_term	 on;
	int		 i = a->proc;

	switch (a->kind) {
	case ACT_SPAWN:
		CHECK(i >= 0 && i < H.cfg->nprocs, "spawn of proc %d", i);
		CHECK(H.pid[i] == 0, "spawn of %s, which still runs as "
		    "pid %d", H.cfg->procs[i].name, H.pid[i]);
		CHECK(!H.shutdown_asked, "spawn of %s after the shutdown",
		    H.cfg->procs[i].name);
		if (!H.behave && chance(2)) {
			/* No child at all (stackd.c: daemon_spawn). */
			machine_proc_exited(&H.m, i, EXITED(127), H.now);
			break;
		}
		H.pid[i] = ++H.next_pid;
		H.execd[i] = false;
		machine_proc_spawned(&H.m, i, H.pid[i], false, H.now);
		if (!H.behave && chance(3))
			h_die(i, EXITED(127));	/* exec failed */
		else if (H.behave || chance(70))
			h_execd(i);
		break;
	case ACT_SIGNAL:
		CHECK(i >= 0 && i < H.cfg->nprocs, "signal to proc %d", i);
		if (H.pid[i] == 0)
			break;
		on = H.behave ? TERM_EXITS : beh_of(H.cfg->procs[i].name)->
		    on_term;
		if (a->sig == SIGKILL || on == TERM_EXITS)
			h_die(i, a->sig);
		else if (on == TERM_LATER)
			H.dying[i] = true;
		break;
	case ACT_PROBE:
		if (i >= 0) {
			CHECK(i < H.cfg->nprocs, "probe of proc %d", i);
			CHECK(a->level == H.cfg->procs[i].level,
			    "probe of %s for level %d", H.cfg->procs[i].name,
			    a->level);
			CHECK(!H.pprobe_pending[i], "a second probe of %s "
			    "while one runs", H.cfg->procs[i].name);
			CHECK(H.pid[i] != 0, "probe of %s, not running",
			    H.cfg->procs[i].name);
			H.pprobe_pending[i] = true;
		} else {
			CHECK(a->level >= 0 && a->level < H.cfg->nlevels,
			    "probe of level %d", a->level);
			CHECK(!H.lprobe_pending[a->level], "a second probe "
			    "of level %d while one runs", a->level + 1);
			H.lprobe_pending[a->level] = true;
		}
		if (H.behave)
			h_answer(a->level, i, true);
		else if (chance(50))
			h_answer(a->level, i, chance(85));
		break;
	case ACT_PROBE_CANCEL:
		if (i >= 0)
			H.pprobe_pending[i] = false;
		else
			H.lprobe_pending[a->level] = false;
		break;
	case ACT_EXIT:
		H.nexit++;
		for (i = 0; i < H.cfg->nprocs; i++)
			CHECK(H.pid[i] == 0, "exit with %s still running",
			    H.cfg->procs[i].name);
		break;
	case ACT_LOG:
		if (H.verbose)
			fprintf(stderr, "       t=%-7lld | %s\n",
			    (long long)H.now, a->text);
		break;
	case ACT_HOOK:
		if (a->hook != HOOK_UP && a->hook != HOOK_DOWN)
			break;
		CHECK(a->level >= 0 && a->level < H.cfg->nlevels,
		    "hook of level %d", a->level);
		CHECK(H.hooked_up[a->level] == (a->hook == HOOK_DOWN),
		    "on_%s of level %d twice in a row", a->hook == HOOK_UP ?
		    "up" : "down", a->level + 1);
		H.hooked_up[a->level] = a->hook == HOOK_UP;
		break;
	case ACT_READY:
		CHECK(++H.nready == 1, "READY=1 twice");
		break;
	case ACT_STATUS:
	case ACT_EVENT:
		break;
	}
}

static void
check_roster(void)
{
	CHECK(roster_check(&H.m), "roster_check");
	CHECK(machine_next_deadline(&H.m) == scan_next_deadline(&H.m),
	    "machine_next_deadline %lld, a full scan says %lld",
	    (long long)machine_next_deadline(&H.m),
	    (long long)scan_next_deadline(&H.m));
}

/* The reload is due: swap the files, remapping what the harness keeps
 * per process as stackd.c's reconfigure_commit does. */
static void
h_commit(void)
{
	pid_t		 pid[MAXP] = { 0 }, oldpid[MAXP];
	bool		 execd[MAXP] = { false }, dying[MAXP] = { false };
	int		 map[MAXP], i, nold = H.cfg->nprocs, floor = H.m.hold;

	for (i = floor; i < H.cfg->nlevels; i++)
		CHECK(!H.hooked_up[i], "reload commit: level %d is down "
		    "without its on_down", i + 1);
	CHECK(machine_reload_commit(&H.m, map, oldpid, H.now) == 0,
	    "machine_reload_commit failed");
	for (i = 0; i < nold; i++) {
		if (map[i] >= 0) {
			pid[map[i]] = H.pid[i];
			execd[map[i]] = H.execd[i];
			dying[map[i]] = H.dying[i];
			continue;
		}
		/* The machine stops what leaves before the commit. */
		CHECK(oldpid[i] == 0 && H.pid[i] == 0, "reload commit: %s "
		    "(pid %d) is gone from the file but still runs",
		    H.cfg->procs[i].name, H.pid[i]);
	}
	for (i = floor; i < MAXL; i++)
		H.hooked_up[i] = false;
	memcpy(H.pid, pid, sizeof(pid));
	memcpy(H.execd, execd, sizeof(execd));
	memcpy(H.dying, dying, sizeof(dying));
	/* Probes in flight are cancelled; the machine asks again. */
	memset(H.pprobe_pending, 0, sizeof(H.pprobe_pending));
	memset(H.lprobe_pending, 0, sizeof(H.lprobe_pending));
	config_free(H.cfg);
	H.cfg = H.pending;
	H.pending = NULL;
	CHECK(H.m.cfg == H.cfg, "the machine runs another file");
	trace("  reload committed");
}

/* Play the daemon for every pending action; commit a reload when due. */
static void
drain(void)
{
	struct action	a;

	for (;;) {
		check_roster();
		while (machine_next_action(&H.m, &a)) {
			act(&a);
			check_roster();
		}
		if (H.pending == NULL || !machine_reload_due(&H.m))
			break;
		h_commit();
	}
}

/* Tick at every deadline up to and including t, then stand at t. */
static void
advance_to(msec_t t)
{
	msec_t	d;

	drain();
	for (;;) {
		d = machine_next_deadline(&H.m);
		if (d > t)
			break;
		if (d > H.now) {
			H.now = d;
			H.same_time_ticks = 0;
		} else
			CHECK(++H.same_time_ticks < 1000, "deadline loop: the "
			    "machine keeps asking for a tick at %lld",
			    (long long)d);
		machine_tick(&H.m, H.now);
		drain();
	}
	if (t > H.now) {
		H.now = t;
		H.same_time_ticks = 0;
	}
}

/* --- invariants ----------------------------------------------------------- */

/*
 * Below the target, not shutting down, nothing stopping or climbing (that
 * is, waiting for a process): the machine must have a timer of its own
 * running -- the alarm's aside, which only says it is stuck.  Otherwise
 * only an event it does not wait for could move it again.
 */
static void
check_not_wedged(void)
{
	const struct machine	*m = &H.m;
	msec_t			 d;
	int			 i;

	if (m->shutting_down || m->current >= m->target ||
	    machine_busy(m, NULL))
		return;
	for (i = 0; i < m->cfg->nprocs; i++)
		if (m->procs[i].state == PS_STOPPING)
			return;
	d = machine_next_deadline(m);
	if (!m->alarm && m->below_since != MSEC_NEVER &&
	    m->cfg->alarm_after > 0 && d == m->below_since +
	    m->cfg->alarm_after) {
		/* The alarm's: is there any other? */
		struct machine	 copy = *m;

		copy.alarm = true;
		d = machine_next_deadline(&copy);
	}
	CHECK(d != MSEC_NEVER, "wedged: at level %d below target %d, "
	    "nothing stopping or climbing, and no timer", m->current,
	    m->target);
}

/* Levels: below current up (or stopping), above it down; one busy. */
static void
check_levels(void)
{
	const struct machine	*m = &H.m;
	const struct stack_conf	*cfg = m->cfg;
	enum level_state	 s;
	int			 i, busy = 0;

	CHECK(m->current >= 0 && m->current <= cfg->nlevels,
	    "current %d of %d levels", m->current, cfg->nlevels);
	CHECK(m->target >= 0 && m->target <= cfg->nlevels,
	    "target %d of %d levels", m->target, cfg->nlevels);
	for (i = 0; i < cfg->nlevels; i++) {
		s = m->levels[i].state;
		busy += s == LEVEL_CLIMBING || s == LEVEL_STOPPING;
		if (i < m->current)
			CHECK(s == LEVEL_UP || s == LEVEL_STOPPING,
			    "level %d is %s below current %d", i + 1,
			    level_state_name(s), m->current);
		else if (i == m->current)
			CHECK(s != LEVEL_UP, "level %d is up above current "
			    "%d", i + 1, m->current);
		else
			CHECK(s == LEVEL_DOWN, "level %d is %s, above "
			    "current %d + 1", i + 1, level_state_name(s),
			    m->current);
		if (s == LEVEL_CLIMBING)
			CHECK(i == m->current && i < machine_limit(m),
			    "level %d climbs; current %d, limit %d", i + 1,
			    m->current, machine_limit(m));
	}
	CHECK(busy <= 1, "%d levels climbing or stopping at once", busy);
	/* The step has run: an idle stack is not above the limit. */
	if (busy == 0)
		CHECK(m->current <= machine_limit(m), "idle at level %d, "
		    "above the limit %d", m->current, machine_limit(m));
}

/* Does permanent longrun i of an up level that stays up have to run? */
static bool
must_run(int i)
{
	const struct machine	*m = &H.m;
	const struct proc_conf	*pc = &m->cfg->procs[i];
	const struct level_rt	*l = &m->levels[pc->level];

	return l->state == LEVEL_UP && !l->failed &&
	    pc->level < machine_limit(m) && !m->shutting_down &&
	    pc->type == PROC_LONGRUN && pc->restart == RESTART_PERMANENT &&
	    !beh_of(pc->name)->ever_other && !m->procs[i].retiring &&
	    !reload_leaves(m, i);
}

/* Process i against its level, and against the harness. */
static void
check_proc(int i)
{
	const struct machine	*m = &H.m;
	const struct proc_rt	*p = &m->procs[i];
	const char		*name = m->cfg->procs[i].name;
	int			 lvl = m->cfg->procs[i].level;

	if (m->levels[lvl].state == LEVEL_DOWN)
		CHECK(!live_state(p->state) && !p->restart_pending &&
		    p->rollout == ROLL_NONE, "%s of down level %d: %s, "
		    "restart_pending %d, rollout %d", name, lvl + 1,
		    proc_state_name(p->state), p->restart_pending, p->rollout);
	/* A level being stopped has nothing left starting or running. */
	if (m->levels[lvl].state == LEVEL_STOPPING)
		CHECK(p->state != PS_STARTING && p->state != PS_RUNNING,
		    "%s is %s in stopping level %d", name,
		    proc_state_name(p->state), lvl + 1);
	/* ...and one that stays up runs it, or is about to restart it. */
	if (must_run(i))
		CHECK(live_state(p->state) || p->restart_pending ||
		    p->rollout != ROLL_NONE, "permanent %s is %s in up "
		    "level %d, nothing to restart it", name,
		    proc_state_name(p->state), lvl + 1);
	CHECK(live_state(p->state) == (H.pid[i] != 0) && p->pid == H.pid[i],
	    "%s is %s with pid %d, the harness has pid %d", name,
	    proc_state_name(p->state), p->pid, H.pid[i]);
}

/* The machine's counters agree with its processes. */
static void
check_counters(void)
{
	const struct machine	*m = &H.m;
	const struct proc_rt	*p;
	int			 i, rolling = 0, stops = 0, retiring = 0;

	for (i = 0; i < m->cfg->nprocs; i++) {
		p = &m->procs[i];
		rolling += p->rollout != ROLL_NONE;
		stops += p->rollout == ROLL_STOP || p->rollout == ROLL_STOPPING;
		retiring += p->retiring && live_state(p->state);
	}
	CHECK(m->rolling == rolling, "rolling %d, %d processes in the rollout",
	    m->rolling, rolling);
	CHECK(m->rollout_stops == stops, "rollout_stops %d, %d to stop",
	    m->rollout_stops, stops);
	CHECK(m->retiring == retiring, "retiring %d, %d live retiring",
	    m->retiring, retiring);
	CHECK(m->pending == H.pending, "the machine's pending file");
}

static void
check_invariants(void)
{
	msec_t	d;
	int	i;

	check_roster();
	/* Drained at now: no tick due that was not taken. */
	d = machine_next_deadline(&H.m);
	CHECK(d == MSEC_NEVER || d > H.now, "a tick due at %lld was not "
	    "taken", (long long)d);
	check_levels();
	for (i = 0; i < H.m.cfg->nprocs; i++)
		check_proc(i);
	check_counters();
	check_not_wedged();
}

/* After an event: take every tick due now, then check. */
static void
settle(void)
{
	advance_to(H.now);
	check_invariants();
}

/* --- the events ----------------------------------------------------------- */

/* A random process index for which ok(i) holds, or -1. */
static int
pick(bool (*ok)(int))
{
	int	i, n = 0, c[MAXP];

	for (i = 0; i < H.cfg->nprocs; i++)
		if (ok(i))
			c[n++] = i;
	return n ? c[rn(n)] : -1;
}

static bool
is_running(int i)
{
	return H.pid[i] != 0;
}

static bool
is_exec_pending(int i)
{
	return H.pid[i] != 0 && !H.execd[i];
}

static bool
is_notify(int i)
{
	return H.pid[i] != 0 && (H.cfg->procs[i].ready == READY_NOTIFY ||
	    H.cfg->procs[i].ready == READY_FD) && (H.execd[i] || chance(10));
}

static bool
is_leaving(int i)
{
	return reload_leaves(&H.m, i);
}

static bool
is_down(int i)
{
	return H.pid[i] == 0;
}

static bool
is_dying(int i)
{
	return H.pid[i] != 0 && H.dying[i];
}

static bool
is_probed(int i)
{
	return H.pprobe_pending[i];
}

static const char *
pname(int i)
{
	return H.cfg->procs[i].name;
}

static void
h_reload(void)
{
	struct stack_conf	*old = H.pending;
	char			 what[48], more[48];

	model_vary(what, sizeof(what));
	more[0] = '\0';
	if (chance(30))
		model_vary(more, sizeof(more));
	trace("reload: %s%s%s%s", what, more[0] ? ", " : "", more,
	    old ? " (superseding)" : "");
	H.pending = model_parse();
	machine_reload(&H.m, H.pending, H.now);
	/* A pending file superseded (stackd.c: reconfigure). */
	if (old != NULL)
		config_free(old);
}

/* The kinds of event, and how often each comes in this case. */
enum ev {
	EV_EXIT, EV_EXECD, EV_READY, EV_PPROBE, EV_LPROBE, EV_REAP,
	EV_TARGET, EV_RESTART, EV_RELOAD, EV_TICK, EV_ADVANCE, EV_N
};

static int	weights[EV_N];

/* A mix of events for the case: some cases crash a lot, some reload a
 * lot, some mostly let time pass. */
static void
choose_weights(void)
{
	static const int profiles[][EV_N] = {
		/* exit execd ready pprobe lprobe reap target restart
		 * reload tick advance */
		{ 12, 8, 10, 6, 6, 6, 5, 5, 4, 2, 36 },
		{ 25, 8, 10, 6, 6, 6, 5, 5, 2, 2, 25 },
		{ 6, 8, 10, 6, 6, 6, 3, 3, 15, 2, 35 },
		{ 4, 4, 5, 4, 4, 4, 12, 12, 4, 2, 45 },
	};

	memcpy(weights, profiles[rn(4)], sizeof(weights));
}

static enum ev
choose_event(void)
{
	int	k, r, total = 0;

	for (k = 0; k < EV_N; k++)
		total += weights[k];
	r = rn(total);
	for (k = 0; k < EV_N - 1; k++)
		if ((r -= weights[k]) < 0)
			break;
	return (enum ev)k;
}

/* One random event; an event that has nothing to act on lets time pass. */
static void
chaos_step(void)
{
	static const int exit_statuses[] = { EXITED(0), EXITED(1), EXITED(1),
	    SIGSEGV, SIGKILL, SIGTERM };
	int	i = -1, w, lvl, r;
	msec_t	dt;

	switch (choose_event()) {
	case EV_EXIT:
		if ((i = pick(is_running)) < 0)
			break;
		w = H.dying[i] ? H.cfg->procs[i].stop_signal :
		    exit_statuses[rn((int)(sizeof(exit_statuses) /
		    sizeof(exit_statuses[0])))];
		trace("exit %s status 0x%x", pname(i), w);
		h_die(i, w);
		goto done;
	case EV_EXECD:
		if ((i = pick(is_exec_pending)) < 0)
			break;
		trace("execd %s", pname(i));
		h_execd(i);
		goto done;
	case EV_READY:
		if ((i = pick(is_notify)) < 0)
			break;
		trace("READY %s", pname(i));
		machine_proc_ready(&H.m, i, H.now);
		goto done;
	case EV_PPROBE:
		if ((i = pick(is_probed)) < 0)
			break;
		w = chance(75);
		trace("probe of %s %s", pname(i), w ? "ok" : "fails");
		h_answer(H.cfg->procs[i].level, i, w);
		goto done;
	case EV_LPROBE:
		if (!H.lprobe_pending[lvl = rn(H.cfg->nlevels)])
			break;
		w = chance(75);
		trace("probe of level %d %s", lvl + 1, w ? "ok" : "fails");
		h_answer(lvl, -1, w);
		goto done;
	case EV_REAP:
		if ((i = pick(is_dying)) < 0)
			break;
		trace("reap %s (signalled)", pname(i));
		h_die(i, H.cfg->procs[i].stop_signal);
		goto done;
	case EV_TARGET:
		w = chance(50) ? H.cfg->nlevels : rn(H.cfg->nlevels + 1);
		trace("stackctl target %d", w);
		machine_set_target(&H.m, w, H.now);
		goto done;
	case EV_RESTART:
		if (H.cfg->nprocs == 0)
			break;
		/* Often one that a pending reload removes or moves, or one
		 * that is not running: exited, done, or about to restart. */
		if (H.pending != NULL && chance(50))
			i = pick(is_leaving);	/* the reload takes it away */
		else if (chance(50))
			i = pick(is_down);
		if (i < 0)
			i = rn(H.cfg->nprocs);
		trace("stackctl restart %s", pname(i));
		machine_restart_proc(&H.m, i, H.now);
		goto done;
	case EV_RELOAD:
		/* stackd.c refuses a reload while shutting down. */
		if (H.m.shutting_down)
			break;
		h_reload();
		goto done;
	case EV_TICK:
		trace("unasked tick");
		machine_tick(&H.m, H.now);
		goto done;
	case EV_ADVANCE:
	case EV_N:
		break;
	}
	r = rn(100);
	dt = r < 55 ? rms(1, 300) : r < 90 ? rms(300, 3000) :
	    rms(3000, 40000);
	trace("advance %lldms", (long long)dt);
	advance_to(H.now + dt);
done:
	settle();
}

/* Shut down, sometimes twice (the second: no more grace periods). */
static void
h_shutdown(void)
{
	trace("shutdown");
	machine_shutdown(&H.m, H.now);
	if (chance(20)) {
		drain();
		trace("shutdown again");
		machine_shutdown(&H.m, H.now);
	}
	H.shutdown_asked = true;
	settle();
}

/* What process i still holds back once everything behaves; false if
 * nothing. */
static bool
h_behave_one(int i)
{
	const struct proc_conf	*pc = &H.cfg->procs[i];
	enum proc_state		 s = H.m.procs[i].state;

	if (H.pid[i] != 0 && H.dying[i])
		h_die(i, pc->stop_signal);
	else if (H.pid[i] != 0 && !H.execd[i])
		h_execd(i);
	else if (H.pid[i] != 0 && s == PS_STARTING &&
	    (pc->ready == READY_NOTIFY || pc->ready == READY_FD) &&
	    !beh_of(pc->name)->silent)
		machine_proc_ready(&H.m, i, H.now);
	else if (H.pid[i] != 0 && pc->type == PROC_ONESHOT &&
	    s != PS_STOPPING)
		h_die(i, EXITED(0));
	else if (H.pprobe_pending[i])
		h_answer(pc->level, i, true);
	else
		return false;
	return true;
}

/*
 * From now on every process behaves: what is held back is let go, one at
 * a time, from the start again after each (a drain may commit a reload,
 * which renumbers the processes).
 */
static void
h_behave(void)
{
	int	i, guard = 0;
	bool	again = true;

	H.behave = true;
	trace("everything behaves from now on");
	while (again) {
		CHECK(++guard < 1000, "harness: processes never settle");
		again = false;
		for (i = 0; i < H.cfg->nprocs && !again; i++)
			again = h_behave_one(i);
		for (i = 0; i < H.cfg->nlevels && !again; i++)
			if ((again = H.lprobe_pending[i]))
				h_answer(i, -1, true);
		drain();
	}
	settle();
}

/* Once nothing goes wrong any more, the stack gets where it is told to. */
static void
check_liveness(void)
{
	const struct machine	*m = &H.m;
	const struct stack_conf	*cfg;
	const struct proc_rt	*p;
	const struct proc_conf	*pc;
	int			 i;

	advance_to(H.now + 10 * 60 * 1000);
	check_invariants();
	cfg = m->cfg;
	if (m->shutting_down) {
		/* Gave up (give_up_after). */
		CHECK(H.nexit == 1, "gave up, %d exits", H.nexit);
		return;
	}
	CHECK(m->pending == NULL && m->hold == CAP_NONE,
	    "10 minutes of calm and the reload is still pending");
	CHECK(m->rolling == 0, "10 minutes of calm and a rollout of %d "
	    "still runs", m->rolling);
	/* A process that never says READY may keep its level from ever
	 * coming up: then only the above, and no wedge (check_invariants). */
	if (H.quiet)
		return;
	CHECK(m->current == m->target && !machine_busy(m, NULL),
	    "10 minutes of calm and still at level %d (%s), target %d",
	    m->current, machine_state_name(m, H.now), m->target);
	CHECK(machine_up_level(m) == m->current, "up to level %d only",
	    machine_up_level(m));
	CHECK(m->cap == CAP_NONE, "10 minutes of calm and capped at %d",
	    m->cap);
	CHECK(!m->alarm, "10 minutes at the target and the alarm is on");
	for (i = 0; i < cfg->nprocs; i++) {
		p = &m->procs[i];
		pc = &cfg->procs[i];
		CHECK(!p->restart_pending, "10 minutes of calm and %s still "
		    "has a restart pending (%s)", pc->name,
		    proc_state_name(p->state));
		if (pc->level >= m->current)
			continue;
		CHECK(p->state == PS_RUNNING || p->state == PS_DONE ||
		    p->state == PS_EXITED, "%s is %s in up level %d",
		    pc->name, proc_state_name(p->state), pc->level + 1);
		if (pc->type == PROC_LONGRUN &&
		    pc->restart == RESTART_PERMANENT &&
		    !beh_of(pc->name)->ever_other)
			CHECK(p->state == PS_RUNNING, "permanent %s is %s in "
			    "up level %d", pc->name,
			    proc_state_name(p->state), pc->level + 1);
	}
}

/* Shutdown, every signal obeyed: one exit, nothing left. */
static void
check_shutdown(void)
{
	int	i;

	if (!H.m.shutting_down)
		h_shutdown();
	advance_to(H.now + 10 * 60 * 1000);
	check_invariants();
	CHECK(H.nexit == 1, "%d exits after the shutdown", H.nexit);
	for (i = 0; i < H.cfg->nprocs; i++)
		CHECK(H.pid[i] == 0 && !live_state(H.m.procs[i].state),
		    "%s still runs after the shutdown", pname(i));
	for (i = 0; i < H.cfg->nlevels; i++) {
		CHECK(H.m.levels[i].state == LEVEL_DOWN, "level %d is %s "
		    "after the shutdown", i + 1,
		    level_state_name(H.m.levels[i].state));
		CHECK(!H.hooked_up[i], "level %d down without its on_down",
		    i + 1);
	}
}

static void
case_free(void)
{
	if (H.inited)
		machine_free(&H.m);
	if (H.cfg != NULL)
		config_free(H.cfg);
	if (H.pending != NULL)
		config_free(H.pending);
	H.cfg = H.pending = NULL;
	H.inited = false;
}

/* One seed; false (after the report) if an invariant broke. */
static bool
run_case(uint64_t seed, int steps, bool verbose)
{
	uint64_t	z;
	int		stop_at;

	memset(&H, 0, sizeof(H));
	H.seed = seed;
	H.verbose = verbose;
	/* splitmix64 of the seed: close seeds, unrelated streams. */
	z = seed * 0x9e3779b97f4a7c15ULL + 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	rng = (z ^ (z >> 31)) | 1;
	if (setjmp(case_fail) != 0) {
		case_free();
		return false;
	}
	model_random(rn(3));
	H.cfg = model_parse();
	if (verbose) {
		static char	text[MODEL_TEXTMAX];

		model_text(text, sizeof(text));
		fprintf(stderr, "%s", text);
	}
	CHECK(machine_init(&H.m, H.cfg, seed) == 0, "machine_init");
	H.inited = true;
	H.next_pid = 1000;
	trace("start: %d levels, %d processes", H.cfg->nlevels,
	    H.cfg->nprocs);
	machine_start(&H.m, H.now);
	settle();
	choose_weights();
	/* A quarter of the cases are shut down amid the chaos. */
	stop_at = chance(25) ? 1 + rn(steps) : -1;
	for (H.step = 1; H.step <= steps && H.nexit == 0; H.step++) {
		if (H.step == stop_at && !H.m.shutting_down)
			h_shutdown();
		chaos_step();
	}
	/* A third of the cases end with a notify process or two that never
	 * says READY. */
	if (chance(33)) {
		int	k, n = 1 + rn(2);

		for (k = 0; k < H.cfg->nprocs && n > 0; k++)
			if ((H.cfg->procs[k].ready == READY_NOTIFY ||
			    H.cfg->procs[k].ready == READY_FD) && chance(50)) {
				beh_of(H.cfg->procs[k].name)->silent = true;
				H.quiet = true;
				n--;
			}
	}
	h_behave();
	if (!H.shutdown_asked)
		check_liveness();
	check_shutdown();
	case_free();
	return true;
}

static long
env_long(const char *name, long def)
{
	const char	*v = getenv(name);

	return v != NULL && *v != '\0' ? strtol(v, NULL, 10) : def;
}

static void
test_chaos(void **state)
{
	long	seed = env_long("CHAOS_SEED", 0);
	long	nseeds = env_long("CHAOS_SEEDS", 200);
	int	steps = (int)env_long("CHAOS_STEPS", 400);
	long	s, nfail = 0;
	char	failed[256] = "";

	(void)state;
	if (seed > 0) {
		if (!run_case((uint64_t)seed, steps, true))
			fail_msg("seed %ld: %s", seed, fail_why);
		return;
	}
	for (s = 1; s <= nseeds; s++) {
		if (run_case((uint64_t)s, steps,
		    env_long("CHAOS_VERBOSE", 0) != 0))
			continue;
		if (nfail++ < 20)
			snprintf(failed + strlen(failed), sizeof(failed) -
			    strlen(failed), " %ld", s);
	}
	if (nfail > 0)
		fail_msg("%ld of %ld seeds broke an invariant:%s", nfail,
		    nseeds, failed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chaos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
