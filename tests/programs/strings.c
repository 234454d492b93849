/* glibc's string functions over many sizes and alignments, checked against
 * naive byte loops. glibc picks SSE2/AVX variants by CPUID at startup, so
 * this also covers whichever variants the emulated CPU leads it to.
 *
 * Strings are also placed so they end exactly at a page boundary followed
 * by an inaccessible page: vectorised routines must not fault there. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BUF 1024
static unsigned char src_buf[BUF + 64], dst_buf[BUF + 64], ref_buf[BUF + 64];
static unsigned long checks, failures;
static const unsigned sizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33,
				 47, 48, 63, 64, 65, 95, 127, 128, 129, 200, 255,
				 256, 257, 511, 512, 700, 1000};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static void check(int ok, const char *what, unsigned size, unsigned a, unsigned b)
{
	checks++;
	if (!ok && failures++ < 20)
		printf("FAIL %s size=%u align=%u/%u\n", what, size, a, b);
}

static void fill(unsigned char *p, unsigned n, unsigned seed)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 3)) | 1;
}

static int sign(int x) { return (x > 0) - (x < 0); }

static void test_mem(void)
{
	for (unsigned si = 0; si < NSIZES; si++)
		for (unsigned sa = 0; sa < 16; sa++)
			for (unsigned da = 0; da < 16; da += 3) {
				unsigned n = sizes[si];
				fill(src_buf, sizeof src_buf, n + sa);
				memset(dst_buf, 0xee, sizeof dst_buf);
				memcpy(dst_buf + da, src_buf + sa, n);
				memset(ref_buf, 0xee, sizeof ref_buf);
				for (unsigned i = 0; i < n; i++)
					ref_buf[da + i] = src_buf[sa + i];
				check(!memcmp(dst_buf, ref_buf, sizeof ref_buf), "memcpy", n, sa, da);
				check(memcmp(dst_buf + da, src_buf + sa, n) == 0, "memcmp-eq", n, sa, da);
				if (n) {
					unsigned p = (sa * 5 + da) % n;
					dst_buf[da + p] ^= 0x80;
					int r = memcmp(dst_buf + da, src_buf + sa, n);
					check(sign(r) == (dst_buf[da + p] > src_buf[sa + p] ? 1 : -1),
					      "memcmp-ne", n, sa, da);
					check(memchr(src_buf + sa, src_buf[sa + p], n) != NULL, "memchr", n, sa, da);
				}
				memset(dst_buf + da, sa, n);
				unsigned ok = 1;
				for (unsigned i = 0; i < n; i++)
					ok &= dst_buf[da + i] == sa;
				ok &= dst_buf[da + n] == (n + da < BUF ? ref_buf[da + n] : dst_buf[da + n]);
				check(ok, "memset", n, sa, da);
			}
}

static void test_memmove(void)
{
	static unsigned char orig[BUF + 64];
	for (unsigned si = 0; si < NSIZES; si++)
		for (unsigned off = 0; off < 40; off += 3) {
			unsigned n = sizes[si] > BUF - 48 ? BUF - 48 : sizes[si];
			fill(dst_buf, sizeof dst_buf, n);
			memcpy(orig, dst_buf, sizeof orig);
			memmove(dst_buf + off, dst_buf + 5, n);
			check(!memcmp(dst_buf + off, orig + 5, n), "memmove-up", n, off, 5);
			fill(dst_buf, sizeof dst_buf, n + 1);
			memcpy(orig, dst_buf, sizeof orig);
			memmove(dst_buf + 5, dst_buf + off, n);
			check(!memcmp(dst_buf + 5, orig + off, n), "memmove-down", n, off, 5);
		}
}

static unsigned naive_strlen(const char *s)
{
	unsigned n = 0;
	while (s[n])
		n++;
	return n;
}

static void test_str(void)
{
	char *a = (char *)src_buf, *b = (char *)dst_buf;
	for (unsigned n = 0; n < 300; n += (n < 70 ? 1 : 13))
		for (unsigned al = 0; al < 16; al++) {
			fill(src_buf, sizeof src_buf, n);
			a[al + n] = 0;
			check(strlen(a + al) == n && naive_strlen(a + al) == n, "strlen", n, al, 0);
			check(strnlen(a + al, n / 2) == n / 2, "strnlen", n, al, 0);
			unsigned bl = (al * 7) % 16;
			strcpy(b + bl, a + al);
			check(strcmp(b + bl, a + al) == 0, "strcpy/strcmp", n, al, bl);
			if (n) {
				unsigned p = (al * 3) % n;
				/* fill() makes odd bytes, so this never makes a NUL. */
				b[bl + p] ^= 0x40;
				int gt = (unsigned char)b[bl + p] > (unsigned char)a[al + p] ? 1 : -1;
				check(sign(strcmp(b + bl, a + al)) == gt, "strcmp-ne", n, al, bl);
				check(sign(strncmp(b + bl, a + al, p)) == 0, "strncmp-prefix", n, al, bl);
				check(sign(strncmp(a + al, b + bl, n)) == -gt, "strncmp-ne", n, al, bl);
				b[bl + p] ^= 0x40;
				char c = a[al + p];
				char *first = strchr(a + al, c), *last = strrchr(a + al, c);
				check(first && *first == c && first <= a + al + p, "strchr", n, al, p);
				check(last && *last == c && last >= a + al + p, "strrchr", n, al, p);
				check(strstr(a + al, a + al + p) == a + al + p ||
					      strstr(a + al, a + al + p) < a + al + p,
				      "strstr", n, al, p);
			}
			check(strchr(a + al, 0) == a + al + n, "strchr-nul", n, al, 0);
			check(strchr(a + al, 2) == NULL, "strchr-miss", n, al, 0);
			strcpy(b, "prefix-");
			strcat(b, a + al);
			check(strlen(b) == n + 7 && !strcmp(b + 7, a + al), "strcat", n, al, 0);
			char *d = strdup(a + al);
			check(d && !strcmp(d, a + al), "strdup", n, al, 0);
			free(d);
		}
	check(strspn("aabbccxyz", "abc") == 6, "strspn", 0, 0, 0);
	check(strcspn("hello, world", ",;") == 5, "strcspn", 0, 0, 0);
	char tok[] = "  alpha beta,,gamma ";
	unsigned count = 0;
	for (char *t = strtok(tok, " ,"); t; t = strtok(NULL, " ,"))
		count++;
	check(count == 3, "strtok", 0, 0, 0);
}

/* The last byte of a string sits at the end of a readable page; the next
 * page is PROT_NONE. */
static void test_page_edge(void)
{
	long page = 4096;
	char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + page, page, PROT_NONE) != 0) {
		printf("mmap/mprotect failed\n");
		return;
	}
	for (unsigned n = 0; n < 100; n++) {
		char *s = m + page - 1 - n;
		memset(s, 'x', n);
		s[n] = 0;
		check(strlen(s) == n, "strlen-edge", n, 0, 0);
		check(strchr(s, 'y') == NULL, "strchr-edge", n, 0, 0);
		check(memchr(s, 0, n + 1) == s + n, "memchr-edge", n, 0, 0);
		check(strcmp(s, s) == 0, "strcmp-edge", n, 0, 0);
		char *t = malloc(n + 1);
		strcpy(t, s);
		check(strcmp(t, s) == 0 && strrchr(s, 'x') == (n ? s + n - 1 : NULL),
		      "strcpy-edge", n, 0, 0);
		free(t);
	}
	munmap(m, 2 * page);
}

int main(void)
{
	test_mem();
	test_memmove();
	test_str();
	test_page_edge();
	printf("%lu checks, %lu failures\n", checks, failures);
	return failures != 0;
}
