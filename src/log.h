/*
 * log.h -- stackd's own log lines, on stderr.
 */
#ifndef STACKD_LOG_H
#define STACKD_LOG_H

#include <syslog.h>

void	log_init(const char *ident);
void	log_msg(int prio, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* log_msg at LOG_ERR with ": strerror(errno)" appended. */
void	log_errno(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
