/*
 * test_metrics.c -- the Prometheus exposition (metrics.c) rendered from a
 * machine whose state the test sets by hand, and metrics_file written to
 * a scratch directory: the exact text, label escaping (unreachable from a
 * valid stack.ini, whose names are restricted), the file's mode and its
 * once-per-errno failure log.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "json.h"
#include "machine.h"
#include "metrics.h"
#include "parse.h"

static const char	*stack_text =
	"[stack]\n"
	"name = t\n"
	"[level db]\n"
	"probe = true\n"
	"[process pg]\n"
	"level = db\n"
	"command = sleep 1\n"
	"[process mig]\n"
	"level = db\n"
	"type = oneshot\n"
	"command = true\n"
	"[level web]\n"
	"[process app]\n"
	"level = web\n"
	"command = sleep 1\n";

static const char	*expected =
	"# HELP stackd_level_current The current level: levels 1 to this "
	"one are up (none failed or stopping), 0 is the baseline.\n"
	"# TYPE stackd_level_current gauge\n"
	"stackd_level_current 1\n"
	"# HELP stackd_level_target The level stackd climbs or descends to.\n"
	"# TYPE stackd_level_target gauge\n"
	"stackd_level_target 2\n"
	"# HELP stackd_level_up 1 if the level is up, else 0.\n"
	"# TYPE stackd_level_up gauge\n"
	"stackd_level_up{level=\"db\"} 1\n"
	"stackd_level_up{level=\"web\"} 0\n"
	"# HELP stackd_process_up 1 if the process is running and ready, or "
	"is a oneshot that exited 0 while its level is climbing or up; else "
	"0.\n"
	"# TYPE stackd_process_up gauge\n"
	"stackd_process_up{process=\"pg\",level=\"db\"} 1\n"
	"stackd_process_up{process=\"mig\",level=\"db\"} 1\n"
	"stackd_process_up{process=\"app\",level=\"web\"} 0\n"
	"# HELP stackd_process_restarts_total Restarts of the process by "
	"stackd while its level was up.\n"
	"# TYPE stackd_process_restarts_total counter\n"
	"stackd_process_restarts_total{process=\"pg\",level=\"db\"} 3\n"
	"stackd_process_restarts_total{process=\"mig\",level=\"db\"} 0\n"
	"stackd_process_restarts_total{process=\"app\",level=\"web\"} 0\n"
	"# HELP stackd_level_failures_total Failed climb attempts and "
	"failures of the level while up.\n"
	"# TYPE stackd_level_failures_total counter\n"
	"stackd_level_failures_total{level=\"db\"} 0\n"
	"stackd_level_failures_total{level=\"web\"} 4\n"
	"# HELP stackd_climb_attempts_total Climb attempts started for the "
	"level.\n"
	"# TYPE stackd_climb_attempts_total counter\n"
	"stackd_climb_attempts_total{level=\"db\"} 1\n"
	"stackd_climb_attempts_total{level=\"web\"} 5\n"
	"# HELP stackd_probe_duration_seconds Duration of the last run of "
	"the level's probes, 0 before the first; only levels with probes.\n"
	"# TYPE stackd_probe_duration_seconds gauge\n"
	"stackd_probe_duration_seconds{level=\"db\"} 1.234\n"
	"# HELP stackd_alarm 1 while the alarm is raised (below target for "
	"longer than alarm_after), else 0.\n"
	"# TYPE stackd_alarm gauge\n"
	"stackd_alarm 1\n";

struct fixture {
	struct daemon	 d;
	char		 dir[32];
	char		 file[64];
};

static struct stack_conf *
parse_text(const char *text)
{
	struct stack_conf	*conf;
	char			 path[64], err[PARSE_ERRMAX];
	size_t			 len = strlen(text);
	int			 fd;

	snprintf(path, sizeof(path), "/tmp/stackXXXXXX.ini");
	fd = mkstemps(path, 4);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	err[0] = '\0';
	conf = parse_file(path, err, sizeof(err));
	unlink(path);
	if (conf == NULL)
		fail_msg("config does not parse: %s", err);
	return conf;
}

/* Level db up with its processes, web failing to climb, alarm raised. */
static int
setup(void **state)
{
	struct fixture	*f;
	struct machine	*m;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->d.cfg = parse_text(stack_text);
	assert_int_equal(machine_init(&f->d.m, f->d.cfg, 1), 0);
	m = &f->d.m;
	m->current = 1;
	m->target = 2;
	m->alarm = true;
	m->levels[0].state = LEVEL_UP;
	m->levels[0].climb_attempts_total = 1;
	m->levels[0].probe_duration = 1234;
	m->levels[1].failures_total = 4;
	m->levels[1].climb_attempts_total = 5;
	m->procs[0].state = PS_RUNNING;
	m->procs[0].pid = 42;
	m->procs[0].restarts_total = 3;
	m->procs[1].state = PS_DONE;
	snprintf(f->dir, sizeof(f->dir), "/tmp/stackmXXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->file, sizeof(f->file), "%s/stack.prom", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	unlink(f->file);
	rmdir(f->dir);
	machine_free(&f->d.m);
	config_free(f->d.cfg);
	free(f);
	return 0;
}

static char *
render(struct daemon *d)
{
	struct buf	b;

	memset(&b, 0, sizeof(b));
	metrics_render(d, &b);
	assert_false(b.oom);
	return b.data;
}

static void
test_render(void **state)
{
	struct fixture	*f = *state;
	char		*text = render(&f->d);

	assert_string_equal(text, expected);
	free(text);
}

/* A oneshot's exit 0 does not keep it "up" once its level stopped. */
static void
test_oneshot_level_down(void **state)
{
	struct fixture	*f = *state;
	char		*text;

	f->d.m.levels[0].state = LEVEL_DOWN;
	f->d.m.procs[0].state = PS_STOPPED;
	text = render(&f->d);
	assert_non_null(strstr(text,
	    "stackd_process_up{process=\"mig\",level=\"db\"} 0\n"));
	assert_non_null(strstr(text,
	    "stackd_process_up{process=\"pg\",level=\"db\"} 0\n"));
	free(text);
}

static void
test_label_escaping(void **state)
{
	struct fixture	*f = *state;
	char		*text, *name;

	name = strdup("a\"b\\c\nd");
	assert_non_null(name);
	free(f->d.cfg->levels[0].name);
	f->d.cfg->levels[0].name = name;
	text = render(&f->d);
	assert_non_null(strstr(text,
	    "stackd_level_up{level=\"a\\\"b\\\\c\\nd\"} 1\n"));
	free(text);
}

static char *
slurp(const char *path)
{
	static char	 data[8192];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY)) == -1)
		return NULL;
	n = read(fd, data, sizeof(data) - 1);
	close(fd);
	assert_true(n >= 0);
	data[n] = '\0';
	return data;
}

