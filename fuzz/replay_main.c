/* replay_main.c: a main() for a libFuzzer harness built without libFuzzer
 * (gcc, ASan), so `make test` replays the committed corpora on any
 * compiler: every file of every directory (or file) named on the command
 * line goes through LLVMFuzzerTestOneInput once, in name order. A crash or
 * a sanitizer report fails the run; so does an empty corpus, which would
 * otherwise pass without testing anything. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness, as with libFuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

#define REPLAY_FILE_MAX (4u << 20)

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	uint8_t *buf = malloc(REPLAY_FILE_MAX);
	size_t n = buf != NULL ? fread(buf, 1, REPLAY_FILE_MAX, f) : 0;
	bool bad = buf == NULL || ferror(f) || n == REPLAY_FILE_MAX;
	fclose(f);
	if (bad) {
		fprintf(stderr, "replay: cannot read %s (or larger than %u bytes)\n", path, REPLAY_FILE_MAX);
		free(buf);
		return -1;
	}
	/* An exact-size copy, as libFuzzer passes it, so ASan sees any read
	 * past the end of the input. */
	uint8_t *data = malloc(n ? n : 1);
	memcpy(data, buf, n);
	free(buf);
	fprintf(stderr, "replay: %s\n", path);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dot(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

/* Returns the number of inputs replayed, or -1. */
static long replay_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "replay: no such file or directory: %s\n", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path) == 0 ? 1 : -1;
	struct dirent **names;
	int n = scandir(path, &names, skip_dot, by_name);
	if (n < 0) {
		fprintf(stderr, "replay: cannot list %s\n", path);
		return -1;
	}
	long done = 0;
	for (int i = 0; i < n; i++) {
		char file[4096];
		snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
		if (done >= 0 && replay_file(file) == 0)
			done++;
		else
			done = -1;
		free(names[i]);
	}
	free(names);
	return done;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	long total = 0;
	for (int i = 1; i < argc; i++) {
		long n = replay_path(argv[i]);
		if (n < 0)
			return 1;
		total += n;
	}
	if (total == 0) {
		fprintf(stderr, "replay: no inputs in %s...\n", argv[1]);
		return 1;
	}
	printf("replay: %ld inputs, no crash\n", total);
	return 0;
}
