/*
 * status.c -- rendering the machine's state for `stackctl status`.
 *
 * The unit of status is the stack, not a process: where it is, where it is
 * going, when it next tries, why it last failed; then the levels, then the
 * processes.  The JSON form is the stable, documented one (stackctl(1));
 * every string in it goes through buf_json_str, so it stays valid whatever
 * the names and texts contain.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "status.h"

static double
secs(msec_t ms)
{
	return (double)ms / 1000.0;
}

static void
status_json_levels(struct daemon *d, struct buf *b, msec_t now)
{
	const struct stack_conf	*cfg = d->cfg;
	const struct level_rt	*l;
	int			 i;

	buf_printf(b, "\"levels\":[");
	for (i = 0; i < cfg->nlevels; i++) {
		l = &d->m.levels[i];
		buf_printf(b, "%s{\"number\":%d,\"name\":", i ? "," : "", i + 1);
		buf_json_str(b, cfg->levels[i].name);
		buf_printf(b, ",\"description\":");
		buf_json_str(b, cfg->levels[i].description);
		buf_printf(b, ",\"state\":\"%s\",\"probe\":\"%s\","
		    "\"since\":%.3f,\"climb_attempts\":%llu,\"failures\":%llu}",
		    level_state_name(l->state), probe_state_name(l->probe),
		    d->m.started && l->since ? secs(now - l->since) : 0.0,
		    (unsigned long long)l->climb_attempts_total,
		    (unsigned long long)l->failures_total);
	}
	buf_printf(b, "]");
}

static void
status_json_procs(struct daemon *d, struct buf *b, msec_t now)
{
	const struct stack_conf	*cfg = d->cfg;
	const struct level_conf	*lc;
	struct proc_rt		*p;
	char			 how[64];
	int			 i;

	buf_printf(b, "\"processes\":[");
	for (i = 0; i < cfg->nprocs; i++) {
		p = &d->m.procs[i];
		lc = &cfg->levels[cfg->procs[i].level];
		buf_printf(b, "%s{\"name\":", i ? "," : "");
		buf_json_str(b, cfg->procs[i].name);
		buf_printf(b, ",\"level\":");
		buf_json_str(b, lc->name);
		buf_printf(b, ",\"type\":\"%s\",\"state\":\"%s\",",
		    cfg->procs[i].type == PROC_ONESHOT ? "oneshot" : "longrun",
		    proc_state_name(p->state));
		if (p->pid > 0)
			buf_printf(b, "\"pid\":%ld,\"main_pid\":%ld,"
			    "\"uptime\":%.3f,", (long)p->pid,
			    (long)(p->main_pid > 0 ? p->main_pid : p->pid),
			    secs(now - p->started_at));
		else
			buf_printf(b, "\"pid\":null,\"main_pid\":null,"
			    "\"uptime\":null,");
		buf_printf(b, "\"restarts\":%d,\"restarts_total\":%llu,"
		    "\"last_exit\":", intensity_count(&p->restarts, now,
		    lc->period), (unsigned long long)p->restarts_total);
		if (p->exited_once) {
			exit_text(p->last_status, how, sizeof(how));
			buf_json_str(b, how);
		} else
			buf_printf(b, "null");
		if (p->exited_once && p->last_errno > 0)
			buf_printf(b, ",\"last_errno\":%d", p->last_errno);
		else
			buf_printf(b, ",\"last_errno\":null");
		buf_printf(b, ",\"status\":");
		buf_json_str(b, p->status_text);
		buf_printf(b, "}");
	}
	buf_printf(b, "]");
}

/*
 * Is a next climb attempt pending?  Also while the failed level is still
 * being stopped: its time is already set by the backoff.
 */
static bool
status_retry_due(const struct machine *m)
{
	int	lvl;

	if (m->shutting_down)
		return false;
	/* current still counts the failed level until it is down */
	if (m->retry_level >= 0 && m->retry_level < m->target)
		return true;
	if (m->current >= m->target)
		return false;
	return !machine_busy(m, &lvl) ||
	    m->levels[lvl].state != LEVEL_CLIMBING;
}

