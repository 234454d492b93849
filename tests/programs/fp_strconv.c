/* printf and strtod of doubles and long doubles: round trips of random bit
 * patterns through %.17g / %a / %.21Lg, and many formats of special and
 * boundary values. glibc's printf and strtod work on integers (mpn), but
 * their callers pass values through the FPU (x87 loads/stores of long
 * double, SSE moves of double), so this catches lost bits and NaN
 * quieting on the way. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return u;
}

static void double_round_trips(void)
{
	unsigned bad = 0;
	for (int i = 0; i < 400; i++) {
		uint64_t u = next();
		double d;
		memcpy(&d, &u, sizeof d);
		if (isnan(d))
			continue;
		char g[64], a[64];
		snprintf(g, sizeof g, "%.17g", d);
		snprintf(a, sizeof a, "%a", d);
		double back_g = strtod(g, NULL), back_a = strtod(a, NULL);
		bad += bits(back_g) != u || bits(back_a) != u;
		if (i % 20 == 0)
			printf("%016llx %s %s %e %.3f\n", (unsigned long long)u, g, a, d, d);
	}
	printf("double round trips failed: %u\n", bad);
}

static void long_double_round_trips(void)
{
	unsigned bad = 0;
	for (int i = 0; i < 300; i++) {
		/* A normal 80-bit value: explicit integer bit set, exponent random
		 * but not all ones. */
		unsigned char raw[16] = {0};
		uint64_t m = next() | 1ull << 63;
		uint16_t se = (uint16_t)(next() % 0x7ffe) | (i & 1) << 15;
		memcpy(raw, &m, 8);
		memcpy(raw + 8, &se, 2);
		long double x;
		memcpy(&x, raw, sizeof x);
		char g[128], a[64];
		snprintf(g, sizeof g, "%.21Lg", x);
		snprintf(a, sizeof a, "%La", x);
		long double bg = strtold(g, NULL), ba = strtold(a, NULL);
		bad += memcmp(&bg, raw, 10) != 0 || memcmp(&ba, raw, 10) != 0;
		if (i % 20 == 0)
			printf("%04x:%016llx %s %s %.5Le\n", se, (unsigned long long)m, g, a, x);
	}
	printf("long double round trips failed: %u\n", bad);
}

static void formats(void)
{
	static const double v[] = {0.0, -0.0, 1.0, 0.1, 2.5, 1e21, 1e-7, 123456789.125,
				   DBL_MAX, DBL_MIN, 4.9e-324, 2.2250738585072009e-308,
				   INFINITY, -INFINITY, NAN, 9007199254740993.0, 0.3};
	for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++)
		printf("[%g] [%.0f] [%.20f] [%12.4e] [%-8.3g] [%+a] [%.3a] [%#.0e] [%G]\n", v[i], v[i],
		       v[i], v[i], v[i], v[i], v[i], v[i], v[i]);
	static const long double lv[] = {0.0L, 1.0L, 0.1L, 1e4932L, 3.6e-4951L, 1e-4940L,
					 LDBL_EPSILON, 2.5L, 12345678901234567890.0L};
	for (unsigned i = 0; i < sizeof lv / sizeof lv[0]; i++)
		printf("[%Lf] [%.25Le] [%Lg] [%La] [%.30Lg]\n", lv[i], lv[i], lv[i], lv[i], lv[i]);
	static const char *in[] = {"0x1p-1074", "1e-400", "1e400", "-nan", "nan(0x123)", "inf",
				   "  +3.5e2xyz", "0.1e1", "2.4703282292062327e-324",
				   "2.4703282292062328e-324", "1.7976931348623158e308",
				   "1.7976931348623159e308", "4.9406564584124654e-324", "1e23",
				   "8.589973e9", "123456789012345678901234567890"};
	for (unsigned i = 0; i < sizeof in / sizeof in[0]; i++) {
		char *end;
		double d = strtod(in[i], &end);
		float f = strtof(in[i], NULL);
		long double l = strtold(in[i], NULL);
		uint32_t fb;
		memcpy(&fb, &f, 4);
		unsigned char lb[10];
		memcpy(lb, &l, 10);
		printf("strtod(%s) = %016llx end+%d f=%08x l=", in[i], (unsigned long long)bits(d),
		       (int)(end - in[i]), fb);
		for (int k = 9; k >= 0; k--)
			printf("%02x", lb[k]);
		printf("\n");
	}
}

int main(void)
{
	double_round_trips();
	long_double_round_trips();
	formats();
	return 0;
}
