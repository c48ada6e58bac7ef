/*
 * ctlpath.c -- the control socket path rules: `control =` if set, else
 * $RUNTIME_DIRECTORY/NAME.sock (systemd's RuntimeDirectory=; the first of
 * several), else /run/stackd/NAME.sock for root, else
 * $XDG_RUNTIME_DIR/stackd/NAME.sock.  A user without XDG_RUNTIME_DIR gets
 * /tmp/stackd-UID/NAME.sock, documented in stackd(8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
