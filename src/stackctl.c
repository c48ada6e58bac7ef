/*
 * stackctl.c -- the operator's side of the control socket.
 *
 * One request line out, the reply in, and an exit code a script can use:
 * 0 done, 1 refused or failed, 2 usage, 4 the daemon cannot be reached.
 * The socket comes from -s, or from the stack file (-f, else the same
 * default stackd uses) through the same path rules as the daemon's.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlpath.h"
#include "parse.h"

#define EXIT_OK		0
#define EXIT_FAILED	1
#define EXIT_USAGE	2
#define EXIT_UNREACHABLE 4
#define REPLY_TIMEOUT	30000	/* ms, for everything but wait */

static const char	usage_text[] =
	    "usage: stackctl [-s SOCKET | -f FILE] COMMAND\n"
	    "  status [--json]          where the stack is and why\n"
	    "  target LEVEL|top         set the target level\n"
	    "  wait LEVEL [--timeout DURATION]\n"
	    "                           block until at or above LEVEL\n"
	    "  ready [LEVEL]            exit 0 if at or above LEVEL\n"
	    "  restart PROCESS          restart one process\n"
	    "  reload                   reload the stack file\n"
	    "  events                   stream events as JSON lines\n"
	    "  metrics                  Prometheus text format\n"
	    "  shutdown                 ordered shutdown\n";

/* A usage error: the summary on stderr, exit 2. */
static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(EXIT_USAGE);
}

/* What was wrong, then the summary. */
static void __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list	ap;

	fputs("stackctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage();
}

static const char *const commands[] = { "status", "target", "wait", "ready",
    "restart", "reload", "events", "metrics", "shutdown" };

/* A known command used the wrong way, or an unknown one. */
static void
usage_command(const char *cmd)
{
	size_t	i;

	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i]) == 0)
			usage_error("wrong arguments for '%s'", cmd);
	usage_error("unknown command '%.64s'", cmd);
}

static int
ctl_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "stackctl: socket path too long: %s\n", path);
		exit(EXIT_UNREACHABLE);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		perror("stackctl: socket");
		exit(EXIT_UNREACHABLE);
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "stackctl: cannot reach stackd at %s: %s\n",
		    path, strerror(errno));
		/* The socket is there but not for us (mode 0600): that is a
		 * refusal for our uid, not an absent daemon. */
		exit(errno == EACCES || errno == EPERM ? EXIT_FAILED :
		    EXIT_UNREACHABLE);
	}
	return fd;
}

static void
ctl_send(int fd, const char *req)
{
	size_t	len = strlen(req), off = 0;
	ssize_t	n;

	while (off < len) {
		n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		/* The daemon may answer (a refusal) and close before it
		 * read our request: the reply is still there to read. */
		if (n == -1 && (errno == EPIPE || errno == ECONNRESET))
			return;
		if (n == -1) {
			perror("stackctl: send");
			exit(EXIT_UNREACHABLE);
		}
		off += (size_t)n;
	}
}

/*
 * Read the whole reply (the daemon closes when done).  timeout_ms < 0:
 * wait forever.  Returns the malloc'd reply, or NULL on timeout.
 */
static char *
ctl_recv(int fd, int timeout_ms)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		*buf = NULL, *n;
	size_t		 len = 0, cap = 0;
	ssize_t		 r;
	int		 pr;

	for (;;) {
		pr = poll(&pfd, 1, timeout_ms);
		if (pr == -1 && errno == EINTR)
			continue;
		if (pr == 0) {
			free(buf);
			return NULL;
		}
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			if ((n = realloc(buf, cap)) == NULL) {
				perror("stackctl");
				exit(EXIT_FAILED);
			}
			buf = n;
		}
		r = read(fd, buf + len, 4096);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	if (buf == NULL && (buf = malloc(1)) == NULL)
		exit(EXIT_FAILED);
	buf[len] = '\0';
	return buf;
}

