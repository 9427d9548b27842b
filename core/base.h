/* base.h: types every switchyard module shares: string slices, return codes,
 * assertions and a few helpers. No module state, no OS calls. */
#ifndef SY_BASE_H
#define SY_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A zero-copy slice into a buffer someone else owns (Kamailio's `str`). */
struct sy_str {
	const char *p;
	size_t len;
};

#define SY_STR(lit) ((struct sy_str){(lit), sizeof(lit) - 1})
#define SY_STR_NULL ((struct sy_str){NULL, 0})

static inline struct sy_str sy_str_from(const char *s)
{
	return (struct sy_str){s, s ? strlen(s) : 0};
}

static inline bool sy_str_eq(struct sy_str a, struct sy_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool sy_str_ieq(struct sy_str a, struct sy_str b);
uint64_t sy_hash64(const void *p, size_t len, uint64_t seed);
/* Hex: one digit's value (-1 if not a hex digit, either case); exactly
 * 2 * n digits into out[n] (false on any other length or digit); n bytes
 * as 2 * n lowercase digits and a NUL (out holds 2 * n + 1). */
int sy_hex_digit(char c);
bool sy_unhex(const char *p, size_t len, uint8_t *out, size_t n);
void sy_hex(char *out, const uint8_t *b, size_t n);

/* Operating errors are values (nginx's NGX_OK / NGX_AGAIN / NGX_DECLINED). */
enum sy_rc {
	SY_OK = 0,
	SY_AGAIN,	  /* incomplete input or resource busy: try later */
	SY_DECLINED,	  /* a policy said no (no route, no balance) */
	SY_ERR_PARSE,	  /* malformed input */
	SY_ERR_INVAL,	  /* bad argument or value */
	SY_ERR_FULL,	  /* a pool or queue is at its bound: overload */
	SY_ERR_NOTFOUND,  /* no such object */
	SY_ERR_STATE,	  /* operation not allowed in this state */
	SY_ERR_IO,	  /* transport or store failure */
	SY_ERR_NOMEM,	  /* allocation failed at start-up */
};

const char *sy_rc_str(enum sy_rc rc);

/* Programmer errors abort, in every build (TigerBeetle). */
void sy_assert_fail(const char *expr, const char *file, int line);
#define SY_ASSERT(c) ((c) ? (void)0 : sy_assert_fail(#c, __FILE__, __LINE__))

#define SY_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* Each argument is evaluated once (an argument with a side effect or a
 * costly call is safe), both converted to the type `a < b` compares in,
 * as before; the names carry __COUNTER__ so nesting does not shadow.
 * Not for constant expressions (array sizes, static initialisers). */
#define SY_MINMAX_(a, b, op, n)                                                                                      \
	__extension__({                                                                                              \
		__typeof__(1 ? (a) : (b)) sy_a_##n = (a);                                                            \
		__typeof__(1 ? (a) : (b)) sy_b_##n = (b);                                                            \
		sy_a_##n op sy_b_##n ? sy_a_##n : sy_b_##n;                                                          \
	})
#define SY_MINMAX(a, b, op, n) SY_MINMAX_(a, b, op, n)
#define SY_MIN(a, b) SY_MINMAX(a, b, <, __COUNTER__)
#define SY_MAX(a, b) SY_MINMAX(a, b, >, __COUNTER__)
#define SY_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define SY_NS_PER_US 1000ull
#define SY_NS_PER_MS 1000000ull
#define SY_NS_PER_S 1000000000ull

/* s without leading blanks (space, tab) and trailing blanks and CR: a
 * field or line of a CSV file read with either line ending. */
struct sy_str sy_str_trim_blank(struct sy_str s);

/* A load error in a file: writes "name:line: " and the formatted message
 * into buf (len bytes, truncated, always NUL-terminated; nothing when buf
 * is NULL or len 0). Returns SY_ERR_PARSE, so a loader can
 * `return sy_parse_err(...)`. */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
enum sy_rc sy_parse_err(char *buf, size_t len, const char *name, uint32_t line, const char *fmt, ...);

#endif
