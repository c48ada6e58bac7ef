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

int
config_proc_index(const struct stack_conf *conf, const char *name)
{
	int	 i;

	if (conf == NULL || name == NULL)
		return -1;
	for (i = 0; i < conf->nprocs; i++)
		if (strcmp(conf->procs[i].name, name) == 0)
			return i;
	return -1;
}
