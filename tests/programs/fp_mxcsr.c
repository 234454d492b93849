/* MXCSR and the x87 control word set directly (LDMXCSR, FLDCW): SSE's
 * flush-to-zero and denormals-are-zero, SSE rounding control, and the x87
 * precision control, with the status flags each operation leaves. The SSE
 * instructions are inline asm, so the x87 build runs them too. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The x87 build is compiled without -msse2: let these functions name XMM
 * registers anyway. */
#define SSE2 __attribute__((target("sse2"), noinline))

static uint32_t get_mxcsr(void)
{
	uint32_t m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	return m;
}

static void set_mxcsr(uint32_t m)
{
	__asm__ volatile("ldmxcsr %0" : : "m"(m));
}

SSE2 static uint64_t mulsd(uint64_t a, uint64_t b)
{
	__asm__ volatile("movq %1, %%xmm0\n\tmovq %2, %%xmm1\n\tmulsd %%xmm1, %%xmm0\n\t"
			 "movq %%xmm0, %0"
			 : "=m"(a)
			 : "m"(a), "m"(b)
			 : "xmm0", "xmm1");
	return a;
}

SSE2 static uint64_t addsd(uint64_t a, uint64_t b)
{
	__asm__ volatile("movq %1, %%xmm0\n\tmovq %2, %%xmm1\n\taddsd %%xmm1, %%xmm0\n\t"
			 "movq %%xmm0, %0"
			 : "=m"(a)
			 : "m"(a), "m"(b)
			 : "xmm0", "xmm1");
	return a;
}

SSE2 static void divps(uint32_t r[4], const uint32_t a[4], const uint32_t b[4])
{
	__asm__ volatile("movups %1, %%xmm0\n\tmovups %2, %%xmm1\n\tdivps %%xmm1, %%xmm0\n\t"
			 "movups %%xmm0, %0"
			 : "=m"(*(uint32_t(*)[4])r)
			 : "m"(*(const uint32_t(*)[4])a), "m"(*(const uint32_t(*)[4])b)
			 : "xmm0", "xmm1");
}

static int32_t cvtsd2si(uint64_t a)
{
	int32_t r;
	__asm__ volatile("cvtsd2si %1, %0" : "=r"(r) : "m"(a));
	return r;
}

static void sse(void)
{
	static const uint32_t modes[] = {0x1f80, 0x9f80, 0x1fc0, 0x9fc0, 0x3f80, 0x5f80, 0x7f80};
	const uint64_t dmin = 1, dnorm = 0x0010000000000000ull, half = 0x3fe0000000000000ull;
	const uint64_t two5 = 0x4004000000000000ull, m_two5 = 0xc004000000000000ull;
	const uint32_t fa[4] = {0x00800000, 0x00000001, 0x3f800000, 0x80400000};
	const uint32_t fb[4] = {0x40000000, 0x3f000000, 0x40400000, 0x3f800000};
	for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		set_mxcsr(modes[i]);
		uint64_t r1 = mulsd(dnorm, half);
		uint32_t f1 = get_mxcsr();
		set_mxcsr(modes[i]);
		uint64_t r2 = addsd(dmin, dmin);
		uint32_t f2 = get_mxcsr();
		set_mxcsr(modes[i]);
		uint64_t r3 = mulsd(dmin, 0x4330000000000000ull);
		uint32_t f3 = get_mxcsr();
		set_mxcsr(modes[i]);
		uint32_t v[4];
		divps(v, fa, fb);
		uint32_t f4 = get_mxcsr();
		set_mxcsr(modes[i]);
		int32_t c1 = cvtsd2si(two5), c2 = cvtsd2si(m_two5);
		uint32_t f5 = get_mxcsr();
		printf("mxcsr %04x: %016llx/%04x %016llx/%04x %016llx/%04x ps %08x %08x %08x %08x/%04x "
		       "cvt %d %d/%04x\n",
		       modes[i], (unsigned long long)r1, f1, (unsigned long long)r2, f2,
		       (unsigned long long)r3, f3, v[0], v[1], v[2], v[3], f4, c1, c2, f5);
	}
	set_mxcsr(0x1f80);
}

static void x87_precision(void)
{
	static const uint16_t cws[] = {0x037f, 0x027f, 0x007f, 0x0f7f, 0x067f, 0x0a7f};
	for (unsigned i = 0; i < sizeof cws / sizeof cws[0]; i++) {
		long double third, sq, sum;
		uint16_t sw;
		__asm__ volatile("fnclex\n\tfldcw %4\n\t"
				 "fld1\n\tfld1\n\tfadd %%st(0), %%st(0)\n\tfadd %%st(1), %%st(0)\n\t"
				 "fdivr %%st(1), %%st(0)\n\tfstpt %0\n\t"
				 "fld1\n\tfadd %%st(0), %%st(0)\n\tfsqrt\n\tfstpt %1\n\t"
				 "fldt %0\n\tfaddp %%st(0), %%st(1)\n\tfstpt %2\n\tfnstsw %3"
				 : "=m"(third), "=m"(sq), "=m"(sum), "=m"(sw)
				 : "m"(cws[i]));
		uint16_t def = 0x037f;
		__asm__ volatile("fldcw %0" : : "m"(def));
		unsigned char b[3][10];
		memcpy(b[0], &third, 10);
		memcpy(b[1], &sq, 10);
		memcpy(b[2], &sum, 10);
		printf("cw %04x:", cws[i]);
		for (int j = 0; j < 3; j++) {
			printf(" ");
			for (int k = 9; k >= 0; k--)
				printf("%02x", b[j][k]);
		}
		printf(" sw %04x\n", sw & 0x3fff);
	}
}

int main(void)
{
	printf("initial mxcsr %04x\n", get_mxcsr());
	sse();
	x87_precision();
	return 0;
}
