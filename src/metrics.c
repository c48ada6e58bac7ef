/*
 * metrics.c -- the stack's state as Prometheus metrics, for `stackctl
 * metrics` and for [stack] metrics_file.
 *
 * The metric names and labels are a contract (stackctl(1)): dashboards
 * and alerts are written against them.  The text is the Prometheus text
 * exposition format, version 0.0.4: every family is a # HELP line, a
 * # TYPE line and then all of its samples, because the format wants one
 * family's samples together.  Values are read straight from the machine's
 * runtime state; nothing here keeps counters of its own, so the metrics
 * always agree with `stackctl status`.
 *
 * metrics_file is meant for node_exporter's textfile collector and the
 * like, which may read it at any moment: it is written as PATH.tmp in the
 * same directory and renamed over PATH, so a reader sees the old file or
 * the new one, never half of one.  A write that fails (a full disk, a
 * directory that went away) is logged when its errno differs from the
 * last failure's, not at every state change, and never touches the stack.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"

/* What a family's samples are labelled by. */
enum metrics_scope { SCOPE_STACK, SCOPE_LEVEL, SCOPE_PROC };

enum metrics_id {
	M_LEVEL_CURRENT,
	M_LEVEL_TARGET,
	M_LEVEL_UP,
	M_PROC_UP,
	M_PROC_RESTARTS,
	M_LEVEL_FAILURES,
	M_CLIMB_ATTEMPTS,
	M_PROBE_DURATION,
	M_ALARM,
	M_COUNT
};

struct metrics_family {
	const char		*name;
	const char		*type;
	enum metrics_scope	 scope;
	const char		*help;
};

/* In the order of stackctl(1); HELP texts must not contain '\' or '\n'. */
static const struct metrics_family metrics_families[M_COUNT] = {
	[M_LEVEL_CURRENT] = { "stackd_level_current", "gauge", SCOPE_STACK,
	    "The current level: levels 1 to this one are up (none failed "
	    "or stopping), 0 is the baseline." },
	[M_LEVEL_TARGET] = { "stackd_level_target", "gauge", SCOPE_STACK,
	    "The level stackd climbs or descends to." },
	[M_LEVEL_UP] = { "stackd_level_up", "gauge", SCOPE_LEVEL,
	    "1 if the level is up, else 0." },
	[M_PROC_UP] = { "stackd_process_up", "gauge", SCOPE_PROC,
	    "1 if the process is running and ready, or is a oneshot that "
	    "exited 0 while its level is climbing or up; else 0." },
	[M_PROC_RESTARTS] = { "stackd_process_restarts_total", "counter",
	    SCOPE_PROC, "Restarts of the process by stackd while its level "
	    "was up." },
	[M_LEVEL_FAILURES] = { "stackd_level_failures_total", "counter",
	    SCOPE_LEVEL, "Failed climb attempts and failures of the level "
	    "while up." },
	[M_CLIMB_ATTEMPTS] = { "stackd_climb_attempts_total", "counter",
	    SCOPE_LEVEL, "Climb attempts started for the level." },
	[M_PROBE_DURATION] = { "stackd_probe_duration_seconds", "gauge",
	    SCOPE_LEVEL, "Duration of the last run of the level's probes, 0 "
	    "before the first; only levels with probes." },
	[M_ALARM] = { "stackd_alarm", "gauge", SCOPE_STACK,
	    "1 while the alarm is raised (below target for longer than "
	    "alarm_after), else 0." },
};

/* errno of the last failed write of metrics_file; 0 after a success. */
static int	metrics_errno;

/* A label value, quoted; \, " and newline escaped as the format says. */
static void
metrics_label_value(struct buf *b, const char *s)
{
	buf_append(b, "\"", 1);
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_append(b, "\\\\", 2);
		else if (*s == '"')
			buf_append(b, "\\\"", 2);
		else if (*s == '\n')
			buf_append(b, "\\n", 2);
		else
			buf_append(b, s, 1);
	}
	buf_append(b, "\"", 1);
}

/* "name{process="p",level="l"} ", up to the value.  process may be NULL. */
static void
metrics_sample(struct buf *b, const char *name, const char *process,
    const char *level)
{
	buf_printf(b, "%s{", name);
	if (process != NULL) {
		buf_printf(b, "process=");
		metrics_label_value(b, process);
		buf_printf(b, ",");
	}
	buf_printf(b, "level=");
	metrics_label_value(b, level);
	buf_printf(b, "} ");
}

static uint64_t
metrics_stack_value(const struct machine *m, enum metrics_id id)
{
	switch (id) {
	case M_LEVEL_CURRENT:
		return (uint64_t)machine_up_level(m);
	case M_LEVEL_TARGET:
		return (uint64_t)m->target;
	case M_ALARM:
		return m->alarm ? 1 : 0;
	default:
		return 0;
	}
}

