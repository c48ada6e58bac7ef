/*
 * test_words.c -- words_split: shell-like word splitting without expansion.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "words.h"

/* Split s and compare with the NULL-terminated list of expected words. */
static void
expect_words(const char *s, const char *const *want)
{
	const char	*err = NULL;
	char		**argv;
	int		 i;

	assert_int_equal(words_split(s, &argv, &err), 0);
	assert_non_null(argv);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
	words_free(argv);
}

#define WORDS(s, ...)	\
	expect_words(s, (const char *const[]){ __VA_ARGS__, NULL })
#define NO_WORDS(s)	expect_words(s, (const char *const[]){ NULL })

static void
expect_error(const char *s, const char *msg)
{
	const char	*err = NULL;
	char		**argv = (char **)&err;	/* must be reset to NULL */

	assert_int_equal(words_split(s, &argv, &err), -1);
	assert_null(argv);
	assert_non_null(err);
	assert_string_equal(err, msg);
}

static void
test_plain(void **state)
{
	(void)state;
	WORDS("/bin/echo hello world", "/bin/echo", "hello", "world");
	WORDS("  lead   and trail  ", "lead", "and", "trail");
	WORDS("a\tb\t\tc", "a", "b", "c");
	WORDS("one", "one");
}

static void
test_empty(void **state)
{
	(void)state;
	NO_WORDS("");
	NO_WORDS("   ");
	NO_WORDS(" \t \t");
}

static void
test_single_quotes(void **state)
{
	(void)state;
	WORDS("sh -c 'echo a; echo b'", "sh", "-c", "echo a; echo b");
	/* Nothing is special inside single quotes, not even a backslash. */
	WORDS("'a\\b' '\"x\"'", "a\\b", "\"x\"");
	WORDS("''", "");
	WORDS("a '' b", "a", "", "b");
}

static void
test_double_quotes(void **state)
{
	(void)state;
	WORDS("\"a b\" c", "a b", "c");
	WORDS("\"say \\\"hi\\\"\"", "say \"hi\"");
	WORDS("\"\\\\ \\$ \\`\"", "\\ $ `");
	/* Other backslashes stay, as in sh. */
	WORDS("\"\\n\\a\"", "\\n\\a");
	WORDS("\"it's\"", "it's");
	WORDS("\"\"", "");
}

static void
test_adjacent_parts(void **state)
{
	(void)state;
	WORDS("a'b'\"c\"", "abc");
	WORDS("--opt='a b'\"c d\"e", "--opt=a bc de");
	WORDS("x''y", "xy");
}

static void
test_backslash(void **state)
{
	(void)state;
	WORDS("a\\ b c", "a b", "c");
	WORDS("\\'x\\'", "'x'");
	WORDS("\\\\", "\\");
	WORDS("a\\\nb", "ab");
	WORDS("a \\\n b", "a", "b");
}

static void
test_no_expansion(void **state)
{
	(void)state;
	WORDS("echo $HOME * ~ ; # a|b > c &", "echo", "$HOME", "*", "~",
	    ";", "#", "a|b", ">", "c", "&");
	WORDS("$(id) `id`", "$(id)", "`id`");
}

static void
test_errors(void **state)
{
	(void)state;
	expect_error("echo 'abc", "unterminated single quote");
	expect_error("echo \"abc", "unterminated double quote");
	expect_error("echo \"abc\\\"", "unterminated double quote");
	expect_error("echo abc\\", "trailing backslash");
	expect_error("'", "unterminated single quote");
}

static void
test_many_words(void **state)
{
	char		 buf[4096], *p = buf;
	char		**argv;
	const char	*err;
	int		 i;

	(void)state;
	for (i = 0; i < 300; i++)
		p += sprintf(p, "w%d ", i);
	assert_int_equal(words_split(buf, &argv, &err), 0);
	for (i = 0; i < 300; i++) {
		char	 want[16];

		snprintf(want, sizeof(want), "w%d", i);
		assert_string_equal(argv[i], want);
	}
	assert_null(argv[300]);
	words_free(argv);
	words_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_single_quotes),
		cmocka_unit_test(test_double_quotes),
		cmocka_unit_test(test_adjacent_parts),
		cmocka_unit_test(test_backslash),
		cmocka_unit_test(test_no_expansion),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_many_words),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
