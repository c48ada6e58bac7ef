/*
 * config.c -- owning and querying a struct stack_conf.
 *
 * parse.c builds a stack_conf; this file frees it and answers the lookups
 * the rest of stackd and stackctl make on it: a level by name, by number
 * or as "top", and a process by name.  Nothing here does I/O, so both
 * binaries and the unit tests share it.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "parse.h"
#include "words.h"

void
command_free(struct command *c)
{
	if (c == NULL)
		return;
	words_free(c->argv);
	free(c->text);
	c->argv = NULL;
	c->text = NULL;
	c->line = 0;
}

static void
config_free_level(struct level_conf *l)
{
	int	 i;

	free(l->name);
	free(l->description);
	for (i = 0; i < l->nprobes; i++)
		command_free(&l->probes[i]);
	free(l->probes);
	command_free(&l->on_up);
	command_free(&l->on_down);
}

static void
config_free_proc(struct proc_conf *p)
{
	int	 i;

	free(p->name);
	command_free(&p->command);
	command_free(&p->probe);
	free(p->user);
	free(p->group);
	free(p->groups);
	free(p->home);
	free(p->workdir);
	for (i = 0; i < p->nenv; i++)
		free(p->env[i]);
	free(p->env);
	for (i = 0; i < p->nfenv; i++)
		free(p->fenv[i]);
	free(p->fenv);
	free(p->log_path);
}

void
config_free(struct stack_conf *conf)
{
	int	 i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->nlevels; i++)
		config_free_level(&conf->levels[i]);
	free(conf->levels);
	for (i = 0; i < conf->nprocs; i++)
		config_free_proc(&conf->procs[i]);
	free(conf->procs);
	free(conf->byname);
	free(conf->path);
	free(conf->name);
	free(conf->control);
	command_free(&conf->on_alarm);
	free(conf->metrics_file);
	free(conf);
}

/*
 * A level is referred to by users as "top", as its number (0 is the
 * baseline below every level) or by its name.  Level names can be neither
 * "top" nor all digits, so the three forms never collide.
 */
int
config_level_ref(const struct stack_conf *conf, const char *ref)
{
	int	 n;

	if (conf == NULL || ref == NULL)
		return -1;
	if (strcmp(ref, "top") == 0)
		return conf->nlevels;
	if (parse_uint(ref, 0, conf->nlevels, &n) == 0)
		return n;
	n = config_level_index(conf, ref);
	return n == -1 ? -1 : n + 1;
}

int
config_level_index(const struct stack_conf *conf, const char *name)
{
	int	 i;

	if (conf == NULL || name == NULL)
		return -1;
	for (i = 0; i < conf->nlevels; i++)
		if (strcmp(conf->levels[i].name, name) == 0)
			return i;
	return -1;
}

static int
config_cmp_name(const void *a, const void *b)
{
	const struct conf_name	*x = a, *y = b;
	int			 c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return (x->index > y->index) - (x->index < y->index);
}

/*
 * Process names are looked up per process by reload (what changed) and
 * parse finds duplicates in the sorted order: with thousands of
 * processes a scan per name made both quadratic.  Equal names sort in
 * file order, so the first of them is the one a lookup finds.
 */
