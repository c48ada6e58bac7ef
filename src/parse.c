/*
 * parse.c -- read stack.ini into a struct stack_conf and validate it in full.
 *
 * The INI syntax is the system's inih (ini_parse_stream), but inih does not
 * tell its handler on which line a key was, silently truncates long lines
 * and long section names, and says nothing about a section without keys.
 * So inih reads its lines through parse_reader, which reads whole lines
 * itself, counts them, refuses the ones inih would truncate, and recognises
 * [section] headers and continuation lines the same way inih does.  inih
 * calls parse_handler for a line right after parse_reader returned it, so
 * the reader's line number is the handler's.
 *
 * A key's value may go on over indented lines, so a key is only "applied"
 * (checked and stored) once the next key, the next section or the end of
 * the file shows that it is complete; errors still name the key's own line.
 * Checks that need a whole section (a process has a command) run when the
 * section ends, and checks that need the whole file (a process names a
 * level defined further down) run at the end.  Parsing stops at the first
 * error; parse_file then frees everything and returns NULL, so a bad file
 * never replaces a running configuration.
 *
 * The value parsers (durations, signals, ...) are exported for stackctl and
 * the unit tests.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "parse.h"
#include "words.h"

/* Debian's inih reads lines into a 200 byte buffer: 199 chars and a NUL. */
#define PARSE_LINE_MAX		199
/* An env_file line: as long as one environment string may be (the
 * kernel's MAX_ARG_STRLEN, 32 pages). */
#define PARSE_ENV_LINE_MAX	131072
/* Far above any sane timeout, far below overflow when added to a clock. */
#define PARSE_DURATION_MAX	((msec_t)10 * 365 * 24 * 3600 * 1000)
#define PARSE_FD_MAX		1023
#define PARSE_NKEYS		32

enum parse_sect { SECT_NONE, SECT_STACK, SECT_LEVEL, SECT_PROC };

/*
 * How a key's value is checked and where it is stored: most keys are a
 * duration or a number written at an offset into the section's struct;
 * the others have their own function.
 */
enum parse_kind {
	PK_MSEC,	/* duration >= 0 */
	PK_MSEC_POS,	/* duration > 0 */
	PK_INT0,	/* integer >= 0 */
	PK_INT1,	/* integer >= 1 */
	PK_PATH,	/* absolute path, char * */
	PK_CMD,		/* struct command */
	PK_FN		/* fn does it all */
};

struct parse_state;

struct parse_key {
	const char	*name;
	enum parse_kind	 kind;
	size_t		 off;
	int		(*fn)(struct parse_state *, void *, const char *);
	int		 repeat;
};

/* A level named by target =, ready_level = or level =, resolved at the end. */
struct parse_ref {
	char		*name;
	int		 line;
};

struct parse_state {
	const char	*path;
	FILE		*fp;
	char		 buf[PARSE_LINE_MAX + 3]; /* a line, \r, NUL */
	int		 lineno;
	int		 cont;		/* this line continues the last key */
	int		 haskey;	/* inih has a prev_name */
	char		*err;
	size_t		 errlen;
	int		 errline;	/* 0 and !failed: no error yet */
	int		 failed;
	struct stack_conf *conf;

	enum parse_sect	 sect;
	int		 sectline;
	const struct parse_key *keys;	/* of this section */
	int		 seenline[PARSE_NKEYS];	/* 0: key not given yet */
	gid_t		 pw_gid;	/* primary group of user = */

	/* The key being read, applied once it is complete. */
	const struct parse_key *key;
	char		*val;
	int		 keyline;

	int		 stackline;
	struct parse_ref target;
	struct parse_ref ready_level;
	struct parse_ref *proclevel;	/* parallel to conf->procs */
	int		 levelsz;
	int		 procsz;
};

/*
 * Record an error.  Lines are read in order and reading stops at the first
 * error, but the checks made at the end of a section or of the file may
 * find several: the one on the earliest line is reported.
 */
static int __attribute__((format(printf, 3, 4)))
parse_err(struct parse_state *st, int line, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (st->failed && (line == 0 || st->errline == 0 ||
	    line >= st->errline))
		return -1;
	st->failed = 1;
	st->errline = line;
	if (st->errlen == 0)
		return -1;
	if (line > 0)
		n = snprintf(st->err, st->errlen, "%s:%d: ", st->path, line);
	else
		n = snprintf(st->err, st->errlen, "%s: ", st->path);
	if (n < 0 || (size_t)n >= st->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(st->err + n, st->errlen - n, fmt, ap);
	va_end(ap);
	return -1;
}

static int
parse_oom(struct parse_state *st)
{
	return parse_err(st, st->lineno, "out of memory");
}

/* --- value parsers ------------------------------------------------------ */

int
parse_uint(const char *s, int min, int max, int *out)
{
	long long	 v = 0;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	if (*s != '\0' || v < min)
		return -1;
	*out = (int)v;
	return 0;
}

/*
 * A decimal number and a unit, seconds without one.  Digits past the
 * millisecond are dropped (1.0005s is 1000ms), not rounded.
 */
int
parse_duration(const char *s, msec_t *out)
{
	msec_t	 ip = 0, frac = 0, scale = 1, unit;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (ip > PARSE_DURATION_MAX)
			return -1;
		ip = ip * 10 + (*s - '0');
	}
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return -1;
		for (; isdigit((unsigned char)*s); s++) {
			if (scale >= 1000000000)
				continue;	/* beyond a nanosecond */
			frac = frac * 10 + (*s - '0');
			scale *= 10;
		}
	}
	if (*s == '\0' || strcmp(s, "s") == 0)
		unit = 1000;
	else if (strcmp(s, "ms") == 0)
		unit = 1;
	else if (strcmp(s, "m") == 0)
		unit = 60 * 1000;
	else if (strcmp(s, "h") == 0)
		unit = 3600 * 1000;
	else
		return -1;
	if (ip > PARSE_DURATION_MAX / unit)
		return -1;
	/* Below a millisecond is 0, which means "off" to some keys: not
	 * what "0.0001" asked for. */
	if (ip == 0 && frac > 0 && frac * unit / scale == 0)
		return -1;
	ip = ip * unit + frac * unit / scale;
	if (ip > PARSE_DURATION_MAX)
		return -1;
	*out = ip;
	return 0;
}

int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1", NULL };
	static const char *const no[] = { "no", "false", "off", "0", NULL };
	int	 i;

	if (s == NULL)
		return -1;
	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/* Linux's signals; aliases after the name signal_name() should give. */
static const struct {
	const char	*name;
	int		 sig;
} parse_signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "STKFLT", SIGSTKFLT },
#endif
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "IO", SIGIO },
#ifdef SIGPWR
	{ "PWR", SIGPWR },
#endif
	{ "SYS", SIGSYS },
	{ "IOT", SIGABRT }, { "POLL", SIGIO }, { "CLD", SIGCHLD },
	{ NULL, 0 }
};

int
parse_signal(const char *s, int *out)
{
	int	 i;

	if (s == NULL)
		return -1;
	if (isdigit((unsigned char)*s))
		return parse_uint(s, 1, 64, out);
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; parse_signals[i].name != NULL; i++) {
		if (strcasecmp(s, parse_signals[i].name) == 0) {
			*out = parse_signals[i].sig;
			return 0;
		}
	}
	return -1;
}

