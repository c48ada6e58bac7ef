/*
 * words.c -- split a command string into argv, the way a POSIX shell splits
 * words, and nothing more.
 *
 * stackd runs commands with execve and never through /bin/sh, so that it
 * works in containers without a shell.  Users still write commands as they
 * would type them, so quoting must behave as in sh: blanks separate words,
 * '...' is literal, "..." honours only \" \\ \$ \` and \newline, and a
 * backslash outside quotes takes the next character literally.  Quoted and
 * unquoted parts that touch form one word ('' alone is an empty word).
 * There is deliberately no expansion: $HOME, *, ~, # and ; stay literal;
 * a user who wants them writes sh -c '...'.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "words.h"

/* The word being built and the argv it goes into. */
struct words {
	char	**argv;
	size_t	  argc;
	size_t	  argvsz;
	char	 *word;		/* room for the whole input, never grows */
	size_t	  len;
	bool	  inword;	/* true after '' too, so it yields "" */
};

static const char *words_oom = "out of memory";

static int
words_push(struct words *w)
{
	char	**nargv;
	char	 *s;

	if (w->argc + 2 > w->argvsz) {
		w->argvsz = w->argvsz ? w->argvsz * 2 : 8;
		nargv = reallocarray(w->argv, w->argvsz, sizeof(*nargv));
		if (nargv == NULL)
			return -1;
		w->argv = nargv;
	}
	if ((s = strndup(w->word, w->len)) == NULL)
		return -1;
	w->argv[w->argc++] = s;
	w->argv[w->argc] = NULL;
	w->len = 0;
	w->inword = false;
	return 0;
}

/*
 * Consume a quoted part starting after its opening quote; return a pointer
 * past the closing quote, or NULL if the string ends first.
 */
static const char *
words_single(struct words *w, const char *p)
{
	for (; *p != '\0'; p++) {
		if (*p == '\'')
			return p + 1;
		w->word[w->len++] = *p;
	}
	return NULL;
}

static const char *
words_double(struct words *w, const char *p)
{
	for (; *p != '\0'; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\' && p[1] != '\0' && strchr("\"\\$`\n", p[1])) {
			p++;
			if (*p == '\n')		/* line continuation */
				continue;
		}
		w->word[w->len++] = *p;
	}
	return NULL;
}

/* The main loop: one character or one quoted part at a time. */
static int
words_scan(struct words *w, const char *p, const char **errp)
{
	while (*p != '\0') {
		if (*p == ' ' || *p == '\t' || *p == '\n') {
			if (w->inword && words_push(w) == -1)
				goto oom;
			p++;
			continue;
		}
		if (*p == '\\' && p[1] == '\n') {	/* line continuation */
			p += 2;
			continue;
		}
		w->inword = true;
		if (*p == '\'') {
			if ((p = words_single(w, p + 1)) == NULL) {
				*errp = "unterminated single quote";
				return -1;
			}
		} else if (*p == '"') {
			if ((p = words_double(w, p + 1)) == NULL) {
				*errp = "unterminated double quote";
				return -1;
			}
		} else if (*p == '\\') {
			if (p[1] == '\0') {
				*errp = "trailing backslash";
				return -1;
			}
			w->word[w->len++] = p[1];
			p += 2;
		} else
			w->word[w->len++] = *p++;
	}
	if (w->inword && words_push(w) == -1)
		goto oom;
	return 0;
oom:
	*errp = words_oom;
	return -1;
}

int
words_split(const char *s, char ***argvp, const char **errp)
{
	struct words	 w;

	memset(&w, 0, sizeof(w));
	*argvp = NULL;
	/* A word is never longer than the input, so one buffer will do. */
	if ((w.word = malloc(strlen(s) + 1)) == NULL ||
	    (w.argv = calloc(1, sizeof(*w.argv))) == NULL) {
		free(w.word);
		*errp = words_oom;
		return -1;
	}
	w.argvsz = 1;
	if (words_scan(&w, s, errp) == -1) {
		free(w.word);
		words_free(w.argv);
		return -1;
	}
	free(w.word);
	*argvp = w.argv;
	return 0;
}

void
words_free(char **argv)
{
	char	**p;

	if (argv == NULL)
		return;
	for (p = argv; *p != NULL; p++)
		free(*p);
	free(argv);
}
