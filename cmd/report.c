/* report.c: `switchyard report DIR`: a run's or a sweep's output folder as
 * DIR/report.html with gnuplot's pictures (sim/report_html/). gnuplot runs
 * here, as a child process on a script file with no shell between: the
 * determinism lint keeps processes out of sim/. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "sim/report_html/report_html.h"

/* gnuplot SCRIPT in dir; its stderr (first line kept) becomes the reason. */
static int run_gnuplot(void *ctx, const char *dir, const char *script, char *err, size_t errlen)
{
	const char *gnuplot = ctx;
	int pipefd[2];
	if (pipe(pipefd) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		if (chdir(dir) == 0)
			execlp(gnuplot, gnuplot, script, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", gnuplot, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	char buf[2048];
	size_t n = 0;
	ssize_t got;
	while ((got = read(pipefd[0], buf + n, sizeof(buf) - 1 - n)) > 0 || (got < 0 && errno == EINTR))
		n += got > 0 ? (size_t)got : 0;
	buf[n] = '\0';
	close(pipefd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	for (char *c = buf; *c; c++)
		*c = *c == '\n' ? ' ' : *c;
	snprintf(err, errlen, "%s %s/%s: %s", gnuplot, dir, script, n ? buf : "exited with an error");
	return -1;
}

int cmd_report(int argc, char **argv)
{
	const char *dir = NULL, *gnuplot = "gnuplot";
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--gnuplot") == 0 && i + 1 < argc) {
			gnuplot = argv[++i];
		} else if (argv[i][0] == '-' || dir != NULL) {
			fprintf(stderr, "switchyard report: unexpected argument '%s' (usage: switchyard report DIR "
					"[--gnuplot PATH])\n", argv[i]);
			return 2;
		} else {
			dir = argv[i];
		}
	}
	if (dir == NULL) {
		fprintf(stderr, "switchyard report: missing DIR (a run's --out folder or a sweep's)\n");
		return 2;
	}
	char err[1024] = "";
	struct rh_opts o = {.dir = dir, .plot = run_gnuplot, .plot_ctx = (void *)gnuplot};
	int rc = report_html_write(&o, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "switchyard report: %s\n", err);
		return rc;
	}
	printf("%s/report.html\n", dir);
	return 0;
}