const char *
signal_name(int sig)
{
	int	 i;

	for (i = 0; parse_signals[i].name != NULL; i++)
		if (parse_signals[i].sig == sig)
			return parse_signals[i].name;
	return "";
}

/* Index of s in the NULL-terminated list, or -1. */
static int
parse_word(const char *s, const char *const *list)
{
	int	 i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return i;
	return -1;
}

/* isalnum(3) in the C locale, whatever the locale is. */
static int
parse_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Level and process names go into socket paths, metrics and logs. */
static int
parse_name_ok(const char *s)
{
	/* Not '-' first: stackctl would take the name for an option. */
	if (*s == '\0' || *s == '-')
		return 0;
	for (; *s != '\0'; s++)
		if (!parse_alnum(*s) && strchr("_.@-", *s) == NULL)
			return 0;
	return 1;
}

static int
parse_all_digits(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* --- keys with their own rules ------------------------------------------ */

static int
parse_command(struct parse_state *st, struct command *c, const char *val)
{
	const char	*why;
	char		**argv;

	if (words_split(val, &argv, &why) == -1)
		return parse_err(st, st->keyline, "%s: %s", st->key->name, why);
	if (argv[0] == NULL) {
		words_free(argv);
		return parse_err(st, st->keyline, "%s: empty command",
		    st->key->name);
	}
	if ((c->text = strdup(val)) == NULL) {
		words_free(argv);
		return parse_oom(st);
	}
	c->argv = argv;
	c->line = st->keyline;
	return 0;
}

static int
parse_path(struct parse_state *st, char **dst, const char *val)
{
	if (val[0] != '/')
		return parse_err(st, st->keyline,
		    "%s: '%s' is not an absolute path", st->key->name, val);
	if ((*dst = strdup(val)) == NULL)
		return parse_oom(st);
	return 0;
}

static int
parse_bad_word(struct parse_state *st, const char *val, const char *choices)
{
	return parse_err(st, st->keyline, "%s: bad value '%s' (expected %s)",
	    st->key->name, val, choices);
}

static int
parse_ref(struct parse_state *st, struct parse_ref *ref, const char *val)
{
	if ((ref->name = strdup(val)) == NULL)
		return parse_oom(st);
	ref->line = st->keyline;
	return 0;
}

static int
parse_stack_name(struct parse_state *st, void *obj, const char *val)
{
	struct stack_conf	*conf = obj;

	if (!parse_name_ok(val))
		return parse_err(st, st->keyline, "name: bad stack name '%s' "
		    "(use letters, digits and _ . @ -, not - first)", val);
	free(conf->name);
	if ((conf->name = strdup(val)) == NULL)
		return parse_oom(st);
	return 0;
}

static int
parse_stack_target(struct parse_state *st, void *obj, const char *val)
{
	(void)obj;
	return parse_ref(st, &st->target, val);
}

static int
parse_stack_ready_level(struct parse_state *st, void *obj, const char *val)
{
	(void)obj;
	return parse_ref(st, &st->ready_level, val);
}

/* A socket path that does not fit sun_path is better refused here. */
static int
parse_stack_control(struct parse_state *st, void *obj, const char *val)
{
	struct stack_conf	*conf = obj;
	struct sockaddr_un	 sun;

	if (strlen(val) >= sizeof(sun.sun_path))
		return parse_err(st, st->keyline, "control: path longer than "
		    "%zu bytes", sizeof(sun.sun_path) - 1);
	return parse_path(st, &conf->control, val);
}

/*
 * stackd writes PATH.tmp beside it and renames it over PATH, so PATH must
 * name a file, and PATH.tmp must still be a valid path.
 */
static int
parse_stack_metrics_file(struct parse_state *st, void *obj, const char *val)
{
	struct stack_conf	*conf = obj;
	size_t			 n = strlen(val);

	if (n > 0 && val[n - 1] == '/')
		return parse_err(st, st->keyline, "metrics_file: '%s' is a "
		    "directory, name a file in it", val);
	if (n + sizeof(".tmp") > PATH_MAX)
		return parse_err(st, st->keyline, "metrics_file: path longer "
		    "than %zu bytes", (size_t)PATH_MAX - sizeof(".tmp"));
	return parse_path(st, &conf->metrics_file, val);
}

static int
parse_stack_log_prefix(struct parse_state *st, void *obj, const char *val)
{
	struct stack_conf	*conf = obj;
	bool			 b;

	if (strcmp(val, "auto") == 0)
		conf->log_prefix = PREFIX_AUTO;
	else if (parse_bool(val, &b) == 0)
		conf->log_prefix = b ? PREFIX_YES : PREFIX_NO;
	else
		return parse_bad_word(st, val, "auto, yes or no");
	return 0;
}

static int
parse_level_description(struct parse_state *st, void *obj, const char *val)
{
	struct level_conf	*l = obj;

	if ((l->description = strdup(val)) == NULL)
		return parse_oom(st);
	return 0;
}

static int
parse_level_probe(struct parse_state *st, void *obj, const char *val)
{
	struct level_conf	*l = obj;
	struct command		*p;

	if (l->nprobes == LEVEL_MAXPROBES)
		return parse_err(st, st->keyline, "probe: at most %d per level",
		    LEVEL_MAXPROBES);
	p = reallocarray(l->probes, l->nprobes + 1, sizeof(*p));
	if (p == NULL)
		return parse_oom(st);
	l->probes = p;
	memset(&p[l->nprobes], 0, sizeof(*p));
	if (parse_command(st, &p[l->nprobes], val) == -1)
		return -1;
	l->nprobes++;
	return 0;
}

static int
parse_level_strategy(struct parse_state *st, void *obj, const char *val)
{
	static const char *const list[] = {
		"one_for_one", "one_for_all", "rest_for_one", NULL
	};
	struct level_conf	*l = obj;
	int			 i;

	if ((i = parse_word(val, list)) == -1)
		return parse_bad_word(st, val,
		    "one_for_one, one_for_all or rest_for_one");
	l->strategy = (enum strategy)i;
	return 0;
}

static int
parse_proc_level(struct parse_state *st, void *obj, const char *val)
{
	(void)obj;
	return parse_ref(st, &st->proclevel[st->conf->nprocs - 1], val);
}

static int
parse_proc_type(struct parse_state *st, void *obj, const char *val)
{
	static const char *const list[] = { "longrun", "oneshot", NULL };
	struct proc_conf	*p = obj;
	int			 i;

	if ((i = parse_word(val, list)) == -1)
		return parse_bad_word(st, val, "longrun or oneshot");
	p->type = (enum proc_type)i;
	return 0;
}

static int
parse_proc_ready(struct parse_state *st, void *obj, const char *val)
{
	static const char *const list[] = {
		"started", "notify", "fd", "probe", "exit", NULL
	};
	struct proc_conf	*p = obj;
	int			 i;

	if (strncmp(val, "fd:", 3) == 0) {
		if (parse_uint(val + 3, 3, PARSE_FD_MAX, &p->ready_fd) == -1)
			return parse_err(st, st->keyline, "ready: bad value "
			    "'%s' (fd:N needs 3 <= N <= %d; 0-2 are stdio)",
			    val, PARSE_FD_MAX);
		p->ready = READY_FD;
		return 0;
	}
	if ((i = parse_word(val, list)) == -1 || i == READY_FD)
		return parse_bad_word(st, val,
		    "started, notify, fd:N, probe or exit");
	p->ready = (enum proc_ready)i;
	return 0;
}

static int
parse_proc_restart(struct parse_state *st, void *obj, const char *val)
{
	static const char *const list[] = {
		"permanent", "transient", "temporary", NULL
	};
	struct proc_conf	*p = obj;
	int			 i;

	if ((i = parse_word(val, list)) == -1)
		return parse_bad_word(st, val,
		    "permanent, transient or temporary");
	p->restart = (enum proc_restart)i;
	return 0;
}

/*
 * Users and groups are looked up now, so that a typo is a configuration
 * error at start-up, not a failed spawn later.  A numeric id must exist
 * too: stackd needs the user's primary group and home.
 */
static int
parse_proc_user(struct parse_state *st, void *obj, const char *val)
{
	struct proc_conf	*p = obj;
	struct passwd		*pw;
	int			 id;

	pw = getpwnam(val);
	if (pw == NULL && parse_uint(val, 0, INT32_MAX, &id) == 0)
		pw = getpwuid((uid_t)id);
	if (pw == NULL)
		return parse_err(st, st->keyline, "unknown user '%s'", val);
	if ((p->user = strdup(pw->pw_name)) == NULL ||
	    (p->home = strdup(pw->pw_dir)) == NULL)
		return parse_oom(st);
	p->uid = pw->pw_uid;
	p->has_user = true;
	st->pw_gid = pw->pw_gid;
	return 0;
}

static int
parse_proc_group(struct parse_state *st, void *obj, const char *val)
{
	struct proc_conf	*p = obj;
	struct group		*gr;
	int			 id;

	gr = getgrnam(val);
	if (gr == NULL && parse_uint(val, 0, INT32_MAX, &id) == 0)
		gr = getgrgid((gid_t)id);
	if (gr == NULL)
		return parse_err(st, st->keyline, "unknown group '%s'", val);
	if ((p->group = strdup(gr->gr_name)) == NULL)
		return parse_oom(st);
	p->gid = gr->gr_gid;
	p->has_group = true;
	return 0;
}

/* Letters, digits and '_', as a shell would take it. */
static bool
parse_env_name(const char *s, size_t n)
{
	size_t	 i;

	if (n == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (i = 0; i < n; i++)
		if (!parse_alnum(s[i]) && s[i] != '_')
			return false;
	return true;
}

static int
parse_proc_env(struct parse_state *st, void *obj, const char *val)
{
	struct proc_conf	*p = obj;
	const char		*eq;
	char			**env;
	size_t			 n;
	int			 i;

	eq = strchr(val, '=');
	n = eq == NULL ? 0 : (size_t)(eq - val);
	if (eq == NULL || n == 0 || isdigit((unsigned char)val[0]))
		return parse_err(st, st->keyline,
		    "env: '%s' is not KEY=VALUE with a valid KEY", val);
	if (!parse_env_name(val, n))
		return parse_err(st, st->keyline,
		    "env: bad variable name '%.*s'", (int)n, val);
	for (i = 0; i < p->nenv; i++)
		if (strncmp(p->env[i], val, n + 1) == 0)
			return parse_err(st, st->keyline,
			    "env: '%.*s' is set twice", (int)n, val);
	env = reallocarray(p->env, p->nenv + 1, sizeof(*env));
	if (env == NULL)
		return parse_oom(st);
	p->env = env;
	if ((env[p->nenv] = strdup(val)) == NULL)
		return parse_oom(st);
	p->nenv++;
	return 0;
}

static int
parse_proc_umask(struct parse_state *st, void *obj, const char *val)
{
	struct proc_conf	*p = obj;
	const char		*s;
	unsigned		 m = 0;

	for (s = val; *s >= '0' && *s <= '7'; s++)
		if ((m = m * 8 + (unsigned)(*s - '0')) > 0777)
			break;
	if (s == val || *s != '\0')
		return parse_err(st, st->keyline, "umask: bad umask '%s' "
		    "(expected octal digits, at most 0777)", val);
	p->umask = (mode_t)m;
	p->has_umask = true;
	return 0;
}

static int
parse_proc_stop_signal(struct parse_state *st, void *obj, const char *val)
{
	struct proc_conf	*p = obj;

	if (parse_signal(val, &p->stop_signal) == -1)
		return parse_err(st, st->keyline,
		    "stop_signal: bad signal '%s' (e.g. TERM, SIGINT, 15)",
		    val);
	return 0;
}

static int
parse_proc_log(struct parse_state *st, void *obj, const char *val)
{
	struct proc_conf	*p = obj;

	if (strncmp(val, "file:", 5) == 0) {
		if (val[5] != '/')
			return parse_err(st, st->keyline, "log: '%s' is not "
			    "an absolute path", val + 5);
		if (val[strlen(val) - 1] == '/')
			return parse_err(st, st->keyline, "log: '%s' is a "
			    "directory, name a file in it", val + 5);
		if ((p->log_path = strdup(val + 5)) == NULL)
			return parse_oom(st);
		p->log = LOGMODE_FILE;
		return 0;
	}
	if (strcmp(val, "inherit") == 0)
		p->log = LOGMODE_INHERIT;
	else if (strcmp(val, "journal") == 0)
		p->log = LOGMODE_JOURNAL;
	else if (strcmp(val, "null") == 0)
		p->log = LOGMODE_NULL;
	else
		return parse_bad_word(st, val,
		    "inherit, journal, null or file:/path");
	return 0;
}

/*
 * path, opened for reading if it is a regular file.  A FIFO would block
 * stackd's loop in open or read (a reload, for good), and a device such
 * as /dev/zero would never end; O_NONBLOCK lets open return on a FIFO so
 * that it can be refused.  NULL with errno set, EINVAL for "not a regular
 * file".
 */
static FILE *
parse_fopen(const char *path)
{
	struct stat	 sb;
	FILE		*fp;
	int		 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1)
		return NULL;
	if (fstat(fd, &sb) == -1)
		;	/* errno says why */
	else if (!S_ISREG(sb.st_mode))
		errno = EINVAL;
	else if ((fp = fdopen(fd, "r")) != NULL)
		return fp;
	saved = errno;
	close(fd);
	errno = saved;
	return NULL;
}

/*
 * One line of fp into buf (cap bytes), without its newline: its length;
 * -1 at the end or on a read error (ferror tells); cap if the line does
 * not fit, whose rest is left unread -- one endless line must not grow
 * stackd.  NUL bytes are kept: strlen(buf) != length tells of one.
 */
static ssize_t
parse_getline(FILE *fp, char *buf, size_t cap)
{
	size_t	n = 0;
	int	c;

	while ((c = getc(fp)) != EOF && c != '\n') {
		if (n == cap - 1) {
			buf[n] = '\0';
			return (ssize_t)cap;
		}
		buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (c == EOF && (n == 0 || ferror(fp)))
		return -1;
	return (ssize_t)n;
}

/*
 * One line of an env_file: KEY=VALUE, blank, or a # comment.  The value
 * is taken as it is, but for one pair of quotes around all of it.
 */
static int
parse_env_line(struct parse_state *st, struct proc_conf *p,
    const char *path, int lineno, char *s, size_t n)
{
	const char	*eq, *v;
	char		**fenv, *kv;
	size_t		 klen, vlen;

	if (n > PARSE_ENV_LINE_MAX)
		return parse_err(st, st->keyline, "env_file: %s:%d: line "
		    "longer than %d bytes", path, lineno, PARSE_ENV_LINE_MAX);
	if (n > 0 && s[n - 1] == '\r')
		s[--n] = '\0';
	if (strlen(s) != n)
		return parse_err(st, st->keyline, "env_file: %s:%d: NUL byte "
		    "in line", path, lineno);
	s += strspn(s, " \t");
	if (*s == '\0' || *s == '#')
		return 0;
	eq = strchr(s, '=');
	klen = eq == NULL ? 0 : (size_t)(eq - s);
	if (eq == NULL || !parse_env_name(s, klen))
		return parse_err(st, st->keyline, "env_file: %s:%d: '%.40s' is "
		    "not KEY=VALUE with a valid KEY", path, lineno, s);
	v = eq + 1;
	vlen = strlen(v);
	if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
		v++;
		vlen -= 2;
	}
	if (asprintf(&kv, "%.*s=%.*s", (int)klen, s, (int)vlen, v) == -1)
		return parse_oom(st);
	if ((fenv = reallocarray(p->fenv, p->nfenv + 1, sizeof(*fenv))) ==
	    NULL) {
		free(kv);
		return parse_oom(st);
	}
	p->fenv = fenv;
	fenv[p->nfenv++] = kv;
	return 0;
}

/*
 * Read now, like the rest of the file: a mistake in it is a configuration
 * error with its place, and a reload sees a changed file (and restarts the
 * process).
 */
static int
parse_proc_env_file(struct parse_state *st, void *obj, const char *val)
{
	struct proc_conf	*p = obj;
	FILE			*fp;
	char			*line;
	ssize_t			 n;
	int			 lineno = 0, rc = 0;

	if (val[0] != '/')
		return parse_err(st, st->keyline, "env_file: '%s' is not an "
		    "absolute path", val);
	if ((fp = parse_fopen(val)) == NULL && errno == EINVAL)
		return parse_err(st, st->keyline, "env_file: %s is not a "
		    "regular file", val);
	if (fp == NULL)
		return parse_err(st, st->keyline, "env_file: cannot open %s: "
		    "%s", val, strerror(errno));
	/* a \r and the NUL past the longest line */
	if ((line = malloc(PARSE_ENV_LINE_MAX + 2)) == NULL) {
		fclose(fp);
		return parse_oom(st);
	}
	while (rc == 0 && (n = parse_getline(fp, line,
	    PARSE_ENV_LINE_MAX + 2)) != -1)
		rc = parse_env_line(st, p, val, ++lineno, line, (size_t)n);
	if (rc == 0 && ferror(fp))
		rc = parse_err(st, st->keyline, "env_file: cannot read %s: %s",
		    val, strerror(errno));
	free(line);
	fclose(fp);
	return rc;
}

static int
parse_proc_limit_nofile(struct parse_state *st, void *obj, const char *val)
{
	struct proc_conf	*p = obj;
	int			 n;

	if (parse_uint(val, 1, INT32_MAX, &n) == -1)
		return parse_err(st, st->keyline, "limit_nofile: bad value "
		    "'%s' (expected a number of files, at least 1)", val);
	p->nofile = (uint64_t)n;
	p->has_nofile = true;
	return 0;
}

/* Bytes, with K, M, G or T for powers of 1024, or "infinity". */
static int
parse_proc_limit_core(struct parse_state *st, void *obj, const char *val)
{
	static const char	 units[] = "KMGT";
	struct proc_conf	*p = obj;
	const char		*s = val, *u;
	uint64_t		 v = 0;
	int			 shift = 0;

	if (strcmp(val, "infinity") == 0) {
		p->core = UINT64_MAX;
		p->has_core = true;
		return 0;
	}
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (UINT64_MAX / 2 - 9) / 10)
			goto bad;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (s == val)
		goto bad;
	if (*s != '\0') {
		if ((u = strchr(units, *s)) == NULL || s[1] != '\0')
			goto bad;
		shift = 10 * (int)(u - units + 1);
	}
	if (v > (UINT64_MAX / 2) >> shift)
		goto bad;
	p->core = v << shift;
	p->has_core = true;
	return 0;
bad:
	return parse_err(st, st->keyline, "limit_core: bad value '%s' "
	    "(expected bytes, e.g. 0, 512M, or infinity)", val);
}

