/*
 * helper.c -- the benchmark's child process, built by bench.py into a
 * temporary directory (statically when the C library allows it, so that
 * exec costs the same under every supervisor).
 *
 * The first thing it does is read CLOCK_MONOTONIC: that instant is "the new
 * exec" for the restart and start-up scenarios.  It appends one line
 * "TAG PID NANOSECONDS" to a stamp file (O_APPEND, one write(2), so
 * concurrent children never interleave), then behaves as asked:
 *
 *   bchild run FILE TAG [MODE]   MODE: wait (default, pause forever),
 *                                exit (exit 0 at once), ignore (ignore
 *                                SIGTERM, then pause), notify:FD (write a
 *                                newline to FD -- s6's notification-fd --
 *                                then pause)
 *   bchild probe FILE TAG        stamp, exit 0 (a readiness probe)
 *   bchild orphans FILE N        PID-1 scenario: make N double-forked
 *                                orphans that wait on a pipe, release them
 *                                all at once (t0), see the last one exit
 *                                through pidfds (tx, -1 if pidfds are not
 *                                available) and poll kill(pid, 0) until
 *                                the last one is reaped (t1); writes
 *                                "t0 tx t1 made left" to FILE and pauses
 *                                (it is a supervised service)
 *
 * Run with no arguments or one (as runit's and s6's ./run, a symlink to
 * this binary; s6-supervise passes the service name) it reads its arguments from ./bench-args in the service
 * directory, so no shell start-up is counted for any supervisor.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long
mono_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
stamp(const char *file, const char *tag, long long t)
{
	char	buf[160];
	int	fd, n;

	n = snprintf(buf, sizeof(buf), "%s %ld %lld\n", tag, (long)getpid(),
	    t);
	if ((fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		return;
	if (write(fd, buf, (size_t)n) < 0) {
		/* nothing to do: the harness times out on a missing stamp */
	}
	close(fd);
}

static void __attribute__((noreturn))
wait_forever(void)
{
	for (;;)
		pause();
}

/* Read ./bench-args (one line, words separated by spaces). */
static int
args_from_file(char **argv, int max)
{
	static char	buf[1024];
	ssize_t		n;
	int		fd, argc = 1;
	char		*p, *save = NULL;

	if ((fd = open("bench-args", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (p = strtok_r(buf, " \n", &save); p != NULL && argc < max - 1;
	    p = strtok_r(NULL, " \n", &save))
		argv[argc++] = p;
	argv[argc] = NULL;
	return argc;
}

/* pidfds on every orphan, before they are released; false if the kernel
 * has none (then only the release -> reaped time is measured). */
static bool
orphans_pidfds(const pid_t *pids, int n, struct pollfd *pfd)
{
	int	i;

	for (i = 0; i < n; i++) {
		pfd[i].fd = (int)syscall(SYS_pidfd_open, pids[i], 0);
		pfd[i].events = POLLIN;
		if (pfd[i].fd < 0) {
			while (i-- > 0)
				close(pfd[i].fd);
			return false;
		}
	}
	return true;
}

/* The time the last orphan exited, as its pidfd turned readable. */
static long long
orphans_exited(struct pollfd *pfd, int n)
{
	long long	last = -1;
	int		i, left;

	for (left = n; left > 0; ) {
		if (poll(pfd, (nfds_t)n, 30000) <= 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		last = mono_ns();
		for (i = 0; i < n; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents != 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;	/* poll ignores it from now on */
				left--;
			}
	}
	return last;
}

static int
orphans(const char *file, int n)
{
	pid_t		*pids, pid;
	struct pollfd	*pfd;
	int		 gate[2], back[2], i, left, got;
	bool		 have_fds;
	long long	 t0, t1, tx;
	char		 buf[128];
	FILE		*f;
	struct timespec	 nap = { 0, 50000 };

	if ((pids = calloc((size_t)n, sizeof(*pids))) == NULL ||
	    (pfd = calloc((size_t)n, sizeof(*pfd))) == NULL ||
	    pipe(gate) == -1 || pipe(back) == -1)
		return 1;
	for (i = 0; i < n; i++) {
		if ((pid = fork()) == -1)
			return 1;
		if (pid == 0) {
			if (fork() != 0)
				_exit(0);
			/* The orphan: report, then wait for the gate. */
			prctl(PR_SET_NAME, "borphan");
			close(gate[1]);
			pid = getpid();
			if (write(back[1], &pid, sizeof(pid)) < 0)
				_exit(1);
			while (read(gate[0], buf, 1) == -1 && errno == EINTR)
				;
			_exit(0);
		}
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	close(back[1]);
	for (got = 0; got < n; ) {
		ssize_t r = read(back[0], &pids[got], sizeof(pid_t));
		if (r == (ssize_t)sizeof(pid_t))
			got++;
		else if (r == 0 || (r == -1 && errno != EINTR))
			break;
	}
	/* Every orphan is parked in read(2); open the gate, see the last
	 * one exit (pidfds), then poll until the last one is reaped. */
	have_fds = orphans_pidfds(pids, got, pfd);
	t0 = mono_ns();
	close(gate[1]);
	tx = have_fds ? orphans_exited(pfd, got) : -1;
	left = got;
	while (left > 0) {
		int	k = 0;

		for (i = 0; i < left; i++)
			if (kill(pids[i], 0) == 0 || errno != ESRCH)
				pids[k++] = pids[i];
		left = k;
		if (left > 0)
			nanosleep(&nap, NULL);
		if (mono_ns() - t0 > 30000000000LL)
			break;	/* give up after 30 s; reported as left */
	}
	t1 = mono_ns();
	if ((f = fopen(file, "w")) != NULL) {
		fprintf(f, "%lld %lld %lld %d %d\n", t0, tx, t1, got, left);
		fclose(f);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	long long	 t = mono_ns();
	char		*fargv[16];
	const char	*mode;

	/* s6-supervise passes the service name as the one argument. */
	if (argc <= 2) {
		fargv[0] = argv[0];
		if ((argc = args_from_file(fargv, 16)) == -1)
			return 111;
		argv = fargv;
	}
	if (argc >= 4 && strcmp(argv[1], "run") == 0) {
		mode = argc >= 5 ? argv[4] : "wait";
		if (strcmp(mode, "ignore") == 0)
			signal(SIGTERM, SIG_IGN);
		stamp(argv[2], argv[3], t);
		if (strcmp(mode, "exit") == 0)
			return 0;
		if (strncmp(mode, "notify:", 7) == 0) {
			int fd = atoi(mode + 7);
			if (write(fd, "\n", 1) < 0)
				return 111;
			close(fd);
		}
		wait_forever();
	}
	if (argc >= 4 && strcmp(argv[1], "probe") == 0) {
		stamp(argv[2], argv[3], t);
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "orphans") == 0) {
		if (orphans(argv[2], atoi(argv[3])) != 0)
			return 1;
		wait_forever();
	}
	fprintf(stderr, "usage: bchild run FILE TAG [wait|exit|ignore|"
	    "notify:FD] | probe FILE TAG | orphans FILE N\n");
	return 2;
}
