/*
 * daemon.h -- the running stackd: one event loop, one configuration, one
 * state machine, and the modules that turn the machine's actions into
 * system calls.  There is exactly one struct daemon per process.
 */
#ifndef STACKD_DAEMON_H
#define STACKD_DAEMON_H

#include <ev.h>
#include <stdbool.h>
#include <sys/types.h>

#include "config.h"
#include "json.h"
#include "machine.h"

/* The signals stackd watches besides SIGCHLD: stackd.c's table
 * (daemon_signals[]), then every real-time signal (glibc leaves 31 of
 * the kernel's 33 to programs). */
#define DAEMON_NSIGNALS	12
#define DAEMON_NRTSIGNALS 33

struct daemon {
	struct ev_loop		*loop;
	struct stack_conf	*cfg;
	struct machine		 m;
	ev_timer		 tick;		/* the machine's next deadline */
	ev_idle			 more;		/* actions left by a sliced run */
	ev_signal		 sigs[DAEMON_NSIGNALS + DAEMON_NRTSIGNALS];
	size_t			 nsigs;		/* of them in use */
	ev_signal		 sig_chld;
	bool			 stopping;	/* ACT_EXIT seen: finishing */
	int			 exit_code;
	ev_timer		 orphan_timer;	/* shutdown: TERM, then KILL */
	int			 orphan_phase;	/* 0 none, 1 TERM sent, 2 KILL */
	int			 orphan_blind;	/* KILL rounds that found none */
	char			 control_path[108];
	struct stack_conf	*pending_cfg;	/* reload: valid, not in force */
};

extern struct daemon	*daemon_self;

msec_t	 now_msec(void);
/* Carry out every pending action of the machine, then re-arm its timer. */
void	 daemon_run(struct daemon *);

/* reap.c */
bool	 reap_init(struct daemon *);
void	 reap_fini(struct daemon *);
void	 reap_children(struct daemon *);
/* pid is a child stackd started (spawn): reap it by its pidfd, no
 * sweep. */
void	 reap_watch(struct ev_loop *, pid_t);
int	 reap_signal_orphans(int sig);
bool	 reap_none_left(void);

/* probe.c */
void	 probe_start(struct daemon *, int level, int proc);
void	 probe_cancel(struct daemon *, int level, int proc);
bool	 probe_reaped(struct daemon *, pid_t, int status);
void	 probe_cancel_all(struct daemon *);

/* hook.c */
void	 hook_run(struct daemon *, int level, enum hook_event);
bool	 hook_reaped(struct daemon *, pid_t, int status);
int	 hook_running(void);
void	 hook_kill_all(struct daemon *);

/* relay.c: where children's output goes, line by line */
struct relay;
struct relay_out {
	int		 out, err;	/* the child's ends; -1: stackd's own */
	struct relay	*r[2];
};
struct relay	*relay_log_open(struct daemon *, const char *prefix, int *wfd);
void	 relay_set_pid(struct relay *, pid_t);
void	 relay_proc_open(struct daemon *, const struct proc_conf *,
	    bool prefixed, struct relay_out *);
void	 relay_proc_spawned(struct relay_out *, pid_t);
void	 relay_drain(struct daemon *, pid_t);
void	 relay_reopen(struct daemon *);
void	 relay_close_all(struct daemon *);

/* ready.c: readiness reported by the child (notify, fd:N) */
int	 ready_notify_open(struct daemon *, int proc, char *addr, size_t);
int	 ready_fd_open(struct daemon *, int proc, int *wfd);
void	 ready_close(struct daemon *, int proc);
void	 ready_reaped(struct daemon *, int proc);
void	 ready_close_all(struct daemon *);
void	 ready_remap(struct daemon *, const int *map, int nold, int nnew);

/* watchdog.c: watchdog = of a ready = notify process; ready.c owns it */
struct watchdog {
	ev_timer	 timer;		/* first: the callback casts */
	int		 proc;
	int		 phase;
};
void	 watchdog_init(struct watchdog *, int proc);
int	 watchdog_env(const struct proc_conf *, char ***env, char **own_pid);
void	 watchdog_ping(struct daemon *, struct watchdog *);
void	 watchdog_fire(struct daemon *, struct watchdog *, const char *why);
void	 watchdog_disarm(struct daemon *, struct watchdog *);
void	 watchdog_cancel(struct daemon *, struct watchdog *);

/* reconfigure.c: reload, the daemon's side */
int	 reconfigure(struct daemon *, char *err, size_t);
void	 reconfigure_commit(struct daemon *);
bool	 reconfigure_reaped(struct daemon *, pid_t, int status);
void	 reconfigure_fini(struct daemon *);

/* notify.c */
void	 notify_init(struct daemon *);
void	 notify_status(struct daemon *, const char *);
void	 notify_ready(struct daemon *);
void	 notify_reloading(struct daemon *);
void	 notify_stopping(struct daemon *);
void	 notify_fini(struct daemon *);

/* events.c: the machine's events as JSON lines for subscribers */
void	 events_line(struct daemon *, const struct action *, struct buf *);
void	 events_publish(struct daemon *, const struct action *);
void	 events_daemon(struct daemon *, enum event_kind, const char *);
void	 events_process(struct daemon *, enum event_kind, int proc,
	    const char *);

/* control.c */
int	 control_init(struct daemon *);
void	 control_changed(struct daemon *);
bool	 control_has_subscribers(void);
void	 control_broadcast(struct daemon *, const char *, size_t);
void	 control_fini(struct daemon *);

#endif