static int
parse_proc_nice(struct parse_state *st, void *obj, const char *val)
{
	struct proc_conf	*p = obj;
	int			 n, neg = val[0] == '-';

	if (parse_uint(val + (neg || val[0] == '+'), 0, 20, &n) == -1 ||
	    (!neg && n > 19))
		return parse_err(st, st->keyline, "nice: bad value '%s' "
		    "(expected -20 to 19)", val);
	p->nice = neg ? -n : n;
	p->has_nice = true;
	return 0;
}

/* --- the sections and their keys ---------------------------------------- */

#define KEY(n, k, t, f)	{ n, k, offsetof(t, f), NULL, 0 }
#define KFN(n, fn, r)	{ n, PK_FN, 0, fn, r }

static const struct parse_key parse_stack_keys[] = {
	KFN("name", parse_stack_name, 0),
	KFN("target", parse_stack_target, 0),
	KFN("ready_level", parse_stack_ready_level, 0),
	KEY("intensity", PK_INT0, struct stack_conf, intensity),
	KEY("period", PK_MSEC_POS, struct stack_conf, period),
	KEY("retry_min", PK_MSEC_POS, struct stack_conf, retry_min),
	KEY("retry_max", PK_MSEC_POS, struct stack_conf, retry_max),
	KEY("alarm_after", PK_MSEC, struct stack_conf, alarm_after),
	KEY("give_up_after", PK_INT0, struct stack_conf, give_up_after),
	KEY("stop_timeout", PK_MSEC_POS, struct stack_conf, stop_timeout),
	KFN("control", parse_stack_control, 0),
	KFN("log_prefix", parse_stack_log_prefix, 0),
	KEY("hook_timeout", PK_MSEC_POS, struct stack_conf, hook_timeout),
	KEY("on_alarm", PK_CMD, struct stack_conf, on_alarm),
	KFN("metrics_file", parse_stack_metrics_file, 0),
	{ NULL, PK_FN, 0, NULL, 0 }
};

