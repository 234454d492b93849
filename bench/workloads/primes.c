/* primes: counts the primes below N by trial division by the primes found
 * so far (integer division heavy, like the CheerpX "primes" benchmark).
 * Prints the count and a checksum of all primes found. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], 0, 10) : 2000000;
	unsigned cap = 1024, count = 0;
	unsigned *found = malloc(cap * sizeof *found);
	unsigned long long sum = 0;

	for (unsigned c = 2; c < n; c++) {
		int prime = 1;
		for (unsigned i = 0; i < count; i++) {
			unsigned p = found[i];
			if (p * p > c)
				break;
			if (c % p == 0) {
				prime = 0;
				break;
			}
		}
		if (!prime)
			continue;
		if (count == cap)
			found = realloc(found, (cap *= 2) * sizeof *found);
		found[count++] = c;
		sum = sum * 31 + c;
	}
	printf("primes below %u: %u checksum %016llx\n", n, count, sum);
	free(found);
	return 0;
}