/* Print the payload, or the error; return the exit code. */
static int
ctl_result(const char *reply, bool print_payload)
{
	const char	*nl = strchr(reply, '\n');

	if (strncmp(reply, "ok", 2) == 0 && (reply[2] == '\n' ||
	    reply[2] == ' ')) {
		if (print_payload && nl != NULL)
			fputs(nl + 1, stdout);
		return EXIT_OK;
	}
	if (strncmp(reply, "error ", 6) == 0) {
		fprintf(stderr, "stackctl: %.*s\n", nl ? (int)(nl - reply - 6) :
		    (int)strlen(reply + 6), reply + 6);
		return EXIT_FAILED;
	}
	fprintf(stderr, "stackctl: no valid reply from stackd\n");
	return EXIT_UNREACHABLE;
}

static bool
ctl_write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * `events`: the first line is the verdict, everything after it is JSON
 * lines, copied through as they come until stackd closes (it exits) or we
 * are interrupted.  Written with write(2), not stdio, so every line is
 * out the moment it arrives, even into a pipe.
 */
static int
ctl_stream(int fd)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		 buf[8192], *nl;
	size_t		 len = 0;
	ssize_t		 r;
	int		 code, pr;

	/* The verdict comes within REPLY_TIMEOUT like any reply; only the
	 * events after it may take as long as they take. */
	for (;;) {
		if ((pr = poll(&pfd, 1, REPLY_TIMEOUT)) == -1 && errno == EINTR)
			continue;
		r = pr == 0 ? 0 : read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "stackctl: no reply from stackd\n");
			return EXIT_UNREACHABLE;
		}
		len += (size_t)r;
		buf[len] = '\0';
		if ((nl = strchr(buf, '\n')) != NULL)
			break;
		if (len == sizeof(buf) - 1)
			return ctl_result(buf, false);
	}
	*nl = '\0';
	if (strcmp(buf, "ok") != 0) {
		*nl = '\n';
		return ctl_result(buf, false);
	}
	len -= (size_t)(nl + 1 - buf);
	if (!ctl_write_all(STDOUT_FILENO, nl + 1, len))
		return EXIT_FAILED;
	for (;;) {
		r = read(fd, buf, sizeof(buf));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (!ctl_write_all(STDOUT_FILENO, buf, (size_t)r))
			return EXIT_FAILED;
	}
	code = r == 0 ? EXIT_OK : EXIT_UNREACHABLE;
	if (code != EXIT_OK)
		perror("stackctl: read");
	return code;
}

static const char *
ctl_socket(const char *sock, const char *file)
{
	static char		 path[256];
	char			 err[PARSE_ERRMAX];
	struct stack_conf	*cfg;

	if (sock != NULL)
		return sock;
	if (file == NULL)
		file = access("stack.ini", F_OK) == 0 ? "stack.ini" :
		    "/etc/stackd/stack.ini";
	if ((cfg = parse_socket_keys(file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "stackctl: %s\n", err);
		exit(EXIT_UNREACHABLE);
	}
	if (ctlpath(cfg, path, sizeof(path)) == -1) {
		fprintf(stderr, "stackctl: %s\n", path);
		config_free(cfg);
		exit(EXIT_UNREACHABLE);
	}
	if (cfg->control == NULL &&
	    ctlpath_dir_trusted(path, err, sizeof(err)) == -1) {
		fprintf(stderr, "stackctl: %s\n", err);
		config_free(cfg);
		exit(EXIT_UNREACHABLE);
	}
	config_free(cfg);
	return path;
}

/* Words go on one line: refuse anything that would break the framing,
 * an empty word, or an option where a level or process name goes (no
 * name starts with '-'). */
static void
ctl_check_word(const char *w)
{
	const char	*s;

	if (*w == '\0' || *w == '-')
		usage_error("bad name '%.64s'", w);
	for (s = w; *s; s++)
		if ((unsigned char)*s <= ' ')
			usage_error("bad name: a space or control character");
}

/* The request line; one that does not fit is a usage error (stackd would
 * wait for the rest of a line cut short). */
static void __attribute__((format(printf, 3, 4)))
ctl_request(char *req, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(req, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "stackctl: request too long\n");
		exit(EXIT_USAGE);
	}
}

