/*
 * sdlib.c -- libsystemd, loaded on first use.
 *
 * stackd uses three functions of libsystemd: sd_notify, sd_notifyf and
 * sd_watchdog_enabled, to talk to systemd (notify.c).  (log = journal
 * makes its streams itself, relay.c: sd_journal_stream_fd's connect
 * would block the event loop on a hung journald.)  Linked in, libsystemd
 * is mapped into every stackd together with everything it links --
 * libgcrypt, libgpg-error, libzstd, liblzma, liblz4, libcap: some 830 KiB
 * of memory in a container where nothing else maps them, and a lot of
 * code in the address space of what is often PID 1 that stackd never
 * runs.  The xz backdoor of 2024 (CVE-2024-3094) reached sshd by just
 * this path, liblzma loaded through libsystemd.  So stackd opens
 * libsystemd.so.0 with dlopen(3) the first time it needs it -- when
 * NOTIFY_SOCKET is set -- as
 * systemd itself does for its optional libraries.  Nothing changes but
 * the moment: the prototypes come from libsystemd-dev's headers, the
 * package still depends on libsystemd0.
 *
 * If the library or one of its functions cannot be loaded, that is
 * logged once, with dlerror's reason; every function here then returns
 * -ELIBACC ("cannot access a needed shared library"), which their callers
 * report like any other failure of libsystemd.
 *
 * sd_notifyf is variadic, so a pointer to it cannot be passed a va_list:
 * sdlib_notifyf formats the message itself and hands it to sd_notify.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "sdlib.h"

#define SDLIB_SONAME	"libsystemd.so.0"

static enum { SDLIB_UNTRIED, SDLIB_LOADED, SDLIB_FAILED } sdlib_state;

static __typeof__(sd_notify)		*sdlib_sd_notify;
static __typeof__(sd_watchdog_enabled)	*sdlib_sd_watchdog_enabled;

static const char *
sdlib_error(void)
{
	const char	*e = dlerror();

	return e != NULL ? e : "unknown error";
}

/* Once, since sdlib_load is never tried again: what is missing, and why. */
static void
sdlib_failed(void)
{
	log_msg(LOG_ERR, "cannot load %s: %s; no notifications to systemd",
	    SDLIB_SONAME, sdlib_error());
}

/* Resolve every function, or none: false when one is missing. */
static bool
sdlib_resolve(void *h)
{
	dlerror();
	sdlib_sd_notify = (__typeof__(sdlib_sd_notify))dlsym(h, "sd_notify");
	sdlib_sd_watchdog_enabled = (__typeof__(sdlib_sd_watchdog_enabled))
	    dlsym(h, "sd_watchdog_enabled");
	if (sdlib_sd_notify != NULL && sdlib_sd_watchdog_enabled != NULL)
		return true;
	sdlib_sd_notify = NULL;
	sdlib_sd_watchdog_enabled = NULL;
	return false;
}

/* Load libsystemd if not yet tried; false (logged once) without it. */
bool
sdlib_load(void)
{
	void	*h;

	if (sdlib_state != SDLIB_UNTRIED)
		return sdlib_state == SDLIB_LOADED;
	sdlib_state = SDLIB_FAILED;
	if ((h = dlopen(SDLIB_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		sdlib_failed();
		return false;
	}
	if (!sdlib_resolve(h)) {
		sdlib_failed();
		dlclose(h);
		return false;
	}
	/* Never closed: its functions are wanted until exit. */
	sdlib_state = SDLIB_LOADED;
	return true;
}

int
sdlib_notify(int unset_environment, const char *state)
{
	if (!sdlib_load())
		return -ELIBACC;
	return sdlib_sd_notify(unset_environment, state);
}

int
sdlib_notifyf(int unset_environment, const char *fmt, ...)
{
	va_list	 ap;
	char	*state;
	int	 n;

	if (!sdlib_load())
		return -ELIBACC;
	va_start(ap, fmt);
	n = vasprintf(&state, fmt, ap);
	va_end(ap);
	if (n == -1)
		return -ENOMEM;
	n = sdlib_sd_notify(unset_environment, state);
	free(state);
	return n;
}

int
sdlib_watchdog_enabled(int unset_environment, uint64_t *usec)
{
	if (!sdlib_load())
		return -ELIBACC;
	return sdlib_sd_watchdog_enabled(unset_environment, usec);
}
