/*
 * log.h -- stackd's own log lines, on stderr.
 */
#ifndef STACKD_LOG_H
#define STACKD_LOG_H

#include <syslog.h>

#include <ev.h>

void	log_init(const char *ident);
/* From here on, lines wait in a bounded queue rather than block stackd. */
void	log_attach(struct ev_loop *);
/* At exit: the queue gets a second without progress, then writes wait
 * again. */
void	log_detach(void);
void	log_msg(int prio, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* log_msg at LOG_ERR with ": strerror(errno)" appended. */
void	log_errno(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
