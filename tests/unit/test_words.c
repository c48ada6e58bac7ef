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
expect_words(const char *s, ...)
{
	va_list		 ap;
	const char	*want, *err = NULL;
	char		**argv;
	int		 i = 0;

	assert_int_equal(words_split(s, &argv, &err), 0);
	assert_non_null(argv);
	va_start(ap, s);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want);
		i++;
	}
	va_end(ap);
	assert_null(argv[i]);
	words_free(argv);
}

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
	expect_words("/bin/echo hello world", "/bin/echo", "hello", "world",
	    NULL);
	expect_words("  lead   and trail  ", "lead", "and", "trail", NULL);
	expect_words("a\tb\t\tc", "a", "b", "c", NULL);
	expect_words("one", "one", NULL);
}

static void
test_empty(void **state)
{
	(void)state;
	expect_words("", NULL);
	expect_words("   ", NULL);
	expect_words(" \t \t", NULL);
}

static void
test_single_quotes(void **state)
{
	(void)state;
	expect_words("sh -c 'echo a; echo b'", "sh", "-c", "echo a; echo b",
	    NULL);
	/* Nothing is special inside single quotes, not even a backslash. */
	expect_words("'a\\b' '\"x\"'", "a\\b", "\"x\"", NULL);
	expect_words("''", "", NULL);
	expect_words("a '' b", "a", "", "b", NULL);
}

static void
test_double_quotes(void **state)
{
	(void)state;
	expect_words("\"a b\" c", "a b", "c", NULL);
	expect_words("\"say \\\"hi\\\"\"", "say \"hi\"", NULL);
	expect_words("\"\\\\ \\$ \\`\"", "\\ $ `", NULL);
	/* Other backslashes stay, as in sh. */
	expect_words("\"\\n\\a\"", "\\n\\a", NULL);
	expect_words("\"it's\"", "it's", NULL);
	expect_words("\"\"", "", NULL);
}

static void
test_adjacent_parts(void **state)
{
	(void)state;
	expect_words("a'b'\"c\"", "abc", NULL);
	expect_words("--opt='a b'\"c d\"e", "--opt=a bc de", NULL);
	expect_words("x''y", "xy", NULL);
}

static void
test_backslash(void **state)
{
	(void)state;
	expect_words("a\\ b c", "a b", "c", NULL);
	expect_words("\\'x\\'", "'x'", NULL);
	expect_words("\\\\", "\\", NULL);
	expect_words("a\\\nb", "ab", NULL);
	expect_words("a \\\n b", "a", "b", NULL);
}

static void
test_no_expansion(void **state)
{
	(void)state;
	expect_words("echo $HOME * ~ ; # a|b > c &", "echo", "$HOME", "*", "~",
	    ";", "#", "a|b", ">", "c", "&", NULL);
	expect_words("$(id) `id`", "$(id)", "`id`", NULL);
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
