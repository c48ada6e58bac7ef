/*
 * words.h -- split a command string into argv the way a POSIX shell splits
 * words: blanks separate, '...' is literal, "..." allows \" \\ \$ \` and
 * \newline, a backslash outside quotes escapes the next character.  No
 * expansion of any kind: $HOME, *, ~ and ; are ordinary characters.
 */
#ifndef STACKD_WORDS_H
#define STACKD_WORDS_H

/*
 * On success return 0 and a NULL-terminated, malloc'd argv in *argvp
 * (free with words_free).  On an unterminated quote or a trailing
 * backslash return -1 and point *errp at a static message.  An empty or
 * all-blank string yields an argv with zero words (argv[0] == NULL).
 */
int	words_split(const char *s, char ***argvp, const char **errp);
void	words_free(char **argv);

#endif