int
config_index_procs(struct stack_conf *conf)
{
	struct conf_name	*v;
	int			 i;

	free(conf->byname);
	conf->byname = NULL;
	if (conf->nprocs == 0)
		return 0;
	if ((v = calloc(conf->nprocs, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < conf->nprocs; i++) {
		v[i].name = conf->procs[i].name;
		v[i].index = i;
	}
	qsort(v, conf->nprocs, sizeof(*v), config_cmp_name);
	conf->byname = v;
	return 0;
}

int
config_proc_index(const struct stack_conf *conf, const char *name)
{
	const struct conf_name	*v;
	int			 i, lo, hi, mid;

	if (conf == NULL || name == NULL || conf->nprocs == 0)
		return -1;
	/* Not indexed (built other than by parse_file): still right. */
	if ((v = conf->byname) == NULL) {
		for (i = 0; i < conf->nprocs; i++)
			if (strcmp(conf->procs[i].name, name) == 0)
				return i;
		return -1;
	}
	/* The first of equal names: the lowest index among them. */
	lo = 0;
	hi = conf->nprocs;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < conf->nprocs && strcmp(v[lo].name, name) == 0)
		return v[lo].index;
	return -1;
}

/*
 * Equality for reload: does the running process or level need to change?
 * Line numbers do not count (editing above a section moves them), and a
 * process's level is compared by name by the caller, not by index.
 */
static bool
str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
argv_equal(char *const *a, char *const *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	for (; *a != NULL && *b != NULL; a++, b++)
		if (strcmp(*a, *b) != 0)
			return false;
	return *a == NULL && *b == NULL;
}

bool
command_equal(const struct command *a, const struct command *b)
{
	return argv_equal(a->argv, b->argv);
}

/*
 * Would a and b run the same process?  Everything the child is made of
 * counts -- command, type, readiness (its fd, its socket, WATCHDOG_USEC in
 * its environment), credentials, environment, limits, output -- but not
 * what only stackd reads while the process runs: restart, stop_signal,
 * stop_timeout, probe and probe_timeout take effect in place at a reload
 * (a changed [stack] stop_timeout must not restart every process that
 * inherits it).  Line numbers and the level are not compared here.
 */
bool
config_proc_same_run(const struct proc_conf *a, const struct proc_conf *b)
{
	int	i;

	if (!str_equal(a->name, b->name) ||
	    !command_equal(&a->command, &b->command) || a->type != b->type ||
	    a->ready != b->ready || a->ready_fd != b->ready_fd ||
	    a->ready_delay != b->ready_delay ||
	    a->has_user != b->has_user || !str_equal(a->user, b->user) ||
	    a->uid != b->uid || a->has_group != b->has_group ||
	    !str_equal(a->group, b->group) || a->gid != b->gid ||
	    a->ngroups != b->ngroups || !str_equal(a->home, b->home) ||
	    !str_equal(a->workdir, b->workdir) || a->nenv != b->nenv ||
	    a->has_umask != b->has_umask || a->umask != b->umask ||
	    a->log != b->log ||
	    !str_equal(a->log_path, b->log_path) || a->nfenv != b->nfenv ||
	    a->has_nofile != b->has_nofile || a->nofile != b->nofile ||
	    a->has_core != b->has_core || a->core != b->core ||
	    a->has_nice != b->has_nice || a->nice != b->nice)
		return false;
	if (a->watchdog != b->watchdog)
		return false;
	for (i = 0; i < a->ngroups; i++)
		if (a->groups[i] != b->groups[i])
			return false;
	for (i = 0; i < a->nenv; i++)
		if (strcmp(a->env[i], b->env[i]) != 0)
			return false;
	for (i = 0; i < a->nfenv; i++)
		if (strcmp(a->fenv[i], b->fenv[i]) != 0)
			return false;
	return true;
}

bool
config_level_equal(const struct level_conf *a, const struct level_conf *b)
{
	int	i;

	if (!str_equal(a->name, b->name) ||
	    !str_equal(a->description, b->description) ||
	    a->nprobes != b->nprobes || a->probe_interval != b->probe_interval ||
	    a->probe_timeout != b->probe_timeout ||
	    a->failure_threshold != b->failure_threshold ||
	    a->ready_timeout != b->ready_timeout ||
	    a->strategy != b->strategy || a->intensity != b->intensity ||
	    a->period != b->period || !command_equal(&a->on_up, &b->on_up) ||
	    !command_equal(&a->on_down, &b->on_down))
		return false;
	for (i = 0; i < a->nprobes; i++)
		if (!command_equal(&a->probes[i], &b->probes[i]))
			return false;
	return true;
}
