/* Sorting: qsort on integers and strings, a hand-written merge sort and heap
 * sort (lots of compares, branches and indexed loads), and bsearch. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 50000

static uint32_t rng = 2463534242u;
static uint32_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static uint32_t hash_ints(const int *v, int n)
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < n; i++)
		h = (h ^ (uint32_t)v[i]) * 16777619u;
	return h;
}

static int sorted(const int *v, int n)
{
	for (int i = 1; i < n; i++)
		if (v[i - 1] > v[i])
			return 0;
	return 1;
}

static void merge_sort(int *v, int *tmp, int n)
{
	if (n < 2)
		return;
	int h = n / 2;
	merge_sort(v, tmp, h);
	merge_sort(v + h, tmp, n - h);
	int i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = v[i] <= v[j] ? v[i++] : v[j++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof *v);
}

static void sift(int *v, int root, int n)
{
	for (int child; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n && v[child + 1] > v[child])
			child++;
		if (v[root] >= v[child])
			return;
		int t = v[root];
		v[root] = v[child];
		v[child] = t;
	}
}

static void heap_sort(int *v, int n)
{
	for (int i = n / 2 - 1; i >= 0; i--)
		sift(v, i, n);
	for (int end = n - 1; end > 0; end--) {
		int t = v[0];
		v[0] = v[end];
		v[end] = t;
		sift(v, 0, end);
	}
}

int main(void)
{
	static int a[N], b[N], c[N], tmp[N];
	for (int i = 0; i < N; i++)
		a[i] = b[i] = c[i] = (int)xorshift() >> (i % 7);
	qsort(a, N, sizeof *a, cmp_int);
	merge_sort(b, tmp, N);
	heap_sort(c, N);
	printf("qsort sorted=%d hash=%08x min=%d max=%d median=%d\n", sorted(a, N),
	       hash_ints(a, N), a[0], a[N - 1], a[N / 2]);
	printf("merge sorted=%d same=%d\n", sorted(b, N), !memcmp(a, b, sizeof a));
	printf("heap sorted=%d same=%d\n", sorted(c, N), !memcmp(a, c, sizeof a));

	int found = 0;
	for (int i = 0; i < N; i += 7)
		found += bsearch(&b[i], a, N, sizeof *a, cmp_int) != NULL;
	int missing = -12345677;
	printf("bsearch found=%d missing=%d\n", found,
	       bsearch(&missing, a, N, sizeof *a, cmp_int) != NULL);

	enum { NS = 5000 };
	static char words[NS][16];
	static char *ptr[NS];
	for (int i = 0; i < NS; i++) {
		int n = xorshift() % 12 + 1;
		for (int j = 0; j < n; j++)
			words[i][j] = 'a' + xorshift() % 26;
		ptr[i] = words[i];
	}
	qsort(ptr, NS, sizeof *ptr, cmp_str);
	int ok = 1;
	for (int i = 1; i < NS; i++)
		ok &= strcmp(ptr[i - 1], ptr[i]) <= 0;
	printf("strings sorted=%d first=%s last=%s middle=%s\n", ok, ptr[0], ptr[NS - 1], ptr[NS / 2]);
	return 0;
}
