/*
 * machine.h -- the level state machine of a stack, free of I/O.
 *
 * Events and the time go in (machine_start, machine_proc_spawned,
 * machine_proc_exited, machine_probe_done, machine_tick, ...), actions come
 * out (machine_next_action): spawn this process, send that signal, run these
 * probes, run a hook, log a line, tell systemd, exit.  The daemon (stackd.c)
 * turns real events into these calls and actions into system calls; the
 * unit tests drive the same calls with a fake clock.  The machine never
 * reads a clock, never sleeps and never blocks; machine_next_deadline says
 * when it next wants machine_tick, or MSEC_NEVER when idle.
 *
 * The code is split by concern, all on this one struct:
 *   machine.c   entry points, timers, stepping towards the target, alarm
 *   climb.c     climbing one level: start, readiness, success, failure,
 *               backoff
 *   rewind.c    stopping a level (and a process): rewind, descend,
 *               shutdown
 *   restart.c   a process exit while its level is up: restart types,
 *               strategies, intensity; an operator's restart
 *   reload.c    taking over a new configuration while running
 *   roster.c    indexes over the processes: pid -> process, the ones
 *               with timers, per-level counts
 */
#ifndef STACKD_MACHINE_H
#define STACKD_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "intensity.h"

enum level_state { LEVEL_DOWN, LEVEL_CLIMBING, LEVEL_UP, LEVEL_STOPPING };
enum proc_state {
	PS_STOPPED,	/* not running, nothing expected */
	PS_STARTING,	/* spawned, not ready yet */
	PS_RUNNING,	/* ready longrun */
	PS_STOPPING,	/* stop signal sent, waiting for the exit */
	PS_DONE,	/* oneshot exited 0 */
	PS_EXITED	/* exited on its own and not restarted */
};
/* Where a process is in a reload's rollout (rollout.c). */
enum roll_state {
	ROLL_NONE,
	ROLL_STOP,	/* changed: to be stopped, once the levels above are */
	ROLL_STOPPING,	/* ...stop signal sent */
	ROLL_START,	/* to be started, once the levels below are */
	ROLL_STARTING	/* ...started, not ready yet */
};
enum probe_state { PROBE_NONE, PROBE_PENDING, PROBE_OK, PROBE_FAILED };
enum hook_event { HOOK_UP, HOOK_DOWN, HOOK_ALARM, HOOK_ALARM_CLEARED };

enum act_kind {
	ACT_SPAWN,		/* proc: start it, then machine_proc_spawned */
	ACT_SIGNAL,		/* proc, sig: signal its process group */
	ACT_PROBE,		/* level, proc (-1: the level's probes) */
	ACT_PROBE_CANCEL,	/* level, proc: kill it, report nothing */
	ACT_HOOK,		/* level (-1: stack), hook */
	ACT_LOG,		/* prio (syslog), text */
	ACT_STATUS,		/* state changed: tell systemd and listeners */
	ACT_READY,		/* ready_level reached for the first time */
	ACT_EVENT,		/* event, level, proc, pid, code, text */
	ACT_EXIT		/* code: everything is down, exit */
};

/*
 * What happened, for `stackctl events` subscribers.  The machine only says
 * what and to whom; the daemon adds the clocks and writes the JSON line.
 */
enum event_kind {
	EVT_CLIMB_STARTED,	/* level; code: attempt number */
	EVT_CLIMB_FAILED,	/* level; text: reason */
	EVT_LEVEL_UP,		/* level */
	EVT_LEVEL_FAILED,	/* level (was up); text: reason */
	EVT_LEVEL_DOWN,		/* level */
	EVT_PROCESS_STARTED,	/* proc, pid */
	EVT_PROCESS_READY,	/* proc, pid */
	EVT_PROCESS_EXITED,	/* proc, pid; code: wait status; requested */
	EVT_PROBE_FAILED,	/* level, proc (-1: level probe); code: failures */
	EVT_ALARM_RAISED,	/* level: the current one (-1 at 0); text */
	EVT_ALARM_CLEARED,	/* level */
	EVT_TARGET_CHANGED,	/* code: the new target */
	EVT_RELOAD_OK,		/* from the daemon */
	EVT_RELOAD_FAILED,	/* from the daemon; text: the error */
	EVT_SHUTDOWN,		/* code: exit code; text: why */
	EVT_SUBSCRIBED,		/* from the daemon: first line to a subscriber */
	EVT_PROCESS_STATUS	/* from the daemon: proc, pid; text: STATUS= */
};

#define ACT_TEXTMAX	256

struct action {
	enum act_kind	 kind;
	int		 level;		/* 0-based index, or -1 */
	int		 proc;		/* index into cfg->procs, or -1 */
	int		 sig;
	enum hook_event	 hook;
	enum event_kind	 event;
	pid_t		 pid;
	bool		 requested;	/* process_exited: we stopped it */
	int		 prio;
	int		 code;
	int		 errnum;	/* process_exited: its ERRNO=, or 0 */
	char		 text[ACT_TEXTMAX];
};

