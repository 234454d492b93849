/* x87 floating point as gcc -m32 uses it by default: float, double and long
 * double arithmetic, comparisons, conversions to and from integers (with
 * the rounding-mode switch gcc emits for truncation), printf/strtod. */
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t rng = 99991;
static double rnd(void)
{
	rng = rng * 1664525u + 1013904223u;
	return ((int32_t)rng) / 65536.0;
}

int main(void)
{
	volatile double a = 1.0 / 3.0, b = 2.0 / 7.0;
	volatile float f = 1.1f, g = 3.3f;
	volatile long double la = 1.0L / 3.0L;
	printf("%.17g %.17g %.17g %.17g\n", a + b, a - b, a * b, a / b);
	printf("%.9g %.9g %.9g %.9g\n", f + g, f - g, f * g, f / g);
	printf("%.21Lg %.21Lg\n", la * 3.0L, la + 1e-18L);
	printf("%d %d %d %d\n", a < b, a > b, a == a, a != b);

	double sum = 0, prod = 1;
	long long isum = 0;
	for (int i = 0; i < 10000; i++) {
		double x = rnd(), y = rnd();
		sum += x * y - x / (y == 0 ? 1 : y);
		prod *= 1.0 + x / 1e7;
		isum += (long long)(x * 1000) + (int)y;
	}
	printf("sum=%.17g prod=%.17g isum=%lld\n", sum, prod, isum);

	volatile double neg = -2.5, pos = 2.5, huge = 1e300, tiny = 1e-300;
	printf("trunc: %d %d %lld %u\n", (int)neg, (int)pos, (long long)-1e15, (unsigned)3e9);
	printf("inf=%g -inf=%g excess-precision-diff=%g overflow=%g underflow=%g\n", huge * huge, -huge * huge,
	       (huge * huge) - (huge * huge), huge * 1e10, tiny * 1e-300);
	printf("float limits: %g %g %g\n", FLT_MAX, FLT_MIN, FLT_EPSILON);
	printf("double limits: %.17g %.17g %.17g\n", DBL_MAX, DBL_MIN, DBL_EPSILON);
	printf("strtod: %.17g %.17g %.17g\n", strtod("3.14159265358979323846", NULL),
	       strtod("1e-310", NULL), strtod("-0x1.8p3", NULL));
	printf("printf: [%10.3f] [%-10.2e|] [%+g] [%a] [%.0f] [%.0f]\n", 3.14159, 12345.678, 0.0001,
	       1.5, 0.5, 1.5);
	return 0;
}