/* `wait LEVEL --timeout 0`: `ready LEVEL`, whose answer comes at once. */
static int
ctl_wait_now(const char *sock, const char *file, const char *lvl)
{
	char	 req[4096], *reply;
	int	 fd, code;

	ctl_request(req, sizeof(req), "ready %s\n", lvl);
	fd = ctl_connect(ctl_socket(sock, file));
	ctl_send(fd, req);
	reply = ctl_recv(fd, REPLY_TIMEOUT);
	close(fd);
	if (reply == NULL) {
		fprintf(stderr, "stackctl: no reply from stackd\n");
		return EXIT_UNREACHABLE;
	}
	code = ctl_result(reply, false);
	free(reply);
	return code;
}

int
main(int argc, char *argv[])
{
	const char	*sock = NULL, *file = NULL, *cmd;
	char		 req[4096], *reply;
	msec_t		 timeout = -1;
	bool		 payload = false;
	int		 i, fd, code, ch;

	/* Asked for, the summary is no error: stdout, exit 0, as stackd. */
	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	while ((ch = getopt(argc, argv, "+s:f:h")) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'f':
			file = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (sock != NULL && file != NULL)
		usage_error("-s and -f exclude each other");
	if (argc < 1)
		usage_error("missing COMMAND");
	cmd = argv[0];
	if (strcmp(cmd, "status") == 0) {
		payload = true;
		if (argc == 2 && strcmp(argv[1], "--json") == 0)
			ctl_request(req, sizeof(req), "status json\n");
		else if (argc == 1)
			ctl_request(req, sizeof(req), "status%s\n",
			    isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL ?
			    " color" : "");
		else
			usage_command(cmd);
	} else if (strcmp(cmd, "wait") == 0) {
		const char *lvl = NULL;

		for (i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
				if (parse_duration(argv[++i], &timeout) == -1)
					usage_error("bad duration '%.64s' (say "
					    "500ms, 30s, 2m)", argv[i]);
			} else if (lvl == NULL)
				lvl = argv[i];
			else
				usage_command(cmd);
		}
		if (lvl == NULL)
			usage_command(cmd);
		ctl_check_word(lvl);
		/* Not waiting at all is asking whether it is there: that
		 * answer comes at once, where a zero poll would not see it. */
		if (timeout == 0)
			return ctl_wait_now(sock, file, lvl);
		ctl_request(req, sizeof(req), "wait %s\n", lvl);
	} else if ((strcmp(cmd, "target") == 0 && argc == 2) ||
	    (strcmp(cmd, "restart") == 0 && argc == 2) ||
	    (strcmp(cmd, "ready") == 0 && argc <= 2)) {
		if (argc == 2)
			ctl_check_word(argv[1]);
		ctl_request(req, sizeof(req), "%s%s%s\n", cmd, argc == 2 ? " " :
		    "", argc == 2 ? argv[1] : "");
	} else if ((strcmp(cmd, "reload") == 0 || strcmp(cmd, "events") == 0 ||
	    strcmp(cmd, "metrics") == 0 || strcmp(cmd, "shutdown") == 0) &&
	    argc == 1) {
		payload = strcmp(cmd, "shutdown") != 0;
		ctl_request(req, sizeof(req), "%s\n", cmd);
	} else
		usage_command(cmd);

	fd = ctl_connect(ctl_socket(sock, file));
	ctl_send(fd, req);
	if (strcmp(cmd, "events") == 0) {
		code = ctl_stream(fd);
		close(fd);
		return code;
	}
	reply = ctl_recv(fd, strcmp(cmd, "wait") == 0 ? (int)(timeout > INT32_MAX ?
	    INT32_MAX : timeout) : REPLY_TIMEOUT);
	close(fd);
	if (reply == NULL) {
		if (strcmp(cmd, "wait") == 0) {
			fprintf(stderr, "stackctl: timed out waiting for level "
			    "%.*s\n", (int)strcspn(req + 5, "\n"), req + 5);
			return EXIT_FAILED;
		}
		fprintf(stderr, "stackctl: no reply from stackd\n");
		return EXIT_UNREACHABLE;
	}
	code = ctl_result(reply, payload);
	free(reply);
	return code;
}