static void
test_write_file(void **state)
{
	struct fixture	*f = *state;
	struct stat	 st;
	char		 tmp[80];
	mode_t		 old;

	f->d.cfg->metrics_file = strdup(f->file);
	assert_non_null(f->d.cfg->metrics_file);
	old = umask(077);
	metrics_write(&f->d);
	umask(old);
	assert_string_equal(slurp(f->file), expected);
	assert_int_equal(stat(f->file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->file);
	assert_int_equal(access(tmp, F_OK), -1);

	f->d.m.alarm = false;
	metrics_write(&f->d);
	assert_non_null(strstr(slurp(f->file), "\nstackd_alarm 0\n"));
}

static int
count(const char *text, const char *what)
{
	int	 n = 0;

	for (; (text = strstr(text, what)) != NULL; text++)
		n++;
	return n;
}

/* Failures are logged once per errno, the recovery once, to stderr. */
static void
test_write_failure_logged_once(void **state)
{
	struct fixture	*f = *state;
	char		 logpath[80], bad[96], *log;
	int		 fd, saved;

	snprintf(logpath, sizeof(logpath), "%s/stderr", f->dir);
	snprintf(bad, sizeof(bad), "%s/missing/stack.prom", f->dir);
	fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);

	f->d.cfg->metrics_file = strdup(bad);
	metrics_write(&f->d);
	metrics_write(&f->d);
	metrics_write(&f->d);
	free(f->d.cfg->metrics_file);
	f->d.cfg->metrics_file = strdup(f->file);
	metrics_write(&f->d);
	metrics_write(&f->d);

	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	log = slurp(logpath);
	unlink(logpath);
	assert_int_equal(count(log, "No such file or directory"), 1);
	assert_int_equal(count(log, "written again"), 1);
	assert_string_equal(slurp(f->file), expected);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_render, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oneshot_level_down, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_label_escaping, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_file, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_failure_logged_once,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
