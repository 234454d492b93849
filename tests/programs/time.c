/* Clock sanity: the realtime clocks agree with each other, the monotonic
 * clock never goes backwards, and sleeping advances it. Prints "ok" lines
 * (or the offending values), never the times themselves. */
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

static double ts(struct timespec t) { return t.tv_sec + t.tv_nsec / 1e9; }

int main(void)
{
	int bad = 0;
	struct timespec rt, mono, prev, res;
	time_t now = time(NULL);
	clock_gettime(CLOCK_REALTIME, &rt);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	/* 2020-01-01 < now: the clock is a real wall clock, not zero. */
	int ok = now > 1577836800 && rt.tv_sec - now <= 2 && rt.tv_sec >= now &&
		 tv.tv_sec - rt.tv_sec <= 2 && tv.tv_sec >= rt.tv_sec && rt.tv_nsec < 1000000000 &&
		 tv.tv_usec < 1000000;
	printf("realtime %s\n", ok ? "ok" : "BAD");
	if (!ok)
		printf("  time=%lld realtime=%lld.%09ld tod=%lld.%06ld\n", (long long)now,
		       (long long)rt.tv_sec, rt.tv_nsec, (long long)tv.tv_sec, (long)tv.tv_usec);
	bad += !ok;

	clock_gettime(CLOCK_MONOTONIC, &prev);
	ok = 1;
	for (int i = 0; i < 1000; i++) {
		clock_gettime(CLOCK_MONOTONIC, &mono);
		ok &= ts(mono) >= ts(prev) && mono.tv_nsec < 1000000000;
		prev = mono;
	}
	printf("monotonic never decreases %s\n", ok ? "ok" : "BAD");
	bad += !ok;

	struct timespec before, after, nap = {0, 20000000};
	clock_gettime(CLOCK_MONOTONIC, &before);
	nanosleep(&nap, NULL);
	clock_gettime(CLOCK_MONOTONIC, &after);
	double slept = ts(after) - ts(before);
	ok = slept >= 0.019 && slept < 5;
	printf("nanosleep 20ms %s\n", ok ? "ok" : "BAD");
	if (!ok)
		printf("  slept %.6f s\n", slept);
	bad += !ok;

	ok = clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 && res.tv_nsec > 0 &&
	     res.tv_nsec <= 10000000;
	printf("clock_getres %s\n", ok ? "ok" : "BAD");
	bad += !ok;

	clock_t c = clock();
	printf("clock() non-negative %s\n", c >= 0 ? "ok" : "BAD");
	bad += c < 0;
	struct tm tm;
	time_t fixed = 1000000000;
	gmtime_r(&fixed, &tm);
	char buf[64];
	strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %a", &tm);
	printf("gmtime(1e9)=%s\n", buf);
	return bad != 0;
}