struct proc_rt {
	enum proc_state	 state;
	pid_t		 pid;		/* 0 when not running */
	msec_t		 started_at;
	msec_t		 ready_at;	/* ready_delay deadline */
	msec_t		 kill_at;	/* SIGKILL deadline while stopping */
	msec_t		 probe_next;	/* ready = probe */
	bool		 probing;
	bool		 restart_pending; /* respawn once its group is down */
	bool		 restart_asked;	/* ...by an operator or a reload:
					 * not counted as a restart */
	bool		 retiring;	/* leaves its level at the pending
					 * reload: stopped, never restarted */
	enum roll_state	 rollout;	/* a reload restarts or starts it */
	msec_t		 rollout_until;	/* ROLL_STARTING: the levels above
					 * wait for it until then */
	bool		 exited_once;
	bool		 exec_seen;	/* machine_proc_execd for this pid */
	int		 last_status;	/* wait status of the last exit */
	struct window	 restarts;	/* for display: restarts in window */
	uint64_t	 restarts_total;
	char		 status_text[128];	/* STATUS= from the child */
	/* Also from the child (ready.c), for this run: */
	pid_t		 main_pid;	/* MAINPID=, 0 if none */
	int		 errnum;	/* ERRNO=, 0 if none */
	bool		 stop_announced; /* STOPPING=1 */
	int		 last_errno;	/* errnum of the run that exited last */
};

struct level_rt {
	enum level_state state;
	msec_t		 since;
	msec_t		 climb_deadline;
	uint64_t	 probes_passed;	/* while climbing: bit k set once probe
					 * k has passed (each need pass once) */
	bool		 probing;
	bool		 failed;	/* failed while up, waiting for rewind */
	bool		 was_up;	/* on_down is due when it stops */
	enum probe_state probe;
	msec_t		 probe_next;
	msec_t		 probe_duration;
	int		 probe_failures; /* consecutive, while up */
	struct window	 intensity;
	uint64_t	 failures_total;
	uint64_t	 climb_attempts_total;
};

/*
 * Derived from procs and the configuration, kept in step by roster.c so
 * that no event has to scan every process.
 */
struct roster_level {
	int		 nprocs;	/* configured in the level */
	int		 nlive;		/* starting, running or stopping */
	int		 nready;	/* running longruns, done oneshots */
};

struct roster {
	int		*slots;		/* pid map: a proc index, -1 empty */
	unsigned	 mask;		/* number of slots - 1 */
	int		 shift;		/* 32 - log2(number of slots) */
	int		*timed;		/* the procs starting or stopping */
	int		*timed_at;	/* each proc's place in timed, or -1 */
	int		 ntimed;
	int		*due;		/* machine_tick's scratch */
	struct roster_level *levels;
};

#define CAP_NONE	INT32_MAX

struct machine {
	const struct stack_conf *cfg;
	struct level_rt	*levels;	/* cfg->nlevels */
	struct proc_rt	*procs;		/* cfg->nprocs */
	struct roster	 roster;	/* indexes over procs */
	int		 current;	/* levels 1..current are up */
	int		 target;
	bool		 target_by_operator; /* stackctl target, kept over a
					 * reload that leaves the file's */
	int		 cap;		/* rewinding: stay at or below this */
	const struct stack_conf *pending; /* reload waiting for the stack */
	int		 hold;		/* ...to be at or below this level */
	int		 retiring;	/* ...and these processes to be gone */
	int		 rolling;	/* processes in the reload's rollout */
	int		 rollout_stops;	/* ...of them still to stop */
	msec_t		 rollout_at;	/* ...the end of its wait for starts */
	int		 seen_limit;	/* machine_limit at the last step: a
					 * strategy restart held above it goes
					 * on once it rises again */
	unsigned	 gen;		/* bumped by every level transition */
	bool		 started;
	bool		 shutting_down;
	bool		 hurry;		/* second shutdown: SIGKILL now */
	bool		 exit_sent;
	int		 exit_code;
	msec_t		 retry_at;	/* earliest next climb attempt */
	msec_t		 retry_wait;	/* the last failure's backoff, counted
					 * from when its level is down... */
	int		 retry_level;	/* ...this one; -1: none pending */
	msec_t		 backoff;	/* current base delay */
	msec_t		 stable_at;	/* backoff resets from then on (applied
					 * by climb_backoff_settle) */
	int		 failed_climbs;	/* consecutive, for give_up_after */
	msec_t		 below_since;	/* below target since, or NEVER */
	bool		 alarm;
	bool		 ready_sent;
	char		 last_failure[ACT_TEXTMAX];
	uint64_t	 rng;		/* xorshift state for jitter */
	struct action	*actions;	/* ring of pending actions */
	size_t		 nactions;	/* pending */
	size_t		 actions_head;	/* the next one out */
	size_t		 actions_cap;
	bool		 status_queued;	/* an ACT_STATUS is pending */
};

/* The highest level the stack may hold now (target, rewind cap, reload
 * floor; 0 while shutting down). */
int	 machine_limit(const struct machine *);
/* Levels 1 to this one are up and none of them failed or stopping. */
int	 machine_up_level(const struct machine *);

