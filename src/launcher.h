/*
 * launcher.h -- a small process that forks children on stackd's behalf.
 */
#ifndef STACKD_LAUNCHER_H
#define STACKD_LAUNCHER_H

#include <stdbool.h>
#include <sys/types.h>

struct spawn_req;

/* launcher_fork() could not use the launcher: fork in stackd instead;
 * after LAUNCHER_NOANSWER with an exec-status pipe of its own (a child the
 * launcher cloned before it stopped answering may hold the old one until
 * it sees it will never be let go, and exits). */
#define LAUNCHER_NONE		((pid_t)-2)
#define LAUNCHER_NOANSWER	((pid_t)-3)

/* Fork the launcher; call before the stack is read, while stackd is
 * small.  Without it (it failed, or was never started) stackd forks its
 * children itself. */
void	 launcher_start(void);
/*
 * Have the launcher fork a child for r (a child of stackd's, through
 * CLONE_PARENT) that reports on errfd as spawn.c's own children do.
 * Returns its pid, or LAUNCHER_NONE or LAUNCHER_NOANSWER if stackd must
 * fork it itself: there is no launcher (any more), or it could not fork
 * this one, or it did not answer.
 */
pid_t	 launcher_fork(const struct spawn_req *r, int errfd);
/* pid was reaped: true if it was the launcher. */
bool	 launcher_reaped(pid_t pid, int status);
/* End the launcher and reap it (stackd is finishing); children are
 * still started, by stackd itself. */
void	 launcher_stop(void);

#endif
