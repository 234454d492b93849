/* fasta: the Computer Language Benchmarks Game's DNA sequence generator
 * (repeat + two weighted random sequences from a linear congruential
 * generator). Instead of printing the ~100 MB of output, it hashes the
 * output lines (FNV-1a 64) and prints the hash, so the benchmark measures
 * the generator, not the pipe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE 60
#define IM 139968
#define IA 3877
#define IC 29573

struct acid {
	char c;
	double p;
};

static unsigned long long hash = 0xcbf29ce484222325ULL;
static unsigned long long bytes;

static void out(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		hash ^= (unsigned char)s[i];
		hash *= 0x100000001b3ULL;
	}
	bytes += n;
}

static double gen_random(double max)
{
	static long last = 42;
	last = (last * IA + IC) % IM;
	return max * last / IM;
}

static void repeat(const char *alu, const char *title, int n)
{
	int len = strlen(alu), pos = 0;
	char line[LINE + 1];
	out(title, strlen(title));
	while (n > 0) {
		int m = n < LINE ? n : LINE;
		for (int i = 0; i < m; i++) {
			line[i] = alu[pos++];
			if (pos == len)
				pos = 0;
		}
		line[m] = '\n';
		out(line, m + 1);
		n -= m;
	}
}

static void random_seq(struct acid *g, int ng, const char *title, int n)
{
	char line[LINE + 1];
	double cp = 0;
	for (int i = 0; i < ng; i++) {
		cp += g[i].p;
		g[i].p = cp;
	}
	out(title, strlen(title));
	while (n > 0) {
		int m = n < LINE ? n : LINE;
		for (int i = 0; i < m; i++) {
			double r = gen_random(1.0);
			int j = 0;
			while (g[j].p < r)
				j++;
			line[i] = g[j].c;
		}
		line[m] = '\n';
		out(line, m + 1);
		n -= m;
	}
}

static const char alu[] =
	"GGCCGGGCGCGGTGGCTCACGCCTGTAATCCCAGCACTTTGG"
	"GAGGCCGAGGCGGGCGGATCACCTGAGGTCAGGAGTTCGAGA"
	"CCAGCCTGGCCAACATGGTGAAACCCCGTCTCTACTAAAAAT"
	"ACAAAAATTAGCCGGGCGTGGTGGCGCGCGCCTGTAATCCCA"
	"GCTACTCGGGAGGCTGAGGCAGGAGAATCGCTTGAACCCGGG"
	"AGGCGGAGGTTGCAGTGAGCCGAGATCGCGCCACTGCACTCC"
	"AGCCTGGGCGACAGAGCGAGACTCCGTCTCAAAAA";

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	struct acid iub[] = {
		{'a', 0.27}, {'c', 0.12}, {'g', 0.12}, {'t', 0.27},
		{'B', 0.02}, {'D', 0.02}, {'H', 0.02}, {'K', 0.02},
		{'M', 0.02}, {'N', 0.02}, {'R', 0.02}, {'S', 0.02},
		{'V', 0.02}, {'W', 0.02}, {'Y', 0.02},
	};
	struct acid homo[] = {
		{'a', 0.3029549426680}, {'c', 0.1979883004921},
		{'g', 0.1975473066391}, {'t', 0.3015094502008},
	};
	repeat(alu, ">ONE Homo sapiens alu\n", n * 2);
	random_seq(iub, 15, ">TWO IUB ambiguity codes\n", n * 3);
	random_seq(homo, 4, ">THREE Homo sapiens frequency\n", n * 5);
	printf("fasta %d: %llu bytes fnv1a %016llx\n", n, bytes, hash);
	return 0;
}
