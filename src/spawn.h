/*
 * spawn.h -- starting children: supervised processes, probes and hooks.
 */
#ifndef STACKD_SPAWN_H
#define STACKD_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include <ev.h>

#include "config.h"

struct spawn_req {
	const char		 *what;		/* "process web", for logs */
	char *const		 *argv;
	char			**env;
	const struct proc_conf	 *pc;		/* credentials etc., or NULL */
	int			  out_fd;	/* -1: inherit stdout */
	int			  err_fd;	/* -1: inherit stderr */
	int			  ready_fd;	/* -1, or becomes fd ready_num */
	int			  ready_num;
	char			 *own_pid;	/* NULL, or in env: room for
						 * the child's own pid */
};

/* Digits reserved for own_pid: any pid_t. */
#define SPAWN_PID_ROOM	10

/* Whether the child exec'd; on failure the reason has been logged and
 * the child is exiting with status 127, to be reaped like any other. */
typedef void	spawn_done_fn(pid_t, bool exec_ok, void *arg);

/*
 * Fork and exec without waiting for the exec.  Returns the pid (the child
 * leads its own session and process group, and reap.c watches its pidfd)
 * or -1 if no child could be created.  done(pid, exec_ok, arg), if not NULL, is called once: from
 * the loop when the exec is known, or from spawn_settle().
 */
pid_t	 spawn(struct ev_loop *, const struct spawn_req *, spawn_done_fn *,
	    void *);
/* pid was reaped: settle its exec status first, if still pending. */
void	 spawn_settle(pid_t);
/* At exit: forget every pending exec status. */
void	 spawn_forget_all(void);
/* The environment of a child: stackd's own less what belongs to stackd
 * (NOTIFY_SOCKET, WATCHDOG_*, LISTEN_*), plus STACKD_*, plus env_file=,
 * plus env= (each wins over what comes before it). */
char	**spawn_env(const struct stack_conf *, const char *level,
	    const char *proc, const char *event, const struct proc_conf *);
void	 spawn_env_free(char **);
/* Add or replace KEY=VALUE; -1 if out of memory (env unchanged). */
int	 spawn_env_set(char ***, const char *key, const char *value);
/* In a new child: become what r asks for and exec it; on failure report
 * on errfd and _exit(127).  (spawn() and the launcher call it.)  With
 * go_fd >= 0 it first waits for one byte there, and exits quietly at EOF
 * (see launcher_serve_one). */
void	 spawn_child(const struct spawn_req *, pid_t parent, int errfd,
	    int go_fd) __attribute__((noreturn));
/* Set sig to SIG_DFL, even one of glibc's own (see spawn.c). */
void	 spawn_signal_default(int sig);

/* Raise stackd's soft RLIMIT_NOFILE to its hard limit; children (and the
 * launcher, forked before) keep the limit stackd was given. */
void	 spawn_raise_nofile(void);
/* Signal a child's whole process group; never pid <= 0. */
int	 spawn_signal(pid_t, int sig);
/* After the reap: the group only, never the freed pid. */
void	 spawn_signal_group(pid_t, int sig);

#endif
