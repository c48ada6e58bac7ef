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
 *   bchild floor FILE N          the floor of "restart after SIGKILL": N
 *                                times, posix_spawn "run FILE f", let it
 *                                run 20 ms, stamp "kill", SIGKILL it, wait
 *                                for it and spawn the next at once -- what
 *                                a supervisor that does nothing else costs
 *   bchild startfloor FILE N     the floor of "start -> all N exec'd":
 *                                stamp "t0", posix_spawn N children "run
 *                                FILE s" one after the other, as fast as
 *                                a loop can, wait for their N stamps, kill
 *                                and reap them
 *   bchild probecost FILE N      what a probe costs its parent: N times,
 *                                posix_spawn "probe /dev/null x" and wait
 *                                for it; one line "NANOSECONDS" per run
 *                                to FILE -- timed in C, so that the
 *                                climb row subtracts the probe's cost and
 *                                not an interpreter's -- then "cpu NS":
 *                                the CPU the N probes took themselves
 *                                (exec, C start-up, exit), as the
 *                                kernel counts it for waited children
 *   bchild orphans FILE N [K]    PID-1 scenario, K bursts (default 1):
 *                                make N double-forked orphans that wait
 *                                on a pipe, release them all at once
 *                                (t0), see the last one exit through
 *                                pidfds (tx, -1 if pidfds are not
 *                                available) and poll kill(pid, 0) until
 *                                the last one is reaped (t1); writes one
 *                                line "t0 tx t1 made left" per burst to
 *                                FILE (whole, by rename) and pauses (it
 *                                is a supervised service); stops early
 *                                after a burst that left orphans or took
 *                                over 100 ms to reap the last one
 *
 * Run with no arguments or one (as runit's and s6's ./run, a symlink to
 * this binary; s6-supervise passes the service name) it reads its arguments from ./bench-args in the service
 * directory, so no shell start-up is counted for any supervisor.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

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

/* An epoll set of pidfds on every orphan, opened before they are
 * released; -1 if the kernel has no pidfds (then only the release ->
 * reaped time is measured).  epoll, not poll: each wake costs what is
 * ready, not all n, so the helper keeps up with the exits. */
static void
orphans_close(const int *fds, int n, int ep)
{
	int	i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	close(ep);
}

static int
orphans_pidfds(const pid_t *pids, int n, int *fds)
{
	struct epoll_event	ev;
	int			ep, i;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		fds[i] = (int)syscall(SYS_pidfd_open, pids[i], 0);
		ev.events = EPOLLIN | EPOLLONESHOT;	/* once is enough */
		ev.data.u32 = (uint32_t)i;
		if (fds[i] < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev)) {
			orphans_close(fds, i + 1, ep);
			return -1;
		}
	}
	return ep;
}

/* Drop from pids[0..n) those the supervisor has reaped; the new n. */
static int
orphans_unreaped(pid_t *pids, int n)
{
	int	i, k = 0;

	for (i = 0; i < n; i++)
		if (kill(pids[i], 0) == 0 || errno != ESRCH)
			pids[k++] = pids[i];
	return k;
}

/*
 * The time the last orphan exited, as its pidfd turned readable.  On the
 * way the exited ones that are already reaped are crossed off, so that
 * what is left to poll after the last exit is the tail alone: gone[] is
 * left holding the exited but unreaped ones, *unreaped of them.
 */
