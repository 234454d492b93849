/* fesetround in all four modes: arithmetic, square root, conversions
 * (double->float, long double->double, int<->float, lrint/llrint/rint,
 * nearbyint), printf and strtod, and the libm functions that must honour
 * or ignore the mode. glibc's fesetround sets both the x87 control word
 * and MXCSR, so both builds are affected. */
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct { int mode; const char *name; } modes[] = {
	{FE_TONEAREST, "nearest"}, {FE_DOWNWARD, "down"}, {FE_UPWARD, "up"},
	{FE_TOWARDZERO, "zero"},
};

static uint64_t dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}

static uint32_t fbits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static void arithmetic(void)
{
	volatile double a = 1.0, b = 3.0, c = -1.0, big = 1e308, tiny = 4.9e-324;
	volatile float fa = 1.0f, fb = 3.0f;
	volatile long double la = 1.0L, lb = 3.0L;
	printf("  div %016llx %016llx mul %016llx sqrt %016llx add %016llx\n",
	       (unsigned long long)dbits(a / b), (unsigned long long)dbits(c / b),
	       (unsigned long long)dbits(big * 10), (unsigned long long)dbits(sqrt(b)),
	       (unsigned long long)dbits(a + tiny));
	printf("  float %08x %08x narrow %08x  long %La %La\n", fbits(fa / fb), fbits(-fa / fb),
	       fbits((float)(a / b)), la / lb, -la / lb);
	printf("  underflow %a %a\n", tiny / 2, -tiny / 2);
}

static void conversions(void)
{
	static const double v[] = {2.5, 3.5, -2.5, -0.5, 0.49999999999999994, 1e15 + 0.5,
				   2147483647.5, -2147483648.5, 4503599627370497.5};
	for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++) {
		volatile double x = v[i];
		printf("  %.17g: rint %.17g nearbyint %.17g lrint %ld llrint %lld (int) %d round %g "
		       "floor %g ceil %g\n",
		       x, rint(x), nearbyint(x), lrint(x), llrint(x), (int)x, round(x), floor(x),
		       ceil(x));
	}
	volatile int i = 16777217;
	volatile long long ll = 9007199254740993LL;
	volatile unsigned long long ull = 18446744073709551615ULL;
	printf("  int->float %.9g ll->double %.17g ull->double %.17g ull->float %.9g\n",
	       (float)i, (double)ll, (double)ull, (float)ull);
	volatile long double l = 1.0L / 3.0L;
	printf("  ld->double %a ld->float %a\n", (double)l, (float)l);
}

static void text(void)
{
	volatile double third = 1.0 / 3.0;
	printf("  printf %.3f %.3f %.0f %.0f %.2e\n", 2.0005, -2.0005, 0.5, 1.5, third);
	printf("  strtod %a %a %a\n", strtod("0.1", NULL), strtod("-0.1", NULL),
	       strtod("1e-320", NULL));
	printf("  libm exp %a log %a sin %a pow %a\n", exp(1.0), log(10.0), sin(1.0),
	       pow(2.0, 0.5));
}

int main(void)
{
	for (unsigned m = 0; m < 4; m++) {
		if (fesetround(modes[m].mode) != 0)
			printf("fesetround failed\n");
		printf("mode %s (fegetround %#x)\n", modes[m].name, fegetround());
		arithmetic();
		conversions();
		text();
	}
	fesetround(FE_TONEAREST);
	return 0;
}
