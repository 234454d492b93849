/* Thread-local storage in a static program: initialised and zeroed __thread
 * variables (TLS image copied from PT_TLS, reached through %gs set up by
 * set_thread_area), arrays, and errno, which is itself thread-local. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static __thread int counter = 41;
static __thread long long big = 0x1122334455667788LL;
static __thread char name[16] = "tls-name";
static __thread int zeroed[100];
__thread int visible = 7;

static __attribute__((noinline)) int bump(void) { return ++counter; }

int main(void)
{
	printf("counter=%d\n", counter);
	printf("bump=%d\n", bump());
	printf("counter=%d\n", counter);
	printf("big=%llx name=%s\n", (unsigned long long)big, name);
	int nonzero = 0;
	for (int i = 0; i < 100; i++)
		nonzero |= zeroed[i];
	printf("zeroed all zero=%d\n", !nonzero);
	for (int i = 0; i < 100; i++)
		zeroed[i] = i * i;
	long sum = 0;
	for (int i = 0; i < 100; i++)
		sum += zeroed[i];
	printf("sum=%ld visible=%d\n", sum, visible);
	uintptr_t a = (uintptr_t)&counter, b = (uintptr_t)&zeroed[0];
	printf("tls vars within one block=%d\n", (a > b ? a - b : b - a) < 4096);
	errno = 0;
	close(-1);
	printf("errno after close(-1)=%d (EBADF=%d)\n", errno, EBADF);
	return 0;
}
