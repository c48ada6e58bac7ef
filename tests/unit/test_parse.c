/*
 * test_parse.c -- stack.ini parsing: values, defaults, the INI details that
 * inih leaves to us (line numbers, long lines, continuations, empty
 * sections), and the exact text of every class of error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "parse.h"

static char	 tpath[64];
static char	 terr[PARSE_ERRMAX];

/* Write text to a fresh /tmp/stackXXXXXX.ini and return its path. */
static const char *
write_tmp(const char *text)
{
	size_t	 len = strlen(text);
	int	 fd;

	snprintf(tpath, sizeof(tpath), "/tmp/stackXXXXXX.ini");
	fd = mkstemps(tpath, 4);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return tpath;
}

static struct stack_conf *
parse_text(const char *text)
{
	struct stack_conf	*conf;

	terr[0] = '\0';
	conf = parse_file(write_tmp(text), terr, sizeof(terr));
	unlink(tpath);
	return conf;
}

static struct stack_conf *
parse_ok(const char *text)
{
	struct stack_conf	*conf = parse_text(text);

	if (conf == NULL)
		fail_msg("unexpected error: %s", terr);
	return conf;
}

/* The error must be exactly "PATH" followed by tail, e.g. ":3: bad ...". */
static void
expect_error(const char *text, const char *tail)
{
	char	 want[PARSE_ERRMAX + 64];

	assert_null(parse_text(text));
	snprintf(want, sizeof(want), "%s%s", tpath, tail);
	assert_string_equal(terr, want);
}

#define MINIMAL	"[level one]\n[process p]\nlevel = one\ncommand = /bin/true\n"

/* --- value parsers ------------------------------------------------------ */