static const struct parse_key parse_level_keys[] = {
	KFN("description", parse_level_description, 0),
	KFN("probe", parse_level_probe, 1),
	KEY("probe_interval", PK_MSEC_POS, struct level_conf, probe_interval),
	KEY("probe_timeout", PK_MSEC_POS, struct level_conf, probe_timeout),
	KEY("failure_threshold", PK_INT1, struct level_conf,
	    failure_threshold),
	KEY("ready_timeout", PK_MSEC_POS, struct level_conf, ready_timeout),
	KFN("strategy", parse_level_strategy, 0),
	KEY("intensity", PK_INT0, struct level_conf, intensity),
	KEY("period", PK_MSEC_POS, struct level_conf, period),
	KEY("on_up", PK_CMD, struct level_conf, on_up),
	KEY("on_down", PK_CMD, struct level_conf, on_down),
	{ NULL, PK_FN, 0, NULL, 0 }
};

/* The index of a key in parse_proc_keys, for the end-of-section checks. */
enum { PROC_LEVEL, PROC_COMMAND, PROC_READY, PROC_PROBE };

static const struct parse_key parse_proc_keys[] = {
	[PROC_LEVEL] = KFN("level", parse_proc_level, 0),
	[PROC_COMMAND] = KEY("command", PK_CMD, struct proc_conf, command),
	[PROC_READY] = KFN("ready", parse_proc_ready, 0),
	[PROC_PROBE] = KEY("probe", PK_CMD, struct proc_conf, probe),
	KFN("type", parse_proc_type, 0),
	KEY("ready_delay", PK_MSEC, struct proc_conf, ready_delay),
	KFN("restart", parse_proc_restart, 0),
	KEY("probe_timeout", PK_MSEC_POS, struct proc_conf, probe_timeout),
	KFN("user", parse_proc_user, 0),
	KFN("group", parse_proc_group, 0),
	KEY("workdir", PK_PATH, struct proc_conf, workdir),
	KFN("env", parse_proc_env, 1),
	KFN("umask", parse_proc_umask, 0),
	KFN("env_file", parse_proc_env_file, 1),
	KFN("limit_nofile", parse_proc_limit_nofile, 0),
	KFN("limit_core", parse_proc_limit_core, 0),
	KFN("nice", parse_proc_nice, 0),
	KFN("stop_signal", parse_proc_stop_signal, 0),
	KEY("stop_timeout", PK_MSEC_POS, struct proc_conf, stop_timeout),
	KFN("log", parse_proc_log, 0),
	KEY("watchdog", PK_MSEC, struct proc_conf, watchdog),
	{ NULL, PK_FN, 0, NULL, 0 }
};

