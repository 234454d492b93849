/* Float <-> integer conversions, in range and out of range, through what
 * the compiler emits (x87 FISTTP/FISTP with a control-word switch, or SSE
 * CVTTSD2SI) and through explicit instructions: CVTTSD2SI/CVTSD2SI/
 * CVTTSS2SI return the "integer indefinite" 0x80000000, FISTP of an
 * out-of-range value stores it too (masked IE), FIST of a 16-bit integer
 * stores 0x8000. */
#include <fenv.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

static const double vals[] = {0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, 2147483647.0, 2147483647.9,
			      2147483648.0, -2147483648.0, -2147483648.9, -2147483649.0,
			      4294967295.0, 4294967296.0, 32767.5, 32768.0, -32769.0,
			      9.2233720368547758e18, -9.2233720368547758e18, 1.8446744073709552e19,
			      1e30, -1e30, INFINITY, -INFINITY, NAN, 4.9e-324};

static int32_t cvttsd2si(double d)
{
	int32_t r;
	__asm__ volatile("cvttsd2si %1, %0" : "=r"(r) : "m"(d));
	return r;
}

static int32_t cvtsd2si(double d)
{
	int32_t r;
	__asm__ volatile("cvtsd2si %1, %0" : "=r"(r) : "m"(d));
	return r;
}

static int32_t cvttss2si(float f)
{
	int32_t r;
	__asm__ volatile("cvttss2si %1, %0" : "=r"(r) : "m"(f));
	return r;
}

static int64_t fistp64(double d)
{
	int64_t r;
	__asm__ volatile("fldl %1\n\tfistpll %0" : "=m"(r) : "m"(d));
	return r;
}

static int32_t fistp32(double d)
{
	int32_t r;
	__asm__ volatile("fldl %1\n\tfistpl %0" : "=m"(r) : "m"(d));
	return r;
}

static int16_t fist16(double d)
{
	int16_t r;
	__asm__ volatile("fldl %1\n\tfistps %0" : "=m"(r) : "m"(d));
	return r;
}

static int32_t fisttp32(double d)
{
	int32_t r;
	__asm__ volatile("fldl %1\n\tfisttpl %0" : "=m"(r) : "m"(d));
	return r;
}

static int flags(void)
{
	int e = fetestexcept(FE_INVALID | FE_INEXACT);
	feclearexcept(FE_ALL_EXCEPT);
	return (e & FE_INVALID ? 2 : 0) | (e & FE_INEXACT ? 1 : 0);
}

int main(void)
{
	for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		volatile double d = vals[i];
		feclearexcept(FE_ALL_EXCEPT);
		int32_t c1 = cvttsd2si(d);
		int f1 = flags();
		int32_t c2 = cvtsd2si(d);
		int f2 = flags();
		int32_t c3 = cvttss2si((float)d);
		int64_t x1 = fistp64(d);
		int f3 = flags();
		int32_t x2 = fistp32(d);
		int16_t x3 = fist16(d);
		int32_t x4 = fisttp32(d);
		int f4 = flags();
		printf("%-24.17g sse %08x/%d %08x/%d %08x  x87 %016llx/%d %08x %04x %08x/%d\n", d,
		       (unsigned)c1, f1, (unsigned)c2, f2, (unsigned)c3, (unsigned long long)x1, f3,
		       (unsigned)x2, (unsigned)(uint16_t)x3, (unsigned)x4, f4);
		/* What the compiler emits for C casts (out-of-range ones are
		 * undefined in C but deterministic for a given binary). */
		int ci = (int)d;
		unsigned cu = (unsigned)d;
		long long cll = (long long)d;
		unsigned long long cull = (unsigned long long)d;
		short cs = (short)d;
		float cf = (float)d;
		printf("  casts %d %u %lld %llu %d %a lrint %ld llrint %lld\n", ci, cu, cll, cull, cs,
		       cf, lrint(d), llrint(d));
	}
	static const long long ints[] = {0, 1, -1, 16777217, -16777217, 2147483647, INT_MIN,
					 9007199254740993LL, LLONG_MAX, LLONG_MIN,
					 (long long)0x8000000000000001ULL};
	for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		volatile long long v = ints[i];
		volatile unsigned long long u = (unsigned long long)v;
		printf("int %lld: float %a double %a long %La  unsigned: %a %a %La\n", v, (float)v,
		       (double)v, (long double)v, (float)u, (double)u, (long double)u);
	}
	return 0;
}
