/* SPDX-License-Identifier: MIT */
/* Unit tests of core/utf8.c: valid text passes unchanged, each invalid
 * byte becomes U+FFFD; the all-ASCII fast path (whole words, overlapping
 * ends) misses no byte at any position of any length. */
#include "utf8.h"

#include "test_help.h"

static void check(const char *in, size_t n, const char *want)
{
	struct pbuf b;
	size_t got;

	pbuf_init(&b);
	got = utf8_append(&b, (const unsigned char *)in, n);
	T_EQ_INT(got, strlen(want));
	T_EQ_INT(b.len, strlen(want));
	T_EQ_INT(utf8_sanitized_len((const unsigned char *)in, n), strlen(want));
	T_ASSERT(memcmp(b.p, want, b.len) == 0);
	pbuf_fini(&b);
}

static void test_valid(void)
{
	check("plain ascii text, longer than eight bytes", 41,
	      "plain ascii text, longer than eight bytes");
	check("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	T_EQ_INT(utf8_valid_prefix((const unsigned char *)"\xe6\x97\xa5\xe6\x9c\xac", 6), 6);
}

static void test_invalid(void)
{
	check("a\xff" "b", 3, "a\xef\xbf\xbd" "b");
	check("\xc3", 1, "\xef\xbf\xbd");                           /* truncated */
	check("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd");           /* overlong */
	check("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
	check("\xf4\x90\x80\x80", 4,
	      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* > U+10FFFF */
	check("ok\xe2\x82", 4, "ok\xef\xbf\xbd\xef\xbf\xbd");
	T_EQ_INT(utf8_valid_prefix((const unsigned char *)"abc\x80", 4), 3);
}

/* Every length 0..80, one non-ASCII byte (a stray continuation byte,
 * or the first byte of a valid two-byte sequence) at every position:
 * the scan stops exactly there, or reads the sequence as valid. */
static void test_fast_path(void)
{
	unsigned char s[96], want[96 * 3];

	for (size_t n = 0; n <= 80; n++) {
		memset(s, 'a', sizeof(s));
		T_EQ_INT(utf8_valid_prefix(s, n), n);
		for (size_t i = 0; i < n; i++) {
			memset(s, 'a', sizeof(s));
			s[i] = 0x80;
			T_EQ_INT(utf8_valid_prefix(s, n), i);
			memcpy(want, s, i);
			memcpy(want + i, "\xef\xbf\xbd", 3);
			memcpy(want + i + 3, s + i + 1, n - i - 1);
			want[n + 2] = '\0';
			check((const char *)s, n, (const char *)want);
			if (i + 1 < n) {
				s[i] = 0xc3;
				s[i + 1] = 0xa9;
				T_EQ_INT(utf8_valid_prefix(s, n), n);
			}
		}
	}
}

int main(void)
{
	T_RUN(test_valid);
	T_RUN(test_invalid);
	T_RUN(test_fast_path);
	return 0;
}
