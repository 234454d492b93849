/* argv, the environment and the auxiliary vector as a program sees them at
 * startup. The test runs it with a cleared environment plus a few known
 * variables, so everything printed is deterministic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

int main(int argc, char **argv)
{
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=[%s]\n", i, argv[i]);
	printf("argv[argc]=%s\n", argv[argc] ? "non-null" : "null");

	int n = 0;
	while (environ[n])
		n++;
	char **sorted = malloc((n + 1) * sizeof *sorted);
	memcpy(sorted, environ, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, cmp);
	printf("%d environment variables\n", n);
	for (int i = 0; i < n; i++)
		printf("env [%s]\n", sorted[i]);
	const char *v = getenv("WAXT_SPACES");
	printf("getenv(WAXT_SPACES)=[%s] getenv(WAXT_NOPE)=%s\n", v ? v : "(null)",
	       getenv("WAXT_NOPE") ? "set" : "(null)");
	setenv("WAXT_NEW", "fresh", 1);
	printf("after setenv: [%s]\n", getenv("WAXT_NEW"));

	printf("AT_PAGESZ=%lu AT_UID=%lu AT_EUID=%lu AT_GID=%lu AT_EGID=%lu AT_SECURE=%lu\n",
	       getauxval(AT_PAGESZ), getauxval(AT_UID), getauxval(AT_EUID), getauxval(AT_GID),
	       getauxval(AT_EGID), getauxval(AT_SECURE));
	const unsigned char *random = (const unsigned char *)getauxval(AT_RANDOM);
	int nonzero = 0;
	for (int i = 0; random && i < 16; i++)
		nonzero |= random[i];
	printf("AT_RANDOM present=%d nonzero=%d\n", random != NULL, nonzero != 0);
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	printf("AT_EXECFN matches argv[0]=%d\n", execfn && !strcmp(execfn, argv[0]));
	printf("uid=%d euid=%d gid=%d egid=%d\n", (int)getuid(), (int)geteuid(), (int)getgid(),
	       (int)getegid());
	printf("sysconf(_SC_PAGESIZE)=%ld\n", sysconf(_SC_PAGESIZE));
	return 0;
}
