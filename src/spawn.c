/*
 * spawn.c -- fork and exec of every child stackd starts.
 *
 * The child becomes the leader of its own session and process group (so a
 * stop signal reaches everything it forked, and a terminal's ^C reaches
 * only stackd), asks the kernel to kill it if stackd dies, marks every
 * descriptor but 0, 1, 2 (and the fd:N of its readiness) close-on-exec,
 * sets its limits and nice value, drops to the configured credentials and
 * execs without a shell.  Everything that can fail (user and group
 * lookups -- the supplementary groups are initgroups(3)'s, computed when
 * the file was read --, env_file, allocations) happens in the parent
 * before fork; after fork the child only makes system calls.
 *
 * The fork itself is the launcher's (launcher.c), a small process that
 * clones the child as stackd's own and runs spawn_child() in it; stackd
 * forks here only when there is no launcher or it cannot.
 *
 * stackd does not wait for the exec: spawn() returns right after fork, so
 * a slow exec (a binary on a slow disk, a child being traced) never holds
 * up the event loop, and a thousand children exec on every core at once.
 * A close-on-exec pipe tells later whether exec succeeded: EOF means it
 * did, a record means it did not, and the parent logs the step, the path
 * and the reason, then tells whoever asked (spawn_done_fn).  If the child
 * is reaped before the pipe was read, spawn_settle() reads it first, so
 * "started" or the exec error always comes before the exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <paths.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon.h"
#include "launcher.h"
#include "log.h"
#include "spawn.h"

extern char	**environ;

enum spawn_step {
	STEP_SETUP, STEP_CHDIR, STEP_NOFILE, STEP_CORE, STEP_NICE,
	STEP_CREDS, STEP_EXEC
};

static bool
env_is_ours(const char *kv)
{
	static const char *const	 drop[] = { "NOTIFY_SOCKET=",
	    "WATCHDOG_", "LISTEN_", "STACKD_", NULL };
	int				 i;

	for (i = 0; drop[i] != NULL; i++)
		if (strncmp(kv, drop[i], strlen(drop[i])) == 0)
			return true;
	return false;
}

/* Does one of list[0..n) set the KEY of kv ("KEY=...", "KEY=" or
 * "KEY")? */
static bool
env_in(char *const *list, int n, const char *kv)
{
	size_t	klen = strcspn(kv, "=");
	int	i;

	for (i = 0; i < n; i++)
		if (strncmp(list[i], kv, klen) == 0 && list[i][klen] == '=')
			return true;
	return false;
}

/* Does env= or env_file= set this KEY? */
static bool
env_overridden(const struct proc_conf *pc, const char *kv)
{
	return pc != NULL && (env_in(pc->env, pc->nenv, kv) ||
	    env_in(pc->fenv, pc->nfenv, kv));
}

/* KEY=v, unless v is NULL or env=/env_file= sets KEY (they win). */
static int
env_add(char **env, int n, const struct proc_conf *pc, const char *k,
    const char *v)
{
	char	*s;

	if (v == NULL || env_overridden(pc, k))
		return n;
	if (asprintf(&s, "%s=%s", k, v) == -1)
		return -1;
	env[n] = s;
	return n + 1;
}

