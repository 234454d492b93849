/* long double (80-bit) arithmetic, denormals of every width, and NaN
 * payloads printed through memcpy: what survives an x87 load/store (an
 * SNaN is quieted, a float payload is widened), what SSE moves keep,
 * which operand's payload an operation propagates. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void print_ld(const char *what, long double x)
{
	unsigned char b[10];
	memcpy(b, &x, 10);
	printf("%s ", what);
	for (int k = 9; k >= 0; k--)
		printf("%02x", b[k]);
	printf(" %.21Lg\n", x);
}

static uint64_t dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}

static double dfrom(uint64_t u)
{
	double d;
	memcpy(&d, &u, 8);
	return d;
}

static uint32_t fbits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static float ffrom(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static void long_double_arithmetic(void)
{
	volatile long double a = 1.0L / 3.0L, b = 1e-4000L, c = 12345678901234567890.0L;
	long double s = 0, p = 1;
	for (int i = 1; i <= 2000; i++) {
		s += 1.0L / ((long double)i * i);
		p *= 1.0L + 1.0L / (i + 0.5L);
	}
	print_ld("sum 1/i^2", s);
	print_ld("product", p);
	print_ld("a*3", a * 3);
	print_ld("a+c", a + c);
	print_ld("c*c", c * c);
	print_ld("b*b (denormal)", b * b * 1e-900L);
	print_ld("b/c", b / c);
	print_ld("sqrtl(a)", sqrtl(a));
	print_ld("max*2", LDBL_MAX * (a * 6));
	print_ld("min/8", LDBL_MIN / 8);
	print_ld("true min", LDBL_TRUE_MIN);
	print_ld("true min/2", LDBL_TRUE_MIN / (a * 6));
	print_ld("eps", LDBL_EPSILON);
	print_ld("1+eps/2", 1.0L + LDBL_EPSILON / 2);
	print_ld("fma-like", a * a - (long double)(double)a * (double)a);
	long double fact = 1;
	for (int i = 1; i <= 1700; i++)
		fact *= i;
	print_ld("1700!", fact);
	volatile double d = 0.1;
	print_ld("(ld)0.1", (long double)d);
	printf("ld->double %a ld->float %a cmp %d %d %d\n", (double)a, (float)a, a < c, a == a * 1,
	       isgreater(a, b));
}

static void denormals(void)
{
	volatile double dmin = 4.9e-324, dnorm = DBL_MIN;
	volatile float fmin = 1.4e-45f, fnorm = FLT_MIN;
	printf("double denormals %a %a %a %a %a %a\n", dmin, dmin * 3, dnorm / 3, dnorm - dmin,
	       dmin / 2, (dnorm / 4) * 4);
	printf("float denormals %a %a %a %a\n", fmin, fmin * 3, fnorm / 3, (float)(dnorm * 1e280));
	printf("classify %d %d %d %d\n", fpclassify(dmin), fpclassify(dnorm), fpclassify(fmin / 2),
	       fpclassify((long double)dmin));
}

static void nan_payloads(void)
{
	static const uint64_t dn[] = {0x7ff8000000000000ull, 0xfff8000000000000ull,
				      0x7ff8000000012345ull, 0x7ff0000000000001ull,
				      0x7ff4000000abcdefull, 0xfff0000000000abcull};
	for (unsigned i = 0; i < sizeof dn / sizeof dn[0]; i++) {
		volatile double x = dfrom(dn[i]);
		volatile double one = 1.0;
		double sum = x + one, neg = -x, prod = one * x;
		float narrow = (float)x;
		long double wide = x;
		printf("nan %016llx: +1 %016llx neg %016llx 1*x %016llx float %08x", (unsigned long long)dn[i],
		       (unsigned long long)dbits(sum), (unsigned long long)dbits(neg),
		       (unsigned long long)dbits(prod), fbits(narrow));
		print_ld(" long", wide);
	}
	volatile double q1 = dfrom(0x7ff8000000000111ull), q2 = dfrom(0xfff8000000000222ull);
	printf("two nans: %016llx %016llx %016llx\n", (unsigned long long)dbits(q1 + q2),
	       (unsigned long long)dbits(q2 + q1), (unsigned long long)dbits(q1 * q2));
	static const uint32_t fnan[] = {0x7fc00000, 0x7fc12345, 0x7f800001, 0xffa00000};
	for (unsigned i = 0; i < sizeof fnan / sizeof fnan[0]; i++) {
		volatile float x = ffrom(fnan[i]);
		double w = x;
		printf("fnan %08x: +1 %08x double %016llx\n", fnan[i], fbits(x + 1.0f),
		       (unsigned long long)dbits(w));
	}
	volatile double zero = 0.0, inf = INFINITY;
	long double lz = zero;
	printf("default nans: %016llx %016llx %016llx\n", (unsigned long long)dbits(zero / zero),
	       (unsigned long long)dbits(inf - inf), (unsigned long long)dbits(sqrt(-1.0 + zero)));
	print_ld("ld 0/0", lz / lz);
}

int main(void)
{
	long_double_arithmetic();
	denormals();
	nan_payloads();
	return 0;
}