static long long
orphans_exited(int ep, const pid_t *pids, int n, pid_t *gone,
    int *unreaped)
{
	struct epoll_event	ev[64];
	long long		last = -1;
	int			i, r, left, k = 0;

	for (left = n; left > 0; ) {
		if ((r = epoll_wait(ep, ev, 64, 30000)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return -1;
		}
		last = mono_ns();
		for (i = 0; i < r; i++)
			gone[k++] = pids[ev[i].data.u32];
		left -= r;
		if (left > 0)
			k = orphans_unreaped(gone, k);
	}
	*unreaped = k;
	return last;
}

/*
 * One burst: make n orphans, release them, time the tail.  Appends
 * "t0 tx t1 made left" to out; -1 if the orphans could not be made.
 */
static int
orphans_burst(FILE *out, int n)
{
	pid_t		*pids, *gone, *tail, pid;
	int		*fds, ep;
	int		 gate[2], back[2], i, left, got;
	long long	 t0, t1, tx;
	char		 buf[128];
	struct timespec	 nap = { 0, 10000 };

	if ((pids = calloc((size_t)n, sizeof(*pids))) == NULL ||
	    (gone = calloc((size_t)n, sizeof(*gone))) == NULL ||
	    (fds = calloc((size_t)n, sizeof(*fds))) == NULL ||
	    pipe(gate) == -1 || pipe(back) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((pid = fork()) == -1)
			return -1;
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
	close(gate[0]);
	for (got = 0; got < n; ) {
		ssize_t r = read(back[0], &pids[got], sizeof(pid_t));
		if (r == (ssize_t)sizeof(pid_t))
			got++;
		else if (r == 0 || (r == -1 && errno != EINTR))
			break;
	}
	close(back[0]);
	/* Every orphan is parked in read(2); open the gate, see the last
	 * one exit (pidfds), then poll until the last one is reaped. */
	ep = orphans_pidfds(pids, got, fds);
	t0 = mono_ns();
	close(gate[1]);
	left = got;
	tail = pids;
	if (ep >= 0) {
		tx = orphans_exited(ep, pids, got, gone, &left);
		tail = gone;
	} else
		tx = -1;
	while (left > 0) {
		left = orphans_unreaped(tail, left);
		if (left > 0)
			nanosleep(&nap, NULL);
		if (mono_ns() - t0 > 30000000000LL)
			break;	/* give up after 30 s; reported as left */
	}
	t1 = mono_ns();
	fprintf(out, "%lld %lld %lld %d %d\n", t0, tx, t1, got, left);
	if (ep >= 0)
		orphans_close(fds, got, ep);
	free(pids);
	free(gone);
	free(fds);
	/* A reaper that left a tail of 100 ms is an order of magnitude off
	 * the others: one sample says that, more would only eat the budget. */
	if (left == 0 && t1 - (tx > 0 ? tx : t0) > 100000000LL)
		return 1;
	return left;
}

/* k bursts, one line each in file (written whole, by rename). */
static int
orphans(const char *file, int n, int k)
{
	char	 part[4096];
	FILE	*f;
	int	 r = 0;

	/* The tail is polled in 10 us naps: no 50 us of timer slack. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	snprintf(part, sizeof(part), "%s.part", file);
	if ((f = fopen(part, "w")) == NULL)
		return 1;
	/* A burst that left orphans behind would spoil the next one. */
	while (k-- > 0 && (r = orphans_burst(f, n)) == 0)
		;
	if (fclose(f) != 0 || r < 0 || rename(part, file) == -1)
		return 1;
	return 0;
}

static int
floor_loop(const char *self, const char *file, int n)
{
	char		*args[] = { (char *)self, "run", (char *)file, "f", NULL };
	struct timespec	 up = { 0, 20000000 };
	pid_t		 pid;
	int		 i;

	if (posix_spawn(&pid, self, NULL, NULL, args, environ) != 0)
		return 1;
	for (i = 0; ; i++) {
		nanosleep(&up, NULL);
		if (i < n)
			stamp(file, "kill", mono_ns());
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		if (i == n)
			return 0;
		if (posix_spawn(&pid, self, NULL, NULL, args, environ) != 0)
			return 1;
	}
}

/* How many lines file holds, or -1. */
static int
count_lines(const char *file)
{
	char	buf[8192];
	ssize_t	got;
	int	fd, n = 0;

	if ((fd = open(file, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		while (got-- > 0)
			n += buf[got] == '\n';
	close(fd);
	return n;
}

static int
start_floor(const char *self, const char *file, int n)
{
	char		*args[] = { (char *)self, "run", (char *)file, "s",
			    NULL };
	struct timespec	 nap = { 0, 1000000 };
	long long	 deadline;
	pid_t		*pids;
	int		 made, i;

	if (n < 1 || (pids = calloc((size_t)n, sizeof(*pids))) == NULL)
		return 1;
	stamp(file, "t0", mono_ns());
	for (made = 0; made < n; made++)
		if (posix_spawn(&pids[made], self, NULL, NULL, args,
		    environ) != 0)
			break;
	/* Each child stamps, then pauses: all there is "t0" + made lines. */
	deadline = mono_ns() + 30000000000LL;
	while (count_lines(file) < made + 1 && mono_ns() < deadline)
		nanosleep(&nap, NULL);
	for (i = 0; i < made; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < made; i++)
		while (waitpid(pids[i], NULL, 0) == -1 && errno == EINTR)
			;
	free(pids);
	return made < n;
}

static int
probe_cost(const char *self, const char *file, int n)
{
	char		*args[] = { (char *)self, "probe", "/dev/null", "x",
			    NULL };
	struct rusage	 ru;
	long long	 t;
	pid_t		 pid;
	FILE		*f;
	int		 i;

	if ((f = fopen(file, "w")) == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		t = mono_ns();
		if (posix_spawn(&pid, self, NULL, NULL, args, environ) != 0)
			break;
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
		fprintf(f, "%lld\n", mono_ns() - t);
	}
	if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
		fprintf(f, "cpu %lld\n", (ru.ru_utime.tv_sec +
		    ru.ru_stime.tv_sec) * 1000000000LL + (ru.ru_utime.tv_usec +
		    ru.ru_stime.tv_usec) * 1000LL);
	return fclose(f) != 0 || i < n;
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
	if (argc >= 4 && strcmp(argv[1], "floor") == 0)
		return floor_loop(argv[0], argv[2], atoi(argv[3]));
	if (argc >= 4 && strcmp(argv[1], "startfloor") == 0)
		return start_floor(argv[0], argv[2], atoi(argv[3]));
	if (argc >= 4 && strcmp(argv[1], "probecost") == 0)
		return probe_cost(argv[0], argv[2], atoi(argv[3]));
	if (argc >= 4 && strcmp(argv[1], "orphans") == 0) {
		if (orphans(argv[2], atoi(argv[3]),
		    argc >= 5 ? atoi(argv[4]) : 1) != 0)
			return 1;
		wait_forever();
	}
	fprintf(stderr, "usage: bchild run FILE TAG [wait|exit|ignore|"
	    "notify:FD] | probe FILE TAG | floor FILE N | startfloor FILE N "
	    "| probecost FILE N | orphans FILE N [K]\n");
	return 2;
}
