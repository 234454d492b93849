/* A malloc/free/realloc workout: thousands of blocks of random sizes, from a
 * few bytes (brk heap) to hundreds of KiB (mmap'ed chunks), each filled with
 * a pattern that is verified before it is freed or after it is moved. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 1000
#define OPS 20000

static unsigned char *blk[SLOTS];
static size_t len[SLOTS];
static unsigned tag[SLOTS];
static uint32_t rng = 12345;
static unsigned long failures;

static uint32_t rnd(void)
{
	rng = rng * 1103515245 + 12345;
	return rng >> 8;
}

static size_t random_size(void)
{
	uint32_t r = rnd() % 1000;
	if (r < 600)
		return rnd() % 64 + 1;
	if (r < 950)
		return rnd() % 4096 + 1;
	if (r < 995)
		return rnd() % 65536 + 1;
	return rnd() % (512 * 1024) + 128 * 1024; /* above the mmap threshold */
}

static unsigned char pattern(unsigned t, size_t i) { return (unsigned char)(t * 131 + i * 17 + (i >> 9)); }

static void fill(int s)
{
	for (size_t i = 0; i < len[s]; i++)
		blk[s][i] = pattern(tag[s], i);
}

static void verify(int s, size_t n, const char *when)
{
	for (size_t i = 0; i < n; i++)
		if (blk[s][i] != pattern(tag[s], i)) {
			if (failures++ < 10)
				printf("FAIL %s: slot %d byte %zu of %zu\n", when, s, i, n);
			return;
		}
}

static void step(unsigned op)
{
	int s = rnd() % SLOTS;
	uint32_t kind = rnd() % 10;
	if (!blk[s]) {
		len[s] = random_size();
		tag[s] = op;
		blk[s] = kind < 2 ? calloc(1, len[s]) : malloc(len[s]);
		if (kind < 2)
			for (size_t i = 0; i < len[s]; i++)
				if (blk[s][i] && failures++ < 10)
					printf("FAIL calloc not zeroed\n");
		fill(s);
	} else if (kind < 4) {
		size_t n = random_size();
		unsigned char *p = realloc(blk[s], n);
		if (!p) {
			printf("FAIL realloc returned NULL\n");
			exit(2);
		}
		blk[s] = p;
		verify(s, n < len[s] ? n : len[s], "realloc");
		len[s] = n;
		fill(s);
	} else {
		verify(s, len[s], "free");
		free(blk[s]);
		blk[s] = NULL;
	}
	if (blk[s] && ((uintptr_t)blk[s] & 7)) {
		printf("FAIL misaligned block\n");
		exit(2);
	}
}

static void aligned(void)
{
	for (size_t al = 16; al <= 65536; al *= 4) {
		void *p = NULL;
		int r = posix_memalign(&p, al, 1000);
		void *q = aligned_alloc(al, al * 2);
		printf("align %zu: posix_memalign=%d ok=%d aligned_alloc ok=%d\n", al, r,
		       ((uintptr_t)p & (al - 1)) == 0, q && ((uintptr_t)q & (al - 1)) == 0);
		free(p);
		free(q);
	}
}

int main(void)
{
	unsigned long live = 0, bytes = 0;
	for (unsigned op = 0; op < OPS; op++)
		step(op);
	for (int s = 0; s < SLOTS; s++)
		if (blk[s]) {
			verify(s, len[s], "final");
			live++;
			bytes += len[s];
			free(blk[s]);
		}
	aligned();
	printf("%d ops, %lu live blocks, %lu bytes, %lu failures\n", OPS, live, bytes, failures);
	return failures != 0;
}
