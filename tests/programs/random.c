/* getrandom: full reads, non-zero and differing output, flags, and the
 * 0-byte and bad-buffer cases. Prints only facts, never the bytes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

int main(void)
{
	unsigned char a[64], b[64], big[4096];
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	ssize_t ra = getrandom(a, sizeof a, 0), rb = getrandom(b, sizeof b, GRND_NONBLOCK);
	int zero = 1;
	for (unsigned i = 0; i < sizeof a; i++)
		zero &= a[i] == 0;
	printf("getrandom returned %zd and %zd, all zero=%d, equal=%d\n", ra, rb, zero,
	       !memcmp(a, b, sizeof a));
	printf("getrandom 4096=%zd\n", getrandom(big, sizeof big, 0));
	unsigned counts[256] = {0}, max = 0;
	for (unsigned i = 0; i < sizeof big; i++)
		counts[big[i]]++;
	for (int i = 0; i < 256; i++)
		max = counts[i] > max ? counts[i] : max;
	printf("no byte value dominates=%d\n", max < 64);
	printf("getrandom 0 bytes=%zd\n", getrandom(a, 0, 0));
	errno = 0;
	ssize_t r = getrandom((void *)16, 16, 0);
	printf("bad buffer: %zd errno=%s\n", r, errno == EFAULT ? "EFAULT" : strerror(errno));
	errno = 0;
	r = getrandom(a, 16, 0x40000);
	printf("bad flags: %zd errno=%s\n", r, errno == EINVAL ? "EINVAL" : strerror(errno));
	return 0;
}