/* The struct the current section's keys are stored into. */
static void *
parse_obj(struct parse_state *st)
{
	struct stack_conf	*conf = st->conf;

	switch (st->sect) {
	case SECT_LEVEL:
		return &conf->levels[conf->nlevels - 1];
	case SECT_PROC:
		return &conf->procs[conf->nprocs - 1];
	default:
		return conf;
	}
}

/* "[process web]", for messages. */
static const char *
parse_sect_name(struct parse_state *st, char *buf, size_t len)
{
	struct stack_conf	*conf = st->conf;

	if (st->sect == SECT_LEVEL)
		snprintf(buf, len, "[level %s]",
		    conf->levels[conf->nlevels - 1].name);
	else if (st->sect == SECT_PROC)
		snprintf(buf, len, "[process %s]",
		    conf->procs[conf->nprocs - 1].name);
	else
		snprintf(buf, len, "[stack]");
	return buf;
}

static int
parse_apply_msec(struct parse_state *st, msec_t *dst, const char *val)
{
	const char	*name = st->key->name;

	if (parse_duration(val, dst) == -1)
		return parse_err(st, st->keyline, "%s: bad duration '%s' "
		    "(use e.g. 250ms, 10s, 2m, 1h)", name, val);
	if (st->key->kind == PK_MSEC_POS && *dst == 0)
		return parse_err(st, st->keyline,
		    "%s: must be greater than 0", name);
	return 0;
}

static int
parse_apply_int(struct parse_state *st, int *dst, const char *val)
{
	int	 min = st->key->kind == PK_INT1 ? 1 : 0;

	if (parse_uint(val, min, INT32_MAX, dst) == -1)
		return parse_err(st, st->keyline,
		    "%s: bad number '%s' (expected an integer >= %d)",
		    st->key->name, val, min);
	return 0;
}

/* Check and store the complete value of the key being read, if any. */
static int
parse_close_key(struct parse_state *st)
{
	const struct parse_key	*k = st->key;
	char			*obj, *val = st->val;
	int			 rc;

	if (k == NULL)
		return 0;
	obj = parse_obj(st);
	switch (k->kind) {
	case PK_MSEC:
	case PK_MSEC_POS:
		rc = parse_apply_msec(st, (msec_t *)(obj + k->off), val);
		break;
	case PK_INT0:
	case PK_INT1:
		rc = parse_apply_int(st, (int *)(obj + k->off), val);
		break;
	case PK_PATH:
		rc = parse_path(st, (char **)(obj + k->off), val);
		break;
	case PK_CMD:
		rc = parse_command(st, (struct command *)(obj + k->off), val);
		break;
	default:
		rc = k->fn(st, obj, val);
		break;
	}
	free(st->val);
	st->val = NULL;
	st->key = NULL;
	return rc;
}

/* inih's handler: a key line starts a key, a continuation extends it. */
static int
parse_begin_key(struct parse_state *st, const char *name, const char *value)
{
	char	 sect[128];
	int	 i;

	if (st->sect == SECT_NONE)
		return parse_err(st, st->lineno,
		    "key '%s' before the first [section]", name);
	for (i = 0; st->keys[i].name != NULL; i++)
		if (strcmp(st->keys[i].name, name) == 0)
			break;
	if (st->keys[i].name == NULL)
		return parse_err(st, st->lineno, "unknown key '%s' in %s",
		    name, parse_sect_name(st, sect, sizeof(sect)));
	if (st->seenline[i] != 0 && !st->keys[i].repeat)
		return parse_err(st, st->lineno,
		    "duplicate key '%s' in %s (first at line %d)", name,
		    parse_sect_name(st, sect, sizeof(sect)), st->seenline[i]);
	if ((st->val = strdup(value)) == NULL)
		return parse_oom(st);
	st->seenline[i] = st->lineno;
	st->key = &st->keys[i];
	st->keyline = st->lineno;
	return 0;
}

/*
 * Join a continuation line to the value with one space.  Debian's inih
 * strips " ;" comments from a key's first line only, so strip them here.
 */
static int
parse_continue(struct parse_state *st, const char *value)
{
	size_t	 len, n;
	char	*v;
	const char *p;

	if (st->key == NULL)
		return 0;
	for (p = value; *p != '\0'; p++)
		if (*p == ';' && p > value && isspace((unsigned char)p[-1]))
			break;
	while (p > value && isspace((unsigned char)p[-1]))
		p--;
	n = (size_t)(p - value);
	len = strlen(st->val);
	if ((v = realloc(st->val, len + n + 2)) == NULL)
		return parse_oom(st);
	st->val = v;
	if (len > 0)
		v[len++] = ' ';
	memcpy(v + len, value, n);
	v[len + n] = '\0';
	return 0;
}

static int
parse_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct parse_state	*st = arg;

	(void)section;		/* ours, from parse_header, is never cut */
	if (st->failed)
		return 0;
	if (st->cont)
		return parse_continue(st, value) == 0;
	return parse_begin_key(st, name, value) == 0;
}

/* --- end of a section --------------------------------------------------- */

/* The line a key of the current section was given on, 0 if it was not. */
static int
parse_seen(struct parse_state *st, const char *name)
{
	int	 i;

	for (i = 0; st->keys[i].name != NULL; i++)
		if (strcmp(st->keys[i].name, name) == 0)
			return st->seenline[i];
	return 0;
}

static int
parse_end_stack(struct parse_state *st)
{
	struct stack_conf	*conf = st->conf;
	int			 line;

	if (conf->retry_max >= conf->retry_min)
		return 0;
	if ((line = parse_seen(st, "retry_max")) == 0)
		line = parse_seen(st, "retry_min");
	return parse_err(st, line, "retry_max is less than retry_min");
}

