/*
 * test_launchmsg.c -- the launcher's wire format (launchmsg.c): a spawn
 * request comes out of the message as it went in, a request that does
 * not fit is refused by stackd's side, and the launcher's side refuses
 * every message that is not whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launchmsg.h"

static char	msg[LAUNCH_MAX];

/* Room for an unpacked request, aligned as struct launch_req. */
static struct launch_req *
new_lr(void)
{
	struct launch_req	*lr = malloc(LAUNCH_LRSIZE);

	assert_non_null(lr);
	return lr;
}

static void
assert_strv_equal(char *const *got, char *const *want)
{
	int	i;

	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(got[i]);
		assert_string_equal(got[i], want[i]);
		/* it points into the message, not at the sender's string */
		assert_true(got[i] >= msg && got[i] < msg + sizeof(msg));
	}
	assert_null(got[i]);
}

static void
test_round_trip_everything(void **state)
{
	char			*argv[] = { "/usr/bin/env", "-i", "a b", NULL };
	char			 own[] = "STACKD_PID=          ";
	char			*env[] = { "A=1", own, "B=", NULL };
	gid_t			 groups[] = { 4, 24, 27 };
	struct proc_conf	 pc = {
		.has_user = true, .uid = 1000, .has_group = true, .gid = 100,
		.groups = groups, .ngroups = 3, .workdir = "/srv/www",
		.has_umask = true, .umask = 027, .has_nofile = true,
		.nofile = 65536, .has_core = true, .core = UINT64_MAX,
		.has_nice = true, .nice = -5,
	};
	struct spawn_req	 r = {
		.argv = argv, .env = env, .pc = &pc, .out_fd = 7, .err_fd = 8,
		.ready_fd = 9, .ready_num = 3, .own_pid = own + 11,
	};
	struct launch_req	*lr = new_lr();
	int			 fds[LAUNCH_FDS], want[] = { 5, 7, 8, 9 };
	size_t			 len;

	assert_int_equal(launchmsg_fds(&r, 5, fds), 4);
	assert_memory_equal(fds, want, sizeof(want));
	len = launchmsg_pack(&r, msg);
	assert_true(len > 0 && len <= sizeof(msg));
	/* the launcher gets different numbers for the same descriptors */
	fds[1] = 11, fds[2] = 12, fds[3] = 13;
	assert_int_equal(launchmsg_unpack(msg, len, fds, 4, lr), 0);

	assert_strv_equal(lr->req.argv, argv);
	assert_strv_equal(lr->req.env, env);
	assert_ptr_equal(lr->req.own_pid, lr->req.env[1] + 11);
	assert_int_equal(lr->req.out_fd, 11);
	assert_int_equal(lr->req.err_fd, 12);
	assert_int_equal(lr->req.ready_fd, 13);
	assert_int_equal(lr->req.ready_num, 3);
	assert_ptr_equal(lr->req.pc, &lr->pc);
	assert_true(lr->pc.has_user && lr->pc.uid == 1000);
	assert_true(lr->pc.has_group && lr->pc.gid == 100);
	assert_int_equal(lr->pc.ngroups, 3);
	assert_memory_equal(lr->pc.groups, groups, sizeof(groups));
	assert_string_equal(lr->pc.workdir, "/srv/www");
	assert_true(lr->pc.has_umask && lr->pc.umask == 027);
	assert_true(lr->pc.has_nofile && lr->pc.nofile == 65536);
	assert_true(lr->pc.has_core && lr->pc.core == UINT64_MAX);
	assert_true(lr->pc.has_nice && lr->pc.nice == -5);
	free(lr);
}

static void
test_round_trip_bare(void **state)
{
	char			*argv[] = { "true", NULL };
	char			*env[] = { NULL };
	struct spawn_req	 r = {
		.argv = argv, .env = env, .out_fd = -1, .err_fd = -1,
		.ready_fd = -1,
	};
	struct launch_req	*lr = new_lr();
	int			 fds[LAUNCH_FDS];
	size_t			 len;

	assert_int_equal(launchmsg_fds(&r, 5, fds), 1);
	assert_int_equal(fds[0], 5);
	assert_true((len = launchmsg_pack(&r, msg)) > 0);
	assert_int_equal(launchmsg_unpack(msg, len, fds, 1, lr), 0);
	assert_strv_equal(lr->req.argv, argv);
	assert_null(lr->req.env[0]);
	assert_null(lr->req.pc);
	assert_null(lr->req.own_pid);
	assert_int_equal(lr->req.out_fd, -1);
	assert_int_equal(lr->req.err_fd, -1);
	assert_int_equal(lr->req.ready_fd, -1);
	free(lr);
}

