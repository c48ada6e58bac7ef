/*
 * events.c -- the machine's events as JSON lines, for `stackctl events`.
 *
 * The machine says what happened and to whom (ACT_EVENT); this file adds
 * both clocks -- the wall clock for people and log correlation, the
 * monotonic one for measuring intervals that a clock step cannot distort
 * -- and writes one self-contained JSON object per line.  Every string
 * goes through buf_json_str, so a line stays valid JSON whatever names and
 * texts contain.  Delivery, buffering and dropping slow subscribers are
 * control.c's business; nothing is formatted when nobody listens.
 */
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

#include "daemon.h"
#include "json.h"
#include "parse.h"

static void
events_clocks(struct buf *b)
{
	struct timespec	ts;
	struct tm	tm;
	char		iso[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_printf(b, "\"time\":%lld.%03ld,\"timestamp\":\"%s.%03ldZ\","
	    "\"monotonic\":%.3f", (long long)ts.tv_sec,
	    ts.tv_nsec / 1000000, iso, ts.tv_nsec / 1000000,
	    (double)now_msec() / 1000.0);
}

static void
events_subject(struct daemon *d, struct buf *b, const struct action *a)
{
	const struct stack_conf	*cfg = d->cfg;
	int			 level = a->level, proc = a->proc;

	/* Every event about a process names its run, too (stackctl(1)). */
	if (proc >= 0 && proc < cfg->nprocs) {
		buf_printf(b, ",\"process\":");
		buf_json_str(b, cfg->procs[proc].name);
		buf_printf(b, ",\"pid\":%ld", (long)a->pid);
		level = cfg->procs[proc].level;
	}
	if (level >= 0 && level < cfg->nlevels) {
		buf_printf(b, ",\"level\":");
		buf_json_str(b, cfg->levels[level].name);
		buf_printf(b, ",\"level_number\":%d", level + 1);
	}
}

static void
events_exit(struct buf *b, const struct action *a)
{
	char	how[64];
	int	st = a->code;

	exit_text(st, how, sizeof(how));
	buf_printf(b, ",\"exit\":");
	buf_json_str(b, how);
	if (WIFEXITED(st))
		buf_printf(b, ",\"status\":%d,\"signal\":null",
		    WEXITSTATUS(st));
	else if (WIFSIGNALED(st) && *signal_name(WTERMSIG(st)))
		buf_printf(b, ",\"status\":null,\"signal\":\"SIG%s\"",
		    signal_name(WTERMSIG(st)));
	else
		buf_printf(b, ",\"status\":null,\"signal\":null");
	buf_printf(b, ",\"requested\":%s", a->requested ? "true" : "false");
	if (a->errnum > 0)
		buf_printf(b, ",\"errno\":%d", a->errnum);
	else
		buf_printf(b, ",\"errno\":null");
}

static void
events_detail(struct daemon *d, struct buf *b, const struct action *a)
{
	switch (a->event) {
	case EVT_CLIMB_STARTED:
		buf_printf(b, ",\"attempt\":%d", a->code);
		break;
	case EVT_PROCESS_EXITED:
		events_exit(b, a);
		break;
	case EVT_PROBE_FAILED:
		buf_printf(b, ",\"failures\":%d", a->code);
		break;
	case EVT_TARGET_CHANGED:
		buf_printf(b, ",\"target\":%d", a->code);
		break;
	case EVT_ALARM_RAISED:
	case EVT_ALARM_CLEARED:
		buf_printf(b, ",\"current\":%d,\"target\":%d", d->m.current,
		    d->m.target);
		break;
	case EVT_SUBSCRIBED:
		buf_printf(b, ",\"stack\":");
		buf_json_str(b, d->cfg->name);
		buf_printf(b, ",\"current\":%d,\"target\":%d,\"state\":\"%s\","
		    "\"alarm\":%s", d->m.current, d->m.target,
		    machine_state_name(&d->m, now_msec()),
		    d->m.alarm ? "true" : "false");
		break;
	case EVT_SHUTDOWN:
		buf_printf(b, ",\"exit_code\":%d", a->code);
		break;
	case EVT_PROCESS_STATUS:
		/* The text is the child's own, not a reason. */
		buf_printf(b, ",\"status\":");
		buf_json_str(b, a->text);
		return;
	case EVT_PROCESS_STARTED:
	case EVT_PROCESS_READY:
	case EVT_CLIMB_FAILED:
	case EVT_LEVEL_FAILED:
	case EVT_LEVEL_UP:
	case EVT_LEVEL_DOWN:
	case EVT_RELOAD_OK:
	case EVT_RELOAD_FAILED:
		break;
	}
	if (a->text[0] != '\0') {
		buf_printf(b, ",\"reason\":");
		buf_json_str(b, a->text);
	}
}

/* One event as one line of JSON, appended to b. */
void
events_line(struct daemon *d, const struct action *a, struct buf *b)
{
	buf_printf(b, "{\"event\":\"%s\",", event_name(a->event));
	events_clocks(b);
	events_subject(d, b, a);
	events_detail(d, b, a);
	buf_printf(b, "}\n");
}

void
events_publish(struct daemon *d, const struct action *a)
{
	struct buf	b = { 0 };

	if (!control_has_subscribers())
		return;
	events_line(d, a, &b);
	if (!b.oom)
		control_broadcast(d, b.data, b.len);
	buf_free(&b);
}

/* Events the daemon itself originates (reload). */
void
events_daemon(struct daemon *d, enum event_kind ev, const char *text)
{
	struct action	a = { .kind = ACT_EVENT, .level = -1, .proc = -1 };

	a.event = ev;
	if (text != NULL)
		snprintf(a.text, sizeof(a.text), "%s", text);
	events_publish(d, &a);
}

/* What a child reported about itself (ready.c: STATUS=); the machine
 * takes no part in it. */
void
events_process(struct daemon *d, enum event_kind ev, int proc,
    const char *text)
{
	struct action	a = { .kind = ACT_EVENT, .level = -1, .proc = proc };

	a.event = ev;
	a.pid = d->m.procs[proc].pid;
	if (text != NULL)
		snprintf(a.text, sizeof(a.text), "%s", text);
	events_publish(d, &a);
}
