// lint-path: core/sip/x.c
/* time(NULL) in a comment, rand() too,
 * and socket(2, 2, 0) on a line starting with '*'. */
static const char *s = "sleep(1) and time(NULL) in a string";
static const char c = '(';
// gettimeofday(&tv, NULL) in a line comment