/* Too many strings, too many bytes, or a pid slot outside env: stackd
 * forks that child itself. */
static void
test_pack_refuses_what_does_not_fit(void **state)
{
	char			*argv[] = { "x", NULL };
	char			**env = calloc(LAUNCH_PTRS + 1, sizeof(char *));
	char			*big = malloc(LAUNCH_MAX + 1), own[16] = "P=";
	struct spawn_req	 r = {
		.argv = argv, .env = env, .out_fd = -1, .err_fd = -1,
		.ready_fd = -1,
	};
	int			 i;

	assert_non_null(env);
	assert_non_null(big);
	/* argv, env and their two NULLs in LAUNCH_PTRS pointers */
	for (i = 0; i < LAUNCH_PTRS - 3; i++)
		env[i] = "K=V";
	assert_true(launchmsg_pack(&r, msg) > 0);	/* just fits */
	env[LAUNCH_PTRS - 3] = "K=V";
	assert_int_equal(launchmsg_pack(&r, msg), 0);

	memset(env, 0, (LAUNCH_PTRS + 1) * sizeof(char *));
	memset(big, 'x', LAUNCH_MAX);
	big[LAUNCH_MAX] = '\0';
	env[0] = big;
	assert_int_equal(launchmsg_pack(&r, msg), 0);

	env[0] = "A=1";
	r.own_pid = own;
	assert_int_equal(launchmsg_pack(&r, msg), 0);
	free(big);
	free(env);
}

/* A message cut anywhere, or with the wrong descriptors, is not one. */
static void
test_unpack_refuses_partial_messages(void **state)
{
	char			*argv[] = { "/bin/sleep", "300", NULL };
	char			 own[] = "STACKD_PID=          ";
	char			*env[] = { own, "X=y", NULL };
	struct proc_conf	 pc = { .workdir = "/", .has_user = true,
					.ngroups = 0 };
	struct spawn_req	 r = {
		.argv = argv, .env = env, .pc = &pc, .out_fd = 3,
		.err_fd = -1, .ready_fd = -1, .own_pid = own + 11,
	};
	struct launch_req	*lr = new_lr();
	int			 fds[LAUNCH_FDS] = { 5, 6, 7, 8 };
	size_t			 len, cut;

	assert_true((len = launchmsg_pack(&r, msg)) > 0);
	assert_int_equal(launchmsg_unpack(msg, len, fds, 2, lr), 0);
	for (cut = 0; cut < len; cut++)
		if (launchmsg_unpack(msg, cut, fds, 2, lr) != -1)
			fail_msg("a message cut at %zu of %zu was taken", cut,
			    len);
	assert_int_equal(launchmsg_unpack(msg, len, fds, 1, lr), -1);
	assert_int_equal(launchmsg_unpack(msg, len, fds, 3, lr), -1);
	assert_int_equal(launchmsg_unpack(msg, len, fds, 0, lr), -1);
	free(lr);
}

/* The pid slot must lie inside its env string, with room for any pid. */
static void
test_unpack_refuses_a_pid_slot_outside_env(void **state)
{
	char			*argv[] = { "x", NULL };
	char			 own[] = "P=          ";
	char			*env[] = { own, NULL };
	struct spawn_req	 r = {
		.argv = argv, .env = env, .out_fd = -1, .err_fd = -1,
		.ready_fd = -1,
	};
	struct launch_req	*lr = new_lr();
	int			 fds[1] = { 5 };
	size_t			 len;

	r.own_pid = own + 2;		/* ten spaces left: room */
	assert_true((len = launchmsg_pack(&r, msg)) > 0);
	assert_int_equal(launchmsg_unpack(msg, len, fds, 1, lr), 0);
	r.own_pid = own + 3;		/* nine: a long pid would spill */
	assert_true((len = launchmsg_pack(&r, msg)) > 0);
	assert_int_equal(launchmsg_unpack(msg, len, fds, 1, lr), -1);
	free(lr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_everything),
		cmocka_unit_test(test_round_trip_bare),
		cmocka_unit_test(test_pack_refuses_what_does_not_fit),
		cmocka_unit_test(test_unpack_refuses_partial_messages),
		cmocka_unit_test(test_unpack_refuses_a_pid_slot_outside_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