/* The supplementary groups, as initgroups(3) would set them. */
static int
parse_groups(struct parse_state *st, struct proc_conf *p)
{
	gid_t	*g;
	int	 n = 16, want;

	for (;;) {
		if ((g = reallocarray(p->groups, n, sizeof(*g))) == NULL)
			return parse_oom(st);
		p->groups = g;
		want = n;
		if (getgrouplist(p->user, p->gid, g, &want) != -1)
			break;
		if (want <= n)
			n *= 2;
		else
			n = want;
	}
	p->ngroups = want;
	return 0;
}

static int
parse_user_group(struct parse_state *st, struct proc_conf *p)
{
	struct group	*gr;
	char		 num[24];

	if (!p->has_user)
		return 0;
	if (!p->has_group) {
		p->gid = st->pw_gid;
		p->has_group = true;
		if ((gr = getgrgid(p->gid)) == NULL)
			snprintf(num, sizeof(num), "%u", (unsigned)p->gid);
		p->group = strdup(gr != NULL ? gr->gr_name : num);
		if (p->group == NULL)
			return parse_oom(st);
	}
	return parse_groups(st, p);
}

static int
parse_end_proc(struct parse_state *st)
{
	struct proc_conf	*p = parse_obj(st);
	const int		*seen = st->seenline;

	if (!seen[PROC_LEVEL])
		parse_err(st, st->sectline, "process '%s' has no 'level ='",
		    p->name);
	if (!seen[PROC_COMMAND])
		parse_err(st, st->sectline, "process '%s' has no 'command ='",
		    p->name);
	if (p->type == PROC_ONESHOT && !seen[PROC_READY])
		p->ready = READY_EXIT;
	else if (p->type == PROC_ONESHOT && p->ready != READY_EXIT)
		parse_err(st, seen[PROC_READY], "ready: a oneshot is ready "
		    "when it exits 0, use ready = exit or leave it out");
	else if (p->type == PROC_LONGRUN && p->ready == READY_EXIT)
		parse_err(st, seen[PROC_READY],
		    "ready = exit needs type = oneshot");
	if (p->ready == READY_PROBE && !seen[PROC_PROBE])
		parse_err(st, seen[PROC_READY],
		    "ready = probe needs a 'probe =' command");
	if (seen[PROC_PROBE] && p->ready != READY_PROBE)
		parse_err(st, seen[PROC_PROBE],
		    "probe: only used with ready = probe");
	/* Only a notify child can ping; elsewhere it would kill for sure. */
	if (p->watchdog > 0 && p->ready != READY_NOTIFY)
		parse_err(st, parse_seen(st, "watchdog"),
		    "watchdog: only used with ready = notify");
	if (st->failed)
		return -1;
	return parse_user_group(st, p);
}

static int
parse_end_section(struct parse_state *st)
{
	if (parse_close_key(st) == -1)
		return -1;
	if (st->sect == SECT_STACK)
		return parse_end_stack(st);
	if (st->sect == SECT_PROC)
		return parse_end_proc(st);
	return 0;
}

/* --- section headers ---------------------------------------------------- */

static int
parse_new_level(struct parse_state *st, char *name)
{
	struct stack_conf	*conf = st->conf;
	struct level_conf	*l;
	int			 i;

	if (strcmp(name, "top") == 0 || parse_all_digits(name))
		return parse_err(st, st->lineno, "bad level name '%s' "
		    "(\"top\" and numbers already refer to levels)", name);
	if ((i = config_level_index(conf, name)) != -1)
		return parse_err(st, st->lineno, "duplicate level '%s' "
		    "(first at line %d)", name, conf->levels[i].line);
	if (conf->nlevels == st->levelsz) {
		l = reallocarray(conf->levels, st->levelsz + 8, sizeof(*l));
		if (l == NULL)
			return parse_oom(st);
		conf->levels = l;
		st->levelsz += 8;
	}
	l = &conf->levels[conf->nlevels++];
	memset(l, 0, sizeof(*l));
	l->name = name;
	l->line = st->lineno;
	l->probe_interval = DEF_PROBE_INTERVAL;
	l->probe_timeout = DEF_PROBE_TIMEOUT;
	l->failure_threshold = DEF_FAILURE_THRESHOLD;
	l->ready_timeout = DEF_READY_TIMEOUT;
	l->strategy = STRATEGY_ONE_FOR_ONE;
	l->intensity = -1;		/* the stack's, at the end */
	l->period = -1;
	st->sect = SECT_LEVEL;
	st->keys = parse_level_keys;
	return 0;
}

static int
parse_grow_procs(struct parse_state *st)
{
	struct stack_conf	*conf = st->conf;
	struct proc_conf	*p;
	struct parse_ref	*r;
	int			 n = st->procsz + 16;

	if (conf->nprocs < st->procsz)
		return 0;
	if ((p = reallocarray(conf->procs, n, sizeof(*p))) == NULL)
		return parse_oom(st);
	conf->procs = p;
	if ((r = reallocarray(st->proclevel, n, sizeof(*r))) == NULL)
		return parse_oom(st);
	st->proclevel = r;
	st->procsz = n;
	return 0;
}

static int
parse_new_proc(struct parse_state *st, char *name)
{
	struct stack_conf	*conf = st->conf;
	struct proc_conf	*p;

	/* A duplicate name is found once the file is read (parse_index). */
	if (parse_grow_procs(st) == -1)
		return -1;
	memset(&st->proclevel[conf->nprocs], 0, sizeof(*st->proclevel));
	p = &conf->procs[conf->nprocs++];
	memset(p, 0, sizeof(*p));
	p->name = name;
	p->line = st->lineno;
	p->level = -1;
	p->type = PROC_LONGRUN;
	p->ready = READY_STARTED;
	p->restart = RESTART_PERMANENT;
	p->probe_timeout = -1;		/* the level's, at the end */
	p->stop_signal = SIGTERM;
	p->stop_timeout = -1;		/* the stack's, at the end */
	p->log = LOGMODE_INHERIT;
	st->sect = SECT_PROC;
	st->keys = parse_proc_keys;
	return 0;
}

static int
parse_new_stack(struct parse_state *st, const char *name)
{
	if (*name != '\0')
		return parse_err(st, st->lineno, "[stack] takes no name");
	if (st->stackline != 0)
		return parse_err(st, st->lineno,
		    "duplicate [stack] section (first at line %d)",
		    st->stackline);
	st->stackline = st->lineno;
	st->sect = SECT_STACK;
	st->keys = parse_stack_keys;
	return 0;
}

