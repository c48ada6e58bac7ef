/*
 * ctlpath.c -- the control socket path rules: `control =` if set, else
 * $RUNTIME_DIRECTORY/NAME.sock (systemd's RuntimeDirectory=; the first of
 * several), else /run/stackd/NAME.sock for root, else
 * $XDG_RUNTIME_DIR/stackd/NAME.sock.  A user without XDG_RUNTIME_DIR gets
 * /tmp/stackd-UID/NAME.sock, documented in stackd(8) -- in a directory
 * anyone can create first, hence ctlpath_dir_trusted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctlpath.h"

int
ctlpath(const struct stack_conf *cfg, char *buf, size_t len)
{
	struct sockaddr_un	 sun;
	const char		*rt;
	int			 n;

	if (cfg->control != NULL)
		n = snprintf(buf, len, "%s", cfg->control);
	else if ((rt = getenv("RUNTIME_DIRECTORY")) != NULL && *rt != '\0')
		n = snprintf(buf, len, "%.*s/%s.sock", (int)strcspn(rt, ":"),
		    rt, cfg->name);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/stackd/%s.sock", cfg->name);
	else if ((rt = getenv("XDG_RUNTIME_DIR")) != NULL && *rt != '\0')
		n = snprintf(buf, len, "%s/stackd/%s.sock", rt, cfg->name);
	else
		n = snprintf(buf, len, "/tmp/stackd-%lu/%s.sock",
		    (unsigned long)geteuid(), cfg->name);
	if (n < 0 || (size_t)n >= len || (size_t)n >= sizeof(sun.sun_path)) {
		snprintf(buf, len, "control socket path too long (max %zu)",
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	return 0;
}

/*
 * Another user who owns the directory (made in advance under /tmp, say)
 * could remove the socket and put their own in its place: stackd would
 * be unreachable, and stackctl would talk to them.  stat, not lstat: a
 * symbolic link is judged by where it leads.
 */
int
ctlpath_dir_trusted(const char *sockpath, char *err, size_t len)
{
	char		 dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char		*slash;
	struct stat	 sb;

	snprintf(dir, sizeof(dir), "%s", sockpath);
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &sb) == -1)
		return 0;	/* connect or bind will say why */
	if (!S_ISDIR(sb.st_mode))
		snprintf(err, len, "control socket directory %s is not a "
		    "directory", dir);
	else if (sb.st_uid != geteuid() && sb.st_uid != 0)
		snprintf(err, len, "control socket directory %s belongs to "
		    "uid %lu, not to this user or root; refusing it", dir,
		    (unsigned long)sb.st_uid);
	else if ((sb.st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (sb.st_mode & S_ISVTX) == 0)
		snprintf(err, len, "control socket directory %s is writable "
		    "by others; refusing it", dir);
	else
		return 0;
	return -1;
}