/*
 * Until the next climb attempt.  While the failed level is still being
 * stopped its wait has not begun (it runs from when the level is down):
 * the whole wait, and the attempt is at least that far away.
 */
static msec_t
status_retry_in(const struct machine *m, msec_t now)
{
	if (m->retry_level >= 0)
		return m->retry_wait;
	return m->retry_at > now ? m->retry_at - now : 0;
}

void
status_json(struct daemon *d, struct buf *b, msec_t now)
{
	const struct stack_conf	*cfg = d->cfg;
	const struct machine	*m = &d->m;

	buf_printf(b, "{\"stack\":");
	buf_json_str(b, cfg->name);
	buf_printf(b, ",\"pid\":%ld,\"state\":\"%s\",\"level\":%d,"
	    "\"level_name\":", (long)getpid(), machine_state_name(m, now),
	    m->current);
	buf_json_str(b, m->current ? cfg->levels[m->current - 1].name : "");
	buf_printf(b, ",\"target\":%d,\"target_name\":", m->target);
	buf_json_str(b, m->target ? cfg->levels[m->target - 1].name : "");
	buf_printf(b, ",\"levels_total\":%d,\"ready_level\":%d,"
	    "\"alarm\":%s,\"next_attempt_in\":", cfg->nlevels,
	    cfg->ready_level, m->alarm ? "true" : "false");
	if (status_retry_due(m))
		buf_printf(b, "%.3f", secs(status_retry_in(m, now)));
	else
		buf_printf(b, "null");
	buf_printf(b, ",\"last_failure\":");
	if (m->last_failure[0])
		buf_json_str(b, m->last_failure);
	else
		buf_printf(b, "null");
	buf_printf(b, ",");
	status_json_levels(d, b, now);
	buf_printf(b, ",");
	status_json_procs(d, b, now);
	buf_printf(b, "}\n");
}

/* "3d4h", "2h5m", "4m10s", "12s", "0.3s": two units at most. */
static void
human_duration(msec_t ms, char *buf, size_t len)
{
	long long	s = ms / 1000;

	if (ms < 10000 && ms % 1000 != 0)
		snprintf(buf, len, "%.1fs", secs(ms));
	else if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%lldh", s / 86400, s % 86400 / 3600);
}

static const char *
color(bool on, const char *state)
{
	if (!on)
		return "";
	if (strcmp(state, "up") == 0 || strcmp(state, "running") == 0 ||
	    strcmp(state, "done") == 0 || strcmp(state, "ok") == 0)
		return "\033[32m";
	if (strcmp(state, "down") == 0 || strcmp(state, "stopped") == 0)
		return "";
	if (strcmp(state, "exited") == 0 || strcmp(state, "failed") == 0)
		return "\033[31m";
	return "\033[33m";
}

#define RESET(on)	((on) ? "\033[0m" : "")

/* A child's STATUS= (or a level's description) for a terminal: its
 * control bytes (escape sequences, a carriage return) shown as '?', so
 * that no child rewrites the operator's screen.  The JSON status has them
 * all, escaped. */
static void
status_printable(const char *s, char *out, size_t len)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	out[i] = '\0';
}

static void
status_text_levels(struct daemon *d, struct buf *b, msec_t now, bool on)
{
	const struct stack_conf	*cfg = d->cfg;
	const struct level_rt	*l;
	const char		*st;
	char			 since[32], desc[256];
	int			 i, w = 5;

	for (i = 0; i < cfg->nlevels; i++)
		if ((int)strlen(cfg->levels[i].name) > w)
			w = (int)strlen(cfg->levels[i].name);
	buf_printf(b, "\n  #  %-*s  %-8s  %-7s  %8s  %s\n", w, "LEVEL",
	    "STATE", "PROBE", "SINCE", "DESCRIPTION");
	for (i = 0; i < cfg->nlevels; i++) {
		l = &d->m.levels[i];
		st = level_state_name(l->state);
		if (l->since)
			human_duration(now - l->since, since, sizeof(since));
		else
			snprintf(since, sizeof(since), "-");
		status_printable(cfg->levels[i].description ?
		    cfg->levels[i].description : "", desc, sizeof(desc));
		buf_printf(b, "%3d  %-*s  %s%-8s%s  %s%-7s%s  %8s  %s\n", i + 1,
		    w, cfg->levels[i].name, color(on, st), st, RESET(on),
		    color(on, probe_state_name(l->probe)),
		    probe_state_name(l->probe), RESET(on), since, desc);
	}
}