static void
metrics_levels(struct daemon *d, struct buf *b, enum metrics_id id)
{
	const struct stack_conf	*cfg = d->cfg;
	const struct level_rt	*l;
	const char		*name = metrics_families[id].name;
	int			 i;

	for (i = 0; i < cfg->nlevels; i++) {
		l = &d->m.levels[i];
		/* A level without probes has no probe duration at all. */
		if (id == M_PROBE_DURATION && cfg->levels[i].nprobes == 0)
			continue;
		metrics_sample(b, name, NULL, cfg->levels[i].name);
		if (id == M_LEVEL_UP)
			buf_printf(b, "%d\n", l->state == LEVEL_UP);
		else if (id == M_LEVEL_FAILURES)
			buf_printf(b, "%llu\n",
			    (unsigned long long)l->failures_total);
		else if (id == M_CLIMB_ATTEMPTS)
			buf_printf(b, "%llu\n",
			    (unsigned long long)l->climb_attempts_total);
		else
			buf_printf(b, "%lld.%03lld\n",
			    (long long)(l->probe_duration / 1000),
			    (long long)(l->probe_duration % 1000));
	}
}

/*
 * A oneshot's work is done once it exited 0, but that only holds while
 * its level is climbing or up: the machine keeps PS_DONE after the level
 * stopped, and a stopped level's oneshot is not "up".
 */
static int
metrics_proc_up(const struct machine *m, int i)
{
	const struct proc_rt	*p = &m->procs[i];
	enum level_state	 ls = m->levels[m->cfg->procs[i].level].state;

	if (p->state == PS_RUNNING)
		return 1;
	return p->state == PS_DONE &&
	    (ls == LEVEL_CLIMBING || ls == LEVEL_UP);
}

/*
 * Listed for every configured process, whatever its state, so that a
 * stopped process reads 0 instead of vanishing from the scrape.
 */
static void
metrics_procs(struct daemon *d, struct buf *b, enum metrics_id id)
{
	const struct stack_conf	*cfg = d->cfg;
	const char		*name = metrics_families[id].name;
	int			 i;

	for (i = 0; i < cfg->nprocs; i++) {
		metrics_sample(b, name, cfg->procs[i].name,
		    cfg->levels[cfg->procs[i].level].name);
		if (id == M_PROC_UP)
			buf_printf(b, "%d\n", metrics_proc_up(&d->m, i));
		else
			buf_printf(b, "%llu\n", (unsigned long long)
			    d->m.procs[i].restarts_total);
	}
}

void
metrics_render(struct daemon *d, struct buf *b)
{
	const struct metrics_family	*f;
	int				 id;

	for (id = 0; id < M_COUNT; id++) {
		f = &metrics_families[id];
		buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
		    f->name, f->type);
		if (f->scope == SCOPE_STACK)
			buf_printf(b, "%s %llu\n", f->name, (unsigned long long)
			    metrics_stack_value(&d->m, (enum metrics_id)id));
		else if (f->scope == SCOPE_LEVEL)
			metrics_levels(d, b, (enum metrics_id)id);
		else
			metrics_procs(d, b, (enum metrics_id)id);
	}
}

static int
metrics_write_all(int fd, const char *data, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, data, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Write data to path through path.tmp and a rename.  On failure, *what
 * names the step, errno says why, and path.tmp is gone.
 */
static int
metrics_replace(const char *path, const char *data, size_t len,
    const char **what)
{
	char	tmp[PATH_MAX];
	int	fd, saved;

	*what = "open";
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* PATH.tmp is ours alone: whatever sits there is removed and the
	 * file made anew.  Opened as it was, a FIFO planted there blocked
	 * the loop in open(), and a hard link had another file truncated;
	 * O_EXCL follows no symlink and shares no file. */
	if (unlink(tmp) == -1 && errno != ENOENT)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK, 0644);
	if (fd == -1)
		return -1;
	/* Explicit, whatever the umask: collectors often run as another
	 * user. */
	*what = "write";
	if (fchmod(fd, 0644) == -1 || metrics_write_all(fd, data, len) == -1) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) == -1) {
		saved = errno;
		goto fail;
	}
	*what = "rename";
	if (rename(tmp, path) == -1) {
		saved = errno;
		goto fail;
	}
	return 0;
fail:
	(void)unlink(tmp);
	errno = saved;
	return -1;
}

/* Log a failure when it is new, and the recovery after one. */
static void
metrics_report(const char *path, const char *what, int err)
{
	if (err == 0) {
		if (metrics_errno != 0)
			log_msg(LOG_NOTICE, "metrics_file: %s written again",
			    path);
		metrics_errno = 0;
		return;
	}
	if (err == metrics_errno)
		return;
	metrics_errno = err;
	log_msg(LOG_ERR, "metrics_file: %s %s: %s (not logged again until "
	    "the error changes)", what, path, strerror(err));
}

void
metrics_write(struct daemon *d)
{
	const char	*path = d->cfg->metrics_file;
	const char	*what = "render";
	struct buf	 b;
	int		 err = 0;

	if (path == NULL)
		return;
	memset(&b, 0, sizeof(b));
	metrics_render(d, &b);
	if (b.oom)
		err = ENOMEM;
	else if (metrics_replace(path, b.data, b.len, &what) == -1)
		err = errno;
	buf_free(&b);
	metrics_report(path, what, err);
}