/* Start the section "KIND NAME" (the text between the brackets). */
static int
parse_new_section(struct parse_state *st, char *text)
{
	char	*kind, *name, *end, *dup;
	int	 rc;

	kind = text + strspn(text, " \t");
	name = kind + strcspn(kind, " \t");
	if (*name != '\0')
		*name++ = '\0';
	name += strspn(name, " \t");
	end = name + strlen(name);
	while (end > name && isblank((unsigned char)end[-1]))
		*--end = '\0';
	if (strcmp(kind, "stack") == 0)
		return parse_new_stack(st, name);
	if (strcmp(kind, "level") != 0 && strcmp(kind, "process") != 0)
		return -2;
	if (*name == '\0')
		return parse_err(st, st->lineno, "[%s] needs a name: [%s NAME]",
		    kind, kind);
	if (!parse_name_ok(name))
		return parse_err(st, st->lineno, "bad %s name '%s' (use "
		    "letters, digits and _ . @ -, not - first)", kind, name);
	if ((dup = strdup(name)) == NULL)
		return parse_oom(st);
	if (kind[0] == 'l')
		rc = parse_new_level(st, dup);
	else
		rc = parse_new_proc(st, dup);
	if (rc == -1)
		free(dup);
	return rc;
}

/*
 * A line whose first non-blank is '['.  Like inih, the name ends at the
 * first ']' and " ;" before it is a comment that leaves the ']' missing.
 */
static int
parse_header(struct parse_state *st, const char *s)
{
	const char	*end, *rest;
	char		*text;
	int		 rc;

	for (end = s + 1; *end != '\0' && *end != ']'; end++)
		if (*end == ';' && isspace((unsigned char)end[-1]))
			break;
	/* The section before ends here, and its errors come first. */
	if (parse_end_section(st) == -1)
		return -1;
	if (*end != ']')
		return parse_err(st, st->lineno,
		    "missing ']' in section header");
	rest = end + 1 + strspn(end + 1, " \t\r");
	if (*rest != '\0' && *rest != ';')
		return parse_err(st, st->lineno, "unexpected text after ']'");
	if ((text = strndup(s + 1, (size_t)(end - s - 1))) == NULL)
		return parse_oom(st);
	memset(st->seenline, 0, sizeof(st->seenline));
	st->sect = SECT_NONE;
	st->haskey = 0;
	st->sectline = st->lineno;
	rc = parse_new_section(st, text);
	if (rc == -2)
		parse_err(st, st->lineno, "unknown section [%.*s] (expected "
		    "[stack], [level NAME] or [process NAME])",
		    (int)(end - s - 1), s + 1);
	free(text);
	return rc == 0 ? 0 : -1;
}

/* --- reading lines for inih --------------------------------------------- */

/* Where inih would find the '=' or ':' of a key line, or NULL. */
static const char *
parse_find_sep(const char *s)
{
	const char	*p;

	for (p = s; *p != '\0'; p++) {
		if (*p == '=' || *p == ':')
			return p;
		if (*p == ';' && p > s && isspace((unsigned char)p[-1]))
			return NULL;
	}
	return NULL;
}

/*
 * Classify a line as inih will: blank or comment, continuation of the
 * last key, section header or key line.  Sections are handled here, since
 * inih says nothing about a section without keys; keys in parse_handler.
 */
static int
parse_line(struct parse_state *st, const char *line)
{
	const char	*s = line;

	st->cont = 0;
	if (st->lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;			/* inih skips a UTF-8 BOM */
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || *s == ';' || *s == '#')
		return 0;
	if (st->haskey && s > line) {
		st->cont = 1;
		return 0;
	}
	if (*s == '[')
		return parse_header(st, s);
	if (parse_find_sep(s) == NULL)
		return parse_err(st, st->lineno,
		    "expected [section] or key = value");
	st->haskey = 1;
	return parse_close_key(st);
}

/*
 * A line inih would cut.  An unindented one cannot continue the key being
 * read, so that key is complete and its own error, on an earlier line,
 * comes first.
 */
static int
parse_too_long(struct parse_state *st, const char *line)
{
	if (!(st->haskey && isspace((unsigned char)line[0])))
		(void)parse_close_key(st);
	return parse_err(st, st->lineno,
	    "line too long, continue it on an indented line");
}

/* inih's reader: fgets(3) semantics, but one whole line at a time. */
static char *
parse_reader(char *str, int num, void *arg)
{
	struct parse_state	*st = arg;
	ssize_t			 n;

	if (st->failed)
		return NULL;
	errno = 0;
	if ((n = parse_getline(st->fp, st->buf, sizeof(st->buf))) == -1) {
		if (ferror(st->fp))
			parse_err(st, 0, "cannot read: %s", strerror(errno));
		return NULL;
	}
	st->lineno++;
	if (n < (ssize_t)sizeof(st->buf) && n > 0 && st->buf[n - 1] == '\r')
		st->buf[--n] = '\0';
	if (n < (ssize_t)sizeof(st->buf) && strlen(st->buf) != (size_t)n) {
		parse_err(st, st->lineno, "NUL byte in line");
		return NULL;
	}
	if (n > PARSE_LINE_MAX || n >= num) {
		parse_too_long(st, st->buf);
		return NULL;
	}
	if (parse_line(st, st->buf) == -1)
		return NULL;
	memcpy(str, st->buf, (size_t)n + 1);
	return str;
}

/* --- the whole file ----------------------------------------------------- */

/* Resolve a target = or ready_level =; "top" when not given. */
static int
parse_resolve(struct parse_state *st, struct parse_ref *ref, const char *key,
    int *out)
{
	int	 n;

	*out = st->conf->nlevels;
	if (ref->name == NULL)
		return 0;
	if ((n = config_level_ref(st->conf, ref->name)) != -1) {
		*out = n;
		return 0;
	}
	if (parse_all_digits(ref->name))
		return parse_err(st, ref->line, "%s: %s is above the top "
		    "level (%d)", key, ref->name, st->conf->nlevels);
	return parse_err(st, ref->line, "%s: no level named '%s'", key,
	    ref->name);
}

static int
parse_resolve_procs(struct parse_state *st)
{
	struct stack_conf	*conf = st->conf;
	struct parse_ref	*ref;
	int			 i, n;

	for (i = 0; i < conf->nprocs; i++) {
		ref = &st->proclevel[i];
		n = config_level_ref(conf, ref->name);
		if (n >= 1 && strcmp(ref->name, "top") != 0)
			conf->procs[i].level = n - 1;
		else if (parse_all_digits(ref->name))
			parse_err(st, ref->line, "level: %s is not a level "
			    "number (1..%d)", ref->name, conf->nlevels);
		else
			parse_err(st, ref->line, "level: no level named '%s'",
			    ref->name);
	}
	return st->failed ? -1 : 0;
}

/* Fill in what defaults to another section's value. */
static void
parse_defaults(struct stack_conf *conf)
{
	struct level_conf	*l;
	struct proc_conf	*p;
	int			 i;

	for (i = 0; i < conf->nlevels; i++) {
		l = &conf->levels[i];
		if (l->intensity == -1)
			l->intensity = conf->intensity;
		if (l->period == -1)
			l->period = conf->period;
	}
	for (i = 0; i < conf->nprocs; i++) {
		p = &conf->procs[i];
		if (p->stop_timeout == -1)
			p->stop_timeout = conf->stop_timeout;
		if (p->probe_timeout == -1)
			p->probe_timeout = conf->levels[p->level].probe_timeout;
	}
}

/* The file's name without directory and ".ini"; NULL: out of memory. */
static char *
parse_name_from_path(const char *path)
{
	const char	*base;
	size_t		 n;

	base = strrchr(path, '/');
	base = base == NULL ? path : base + 1;
	n = strlen(base);
	if (n > 4 && strcmp(base + n - 4, ".ini") == 0)
		n -= 4;
	return strndup(base, n);
}

