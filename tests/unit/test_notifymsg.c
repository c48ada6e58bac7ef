/*
 * test_notifymsg.c -- parsing one sd_notify datagram (notifymsg.c): what
 * stackd acts on, what it ignores, and what makes it drop the datagram.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "notifymsg.h"

static int
parse(const char *s, struct notifymsg *m, char *why, size_t len)
{
	return notifymsg_parse(s, strlen(s), m, why, len);
}

static void
expect_bad(const char *s, size_t len, const char *reason)
{
	struct notifymsg	m;
	char			why[160] = "";

	assert_int_equal(notifymsg_parse(s, len, &m, why, sizeof(why)), -1);
	if (strstr(why, reason) == NULL)
		fail_msg("%s: reason \"%s\" lacks \"%s\"", s, why, reason);
}

static void
test_systemd_notify_message(void **state)
{
	struct notifymsg	m;
	char			why[160];
	const char		*s = "READY=1\nSTATUS=hello there\nMAINPID=42";

	assert_int_equal(parse(s, &m, why, sizeof(why)), 0);
	assert_true(m.ready);
	assert_false(m.stopping || m.ping || m.trigger);
	assert_int_equal(m.mainpid, 42);
	assert_int_equal(m.errnum, -1);
	assert_int_equal(m.status_len, strlen("hello there"));
	assert_memory_equal(m.status, "hello there", m.status_len);
}

static void
test_every_key(void **state)
{
	struct notifymsg	m;
	char			why[160];

	assert_int_equal(parse("STOPPING=1\nERRNO=98\nWATCHDOG=1\n", &m, why,
	    sizeof(why)), 0);
	assert_true(m.stopping && m.ping);
	assert_false(m.ready || m.trigger);
	assert_int_equal(m.errnum, 98);
	assert_null(m.status);
	assert_int_equal(parse("WATCHDOG=trigger", &m, why, sizeof(why)), 0);
	assert_true(m.trigger);
	assert_false(m.ping);
	assert_int_equal(parse("ERRNO=0", &m, why, sizeof(why)), 0);
	assert_int_equal(m.errnum, 0);
	/* an empty STATUS= clears the text: it is given, and empty */
	assert_int_equal(parse("STATUS=", &m, why, sizeof(why)), 0);
	assert_non_null(m.status);
	assert_int_equal(m.status_len, 0);
}

static void
test_status_keeps_everything_but_newlines(void **state)
{
	struct notifymsg	m;
	char			why[160];
	const char		*s = "STATUS=a=b; c\tquoted \"x\" \xff\xfe";

	assert_int_equal(parse(s, &m, why, sizeof(why)), 0);
	assert_int_equal(m.status_len, strlen(s) - 7);
	assert_memory_equal(m.status, s + 7, m.status_len);
	/* the last STATUS= of a datagram wins */
	assert_int_equal(parse("STATUS=one\nSTATUS=two", &m, why,
	    sizeof(why)), 0);
	assert_memory_equal(m.status, "two", 3);
}

static void
test_unknown_keys_ignored(void **state)
{
	struct notifymsg	m;
	char			why[160];

	assert_int_equal(parse("BARRIER=1", &m, why, sizeof(why)), 0);
	assert_int_equal(parse("RELOADING=1\nMONOTONIC_USEC=123\n"
	    "FDSTORE=1\nFDNAME=x\nEXTEND_TIMEOUT_USEC=5\nWATCHDOG_USEC=9\n"
	    "X_CUSTOM=anything at all", &m, why, sizeof(why)), 0);
	assert_false(m.ready || m.stopping || m.ping || m.trigger);
	assert_int_equal(m.mainpid, 0);
	assert_int_equal(m.errnum, -1);
}

static void
test_malformed(void **state)
{
	char	big[NOTIFYMSG_MAX + 2];

	expect_bad("", 0, "empty");
	expect_bad("READY=1\0", 8, "NUL byte at offset 7");
	expect_bad("garbage", 7, "line 1 is not KEY=VALUE: \"garbage\"");
	expect_bad("READY=1\n=1", 10, "line 2 is not KEY=VALUE");
	expect_bad("1READY=1", 8, "not KEY=VALUE");
	expect_bad("REA DY=1", 8, "not KEY=VALUE");
	expect_bad("READY=2", 7, "line 1 has a bad value: \"READY=2\"");
	expect_bad("READY=", 6, "bad value");
	expect_bad("STOPPING=yes", 12, "bad value");
	expect_bad("WATCHDOG=0", 10, "bad value");
	expect_bad("MAINPID=0", 9, "bad value");
	expect_bad("MAINPID=-5", 10, "bad value");
	expect_bad("MAINPID= 5", 10, "bad value");
	expect_bad("MAINPID=12x", 11, "bad value");
	expect_bad("MAINPID=99999999999", 19, "bad value");
	expect_bad("ERRNO=4096", 10, "bad value");
	expect_bad("ERRNO=ENOENT", 12, "bad value");
	memset(big, 'x', sizeof(big));
	memcpy(big, "STATUS=", 7);
	expect_bad(big, NOTIFYMSG_MAX + 1, "more than 4096");
}

static void
test_reason_is_printable(void **state)
{
	struct notifymsg	m;
	char			why[160], line[200];
	size_t			i;

	expect_bad("\x1b[2J" "\x07" "bell", 9, "\"?[2J?bell\"");
	/* a long line is cut short in the reason */
	memset(line, 'k', sizeof(line));
	assert_int_equal(notifymsg_parse(line, sizeof(line), &m, why,
	    sizeof(why)), -1);
	assert_true(strlen(why) < 100);
	assert_non_null(strstr(why, "...\""));
	for (i = 0; why[i] != '\0'; i++)
		assert_true(why[i] >= ' ' && why[i] < 0x7f);
}

static void
test_whole_or_nothing(void **state)
{
	struct notifymsg	m;
	char			why[160];

	/* READY=1 next to a bad line is not acted on: -1, whatever m holds */
	assert_int_equal(parse("READY=1\nMAINPID=abc", &m, why, sizeof(why)),
	    -1);
	assert_int_equal(parse("READY=1\nnonsense\n", &m, why, sizeof(why)),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_systemd_notify_message),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_status_keeps_everything_but_newlines),
		cmocka_unit_test(test_unknown_keys_ignored),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_reason_is_printable),
		cmocka_unit_test(test_whole_or_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