static void
test_duration(void **state)
{
	msec_t	 ms;

	(void)state;
	assert_int_equal(parse_duration("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(parse_duration("10s", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(parse_duration("2m", &ms), 0);
	assert_int_equal(ms, 120000);
	assert_int_equal(parse_duration("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(parse_duration("1.5", &ms), 0);
	assert_int_equal(ms, 1500);
	assert_int_equal(parse_duration("10", &ms), 0);
	assert_int_equal(ms, 10000);
	assert_int_equal(parse_duration("0", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(parse_duration("0.25m", &ms), 0);
	assert_int_equal(ms, 15000);
	assert_int_equal(parse_duration("1.0005", &ms), 0);
	assert_int_equal(ms, 1000);
	assert_int_equal(parse_duration("87600h", &ms), 0);
	assert_int_equal(ms, (msec_t)87600 * 3600000);

	assert_int_equal(parse_duration("", &ms), -1);
	assert_int_equal(parse_duration("-1", &ms), -1);
	assert_int_equal(parse_duration("+1", &ms), -1);
	assert_int_equal(parse_duration("s", &ms), -1);
	assert_int_equal(parse_duration("10x", &ms), -1);
	/* not 0, but below a millisecond: 0 would mean "off" */
	assert_int_equal(parse_duration("0.0001", &ms), -1);
	assert_int_equal(parse_duration("0.5ms", &ms), -1);
	assert_int_equal(parse_duration("0.000", &ms), 0);
	assert_int_equal(ms, 0);
	assert_int_equal(parse_duration("10 s", &ms), -1);
	assert_int_equal(parse_duration("10sec", &ms), -1);
	assert_int_equal(parse_duration("1.", &ms), -1);
	assert_int_equal(parse_duration(".5", &ms), -1);
	assert_int_equal(parse_duration("87601h", &ms), -1);
	assert_int_equal(parse_duration("99999999999999999999999", &ms), -1);
	assert_int_equal(parse_duration(NULL, &ms), -1);
}

static void
test_bool(void **state)
{
	static const char *const yes[] = { "yes", "true", "on", "1", "YES",
	    "True", NULL };
	static const char *const no[] = { "no", "false", "off", "0", "NO",
	    "Off", NULL };
	bool	 b;
	int	 i;

	(void)state;
	for (i = 0; yes[i] != NULL; i++) {
		b = false;
		assert_int_equal(parse_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (i = 0; no[i] != NULL; i++) {
		b = true;
		assert_int_equal(parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	assert_int_equal(parse_bool("", &b), -1);
	assert_int_equal(parse_bool("y", &b), -1);
	assert_int_equal(parse_bool("2", &b), -1);
	assert_int_equal(parse_bool("yess", &b), -1);
}

static void
test_signal(void **state)
{
	int	 sig;

	(void)state;
	assert_int_equal(parse_signal("TERM", &sig), 0);
	assert_int_equal(sig, SIGTERM);
	assert_int_equal(parse_signal("SIGTERM", &sig), 0);
	assert_int_equal(sig, SIGTERM);
	assert_int_equal(parse_signal("sigint", &sig), 0);
	assert_int_equal(sig, SIGINT);
	assert_int_equal(parse_signal("hup", &sig), 0);
	assert_int_equal(sig, SIGHUP);
	assert_int_equal(parse_signal("QUIT", &sig), 0);
	assert_int_equal(sig, SIGQUIT);
	assert_int_equal(parse_signal("KILL", &sig), 0);
	assert_int_equal(sig, SIGKILL);
	assert_int_equal(parse_signal("USR1", &sig), 0);
	assert_int_equal(sig, SIGUSR1);
	assert_int_equal(parse_signal("SIGUSR2", &sig), 0);
	assert_int_equal(sig, SIGUSR2);
	assert_int_equal(parse_signal("WINCH", &sig), 0);
	assert_int_equal(sig, SIGWINCH);
	assert_int_equal(parse_signal("15", &sig), 0);
	assert_int_equal(sig, 15);
	assert_int_equal(parse_signal("64", &sig), 0);
	assert_int_equal(sig, 64);

	assert_int_equal(parse_signal("0", &sig), -1);
	assert_int_equal(parse_signal("65", &sig), -1);
	assert_int_equal(parse_signal("-1", &sig), -1);
	assert_int_equal(parse_signal("SIG", &sig), -1);
	assert_int_equal(parse_signal("TERMX", &sig), -1);
	assert_int_equal(parse_signal("", &sig), -1);

	assert_string_equal(signal_name(SIGTERM), "TERM");
	assert_string_equal(signal_name(SIGINT), "INT");
	assert_string_equal(signal_name(SIGKILL), "KILL");
	assert_string_equal(signal_name(SIGABRT), "ABRT");
	assert_string_equal(signal_name(0), "");
	assert_string_equal(signal_name(99), "");
}

static void
test_uint(void **state)
{
	int	 n = -1;

	(void)state;
	assert_int_equal(parse_uint("0", 0, 10, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(parse_uint("007", 0, 10, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(parse_uint("10", 0, 10, &n), 0);
	assert_int_equal(n, 10);
	assert_int_equal(parse_uint("11", 0, 10, &n), -1);
	assert_int_equal(parse_uint("0", 1, 10, &n), -1);
	assert_int_equal(parse_uint("", 0, 10, &n), -1);
	assert_int_equal(parse_uint("-1", -5, 10, &n), -1);
	assert_int_equal(parse_uint("1x", 0, 10, &n), -1);
	assert_int_equal(parse_uint(" 1", 0, 10, &n), -1);
	assert_int_equal(parse_uint("99999999999999999999", 0, INT32_MAX, &n),
	    -1);
}

/* --- whole files -------------------------------------------------------- */

static const char spec_example[] =
"[stack]\n"
"name = shop                ; default: file name without .ini\n"
"target = top               ; level to climb to\n"
"ready_level = db\n"
"intensity = 4\n"
"period = 20s\n"
"retry_min = 500ms\n"
"retry_max = 1m\n"
"alarm_after = 0\n"
"give_up_after = 7\n"
"stop_timeout = 12s\n"
"control = /run/stackd/shop.sock   ; default: see section 5\n"
"log_prefix = yes          ; auto | yes | no\n"
"                           ;   (auto = more than one process)\n"
"hook_timeout = 3s\n"
"on_alarm = /usr/local/bin/page-oncall --now\n"
"metrics_file = /run/stackd/shop.prom\n"
"\n"
"[level db]\n"
"description = database connected\n"
"probe = pg_isready -h 127.0.0.1 -p 5432   ; repeatable\n"
"probe_interval = 2500ms\n"
"probe_timeout = 1.5\n"
"failure_threshold = 2\n"
"ready_timeout = 45s\n"
"strategy = rest_for_one\n"
"intensity = 3\n"
"period = 60s\n"
"on_up = /usr/local/bin/lb-register\n"
"on_down = /usr/local/bin/lb-deregister db\n"
"\n"
"[process postgres]\n"
"level = db\n"
"command = /usr/lib/postgresql/15/bin/postgres -D /var/lib/postgresql/data\n"
"type = longrun\n"
"ready = notify\n"
"restart = transient\n"
"workdir = /var/lib/postgresql\n"
"env = PGDATA=/var/lib/postgresql/data     ; repeatable\n"
"umask = 0077\n"
"stop_signal = INT\n"
"stop_timeout = 60s\n"
"log = journal\n"
"\n"
"[process migrate]\n"
"level = db\n"
"type = oneshot             ; must exit 0\n"
"command = /app/bin/migrate --up\n"
"restart = temporary\n"
"ready_delay = 100ms\n"
"probe_timeout = 5s\n"
"log = file:/var/log/migrate.log\n"
"\n"
"[process web]\n"
"level = 1\n"
"command = web\n"
"ready = fd:3\n"
"log = null\n";

static void
test_spec_example(void **state)
{
	struct stack_conf	*c = parse_ok(spec_example);
	struct level_conf	*l;
	struct proc_conf	*p;

	(void)state;
	assert_string_equal(c->path, tpath);
	assert_string_equal(c->name, "shop");
	assert_int_equal(c->nlevels, 1);
	assert_int_equal(c->target, 1);
	assert_int_equal(c->ready_level, 1);
	assert_int_equal(c->intensity, 4);
	assert_int_equal(c->period, 20000);
	assert_int_equal(c->retry_min, 500);
	assert_int_equal(c->retry_max, 60000);
	assert_int_equal(c->alarm_after, 0);
	assert_int_equal(c->give_up_after, 7);
	assert_int_equal(c->stop_timeout, 12000);
	assert_string_equal(c->control, "/run/stackd/shop.sock");
	assert_int_equal(c->log_prefix, PREFIX_YES);
	assert_int_equal(c->hook_timeout, 3000);
	assert_string_equal(c->on_alarm.text,
	    "/usr/local/bin/page-oncall --now");
	assert_string_equal(c->on_alarm.argv[1], "--now");
	assert_null(c->on_alarm.argv[2]);
	assert_int_equal(c->on_alarm.line, 16);
	assert_string_equal(c->metrics_file, "/run/stackd/shop.prom");

	l = &c->levels[0];
	assert_string_equal(l->name, "db");
	assert_int_equal(l->line, 19);
	assert_string_equal(l->description, "database connected");
	assert_int_equal(l->nprobes, 1);
	assert_string_equal(l->probes[0].text,
	    "pg_isready -h 127.0.0.1 -p 5432");
	assert_string_equal(l->probes[0].argv[0], "pg_isready");
	assert_string_equal(l->probes[0].argv[4], "5432");
	assert_null(l->probes[0].argv[5]);
	assert_int_equal(l->probes[0].line, 21);
	assert_int_equal(l->probe_interval, 2500);
	assert_int_equal(l->probe_timeout, 1500);
	assert_int_equal(l->failure_threshold, 2);
	assert_int_equal(l->ready_timeout, 45000);
	assert_int_equal(l->strategy, STRATEGY_REST_FOR_ONE);
	assert_int_equal(l->intensity, 3);
	assert_int_equal(l->period, 60000);
	assert_string_equal(l->on_up.argv[0], "/usr/local/bin/lb-register");
	assert_string_equal(l->on_down.argv[1], "db");

	assert_int_equal(c->nprocs, 3);
	p = &c->procs[0];
	assert_string_equal(p->name, "postgres");
	assert_int_equal(p->line, 32);
	assert_int_equal(p->level, 0);
	assert_string_equal(p->command.argv[2], "/var/lib/postgresql/data");
	assert_int_equal(p->command.line, 34);
	assert_int_equal(p->type, PROC_LONGRUN);
	assert_int_equal(p->ready, READY_NOTIFY);
	assert_int_equal(p->restart, RESTART_TRANSIENT);
	assert_string_equal(p->workdir, "/var/lib/postgresql");
	assert_int_equal(p->nenv, 1);
	assert_string_equal(p->env[0], "PGDATA=/var/lib/postgresql/data");
	assert_true(p->has_umask);
	assert_int_equal(p->umask, 077);
	assert_int_equal(p->stop_signal, SIGINT);
	assert_int_equal(p->stop_timeout, 60000);
	assert_int_equal(p->probe_timeout, 1500);	/* the level's */
	assert_int_equal(p->log, LOGMODE_JOURNAL);
	assert_false(p->has_user);

	p = &c->procs[1];
	assert_string_equal(p->name, "migrate");
	assert_int_equal(p->type, PROC_ONESHOT);
	assert_int_equal(p->ready, READY_EXIT);
	assert_int_equal(p->restart, RESTART_TEMPORARY);
	assert_int_equal(p->ready_delay, 100);
	assert_int_equal(p->probe_timeout, 5000);
	assert_int_equal(p->stop_timeout, 12000);	/* the stack's */
	assert_int_equal(p->log, LOGMODE_FILE);
	assert_string_equal(p->log_path, "/var/log/migrate.log");

	p = &c->procs[2];
	assert_int_equal(p->level, 0);
	assert_int_equal(p->ready, READY_FD);
	assert_int_equal(p->ready_fd, 3);
	assert_int_equal(p->log, LOGMODE_NULL);
	config_free(c);
}

static void
test_defaults(void **state)
{
	struct stack_conf	*c = parse_ok(MINIMAL);
	struct level_conf	*l = &c->levels[0];
	struct proc_conf	*p = &c->procs[0];
	char			 name[64];
	size_t			 n;

	(void)state;
	/* name: the file's base name without ".ini" */
	n = strlen("/tmp/");
	snprintf(name, sizeof(name), "%.*s", (int)(strlen(tpath) - n - 4),
	    tpath + n);
	assert_string_equal(c->name, name);
	assert_int_equal(c->target, 1);
	assert_int_equal(c->ready_level, 1);
	assert_int_equal(c->intensity, DEF_INTENSITY);
	assert_int_equal(c->period, DEF_PERIOD);
	assert_int_equal(c->retry_min, DEF_RETRY_MIN);
	assert_int_equal(c->retry_max, DEF_RETRY_MAX);
	assert_int_equal(c->alarm_after, DEF_ALARM_AFTER);
	assert_int_equal(c->give_up_after, 0);
	assert_int_equal(c->stop_timeout, DEF_STOP_TIMEOUT);
	assert_null(c->control);
	assert_null(c->metrics_file);
	assert_int_equal(c->log_prefix, PREFIX_AUTO);
	assert_int_equal(c->hook_timeout, DEF_HOOK_TIMEOUT);
	assert_null(c->on_alarm.argv);
	assert_int_equal(c->on_alarm.line, 0);

	assert_null(l->description);
	assert_int_equal(l->nprobes, 0);
	assert_int_equal(l->probe_interval, DEF_PROBE_INTERVAL);
	assert_int_equal(l->probe_timeout, DEF_PROBE_TIMEOUT);
	assert_int_equal(l->failure_threshold, DEF_FAILURE_THRESHOLD);
	assert_int_equal(l->ready_timeout, DEF_READY_TIMEOUT);
	assert_int_equal(l->strategy, STRATEGY_ONE_FOR_ONE);
	assert_int_equal(l->intensity, DEF_INTENSITY);
	assert_int_equal(l->period, DEF_PERIOD);
	assert_null(l->on_up.argv);
	assert_null(l->on_down.argv);

	assert_int_equal(p->type, PROC_LONGRUN);
	assert_int_equal(p->ready, READY_STARTED);
	assert_int_equal(p->ready_delay, 0);
	assert_int_equal(p->restart, RESTART_PERMANENT);
	assert_null(p->probe.argv);
	assert_int_equal(p->probe_timeout, DEF_PROBE_TIMEOUT);
	assert_false(p->has_user);
	assert_false(p->has_group);
	assert_null(p->workdir);
	assert_int_equal(p->nenv, 0);
	assert_false(p->has_umask);
	assert_int_equal(p->stop_signal, SIGTERM);
	assert_int_equal(p->stop_timeout, DEF_STOP_TIMEOUT);
	assert_int_equal(p->log, LOGMODE_INHERIT);
	assert_null(p->log_path);
	config_free(c);
}

/* A [stack] after the levels still gives them their defaults. */
static void
test_stack_defaults_late(void **state)
{
	struct stack_conf	*c;

	(void)state;
	c = parse_ok("[level a]\nprobe_timeout = 3s\n"
	    "[level b]\nintensity = 0\n"
	    "[process p]\nlevel = a\ncommand = x\n"
	    "[process q]\nlevel = b\ncommand = x\nprobe_timeout = 9s\n"
	    "[stack]\nintensity = 9\nperiod = 1m\nstop_timeout = 2s\n");
	assert_int_equal(c->levels[0].intensity, 9);
	assert_int_equal(c->levels[0].period, 60000);
	assert_int_equal(c->levels[1].intensity, 0);
	assert_int_equal(c->levels[1].period, 60000);
	assert_int_equal(c->procs[0].stop_timeout, 2000);
	assert_int_equal(c->procs[0].probe_timeout, 3000);
	assert_int_equal(c->procs[1].probe_timeout, 9000);
	config_free(c);
}

static void
test_continuation(void **state)
{
	struct stack_conf	*c;
	struct level_conf	*l;
	struct proc_conf	*p;

	(void)state;
	c = parse_ok(
	    "[level one]\n"
	    "description = the first\n"
	    "     level of\t\n"
	    "\tthe stack ; a comment\n"
	    "probe = test -e /a\n"
	    "probe = sh -c 'test -e /b &&\n"
	    "   test -e /c'\n"
	    "[process p]\n"
	    "level = one\n"
	    "command = /bin/server\n"
	    "  --port 8080\n"
	    "\n"
	    "  --name 'my server'   ; blank lines do not end a value\n"
	    "env = A=1\n"
	    "env = B=two\n"
	    "  words\n");
	l = &c->levels[0];
	assert_string_equal(l->description, "the first level of the stack");
	assert_int_equal(l->nprobes, 2);
	assert_string_equal(l->probes[0].text, "test -e /a");
	assert_string_equal(l->probes[1].text,
	    "sh -c 'test -e /b && test -e /c'");
	assert_string_equal(l->probes[1].argv[2],
	    "test -e /b && test -e /c");
	assert_int_equal(l->probes[1].line, 6);
	p = &c->procs[0];
	assert_string_equal(p->command.text,
	    "/bin/server --port 8080 --name 'my server'");
	assert_int_equal(p->command.line, 10);
	assert_string_equal(p->command.argv[0], "/bin/server");
	assert_string_equal(p->command.argv[1], "--port");
	assert_string_equal(p->command.argv[2], "8080");
	assert_string_equal(p->command.argv[3], "--name");
	assert_string_equal(p->command.argv[4], "my server");
	assert_null(p->command.argv[5]);
	assert_int_equal(p->nenv, 2);
	assert_string_equal(p->env[0], "A=1");
	assert_string_equal(p->env[1], "B=two words");
	config_free(c);
}

/* A value may start on the line after its key. */
static void
test_continuation_empty_first(void **state)
{
	struct stack_conf	*c;

	(void)state;
	c = parse_ok("[level one]\n[process p]\nlevel = one\ncommand =\n"
	    "   /bin/x\n   -v\n");
	assert_string_equal(c->procs[0].command.text, "/bin/x -v");
	config_free(c);
}

/*
 * As in inih, an indented first key of a section continues nothing, but
 * any later indented line continues the key before it.
 */
static void
test_indented_keys(void **state)
{
	struct stack_conf	*c;

	(void)state;
	c = parse_ok("[level one]\ndescription = d\n"
	    "[process p]\n  level = one\ncommand = y\n");
	assert_string_equal(c->levels[0].description, "d");
	assert_int_equal(c->procs[0].level, 0);
	assert_string_equal(c->procs[0].command.text, "y");
	config_free(c);

	expect_error("[level one]\n[process p]\n  command = y\n"
	    "  level = one\n", ":2: process 'p' has no 'level ='");
}

static void
test_comments(void **state)
{
	struct stack_conf	*c;

	(void)state;
	c = parse_ok(
	    "# a comment\n"
	    "; another\n"
	    "[level one] ; trailing\n"
	    "description = a;b ; c\n"
	    "[process p]\n"
	    "level = one   ; named level\n"
	    "command = sh -c 'a; b'\n"
	    "    # an indented comment, not a continuation\n"
	    "    ; this one neither\n"
	    "#command = ignored\n");
	assert_string_equal(c->levels[0].description, "a;b");
	assert_string_equal(c->procs[0].command.text, "sh -c 'a; b'");
	assert_string_equal(c->procs[0].command.argv[2], "a; b");
	config_free(c);
}

static void
test_empty_level_and_order(void **state)
{
	struct stack_conf	*c;

	(void)state;
	c = parse_ok(
	    "[level base]\n"
	    "[process z]\nlevel = web\ncommand = z\n"
	    "[level mq]\n"
	    "[process a]\nlevel = base\ncommand = a\n"
	    "[level web]\n"
	    "[process m]\nlevel = 2\ncommand = m\n");
	assert_int_equal(c->nlevels, 3);
	assert_string_equal(c->levels[0].name, "base");
	assert_string_equal(c->levels[1].name, "mq");
	assert_string_equal(c->levels[2].name, "web");
	assert_int_equal(c->levels[1].line, 5);
	assert_int_equal(c->nprocs, 3);
	assert_string_equal(c->procs[0].name, "z");
	assert_string_equal(c->procs[1].name, "a");
	assert_string_equal(c->procs[2].name, "m");
	assert_int_equal(c->procs[0].level, 2);
	assert_int_equal(c->procs[1].level, 0);
	assert_int_equal(c->procs[2].level, 1);
	assert_int_equal(c->target, 3);
	assert_int_equal(config_level_ref(c, "top"), 3);
	assert_int_equal(config_level_ref(c, "0"), 0);
	assert_int_equal(config_level_ref(c, "2"), 2);
	assert_int_equal(config_level_ref(c, "4"), -1);
	assert_int_equal(config_level_ref(c, "mq"), 2);
	assert_int_equal(config_level_ref(c, "nope"), -1);
	assert_int_equal(config_level_ref(c, NULL), -1);
	assert_int_equal(config_level_index(c, "web"), 2);
	assert_int_equal(config_level_index(c, "nope"), -1);
	assert_int_equal(config_proc_index(c, "m"), 2);
	assert_int_equal(config_proc_index(c, "nope"), -1);
	config_free(c);
	config_free(NULL);
}

static void
test_target_refs(void **state)
{
	struct stack_conf	*c;
	const char		*lv = "[level a]\n[level b]\n[level c]\n";
	char			 buf[256];

	(void)state;
	snprintf(buf, sizeof(buf), "[stack]\ntarget = b\n"
	    "ready_level = a\n%s", lv);
	c = parse_ok(buf);
	assert_int_equal(c->target, 2);
	assert_int_equal(c->ready_level, 1);
	assert_int_equal(c->nprocs, 0);
	config_free(c);

	snprintf(buf, sizeof(buf), "[stack]\ntarget = 0\n"
	    "ready_level = 3\n%s", lv);
	c = parse_ok(buf);
	assert_int_equal(c->target, 0);
	assert_int_equal(c->ready_level, 3);
	config_free(c);

	snprintf(buf, sizeof(buf), "[stack]\ntarget = top\n"
	    "ready_level = 0\n%s", lv);
	c = parse_ok(buf);
	assert_int_equal(c->target, 3);
	assert_int_equal(c->ready_level, 0);
	config_free(c);

	snprintf(buf, sizeof(buf), "%s[stack]\ntarget = c\n", lv);
	c = parse_ok(buf);
	assert_int_equal(c->target, 3);
	config_free(c);
}

static void
test_user_group(void **state)
{
	struct stack_conf	*c;
	struct proc_conf	*p;
	int			 i, found = 0;

	(void)state;
	c = parse_ok(MINIMAL "user = root\n");
	p = &c->procs[0];
	assert_true(p->has_user);
	assert_string_equal(p->user, "root");
	assert_int_equal(p->uid, 0);
	assert_true(p->has_group);
	assert_int_equal(p->gid, 0);
	assert_string_equal(p->group, "root");
	assert_string_equal(p->home, "/root");
	assert_true(p->ngroups >= 1);
	for (i = 0; i < p->ngroups; i++)
		found |= p->groups[i] == 0;
	assert_true(found);
	config_free(c);

	c = parse_ok(MINIMAL "group = nogroup\nuser = 0\n");
	p = &c->procs[0];
	assert_string_equal(p->user, "root");
	assert_int_equal(p->uid, 0);
	assert_true(p->has_group);
	assert_int_equal(p->gid, 65534);
	assert_string_equal(p->group, "nogroup");
	config_free(c);

	c = parse_ok(MINIMAL "group = 0\n");
	p = &c->procs[0];
	assert_false(p->has_user);
	assert_true(p->has_group);
	assert_int_equal(p->gid, 0);
	assert_string_equal(p->group, "root");
	assert_int_equal(p->ngroups, 0);
	config_free(c);
}

static void
test_log_prefix_and_misc(void **state)
{
	struct stack_conf	*c;

	(void)state;
	c = parse_ok("[stack]\nlog_prefix = off\n" MINIMAL
	    "stop_signal = 9\numask = 0\nready = probe\nprobe = check\n");
	assert_int_equal(c->log_prefix, PREFIX_NO);
	assert_int_equal(c->procs[0].stop_signal, 9);
	assert_true(c->procs[0].has_umask);
	assert_int_equal(c->procs[0].umask, 0);
	assert_int_equal(c->procs[0].ready, READY_PROBE);
	assert_string_equal(c->procs[0].probe.text, "check");
	config_free(c);

	c = parse_ok("[stack]\nlog_prefix = auto\n" MINIMAL "ready=exit\n"
	    "type=oneshot\n");
	assert_int_equal(c->log_prefix, PREFIX_AUTO);
	assert_int_equal(c->procs[0].ready, READY_EXIT);
	config_free(c);
}

/* Exactly 199 characters fit; the limit is Debian's inih's. */
static void
test_long_lines(void **state)
{
	struct stack_conf	*c;
	char			 buf[1024], arg[256];

	(void)state;
	memset(arg, 'x', sizeof(arg));
	arg[199 - strlen("command = ")] = '\0';
	snprintf(buf, sizeof(buf), MINIMAL
	    "[process q]\nlevel = one\ncommand = %s\n", arg);
	c = parse_ok(buf);
	assert_int_equal(strlen(c->procs[1].command.text), 189);
	config_free(c);

	arg[200 - strlen("command = ")] = '\0';
	arg[199 - strlen("command = ")] = 'x';
	snprintf(buf, sizeof(buf), "[level one]\n\n[process q]\n"
	    "level = one\ncommand = %s\n", arg);
	expect_error(buf,
	    ":5: line too long, continue it on an indented line");

	/* as a continuation line, too */
	snprintf(buf, sizeof(buf), "[level one]\n[process q]\n"
	    "level = one\ncommand = a\n            %s\n", arg);
	expect_error(buf,
	    ":5: line too long, continue it on an indented line");
}

static void
test_long_section_name(void **state)
{
	struct stack_conf	*c;
	char			 buf[512], name[120];

	(void)state;
	/* inih would cut section names at 49 characters. */
	memset(name, 'n', sizeof(name));
	name[100] = '\0';
	snprintf(buf, sizeof(buf), "[level %s]\n[process %sp]\n"
	    "level = %s\ncommand = x\n", name, name, name);
	c = parse_ok(buf);
	assert_string_equal(c->levels[0].name, name);
	assert_int_equal(strlen(c->procs[0].name), 101);
	config_free(c);
}

/* --- errors ------------------------------------------------------------- */

static void
test_err_missing_file(void **state)
{
	(void)state;
	assert_null(parse_file("/nonexistent/stack.ini", terr, sizeof(terr)));
	assert_string_equal(terr,
	    "/nonexistent/stack.ini: cannot open: No such file or directory");
}

/* Only a regular file is read: a FIFO would block (a reload: stackd's
 * whole loop, for good), /dev/zero would never end. */
static void
test_err_not_a_regular_file(void **state)
{
	char	 fifo[64], buf[256], want[256];

	(void)state;
	snprintf(fifo, sizeof(fifo), "/tmp/stackfifo%ld", (long)getpid());
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_null(parse_file(fifo, terr, sizeof(terr)));
	snprintf(want, sizeof(want), "%s: not a regular file", fifo);
	assert_string_equal(terr, want);
	assert_null(parse_file("/dev/zero", terr, sizeof(terr)));
	assert_string_equal(terr, "/dev/zero: not a regular file");
	assert_null(parse_file("/tmp", terr, sizeof(terr)));
	assert_string_equal(terr, "/tmp: not a regular file");
	snprintf(buf, sizeof(buf), MINIMAL "env_file = %s\n", fifo);
	snprintf(want, sizeof(want), ":5: env_file: %s is not a regular "
	    "file", fifo);
	expect_error(buf, want);
	expect_error(MINIMAL "env_file = /dev/zero\n",
	    ":5: env_file: /dev/zero is not a regular file");
	unlink(fifo);
}

/* One endless line is refused after PARSE_LINE_MAX, not read whole. */
static void
test_err_endless_line(void **state)
{
	char	*text;
	size_t	 n = 1 << 20;

	(void)state;
	text = malloc(n + 1);
	assert_non_null(text);
	memset(text, 'x', n);
	text[n] = '\0';
	expect_error(text, ":1: line too long, continue it on an indented "
	    "line");
	free(text);
}

static void
test_err_sections(void **state)
{
	(void)state;
	expect_error(MINIMAL "[service x]\n", ":5: unknown section "
	    "[service x] (expected [stack], [level NAME] or [process NAME])");
	expect_error("[levels]\n", ":1: unknown section [levels] (expected "
	    "[stack], [level NAME] or [process NAME])");
	expect_error(MINIMAL "[level one]\n",
	    ":5: duplicate level 'one' (first at line 1)");
	expect_error(MINIMAL "\n[process p]\nlevel = one\ncommand = y\n",
	    ":6: duplicate process 'p' (first at line 2)");
	/* found once the file is read, still reported in line order */
	expect_error(MINIMAL "[process p]\nlevel = one\ncommand = y\n"
	    "[process p]\nlevel = one\ncommand = y\nnope = 1\n",
	    ":5: duplicate process 'p' (first at line 2)");
	expect_error(MINIMAL "[process q]\nlevel = one\ncommand = y\n"
	    "[process q]\nlevel = one\ncommand = y\n"
	    "[process q]\ncommand = y\n",
	    ":8: duplicate process 'q' (first at line 5)");
	expect_error(MINIMAL "[process p]\nlevel = one\n[process r]\n",
	    ":5: duplicate process 'p' (first at line 2)");
	expect_error(MINIMAL "[process q]\nlevel = one\ncommand = y\n"
	    "nope = 1\n[process p]\n",
	    ":8: unknown key 'nope' in [process q]");
	expect_error("[stack]\n" MINIMAL "[stack]\n",
	    ":6: duplicate [stack] section (first at line 1)");
	expect_error("[stack x]\n" MINIMAL, ":1: [stack] takes no name");
	expect_error("[level]\n", ":1: [level] needs a name: [level NAME]");
	expect_error("[level top]\n", ":1: bad level name 'top' "
	    "(\"top\" and numbers already refer to levels)");
	expect_error("[level 42]\n", ":1: bad level name '42' "
	    "(\"top\" and numbers already refer to levels)");
	expect_error("[level a b]\n", ":1: bad level name 'a b' "
	    "(use letters, digits and _ . @ -, not - first)");
	expect_error("[level -x]\n", ":1: bad level name '-x' "
	    "(use letters, digits and _ . @ -, not - first)");
	expect_error("[level one]\n[process a/b]\n", ":2: bad process name "
	    "'a/b' (use letters, digits and _ . @ -, not - first)");
	expect_error("[level one\n", ":1: missing ']' in section header");
	expect_error("[level one ;]\n", ":1: missing ']' in section header");
	expect_error("[level one] x\n", ":1: unexpected text after ']'");
	expect_error("name = x\n[level one]\n",
	    ":1: key 'name' before the first [section]");
	expect_error("[stack]\nname = x\n", ": no [level] section");
	expect_error("", ": no [level] section");
}

static void
test_err_keys(void **state)
{
	(void)state;
	expect_error("[stack]\nnmae = x\n" MINIMAL,
	    ":2: unknown key 'nmae' in [stack]");
	expect_error("[level one]\nready = x\n",
	    ":2: unknown key 'ready' in [level one]");
	expect_error(MINIMAL "strategy = one_for_one\n",
	    ":5: unknown key 'strategy' in [process p]");
	expect_error(MINIMAL "\ncommand = /bin/false\n",
	    ":6: duplicate key 'command' in [process p] (first at line 4)");
	expect_error("[level one]\nprobe_interval = 1s\nprobe_interval = 2s\n",
	    ":3: duplicate key 'probe_interval' in [level one] "
	    "(first at line 2)");
	expect_error(MINIMAL "just some words\n",
	    ":5: expected [section] or key = value");
	expect_error(MINIMAL "novalue ; = x\n",
	    ":5: expected [section] or key = value");
}

static void
test_err_process_structure(void **state)
{
	(void)state;
	expect_error("[level one]\n[process p]\ncommand = x\n[level two]\n",
	    ":2: process 'p' has no 'level ='");
	expect_error("[level one]\n\n[process p]\nlevel = one\n",
	    ":3: process 'p' has no 'command ='");
	expect_error("[level one]\n[process p]\nlevel = two\ncommand = x\n",
	    ":3: level: no level named 'two'");
	expect_error("[level one]\n[process p]\nlevel = 2\ncommand = x\n",
	    ":3: level: 2 is not a level number (1..1)");
	expect_error("[level one]\n[process p]\nlevel = 0\ncommand = x\n",
	    ":3: level: 0 is not a level number (1..1)");
	expect_error("[level one]\n[process p]\nlevel = top\ncommand = x\n",
	    ":3: level: no level named 'top'");
}

/* watchdog = (ready = notify only): a duration, 0 (the default) is off. */
static void
test_watchdog(void **state)
{
	struct stack_conf	*c;

	(void)state;
	c = parse_ok(MINIMAL);
	assert_int_equal(c->procs[0].watchdog, 0);
	config_free(c);
	c = parse_ok(MINIMAL "ready = notify\nwatchdog = 2.5s\n");
	assert_int_equal(c->procs[0].watchdog, 2500);
	config_free(c);
	c = parse_ok(MINIMAL "watchdog = 0\n");
	assert_int_equal(c->procs[0].watchdog, 0);
	config_free(c);
	expect_error(MINIMAL "watchdog = 10s\n",
	    ":5: watchdog: only used with ready = notify");
	expect_error(MINIMAL "watchdog = 1s\nready = fd:3\n",
	    ":5: watchdog: only used with ready = notify");
	expect_error(MINIMAL "ready = notify\nwatchdog = soon\n",
	    ":6: watchdog: bad duration 'soon' (use e.g. 250ms, 10s, 2m, 1h)");
	expect_error(MINIMAL "ready = notify\nwatchdog = 1s\nwatchdog = 2s\n",
	    ":7: duplicate key 'watchdog' in [process p] (first at line 6)");
}

static void
test_err_ready(void **state)
{
	(void)state;
	expect_error(MINIMAL "ready = exit\n",
	    ":5: ready = exit needs type = oneshot");
	expect_error(MINIMAL "ready = notify\ntype = oneshot\n",
	    ":5: ready: a oneshot is ready when it exits 0, use ready = exit "
	    "or leave it out");
	expect_error(MINIMAL "ready = probe\n",
	    ":5: ready = probe needs a 'probe =' command");
	expect_error(MINIMAL "probe = check\n",
	    ":5: probe: only used with ready = probe");
	expect_error(MINIMAL "ready = fd:2\n", ":5: ready: bad value 'fd:2' "
	    "(fd:N needs 3 <= N <= 1023; 0-2 are stdio)");
	expect_error(MINIMAL "ready = fd:1024\n", ":5: ready: bad value "
	    "'fd:1024' (fd:N needs 3 <= N <= 1023; 0-2 are stdio)");
	expect_error(MINIMAL "ready = fd\n", ":5: ready: bad value 'fd' "
	    "(expected started, notify, fd:N, probe or exit)");
	expect_error(MINIMAL "ready = Notify\n", ":5: ready: bad value "
	    "'Notify' (expected started, notify, fd:N, probe or exit)");
	expect_error(MINIMAL "type = daemon\n", ":5: type: bad value "
	    "'daemon' (expected longrun or oneshot)");
	expect_error(MINIMAL "restart = always\n", ":5: restart: bad value "
	    "'always' (expected permanent, transient or temporary)");
	expect_error("[level one]\nstrategy = all\n", ":2: strategy: bad "
	    "value 'all' (expected one_for_one, one_for_all or "
	    "rest_for_one)");
}

static void
test_err_values(void **state)
{
	(void)state;
	{
		/* 64 probes per level: one more is line 66's error */
		char	probes[65 * 16 + 64];
		size_t	at;
		int	k;

		at = (size_t)snprintf(probes, sizeof(probes), "[level one]\n");
		for (k = 0; k < 65; k++)
			at += (size_t)snprintf(probes + at, sizeof(probes) - at,
			    "probe = true\n");
		expect_error(probes, ":66: probe: at most 64 per level");
	}
	expect_error(MINIMAL "stop_timeout = 10x\n", ":5: stop_timeout: bad "
	    "duration '10x' (use e.g. 250ms, 10s, 2m, 1h)");
	expect_error(MINIMAL "stop_timeout = -1\n", ":5: stop_timeout: bad "
	    "duration '-1' (use e.g. 250ms, 10s, 2m, 1h)");
	expect_error(MINIMAL "stop_timeout =\n", ":5: stop_timeout: bad "
	    "duration '' (use e.g. 250ms, 10s, 2m, 1h)");
	expect_error(MINIMAL "stop_timeout = 0\n",
	    ":5: stop_timeout: must be greater than 0");
	expect_error("[level one]\nprobe_interval = 0s\n",
	    ":2: probe_interval: must be greater than 0");
	expect_error("[stack]\nhook_timeout = 0ms\n[level one]\n",
	    ":2: hook_timeout: must be greater than 0");
	expect_error("[stack]\nretry_min = 0\n[level one]\n",
	    ":2: retry_min: must be greater than 0");
	expect_error("[stack]\nintensity = -1\n[level one]\n",
	    ":2: intensity: bad number '-1' (expected an integer >= 0)");
	expect_error("[stack]\ngive_up_after = many\n[level one]\n",
	    ":2: give_up_after: bad number 'many' (expected an integer >= 0)");
	expect_error("[level one]\nfailure_threshold = 0\n",
	    ":2: failure_threshold: bad number '0' (expected an integer >= 1)");
	expect_error("[stack]\nlog_prefix = maybe\n[level one]\n",
	    ":2: log_prefix: bad value 'maybe' (expected auto, yes or no)");
	expect_error(MINIMAL "stop_signal = TERMINATE\n", ":5: stop_signal: "
	    "bad signal 'TERMINATE' (e.g. TERM, SIGINT, 15)");
	expect_error(MINIMAL "stop_signal = 0\n", ":5: stop_signal: "
	    "bad signal '0' (e.g. TERM, SIGINT, 15)");
	expect_error(MINIMAL "umask = 0778\n", ":5: umask: bad umask '0778' "
	    "(expected octal digits, at most 0777)");
	expect_error(MINIMAL "umask = 01000\n", ":5: umask: bad umask "
	    "'01000' (expected octal digits, at most 0777)");
	expect_error(MINIMAL "workdir = srv\n",
	    ":5: workdir: 'srv' is not an absolute path");
	expect_error("[stack]\ncontrol = x.sock\n[level one]\n",
	    ":2: control: 'x.sock' is not an absolute path");
	expect_error("[stack]\ncontrol = /run/stackd/"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n[level one]\n",
	    ":2: control: path longer than 107 bytes");
	expect_error("[stack]\nmetrics_file = m\n[level one]\n",
	    ":2: metrics_file: 'm' is not an absolute path");
	expect_error("[stack]\nmetrics_file = /run/stackd/\n[level one]\n",
	    ":2: metrics_file: '/run/stackd/' is a directory, name a file "
	    "in it");
	expect_error(MINIMAL "log = file:x.log\n",
	    ":5: log: 'x.log' is not an absolute path");
	expect_error(MINIMAL "log = syslog\n", ":5: log: bad value 'syslog' "
	    "(expected inherit, journal, null or file:/path)");
	expect_error("[stack]\nname = a/b\n[level one]\n", ":2: name: bad "
	    "stack name 'a/b' (use letters, digits and _ . @ -, not - first)");
}

static void
test_err_env(void **state)
{
	(void)state;
	expect_error(MINIMAL "env = NOVALUE\n",
	    ":5: env: 'NOVALUE' is not KEY=VALUE with a valid KEY");
	expect_error(MINIMAL "env = =x\n",
	    ":5: env: '=x' is not KEY=VALUE with a valid KEY");
	expect_error(MINIMAL "env = 1A=x\n",
	    ":5: env: '1A=x' is not KEY=VALUE with a valid KEY");
	expect_error(MINIMAL "env = A-B=x\n",
	    ":5: env: bad variable name 'A-B'");
	expect_error(MINIMAL "env = A=1\nenv = A=2\n",
	    ":6: env: 'A' is set twice");
}

static void
test_err_user_group(void **state)
{
	(void)state;
	expect_error(MINIMAL "user = no-such-user-xyz\n",
	    ":5: unknown user 'no-such-user-xyz'");
	expect_error(MINIMAL "user = 4000000000\n",
	    ":5: unknown user '4000000000'");
	expect_error(MINIMAL "group = no-such-group-xyz\n",
	    ":5: unknown group 'no-such-group-xyz'");
}

static void
test_err_commands(void **state)
{
	(void)state;
	expect_error("[level one]\n[process p]\nlevel = one\ncommand =\n",
	    ":4: command: empty command");
	expect_error("[level one]\n[process p]\nlevel = one\ncommand = ''x\n"
	    "probe = 'a\n", ":5: probe: unterminated single quote");
	expect_error("[level one]\n[process p]\nlevel = one\n"
	    "command = echo \"a\n  b\n[level two]\n",
	    ":4: command: unterminated double quote");
	expect_error("[level one]\non_up = x\\\n",
	    ":2: on_up: trailing backslash");
	expect_error("[stack]\non_alarm = ; nothing\n[level one]\n",
	    ":2: on_alarm: empty command");
	expect_error("[level one]\nprobe = a\nprobe = \"\n",
	    ":3: probe: unterminated double quote");
}

static void
test_err_refs(void **state)
{
	(void)state;
	expect_error("[stack]\ntarget = web\n[level db]\n",
	    ":2: target: no level named 'web'");
	expect_error("[stack]\nready_level = 3\n[level a]\n[level b]\n",
	    ":2: ready_level: 3 is above the top level (2)");
	expect_error("[stack]\nretry_min = 10s\nretry_max = 5s\n[level a]\n",
	    ":3: retry_max is less than retry_min");
	expect_error("[stack]\nretry_min = 1m\n[level a]\n",
	    ":2: retry_max is less than retry_min");
}

/* The first error by line is reported, however they were found. */
static void
test_err_first(void **state)
{
	(void)state;
	expect_error("[level one]\nintensity = x\nperiod = y\n",
	    ":2: intensity: bad number 'x' (expected an integer >= 0)");
	/* A key is only checked once its continuation lines are read. */
	expect_error("[level one]\nintensity = x\n  y\nperiod = y\n",
	    ":2: intensity: bad number 'x y' (expected an integer >= 0)");
	/* A bad key before a long line is reported, not the long line. */
	expect_error("[level one]\nintensity = x\nperiod = "
	    "11111111111111111111111111111111111111111111111111111111111111"
	    "11111111111111111111111111111111111111111111111111111111111111"
	    "11111111111111111111111111111111111111111111111111111111111111"
	    "11111111111111111111111111111111111111111111111111111111111111"
	    "\n", ":2: intensity: bad number 'x' (expected an integer >= 0)");
	/* Both checks at the end of a section: the earlier line wins. */
	expect_error("[level one]\n[process p]\nlevel = one\nready = exit\n"
	    "probe = x\n[level two]\n",
	    ":2: process 'p' has no 'command ='");
}

/* Write text to a fresh /tmp/stackenvXXXXXX; the caller unlinks it. */
static void
write_env(char *path, size_t len, const char *text)
{
	int	 fd;

	snprintf(path, len, "/tmp/stackenvXXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* env_file = is read with the stack.ini: blanks, comments, one pair of
 * quotes around a value, later lines and files after earlier ones. */
static void
test_env_file(void **state)
{
	struct stack_conf	*c, *c2;
	struct proc_conf	*p;
	char			 e1[64], e2[64], buf[512];

	(void)state;
	write_env(e1, sizeof(e1), "# comment\n\n  A=1\nB=\"two words\"\r\n"
	    "C='x'\nD=\"half\nE=a=b\nF=\nA=again\n");
	write_env(e2, sizeof(e2), "G=7");
	snprintf(buf, sizeof(buf), MINIMAL "env_file = %s\nenv = A=ini\n"
	    "env_file = %s\n", e1, e2);
	c = parse_ok(buf);
	p = &c->procs[0];
	assert_int_equal(p->nfenv, 8);
	assert_string_equal(p->fenv[0], "A=1");
	assert_string_equal(p->fenv[1], "B=two words");
	assert_string_equal(p->fenv[2], "C=x");
	assert_string_equal(p->fenv[3], "D=\"half");
	assert_string_equal(p->fenv[4], "E=a=b");
	assert_string_equal(p->fenv[5], "F=");
	assert_string_equal(p->fenv[6], "A=again");
	assert_string_equal(p->fenv[7], "G=7");
	assert_int_equal(p->nenv, 1);
	config_free(c);

	/* A changed file is a changed process for reload. */
	c = parse_ok(buf);
	unlink(e2);
	write_env(e2, sizeof(e2), "G=8\n");
	snprintf(buf, sizeof(buf), MINIMAL "env_file = %s\nenv = A=ini\n"
	    "env_file = %s\n", e1, e2);
	c2 = parse_ok(buf);
	assert_false(config_proc_same_run(&c->procs[0], &c2->procs[0]));
	config_free(c2);
	config_free(c);
	unlink(e1);
	unlink(e2);
}

static void
test_err_env_file(void **state)
{
	char	 e[64], buf[256], want[256];

	(void)state;
	expect_error(MINIMAL "log = file:/var/log/\n",
	    ":5: log: '/var/log/' is a directory, name a file in it");
	expect_error(MINIMAL "env_file = app.env\n",
	    ":5: env_file: 'app.env' is not an absolute path");
	expect_error(MINIMAL "env_file = /nonexistent/app.env\n",
	    ":5: env_file: cannot open /nonexistent/app.env: No such file or "
	    "directory");
	write_env(e, sizeof(e), "A=1\n# fine\nexport B=2\n");
	snprintf(buf, sizeof(buf), MINIMAL "env_file = %s\n", e);
	snprintf(want, sizeof(want), ":5: env_file: %s:3: 'export B=2' is not "
	    "KEY=VALUE with a valid KEY", e);
	expect_error(buf, want);
	unlink(e);
	write_env(e, sizeof(e), "NOEQUALS\n");
	snprintf(buf, sizeof(buf), MINIMAL "env_file = %s\n", e);
	snprintf(want, sizeof(want), ":5: env_file: %s:1: 'NOEQUALS' is not "
	    "KEY=VALUE with a valid KEY", e);
	expect_error(buf, want);
	unlink(e);
}

/* An env_file line may be as long as an environment string, no longer. */
static void
test_env_file_long_line(void **state)
{
	char	 e[64], buf[256], want[256], *text;
	size_t	 n = 131072 + 8;

	(void)state;
	text = malloc(n + 2);
	assert_non_null(text);
	memcpy(text, "A=", 2);
	memset(text + 2, 'v', n - 2);
	text[131072] = '\n';	/* line 1: 131072 bytes, fine */
	memcpy(text + 131073, "B=", 2);	/* line 2: B=vvvvv */
	text[n] = '\n';
	text[n + 1] = '\0';
	write_env(e, sizeof(e), text);
	snprintf(buf, sizeof(buf), MINIMAL "env_file = %s\n", e);
	config_free(parse_ok(buf));
	unlink(e);
	memset(text + 2, 'v', n - 2);	/* one line of 131080 bytes */
	write_env(e, sizeof(e), text);
	snprintf(buf, sizeof(buf), MINIMAL "env_file = %s\n", e);
	snprintf(want, sizeof(want), ":5: env_file: %s:1: line longer than "
	    "131072 bytes", e);
	expect_error(buf, want);
	unlink(e);
	free(text);
}

static void
test_limits_nice(void **state)
{
	struct stack_conf	*c;
	struct proc_conf	*p;

	(void)state;
	c = parse_ok(MINIMAL "limit_nofile = 65536\nlimit_core = 0\n"
	    "nice = -5\n");
	p = &c->procs[0];
	assert_true(p->has_nofile);
	assert_int_equal(p->nofile, 65536);
	assert_true(p->has_core);
	assert_int_equal(p->core, 0);
	assert_true(p->has_nice);
	assert_int_equal(p->nice, -5);
	config_free(c);

	c = parse_ok(MINIMAL "limit_core = infinity\nnice = 19\n");
	assert_int_equal(c->procs[0].core, UINT64_MAX);
	assert_int_equal(c->procs[0].nice, 19);
	assert_false(c->procs[0].has_nofile);
	config_free(c);

	c = parse_ok(MINIMAL "limit_core = 512M\nnice = +3\n");
	assert_int_equal(c->procs[0].core, 512ULL << 20);
	assert_int_equal(c->procs[0].nice, 3);
	config_free(c);

	c = parse_ok(MINIMAL "limit_core = 2K\nnice = 0\n");
	assert_int_equal(c->procs[0].core, 2048);
	assert_true(c->procs[0].has_nice);
	config_free(c);

	c = parse_ok(MINIMAL);
	assert_false(c->procs[0].has_core);
	assert_false(c->procs[0].has_nice);
	config_free(c);
}

static void
test_err_limits(void **state)
{
	(void)state;
	expect_error(MINIMAL "limit_nofile = 0\n", ":5: limit_nofile: bad "
	    "value '0' (expected a number of files, at least 1)");
	expect_error(MINIMAL "limit_nofile = infinity\n", ":5: limit_nofile: "
	    "bad value 'infinity' (expected a number of files, at least 1)");
	expect_error(MINIMAL "limit_core = 5X\n", ":5: limit_core: bad value "
	    "'5X' (expected bytes, e.g. 0, 512M, or infinity)");
	expect_error(MINIMAL "limit_core = M\n", ":5: limit_core: bad value "
	    "'M' (expected bytes, e.g. 0, 512M, or infinity)");
	expect_error(MINIMAL "limit_core = 99999999999999999999\n",
	    ":5: limit_core: bad value '99999999999999999999' (expected "
	    "bytes, e.g. 0, 512M, or infinity)");
	expect_error(MINIMAL "limit_core = 9999999999T\n", ":5: limit_core: "
	    "bad value '9999999999T' (expected bytes, e.g. 0, 512M, or "
	    "infinity)");
	expect_error(MINIMAL "nice = 20\n",
	    ":5: nice: bad value '20' (expected -20 to 19)");
	expect_error(MINIMAL "nice = -21\n",
	    ":5: nice: bad value '-21' (expected -20 to 19)");
	expect_error(MINIMAL "nice = high\n",
	    ":5: nice: bad value 'high' (expected -20 to 19)");
	expect_error(MINIMAL "nice = 1\nnice = 2\n",
	    ":6: duplicate key 'nice' in [process p] (first at line 5)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_stack_defaults_late),
		cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_continuation_empty_first),
		cmocka_unit_test(test_indented_keys),
		cmocka_unit_test(test_comments),
		cmocka_unit_test(test_empty_level_and_order),
		cmocka_unit_test(test_target_refs),
		cmocka_unit_test(test_user_group),
		cmocka_unit_test(test_log_prefix_and_misc),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_long_section_name),
		cmocka_unit_test(test_err_missing_file),
		cmocka_unit_test(test_err_not_a_regular_file),
		cmocka_unit_test(test_err_endless_line),
		cmocka_unit_test(test_err_sections),
		cmocka_unit_test(test_err_keys),
		cmocka_unit_test(test_err_process_structure),
		cmocka_unit_test(test_err_ready),
		cmocka_unit_test(test_watchdog),
		cmocka_unit_test(test_err_values),
		cmocka_unit_test(test_err_env),
		cmocka_unit_test(test_env_file),
		cmocka_unit_test(test_err_env_file),
		cmocka_unit_test(test_env_file_long_line),
		cmocka_unit_test(test_limits_nice),
		cmocka_unit_test(test_err_limits),
		cmocka_unit_test(test_err_user_group),
		cmocka_unit_test(test_err_commands),
		cmocka_unit_test(test_err_refs),
		cmocka_unit_test(test_err_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