static int
parse_default_name(struct parse_state *st)
{
	if (st->conf->name != NULL)
		return 0;
	if ((st->conf->name = parse_name_from_path(st->path)) == NULL)
		return parse_oom(st);
	/* The name goes into the socket path and metric labels. */
	if (!parse_name_ok(st->conf->name))
		return parse_err(st, 0, "stack name '%s' (from the file name) "
		    "is not valid: use [A-Za-z0-9_.@-] or set [stack] name",
		    st->conf->name);
	return 0;
}

static int
parse_finish(struct parse_state *st)
{
	struct stack_conf	*conf = st->conf;

	if (parse_end_section(st) == -1)
		return -1;
	if (conf->nlevels == 0)
		return parse_err(st, 0, "no [level] section");
	parse_resolve(st, &st->target, "target", &conf->target);
	conf->target_top = st->target.name == NULL ||
	    strcmp(st->target.name, "top") == 0;
	parse_resolve(st, &st->ready_level, "ready_level",
	    &conf->ready_level);
	if (st->failed || parse_resolve_procs(st) == -1)
		return -1;
	/* Unset, ready_level is the target: with `target = 1` and the
	 * default `top`, READY=1 would never be sent and a Type=notify unit
	 * would time out.  Set explicitly above the target, it is honoured
	 * (the target may be raised later with stackctl). */
	if (st->ready_level.name == NULL)
		conf->ready_level = conf->target;
	parse_defaults(conf);
	return parse_default_name(st);
}

/*
 * Index the processes by name and report a name used twice, at the line
 * of its second section.  Also after an error stopped the reading: the
 * error on the earliest line is the one reported, as if duplicates were
 * found section by section.
 */
static void
parse_index(struct parse_state *st)
{
	struct stack_conf	*conf = st->conf;
	const struct conf_name	*v;
	int			 i, first = 0;

	if (config_index_procs(conf) == -1) {
		parse_err(st, 0, "out of memory");
		return;
	}
	v = conf->byname;
	for (i = 1; i < conf->nprocs; i++) {
		if (strcmp(v[i].name, v[first].name) != 0) {
			first = i;
			continue;
		}
		/* The first thing wrong with its section, before what the
		 * end of the section found (a missing command, say). */
		if (st->failed && st->errline == conf->procs[v[i].index].line)
			st->failed = 0;
		parse_err(st, conf->procs[v[i].index].line, "duplicate "
		    "process '%s' (first at line %d)", v[i].name,
		    conf->procs[v[first].index].line);
	}
}

static struct stack_conf *
parse_new_conf(const char *path)
{
	struct stack_conf	*conf;

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		return NULL;
	if ((conf->path = strdup(path)) == NULL) {
		free(conf);
		return NULL;
	}
	conf->intensity = DEF_INTENSITY;
	conf->period = DEF_PERIOD;
	conf->retry_min = DEF_RETRY_MIN;
	conf->retry_max = DEF_RETRY_MAX;
	conf->alarm_after = DEF_ALARM_AFTER;
	conf->stop_timeout = DEF_STOP_TIMEOUT;
	conf->log_prefix = PREFIX_AUTO;
	conf->hook_timeout = DEF_HOOK_TIMEOUT;
	return conf;
}

static void
parse_cleanup(struct parse_state *st)
{
	int	 i;

	if (st->fp != NULL)
		fclose(st->fp);
	free(st->val);
	free(st->target.name);
	free(st->ready_level.name);
	for (i = 0; st->conf != NULL && i < st->conf->nprocs; i++)
		free(st->proclevel[i].name);
	free(st->proclevel);
}

struct stack_conf *
parse_file(const char *path, char *err, size_t errlen)
{
	struct parse_state	 st;
	int			 rc;

	memset(&st, 0, sizeof(st));
	st.path = path;
	st.err = err;
	st.errlen = errlen;
	if ((st.conf = parse_new_conf(path)) == NULL)
		parse_err(&st, 0, "out of memory");
	else if ((st.fp = parse_fopen(path)) == NULL && errno == EINVAL)
		parse_err(&st, 0, "not a regular file");
	else if (st.fp == NULL)
		parse_err(&st, 0, "cannot open: %s", strerror(errno));
	else {
		rc = ini_parse_stream(parse_reader, &st, parse_handler, &st);
		/* parse_reader mirrors inih, so this is a safety net. */
		if (rc == -2)
			parse_err(&st, 0, "out of memory");
		else if (rc > 0)
			parse_err(&st, rc, "syntax error");
		parse_index(&st);
		if (!st.failed)
			parse_finish(&st);
	}
	parse_cleanup(&st);
	if (st.failed) {
		config_free(st.conf);
		return NULL;
	}
	return st.conf;
}

/* --- the socket keys alone (stackctl -f) -------------------------------- */

/* Lines for inih, bounded as parse_reader's; a longer one reads as empty. */
static char *
parse_loose_reader(char *str, int num, void *arg)
{
	char	buf[PARSE_LINE_MAX + 3];
	ssize_t	n;

	if ((n = parse_getline(arg, buf, sizeof(buf))) == -1)
		return NULL;
	if (n >= num || n == (ssize_t)sizeof(buf))
		n = 0;
	memcpy(str, buf, (size_t)n);
	str[n] = '\0';
	return str;
}

struct parse_loose {
	struct stack_conf	*conf;
	bool			 oom;
};

/* The first [stack] name and control; a continuation line is no value. */
static int
parse_loose_handler(void *arg, const char *section, const char *key,
    const char *val)
{
	struct parse_loose	*pl = arg;
	char			**dst = NULL;

	if (strcmp(section, "stack") != 0 || key == NULL)
		return 1;
	if (strcmp(key, "name") == 0)
		dst = &pl->conf->name;
	else if (strcmp(key, "control") == 0)
		dst = &pl->conf->control;
	if (dst == NULL || *dst != NULL || *val == '\0')
		return 1;
	if ((*dst = strdup(val)) == NULL)
		pl->oom = true;
	return 1;
}

struct stack_conf *
parse_socket_keys(const char *path, char *err, size_t errlen)
{
	struct parse_state	 st;
	struct parse_loose	 pl;
	struct stack_conf	*conf;
	FILE			*fp;
	int			 rc;

	memset(&st, 0, sizeof(st));
	st.path = path;
	st.err = err;
	st.errlen = errlen;
	if ((conf = parse_new_conf(path)) == NULL) {
		parse_err(&st, 0, "out of memory");
		return NULL;
	}
	if ((fp = parse_fopen(path)) == NULL) {
		if (errno == EINVAL)
			parse_err(&st, 0, "not a regular file");
		else
			parse_err(&st, 0, "cannot open: %s", strerror(errno));
		config_free(conf);
		return NULL;
	}
	/* Its errors are the daemon's to report; only memory counts. */
	pl.conf = conf;
	pl.oom = false;
	rc = ini_parse_stream(parse_loose_reader, fp, parse_loose_handler,
	    &pl);
	if (rc == -2 || pl.oom || ferror(fp) || (conf->name == NULL &&
	    (conf->name = parse_name_from_path(path)) == NULL)) {
		parse_err(&st, 0, ferror(fp) ? "cannot read" : "out of memory");
		config_free(conf);
		conf = NULL;
	}
	fclose(fp);
	return conf;
}