char **
spawn_env(const struct stack_conf *cfg, const char *level, const char *proc,
    const char *event, const struct proc_conf *pc)
{
	char	**env;
	size_t	  max = 8;
	int	  i, n = 0;

	for (i = 0; environ[i] != NULL; i++)
		max++;
	if (pc != NULL)
		max += (size_t)pc->nenv + (size_t)pc->nfenv;
	if ((env = calloc(max, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; environ[i] != NULL; i++) {
		if (env_is_ours(environ[i]) || env_overridden(pc, environ[i]))
			continue;
		if (pc != NULL && pc->has_user &&
		    (strncmp(environ[i], "HOME=", 5) == 0 ||
		    strncmp(environ[i], "USER=", 5) == 0 ||
		    strncmp(environ[i], "LOGNAME=", 8) == 0))
			continue;
		if ((env[n] = strdup(environ[i])) == NULL)
			goto fail;
		n++;
	}
	if ((n = env_add(env, n, pc, "STACKD_STACK", cfg->name)) == -1 ||
	    (n = env_add(env, n, pc, "STACKD_LEVEL", level)) == -1 ||
	    (n = env_add(env, n, pc, "STACKD_PROCESS", proc)) == -1 ||
	    (n = env_add(env, n, pc, "STACKD_EVENT", event)) == -1)
		goto fail;
	if (pc != NULL && pc->has_user) {
		if ((n = env_add(env, n, pc, "HOME", pc->home)) == -1 ||
		    (n = env_add(env, n, pc, "USER", pc->user)) == -1 ||
		    (n = env_add(env, n, pc, "LOGNAME", pc->user)) == -1)
			goto fail;
	}
	/* env_file: a later file or line wins, and env= wins over all. */
	for (i = 0; pc != NULL && i < pc->nfenv; i++) {
		if (env_in(pc->env, pc->nenv, pc->fenv[i]) ||
		    env_in(pc->fenv + i + 1, pc->nfenv - i - 1, pc->fenv[i]))
			continue;
		if ((env[n] = strdup(pc->fenv[i])) == NULL)
			goto fail;
		n++;
	}
	for (i = 0; pc != NULL && i < pc->nenv; i++) {
		/* A later env= for the same key wins. */
		if (env_in(pc->env + i + 1, pc->nenv - i - 1, pc->env[i]))
			continue;
		if ((env[n] = strdup(pc->env[i])) == NULL)
			goto fail;
		n++;
	}
	return env;
fail:
	spawn_env_free(env);
	return NULL;
}

void
spawn_env_free(char **env)
{
	int	i;

	for (i = 0; env != NULL && env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

int
spawn_env_set(char ***envp, const char *key, const char *value)
{
	char	**env = *envp, **n, *kv;
	size_t	  klen = strlen(key);
	int	  i;

	if (asprintf(&kv, "%s=%s", key, value) == -1)
		return -1;
	for (i = 0; env[i] != NULL; i++)
		if (strncmp(env[i], key, klen) == 0 && env[i][klen] == '=') {
			free(env[i]);
			env[i] = kv;
			return 0;
		}
	if ((n = realloc(env, (size_t)(i + 2) * sizeof(*n))) == NULL) {
		free(kv);
		return -1;
	}
	n[i] = kv;
	n[i + 1] = NULL;
	*envp = n;
	return 0;
}

int
spawn_signal(pid_t pid, int sig)
{
	if (pid <= 0)
		return -1;
	if (kill(-pid, sig) == 0)
		return 0;
	/* No such group yet: a child cloned a moment ago that has not
	 * reached setsid().  It is still ours, unreaped, so the pid is its
	 * own: the signal is held pending by the launcher's mask or acts at
	 * once -- not lost. */
	if (errno == ESRCH && (kill(pid, sig) == 0 || errno == ESRCH))
		return 0;
	log_errno("spawn_signal: kill -%d %ld", sig, (long)pid);
	return -1;
}

/*
 * What a reaped child left in its group.  Only the group: with the child
 * reaped, its pid is free for the kernel to hand out again, while a
 * group's id stays taken as long as one member is left in it.
 */
void
spawn_signal_group(pid_t pid, int sig)
{
	if (pid > 0 && kill(-pid, sig) == -1 && errno != ESRCH)
		log_errno("spawn_signal_group: kill -%d -%ld", sig, (long)pid);
}

/* What the child reports when it cannot exec: the step, errno, and the
 * value or the name the log line needs.  Under PIPE_BUF: one atomic
 * write. */
struct spawn_err {
	int			step;
	int			err;
	unsigned long long	value;
	char			text[512];
};

/* A child whose exec has not been confirmed yet. */
struct spawn_wait {
	ev_io			 io;	/* the status pipe, EV_READ */
	LIST_ENTRY(spawn_wait)	 entry;
	pid_t			 pid;
	spawn_done_fn		*done;
	void			*arg;
	char			 what[128];
};

static LIST_HEAD(wait_list, spawn_wait)	waits = LIST_HEAD_INITIALIZER(waits);
static struct ev_loop		*spawn_loop;

/* Signals whose disposition is not SIG_DFL in stackd (see spawn_child). */
static sigset_t			 nondefault;
static bool			 nondefault_known;	/* and stackd_pid */
static pid_t			 stackd_pid;	/* looked up once */

static void
spawn_text(struct spawn_err *e, const char *s)
{
	size_t	n = 0;

	if (s != NULL)
		while (n < sizeof(e->text) - 1 && s[n] != '\0') {
			e->text[n] = s[n];
			n++;
		}
	e->text[n] = '\0';
}

static void __attribute__((noreturn))
spawn_fail(int fd, int step, const char *text, unsigned long long value)
{
	struct spawn_err	e;

	e.step = step;
	e.err = errno;
	e.value = value;
	spawn_text(&e, text);
	/* Nothing useful can be done if the parent is gone. */
	if (write(fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/*
 * Which signals stackd handles or ignores.  Its dispositions are set once
 * at start-up (SIGPIPE ignored, and whatever it inherited ignored), before
 * the first child; exec resets caught signals but keeps ignored ones, so
 * those are the ones a child must set back.  Looked up once rather than
 * resetting all 64 in every child: this is on the restart path.
 */
static void
spawn_find_nondefault(void)
{
	struct sigaction	sa;
	int			sig;

	sigemptyset(&nondefault);
	for (sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &sa) == 0 &&
		    sa.sa_handler != SIG_DFL)
			sigaddset(&nondefault, sig);
	nondefault_known = true;
	stackd_pid = getpid();
}

/*
 * SIG_DFL for sig, from the kernel itself: glibc's sigaction() refuses the
 * signals it reserves for its own use (32 and 33), which a process may
 * still have inherited ignored -- and would pass on.  An all-zero kernel
 * sigaction is SIG_DFL with no flags and an empty mask on every
 * architecture, whatever the order of its fields.
 */
#ifdef __SIGRTMIN
#define SPAWN_KERNEL_RTMIN	__SIGRTMIN	/* the kernel's; SIGRTMIN is libc's */
#else
#define SPAWN_KERNEL_RTMIN	32
#endif

void
spawn_signal_default(int sig)
{
	static const unsigned long	dfl[8];

	(void)syscall(SYS_rt_sigaction, sig, dfl, NULL, (size_t)(_NSIG / 8));
}

static void
spawn_reset_signals(void)
{
	static const unsigned long	none[4];
	int				sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&nondefault, sig) == 1)
			signal(sig, SIG_DFL);
	for (sig = SPAWN_KERNEL_RTMIN; sig < SIGRTMIN; sig++)
		spawn_signal_default(sig);
	/* The empty mask, reserved signals included. */
	(void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, none, NULL,
	    (size_t)(_NSIG / 8));
}

static void
spawn_stdio(const struct spawn_req *r, int errfd)
{
	int	null;

	if ((null = open("/dev/null", O_RDWR)) == -1)
		spawn_fail(errfd, STEP_SETUP, NULL, 0);
	if (dup2(null, STDIN_FILENO) == -1 ||
	    (r->out_fd >= 0 && dup2(r->out_fd, STDOUT_FILENO) == -1) ||
	    (r->err_fd >= 0 && dup2(r->err_fd, STDERR_FILENO) == -1))
		spawn_fail(errfd, STEP_SETUP, NULL, 0);
	if (null > STDERR_FILENO)
		close(null);
}

/*
 * stackd holds about three descriptors per process (two relay pipes and a
 * pidfd): under the usual soft limit of 1024 (systemd's default, whose
 * hard limit is 512K) a stack of some 330 processes could not climb.  The
 * soft limit is raised to the hard one (up to NOFILE_MAX), as systemd does
 * for itself, and given back to what stackd forks directly; the launcher,
 * forked before the raise, has it anyway.
 */
#define NOFILE_MAX	((rlim_t)1 << 20)

static struct rlimit	nofile_given;
static bool		nofile_raised;

void
spawn_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &nofile_given) == -1)
		return;
	rl = nofile_given;
	rl.rlim_cur = rl.rlim_max < NOFILE_MAX ? rl.rlim_max : NOFILE_MAX;
	if (rl.rlim_cur > nofile_given.rlim_cur &&
	    setrlimit(RLIMIT_NOFILE, &rl) == 0)
		nofile_raised = true;
}

/* Before the credentials change: root may raise a hard limit. */
static void
spawn_limits(const struct proc_conf *pc, int errfd)
{
	struct rlimit	rl;

	if (pc->has_nofile) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)pc->nofile;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			spawn_fail(errfd, STEP_NOFILE, NULL, pc->nofile);
	}
	if (pc->has_core) {
		rl.rlim_cur = rl.rlim_max = pc->core == UINT64_MAX ?
		    RLIM_INFINITY : (rlim_t)pc->core;
		if (setrlimit(RLIMIT_CORE, &rl) == -1)
			spawn_fail(errfd, STEP_CORE, NULL, 0);
	}
	if (pc->has_nice && setpriority(PRIO_PROCESS, 0, pc->nice) == -1)
		spawn_fail(errfd, STEP_NICE, NULL, (unsigned long long)pc->nice);
}

