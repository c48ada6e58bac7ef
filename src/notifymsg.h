/*
 * notifymsg.h -- one sd_notify datagram from a child, parsed (notifymsg.c).
 */
#ifndef STACKD_NOTIFYMSG_H
#define STACKD_NOTIFYMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Larger datagrams are ignored whole, as systemd does (PIPE_BUF). */
#define NOTIFYMSG_MAX	4096

struct notifymsg {
	bool		 ready;		/* READY=1 */
	bool		 stopping;	/* STOPPING=1 */
	bool		 ping;		/* WATCHDOG=1 */
	bool		 trigger;	/* WATCHDOG=trigger */
	const char	*status;	/* STATUS= value, in the buffer; NULL */
	size_t		 status_len;
	pid_t		 mainpid;	/* MAINPID=, 0 if not given */
	int		 errnum;	/* ERRNO=, -1 if not given */
};

/*
 * Parse buf[0..len).  Returns 0 and fills *m, or -1 with the reason in why
 * (printable, whatever the datagram held) when the datagram is malformed;
 * a malformed datagram must be ignored whole.
 */
int	 notifymsg_parse(const char *buf, size_t len, struct notifymsg *m,
	    char *why, size_t whylen);

#endif