static void
status_text_procs(struct daemon *d, struct buf *b, msec_t now, bool on)
{
	const struct stack_conf	*cfg = d->cfg;
	struct proc_rt		*p;
	const char		*st;
	char			 up[32], how[80], pid[16];
	char			 text[sizeof(p->status_text)];
	size_t			 n;
	int			 i, w = 7, lw = 5;

	for (i = 0; i < cfg->nprocs; i++) {
		if ((int)strlen(cfg->procs[i].name) > w)
			w = (int)strlen(cfg->procs[i].name);
		if ((int)strlen(cfg->levels[cfg->procs[i].level].name) > lw)
			lw = (int)strlen(cfg->levels[cfg->procs[i].level].name);
	}
	buf_printf(b, "\n  %-*s  %-*s  %-8s  %7s  %8s  %8s  %-18s  %s\n", w,
	    "PROCESS", lw, "LEVEL", "STATE", "PID", "UPTIME", "RESTARTS",
	    "LAST EXIT", "STATUS");
	for (i = 0; i < cfg->nprocs; i++) {
		p = &d->m.procs[i];
		st = proc_state_name(p->state);
		snprintf(pid, sizeof(pid), "-");
		snprintf(up, sizeof(up), "-");
		if (p->pid > 0) {
			/* The main pid the process reported, if it did. */
			snprintf(pid, sizeof(pid), "%ld", (long)(p->main_pid >
			    0 ? p->main_pid : p->pid));
			human_duration(now - p->started_at, up, sizeof(up));
		}
		snprintf(how, sizeof(how), "-");
		if (p->exited_once)
			exit_text(p->last_status, how, sizeof(how));
		if (p->exited_once && p->last_errno > 0 &&
		    (n = strlen(how)) < sizeof(how))
			snprintf(how + n, sizeof(how) - n, ", ERRNO=%d",
			    p->last_errno);
		status_printable(p->status_text, text, sizeof(text));
		buf_printf(b, "  %-*s  %-*s  %s%-8s%s  %7s  %8s  %8d  %-18s  "
		    "%s\n", w, cfg->procs[i].name, lw,
		    cfg->levels[cfg->procs[i].level].name, color(on, st), st,
		    RESET(on), pid, up, intensity_count(&p->restarts, now,
		    cfg->levels[cfg->procs[i].level].period), how, text);
	}
}

void
status_text(struct daemon *d, struct buf *b, msec_t now, bool on)
{
	const struct stack_conf	*cfg = d->cfg;
	const struct machine	*m = &d->m;
	char			 when[32];

	buf_printf(b, "stack %s: level %d/%d%s%s%s, target %d%s%s%s, %s\n",
	    cfg->name, m->current, cfg->nlevels, m->current ? " (" : "",
	    m->current ? cfg->levels[m->current - 1].name : "",
	    m->current ? ")" : "", m->target, m->target ? " (" : "",
	    m->target ? cfg->levels[m->target - 1].name : "",
	    m->target ? ")" : "", machine_state_name(m, now));
	if (m->alarm)
		buf_printf(b, "%sALARM: below target%s\n", on ? "\033[1;31m" :
		    "", RESET(on));
	if (status_retry_due(m)) {
		human_duration(status_retry_in(m, now), when, sizeof(when));
		if (m->rolling > 0)
			buf_printf(b, "next climb attempt once the reload's "
			    "restarts are done\n");
		else if (m->retry_level >= 0)
			buf_printf(b, "next climb attempt %s after level %d "
			    "(%s) is down\n", when, m->retry_level + 1,
			    cfg->levels[m->retry_level].name);
		else
			buf_printf(b, "next climb attempt in %s\n", when);
	}
	if (m->last_failure[0])
		buf_printf(b, "last failure: %s\n", m->last_failure);
	status_text_levels(d, b, now, on);
	status_text_procs(d, b, now, on);
}