/* Without close_range(2) (Linux < 5.11): one descriptor at a time. */
static void
spawn_cloexec_each(void)
{
	struct rlimit	rl;
	rlim_t		fd;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		rl.rlim_cur = 1024;
	for (fd = STDERR_FILENO + 1; fd < rl.rlim_cur && fd < INT_MAX; fd++)
		(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

/*
 * user, group, then workdir: the directory is entered with the rights of
 * the user the process runs as (as systemd's WorkingDirectory=), so a
 * directory that user may not enter fails here, with its reason.  An
 * unprivileged stackd can only run children as itself; naming its own
 * user or group is then no change, not an attempt at setgroups.
 */
static void
spawn_creds(const struct proc_conf *pc, int errfd)
{
	bool	self = getuid() != 0 &&
	    (!pc->has_user || pc->uid == getuid()) &&
	    (!pc->has_group || pc->gid == getgid());

	if (pc->has_umask)
		umask(pc->umask);
	if (!self) {
		if (pc->has_user) {
			if (setgroups((size_t)pc->ngroups, pc->groups) == -1)
				spawn_fail(errfd, STEP_CREDS, NULL, 0);
		} else if (pc->has_group && getuid() == 0 &&
		    setgroups(0, NULL) == -1)
			spawn_fail(errfd, STEP_CREDS, NULL, 0);
		if (pc->has_group && setgid(pc->gid) == -1)
			spawn_fail(errfd, STEP_CREDS, NULL, 0);
		if (pc->has_user && setuid(pc->uid) == -1)
			spawn_fail(errfd, STEP_CREDS, NULL, 0);
	}
	if (pc->workdir != NULL && chdir(pc->workdir) == -1)
		spawn_fail(errfd, STEP_CHDIR, pc->workdir, 0);
}

/* Only the child knows its pid: write it into its environment, in the
 * room the parent left (SPAWN_PID_ROOM digits). */
static void
spawn_own_pid(char *dst)
{
	char	digits[SPAWN_PID_ROOM];
	long	pid = (long)getpid();
	int	n = 0;

	do
		digits[n++] = (char)('0' + pid % 10);
	while ((pid /= 10) > 0 && n < SPAWN_PID_ROOM);
	while (n > 0)
		*dst++ = digits[--n];
	*dst = '\0';
}

/*
 * execvpe(3) without two of its habits.  glibc runs a file the kernel
 * will not execute (ENOEXEC: no #! line, a binary for another machine)
 * with /bin/sh -- a shell's complaint instead of the reason, and in an
 * image without /bin/sh, "No such file or directory" about a file that
 * is there.  And it searches the PATH of the caller, stackd's, where an
 * operator who wrote env = PATH=... means the child's.  So: a name with a
 * slash is run as it is; any other is looked for in the child's PATH
 * (_PATH_DEFPATH if it has none), going on past entries where it is not
 * (ENOENT, ENOTDIR, ...) or may not be run (EACCES, reported if nothing
 * else is found), and stopping at any other error, which is the reason.
 */
static void __attribute__((noreturn))
spawn_exec(const struct spawn_req *r, int errfd)
{
	const char	*name = r->argv[0], *path = _PATH_DEFPATH, *dir, *end;
	char		 file[PATH_MAX];
	size_t		 nlen = strlen(name), dlen;
	bool		 denied = false;
	int		 i;

	if (strchr(name, '/') != NULL) {
		execve(name, r->argv, r->env);
		spawn_fail(errfd, STEP_EXEC, name, 0);
	}
	for (i = 0; r->env[i] != NULL; i++)
		if (strncmp(r->env[i], "PATH=", 5) == 0)
			path = r->env[i] + 5;
	for (dir = path; ; dir = end + 1) {
		if ((end = strchr(dir, ':')) == NULL)
			end = dir + strlen(dir);
		/* An empty entry is the working directory, as in sh. */
		dlen = (size_t)(end - dir);
		if (dlen + 1 + nlen < sizeof(file)) {
			memcpy(file, dir, dlen);
			file[dlen] = '/';
			memcpy(file + dlen + 1, name, nlen + 1);
			execve(dlen > 0 ? file : name, r->argv, r->env);
			switch (errno) {
			case EACCES:
				denied = true;
				break;
			case ENOENT: case ENOTDIR: case ESTALE: case ENODEV:
			case ETIMEDOUT: case ELOOP: case ENAMETOOLONG:
				break;
			default:
				spawn_fail(errfd, STEP_EXEC, name, 0);
			}
		}
		if (*end == '\0')
			break;
	}
	errno = denied ? EACCES : ENOENT;
	spawn_fail(errfd, STEP_EXEC, name, 0);
}

/*
 * The exec-status pipe errfd, or a close-on-exec copy of it above n if it
 * is n: ready = fd:N puts the readiness pipe on fd N, and errfd, numbered
 * by whoever made it (the launcher's is 4), must not be lost there -- an
 * exec error would go to the readiness pipe and stackd would see the
 * exec succeed.
 */
static int
spawn_errfd_clear_of(int errfd, int n)
{
	int	moved;

	if (errfd != n)
		return errfd;
	if ((moved = fcntl(errfd, F_DUPFD_CLOEXEC, n + 1)) == -1)
		spawn_fail(errfd, STEP_SETUP, NULL, 0);
	return moved;
}

void
spawn_child(const struct spawn_req *r, pid_t parent, int errfd, int go_fd)
{
	char	go;

	/* Cloned by the launcher: not a step before stackd has its pid. */
	if (go_fd >= 0) {
		if (read(go_fd, &go, 1) != 1)
			_exit(127);
		(void)close(go_fd);
	}
	if (r->ready_fd >= 0)
		errfd = spawn_errfd_clear_of(errfd, r->ready_num);
	spawn_reset_signals();
	if (setsid() == -1)
		spawn_fail(errfd, STEP_SETUP, NULL, 0);
	spawn_stdio(r, errfd);
	/* Descriptors stackd inherited must not leak into children. */
	if (close_range(STDERR_FILENO + 1, ~0U, CLOSE_RANGE_CLOEXEC) == -1)
		spawn_cloexec_each();
	if (r->ready_fd >= 0) {
		/* dup2 onto itself would keep close-on-exec set. */
		if (r->ready_fd == r->ready_num ?
		    fcntl(r->ready_num, F_SETFD, 0) == -1 :
		    dup2(r->ready_fd, r->ready_num) == -1)
			spawn_fail(errfd, STEP_SETUP, NULL, 0);
	}
	/* Forked by stackd itself: the limit stackd was given, not its own. */
	if (nofile_raised &&
	    setrlimit(RLIMIT_NOFILE, &nofile_given) == -1)
		spawn_fail(errfd, STEP_SETUP, NULL, 0);
	if (r->pc != NULL) {
		spawn_limits(r->pc, errfd);
		spawn_creds(r->pc, errfd);
	}
	if (r->own_pid != NULL)
		spawn_own_pid(r->own_pid);
	/* Die with stackd; if it is already gone, do not start at all.
	 * After the credentials: a change of uid or gid clears it. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		spawn_fail(errfd, STEP_SETUP, NULL, 0);
	spawn_exec(r, errfd);
}

static void
spawn_report(const char *what, const struct spawn_err *e)
{
	const char	*why = strerror(e->err);

	switch (e->step) {
	case STEP_CHDIR:
		log_msg(LOG_ERR, "%s: chdir %s: %s", what, e->text, why);
		break;
	case STEP_NOFILE:
		log_msg(LOG_ERR, "%s: cannot set limit_nofile to %llu: %s",
		    what, e->value, why);
		break;
	case STEP_CORE:
		log_msg(LOG_ERR, "%s: cannot set limit_core: %s", what, why);
		break;
	case STEP_NICE:
		log_msg(LOG_ERR, "%s: cannot set nice to %d: %s", what,
		    (int)e->value, why);
		break;
	case STEP_CREDS:
		log_msg(LOG_ERR, "%s: cannot switch to user/group: %s", what,
		    why);
		break;
	case STEP_EXEC:
		log_msg(LOG_ERR, "%s: exec %s: %s", what, e->text, why);
		break;
	default:
		log_msg(LOG_ERR, "%s: cannot set up the child: %s", what, why);
		break;
	}
}

static void
spawn_wait_free(struct spawn_wait *w)
{
	ev_io_stop(spawn_loop, &w->io);
	close(w->io.fd);
	LIST_REMOVE(w, entry);
	free(w);
}

/*
 * Read what the child said, if it has said it: EOF means exec succeeded
 * (the pipe was close-on-exec), a record means it failed.  Nothing there
 * yet (EAGAIN): wait for the next readiness.
 */
static void
spawn_wait_read(struct spawn_wait *w)
{
	struct spawn_err	e;
	pid_t			pid = w->pid;
	spawn_done_fn		*done = w->done;
	void			*arg = w->arg;
	ssize_t			 n;
	bool			 ok;

	do
		n = read(w->io.fd, &e, sizeof(e));
	while (n == -1 && errno == EINTR);
	if (n == -1 && errno == EAGAIN)
		return;
	ok = n != (ssize_t)sizeof(e);
	if (!ok) {
		e.text[sizeof(e.text) - 1] = '\0';
		spawn_report(w->what, &e);
	}
	spawn_wait_free(w);
	if (done != NULL)
		done(pid, ok, arg);
}

static void
spawn_status_cb(struct ev_loop *loop, ev_io *io, int revents)
{
	spawn_wait_read((struct spawn_wait *)io);
}

void
spawn_settle(pid_t pid)
{
	struct spawn_wait	*w;

	for (w = LIST_FIRST(&waits); w != NULL && w->pid != pid;
	    w = LIST_NEXT(w, entry))
		;
	/* The child is gone, and with it the pipe's only writer (stackd
	 * closed its end right after fork, the launcher before it answered):
	 * the record or EOF is there. */
	if (w != NULL)
		spawn_wait_read(w);
}

void
spawn_forget_all(void)
{
	while (!LIST_EMPTY(&waits))
		spawn_wait_free(LIST_FIRST(&waits));
}

pid_t
spawn(struct ev_loop *loop, const struct spawn_req *r, spawn_done_fn *done,
    void *arg)
{
	struct spawn_wait	*w;
	pid_t			 pid;
	int			 fds[2];

	if (!nondefault_known)
		spawn_find_nondefault();
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		log_errno("%s: spawn", r->what);
		return -1;
	}
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_errno("%s: pipe", r->what);
		free(w);
		return -1;
	}
	/* The launcher forks it if it can, as a child of stackd's. */
	if ((pid = launcher_fork(r, fds[1])) == LAUNCHER_NOANSWER) {
		close(fds[0]);
		close(fds[1]);
		if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) == -1) {
			log_errno("%s: pipe", r->what);
			free(w);
			return -1;
		}
		pid = LAUNCHER_NONE;
	}
	if (pid == LAUNCHER_NONE && (pid = fork()) == 0) {
		close(fds[0]);
		spawn_child(r, stackd_pid, fds[1], -1);
	}
	if (pid == -1) {
		log_errno("%s: fork", r->what);
		close(fds[0]);
		close(fds[1]);
		free(w);
		return -1;
	}
	close(fds[1]);
	/* Its exit is seen through a pidfd too (reap.c). */
	reap_watch(loop, pid);
	w->pid = pid;
	w->done = done;
	w->arg = arg;
	snprintf(w->what, sizeof(w->what), "%s", r->what);
	spawn_loop = loop;
	ev_io_init(&w->io, spawn_status_cb, fds[0], EV_READ);
	/* Before anything else of the same loop iteration (a READY=1 of the
	 * same child): started comes before ready. */
	ev_set_priority(&w->io, EV_MAXPRI);
	ev_io_start(loop, &w->io);
	LIST_INSERT_HEAD(&waits, w, entry);
	return pid;
}