/* Lifecycle. */
int	 machine_init(struct machine *, const struct stack_conf *,
	    uint64_t seed);
void	 machine_free(struct machine *);

/* Events in. */
void	 machine_start(struct machine *, msec_t now);
void	 machine_tick(struct machine *, msec_t now);
/* exec_ok false: forked, the exec not known yet; machine_proc_execd or
 * machine_proc_exited follows. */
void	 machine_proc_spawned(struct machine *, int proc, pid_t pid,
	    bool exec_ok, msec_t now);
void	 machine_proc_execd(struct machine *, int proc, msec_t now);
void	 machine_proc_ready(struct machine *, int proc, msec_t now);
void	 machine_proc_exited(struct machine *, int proc, int wstatus,
	    msec_t now);
/* ok: every probe of the run passed; passed: bit k, probe k did. */
void	 machine_probe_done(struct machine *, int level, int proc, bool ok,
	    uint64_t passed, msec_t duration, msec_t now);
int	 machine_set_target(struct machine *, int target, msec_t now);
int	 machine_restart_proc(struct machine *, int proc, msec_t now);
const char *machine_restart_refused(const struct machine *, int proc);
/* Reload (reload.c): begin with a validated configuration; when due,
 * commit it once every queued action has been carried out. */
void	 machine_reload(struct machine *, const struct stack_conf *,
	    msec_t now);
bool	 machine_reload_due(const struct machine *);
int	 machine_reload_commit(struct machine *, int *map, pid_t *oldpid,
	    msec_t now);
void	 machine_shutdown(struct machine *, msec_t now);

/* Actions out, and when to call machine_tick next. */
bool	 machine_next_action(struct machine *, struct action *);
msec_t	 machine_next_deadline(const struct machine *);

/* Queries, for status and tests. */
int	 machine_proc_by_pid(const struct machine *, pid_t);
bool	 machine_busy(const struct machine *, int *level);
const char *machine_state_name(const struct machine *, msec_t now);
void	 machine_status_text(const struct machine *, msec_t now, char *,
	    size_t);
const char *level_state_name(enum level_state);
const char *proc_state_name(enum proc_state);
const char *probe_state_name(enum probe_state);
const char *event_name(enum event_kind);
void	 exit_text(int wstatus, char *, size_t);
/* exit_text of the last exit, with the ERRNO= the process reported. */
void	 proc_exit_text(const struct proc_rt *, char *, size_t);

/*
 * Internal to machine.c, climb.c, rewind.c, restart.c, reload.c and
 * rollout.c.
 */
struct action *machine_emit(struct machine *, enum act_kind, int level,
	    int proc);
void	 machine_log(struct machine *, int prio, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 machine_status_changed(struct machine *);
struct action *machine_event(struct machine *, enum event_kind, int level,
	    int proc);
void	 machine_step(struct machine *, msec_t now);
void	 machine_spawn(struct machine *, int proc);
void	 machine_give_up(struct machine *, msec_t now);
void	 machine_fail(struct machine *, int level, msec_t now,
	    const char *, ...) __attribute__((format(printf, 4, 5)));

void	 climb_start(struct machine *, int level, msec_t now);
void	 climb_check_ready(struct machine *, int level, msec_t now);
void	 climb_failed(struct machine *, int level, msec_t now);
void	 climb_count_failure(struct machine *, msec_t now);
void	 climb_backoff(struct machine *, int lvl, msec_t now);
bool	 climb_probes_passed(const struct machine *, int lvl);
void	 climb_backoff_start(struct machine *, int lvl, msec_t now);
void	 climb_backoff_settle(struct machine *, msec_t now);
void	 climb_proc_spawned(struct machine *, int proc, msec_t now);
void	 climb_proc_ready(struct machine *, int proc, msec_t now);

void	 rewind_level_stop(struct machine *, int level, msec_t now);
void	 rewind_proc_stop(struct machine *, int proc, msec_t now);
void	 rewind_check_down(struct machine *, int level, msec_t now);
void	 rewind_hurry(struct machine *, msec_t now);

/* roster.c: every change of a proc's pid or state goes through these. */
int	 roster_build(struct roster *, const struct stack_conf *,
	    const struct proc_rt *);
void	 roster_free(struct roster *);
void	 roster_pid(struct machine *, int proc, pid_t);
void	 roster_state(struct machine *, int proc, enum proc_state);
int	 roster_find(const struct machine *, pid_t);
/* Starting, running or stopping: a process that has (or gets) a pid. */
bool	 roster_live(enum proc_state);
bool	 roster_check(const struct machine *);

bool	 reload_leaves(const struct machine *, int proc);

void	 rollout_restart(struct machine *, int proc);
void	 rollout_start(struct machine *, int proc);
void	 rollout_forget(struct machine *, int proc);
void	 rollout_recount(struct machine *);
void	 rollout_step(struct machine *, msec_t now);
msec_t	 rollout_deadline(const struct machine *);

void	 restart_proc_exited(struct machine *, int proc, msec_t now);
void	 restart_check_pending(struct machine *, int level, msec_t now);
void	 restart_spawn(struct machine *, int proc, msec_t now);

#endif
