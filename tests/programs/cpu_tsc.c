/* RDTSC against time: consecutive reads strictly increase, and the ticks
 * counted over a 200 ms sleep, at the rate /proc/cpuinfo reports as
 * "cpu MHz", come to a plausible duration. The window is wide on purpose
 * (150 to 2000 ms): this checks the relation between the counter, the
 * clock and cpuinfo, not timing, and a host's cpuinfo may show a current
 * frequency that differs from its TSC rate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned long long rdtsc(void)
{
	unsigned lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (unsigned long long)hi << 32 | lo;
}

static double cpu_mhz(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	double mhz = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		if (!strncmp(line, "cpu MHz", 7)) {
			char *colon = strchr(line, ':');
			if (colon)
				mhz = atof(colon + 1);
			break;
		}
	}
	fclose(f);
	return mhz;
}

int main(void)
{
	int increasing = 1;
	unsigned long long prev = rdtsc();
	for (int i = 0; i < 1000; i++) {
		unsigned long long t = rdtsc();
		if (t <= prev)
			increasing = 0;
		prev = t;
	}
	printf("consecutive reads strictly increase: %s\n", increasing ? "yes" : "no");

	double mhz = cpu_mhz();
	printf("cpuinfo has a cpu MHz: %s\n", mhz > 0 ? "yes" : "no");
	struct timespec sleep = {0, 200 * 1000 * 1000};
	unsigned long long t0 = rdtsc();
	nanosleep(&sleep, NULL);
	unsigned long long t1 = rdtsc();
	double ms = mhz > 0 ? (double)(t1 - t0) / (mhz * 1000.0) : 0;
	int plausible = ms >= 150 && ms <= 2000;
	printf("a 200 ms sleep counts 150..2000 ms of ticks: %s\n", plausible ? "yes" : "no");
	if (!plausible)
		fprintf(stderr, "ticks %llu at %.3f MHz = %.1f ms\n", t1 - t0, mhz, ms);
	return 0;
}
