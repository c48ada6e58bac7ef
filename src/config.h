/*
 * config.h -- the in-memory model of one stack.ini.
 *
 * parse.c builds a struct stack_conf from a file and validates it in full;
 * everything else only reads it.  A stack_conf is immutable once built, so a
 * reload can parse a new one beside the running one and swap atomically.
 * Levels and processes keep the order of the file: levels[0] is level 1,
 * and processes are started (and rest_for_one counts "after") in file order.
 * All durations are milliseconds of the monotonic clock (msec_t).
 */
#ifndef STACKD_CONFIG_H
#define STACKD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef int64_t msec_t;

#define MSEC_NEVER INT64_MAX

enum proc_type { PROC_LONGRUN, PROC_ONESHOT };
enum proc_ready { READY_STARTED, READY_NOTIFY, READY_FD, READY_PROBE, READY_EXIT };
enum proc_restart { RESTART_PERMANENT, RESTART_TRANSIENT, RESTART_TEMPORARY };
enum strategy { STRATEGY_ONE_FOR_ONE, STRATEGY_ONE_FOR_ALL, STRATEGY_REST_FOR_ONE };
enum log_mode { LOGMODE_INHERIT, LOGMODE_JOURNAL, LOGMODE_FILE, LOGMODE_NULL };
enum log_prefix { PREFIX_AUTO, PREFIX_YES, PREFIX_NO };

/* A command line split into words (words.c).  argv == NULL: not set. */
struct command {
	char	**argv;		/* NULL-terminated, for execve */
	char	 *text;		/* the joined source text, for logs and status */
	int	  line;		/* where it was defined, 0 if unset */
};

struct proc_conf {
	char		*name;
	int		 line;		/* line of the [process NAME] header */
	int		 level;		/* index into stack_conf.levels */
	struct command	 command;
	enum proc_type	 type;
	enum proc_ready	 ready;
	int		 ready_fd;	/* N of ready = fd:N */
	msec_t		 ready_delay;
	msec_t		 watchdog;	/* ready = notify: 0 off */
	enum proc_restart restart;
	struct command	 probe;		/* ready = probe */
	msec_t		 probe_timeout;	/* default: the level's */
	bool		 has_user;
	char		*user;
	uid_t		 uid;
	bool		 has_group;	/* group set explicitly or from user */
	char		*group;
	gid_t		 gid;
	gid_t		*groups;	/* supplementary groups of user */
	int		 ngroups;
	char		*home;		/* user's home, for HOME= */
	char		*workdir;
	char	       **env;		/* "K=V" strings, in file order */
	int		 nenv;
	bool		 has_umask;
	mode_t		 umask;
	char	       **fenv;		/* "K=V" from env_file =, in order */
	int		 nfenv;
	bool		 has_nofile;	/* limit_nofile: soft and hard */
	uint64_t	 nofile;
	bool		 has_core;	/* limit_core, bytes */
	uint64_t	 core;		/* UINT64_MAX: infinity */
	bool		 has_nice;
	int		 nice;
	int		 stop_signal;
	msec_t		 stop_timeout;
	enum log_mode	 log;
	char		*log_path;	/* log = file:PATH */
};

/* Probes of one level: each one's result while climbing is a bit. */
#define LEVEL_MAXPROBES	64

struct level_conf {
	char		*name;
	int		 line;
	char		*description;
	struct command	*probes;	/* all must exit 0 */
	int		 nprobes;	/* <= LEVEL_MAXPROBES */
	msec_t		 probe_interval;
	msec_t		 probe_timeout;
	int		 failure_threshold;
	msec_t		 ready_timeout;
	enum strategy	 strategy;
	int		 intensity;
	msec_t		 period;
	struct command	 on_up;
	struct command	 on_down;
};

struct stack_conf {
	char		*path;		/* the file it was read from */
	char		*name;
	int		 target;	/* 0..nlevels */
	bool		 target_top;	/* unset or "top": follows nlevels */
	int		 ready_level;	/* 0..nlevels */
	int		 intensity;
	msec_t		 period;
	msec_t		 retry_min;
	msec_t		 retry_max;
	msec_t		 alarm_after;	/* 0: never */
	int		 give_up_after;	/* 0: never */
	msec_t		 stop_timeout;
	char		*control;	/* NULL: default path rules */
	enum log_prefix	 log_prefix;
	msec_t		 hook_timeout;
	struct command	 on_alarm;
	char		*metrics_file;	/* NULL: none (issue: metrics) */
	struct level_conf *levels;
	int		 nlevels;
	struct proc_conf *procs;	/* file order */
	int		 nprocs;
	struct conf_name *byname;	/* procs sorted by name, then index
					 * (config_index_procs, at the end of
					 * parse_file) */
};

struct conf_name {
	const char	*name;		/* procs[index].name */
	int		 index;
};

/* Defaults, documented in stack.ini(5). */
#define DEF_INTENSITY		5
#define DEF_PERIOD		10000
#define DEF_RETRY_MIN		1000
#define DEF_RETRY_MAX		30000
#define DEF_ALARM_AFTER		15000
#define DEF_STOP_TIMEOUT	10000
#define DEF_HOOK_TIMEOUT	10000
#define DEF_PROBE_INTERVAL	2000
#define DEF_PROBE_TIMEOUT	1000
#define DEF_FAILURE_THRESHOLD	3
#define DEF_READY_TIMEOUT	30000

void	 config_free(struct stack_conf *);
/* Resolve "top", a level name or a number to 0..nlevels; -1 if unknown. */
int	 config_level_ref(const struct stack_conf *, const char *);
int	 config_level_index(const struct stack_conf *, const char *name);
int	 config_proc_index(const struct stack_conf *, const char *name);
/* Build byname, for O(log n) lookups; -1 when out of memory. */
int	 config_index_procs(struct stack_conf *);
void	 command_free(struct command *);
bool	 command_equal(const struct command *, const struct command *);
/* For reload: would they run the same process (see config.c)? */
bool	 config_proc_same_run(const struct proc_conf *,
	    const struct proc_conf *);
bool	 config_level_equal(const struct level_conf *,
	    const struct level_conf *);

#endif
