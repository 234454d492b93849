/* printf and friends: integer conversions of every length modifier, flags,
 * widths and precisions, strings, snprintf truncation, and output to both
 * stdout and stderr (stderr is unbuffered, so it is written in small
 * pieces). Ends with a large buffered block of output. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void ints(void)
{
	static const long long vals[] = {0, 1, -1, 7, -42, 255, 256, 65535, -32768,
					 INT_MAX, INT_MIN, UINT_MAX, LLONG_MAX, LLONG_MIN,
					 1234567890123LL};
	static const char *fmts[] = {"[%d]", "[%5d]", "[%-5d|]", "[%05d]", "[%+d]", "[% d]",
				     "[%.3d]", "[%8.3d]", "[%x]", "[%#x]", "[%X]", "[%o]",
				     "[%#o]", "[%u]", "[%hhd]", "[%hd]", "[%hhu]", "[%hx]"};
	for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		for (unsigned f = 0; f < sizeof fmts / sizeof fmts[0]; f++)
			printf(fmts[f], (int)vals[i]);
		printf(" [%lld] [%llu] [%llx] [%-22lld|] [%022lld] [%jd] [%zu] [%ld]\n", vals[i],
		       (unsigned long long)vals[i], (unsigned long long)vals[i], vals[i], vals[i],
		       (intmax_t)vals[i], (size_t)vals[i], (long)vals[i]);
	}
	printf("[%*d] [%-*d] [%.*d] [%c%c%c] [%%] [%5c]\n", 6, 42, 6, 42, 4, 7, 'a', 'b', 'c', 'z');
}

static void strings(void)
{
	const char *s = "hello, world";
	printf("[%s] [%20s] [%-20s|] [%.5s] [%20.5s] [%.*s] [%s]\n", s, s, s, s, s, 3, s, "");
	char buf[16];
	int n = snprintf(buf, sizeof buf, "%s and %s and %d", s, s, 12345);
	printf("snprintf returned %d, buf=[%s]\n", n, buf);
	n = snprintf(NULL, 0, "%0100d", 1);
	printf("snprintf(NULL) returned %d\n", n);
	char big[300];
	n = sprintf(big, "%-100s|%100s|", "left", "right");
	printf("sprintf returned %d, strlen=%zu\n", n, strlen(big));
}

static void streams(void)
{
	fprintf(stderr, "to stderr: %d %s\n", 99, "bottles");
	fputs("fputs to stdout\n", stdout);
	fputc('!', stderr);
	fputc('\n', stderr);
	puts("puts");
	putchar('x');
	putchar('\n');
	fwrite("fwrite\n", 1, 7, stdout);
	fflush(stdout);
	fprintf(stderr, "after flush\n");
}

static void bulk(void)
{
	unsigned long sum = 0;
	for (int i = 0; i < 3000; i++) {
		printf("line %5d: %08x %-10s|%+6d\n", i, i * 2654435761u, i % 3 ? "fizz" : "buzz",
		       i - 1500);
		sum += i;
	}
	printf("sum %lu\n", sum);
}

int main(void)
{
	ints();
	strings();
	streams();
	bulk();
	return 0;
}
