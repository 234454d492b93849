/* Integer arithmetic of every width, signed and unsigned, including the
 * 64-bit helpers libgcc provides on i386 (__divdi3, __udivdi3, __moddi3,
 * __umoddi3) and the flag-reading builtins (overflow checks use OF/CF).
 *
 * Operands are edge values (0, 1, -1, MIN, MAX, powers of two) crossed with
 * each other, plus pseudo-random pairs. Each operation's results are folded
 * into one hash per type, so a mismatch names the operation. */
#include <stdint.h>
#include <stdio.h>

#define NRAND 1500
#define NOPS 22

static const uint64_t edges[] = {
	0, 1, 2, 3, 5, 7, 10, 1000, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000,
	0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
	0x7fffffffffffffffULL, 0x8000000000000000ULL, 0xfffffffffffffffeULL,
	0xffffffffffffffffULL,
};
#define NEDGE (sizeof(edges) / sizeof(edges[0]))
#define NPAIRS (NEDGE * NEDGE + NRAND)

static uint64_t pa[NPAIRS], pb[NPAIRS];
static uint64_t rng = 0x0123456789abcdefULL;

static uint64_t rnd64(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return rng ^ (rng >> 29);
}

static void make_pairs(void)
{
	unsigned k = 0;
	for (unsigned i = 0; i < NEDGE; i++)
		for (unsigned j = 0; j < NEDGE; j++, k++) {
			pa[k] = edges[i];
			pb[k] = edges[j];
		}
	for (; k < NPAIRS; k++) {
		pa[k] = rnd64() >> (rnd64() & 63);
		pb[k] = rnd64() >> (rnd64() & 63);
	}
}

static void mix(uint64_t *h, uint64_t v)
{
	*h = (*h ^ v) * 0x100000001b3ULL;
	*h ^= *h >> 32;
}

static const char *names[NOPS] = {
	"add", "sub", "mul", "div", "mod", "and", "or", "xor", "not", "neg",
	"shl", "shr", "rol", "ror", "cmp", "wide", "addo", "subo", "mulo",
	"bits", "conv", "cond",
};

static void report(const char *type, const uint64_t *h)
{
	printf("%-4s", type);
	for (int i = 0; i < NOPS; i++)
		printf(" %s=%08x", names[i], (unsigned)(h[i] ^ (h[i] >> 32)));
	printf("\n");
}

/* Bit-scan builtins exist for 32 and 64 bits only; narrower types use the
 * 32-bit ones on their zero-extended value. */
static uint64_t bits32(uint32_t x)
{
	uint64_t r = (uint64_t)__builtin_popcount(x) << 8 | __builtin_parity(x);
	if (x)
		r ^= (uint64_t)__builtin_clz(x) << 16 | (uint64_t)__builtin_ctz(x) << 24;
	return r ^ (uint64_t)__builtin_bswap32(x) << 32;
}

static uint64_t bits64(uint64_t x)
{
	uint64_t r = (uint64_t)__builtin_popcountll(x) << 8 | __builtin_parityll(x);
	if (x)
		r ^= (uint64_t)__builtin_clzll(x) << 16 | (uint64_t)__builtin_ctzll(x) << 24;
	return r ^ __builtin_bswap64(x);
}

#define DEFINE_OPS(T, U, W, NAME, BITS)                                         \
	static void ops_##NAME(void)                                            \
	{                                                                       \
		uint64_t h[NOPS] = {0};                                         \
		const int is_signed = (T)-1 < 0;                                \
		const T tmin = is_signed ? (T)((U)1 << (W - 1)) : 0;            \
		for (unsigned k = 0; k < NPAIRS; k++) {                         \
			volatile T va = (T)pa[k], vb = (T)pb[k];                \
			T a = va, b = vb, r;                                    \
			unsigned s = (unsigned)pb[k] % W;                       \
			unsigned s1 = s ? s : 1;                                \
			mix(&h[0], (U)(T)(a + b));                              \
			mix(&h[1], (U)(T)(a - b));                              \
			mix(&h[2], (U)(T)(a * b));                              \
			if (b != 0 && !(is_signed && a == tmin && b == (T)-1)) { \
				mix(&h[3], (U)(T)(a / b));                      \
				mix(&h[4], (U)(T)(a % b));                      \
			}                                                       \
			mix(&h[5], (U)(T)(a & b));                              \
			mix(&h[6], (U)(T)(a | b));                              \
			mix(&h[7], (U)(T)(a ^ b));                              \
			mix(&h[8], (U)(T)~a);                                   \
			mix(&h[9], (U)(T)-(U)a);                                \
			mix(&h[10], (U)(T)((U)a << s));                         \
			mix(&h[11], (U)(T)(a >> s));                            \
			mix(&h[12], (U)(T)((U)a << s1 | (U)a >> (W - s1)));     \
			mix(&h[13], (U)(T)((U)a >> s1 | (U)a << (W - s1)));     \
			mix(&h[14], (a < b) | (a <= b) << 1 | (a == b) << 2 |   \
					    (a > b) << 3 | (a >= b) << 4 |      \
					    (a != b) << 5);                     \
			if (W <= 32)                                            \
				mix(&h[15], (uint64_t)((int64_t)a * (int64_t)b)); \
			else                                                    \
				mix(&h[15], (uint64_t)a * (uint64_t)b >> 17);   \
			mix(&h[16], __builtin_add_overflow(a, b, &r) << 8 ^ (U)r); \
			mix(&h[17], __builtin_sub_overflow(a, b, &r) << 8 ^ (U)r); \
			mix(&h[18], __builtin_mul_overflow(a, b, &r) << 8 ^ (U)r); \
			mix(&h[19], BITS((U)a));                                \
			mix(&h[20], (uint64_t)(int64_t)(signed char)a ^          \
					    (uint64_t)(int64_t)(short)a << 7 ^  \
					    (uint64_t)(unsigned char)a << 13 ^  \
					    (uint64_t)(unsigned short)a << 29 ^ \
					    (uint64_t)(int64_t)(int32_t)a << 3); \
			mix(&h[21], (a < b ? a : b) ^ (U)(a > b ? a : b) << 1 ^ \
					    (a ? 7u : 3u));                     \
		}                                                               \
		report(#NAME, h);                                               \
	}

DEFINE_OPS(uint8_t, uint8_t, 8, u8, bits32)
DEFINE_OPS(int8_t, uint8_t, 8, s8, bits32)
DEFINE_OPS(uint16_t, uint16_t, 16, u16, bits32)
DEFINE_OPS(int16_t, uint16_t, 16, s16, bits32)
DEFINE_OPS(uint32_t, uint32_t, 32, u32, bits32)
DEFINE_OPS(int32_t, uint32_t, 32, s32, bits32)
DEFINE_OPS(uint64_t, uint64_t, 64, u64, bits64)
DEFINE_OPS(int64_t, uint64_t, 64, s64, bits64)

/* A few results spelled out, so a failure is readable without a hash. */
static void samples(void)
{
	volatile int64_t a = -123456789012345LL, b = 1000003;
	volatile uint64_t c = 0xfedcba9876543210ULL, d = 0x12345;
	volatile int32_t e = -7, f = 2;
	printf("%lld / %lld = %lld rem %lld\n", (long long)a, (long long)b,
	       (long long)(a / b), (long long)(a % b));
	printf("%llu / %llu = %llu rem %llu\n", (unsigned long long)c,
	       (unsigned long long)d, (unsigned long long)(c / d),
	       (unsigned long long)(c % d));
	printf("%llx * %llx = %llx\n", (unsigned long long)c,
	       (unsigned long long)d, (unsigned long long)(c * d));
	printf("%d / %d = %d rem %d, %d >> 1 = %d\n", e, f, e / f, e % f, e, e >> 1);
	printf("%llx >> 37 = %llx, %lld >> 40 = %lld\n", (unsigned long long)c,
	       (unsigned long long)(c >> 37), (long long)a, (long long)(a >> 40));
}

int main(void)
{
	make_pairs();
	ops_u8();
	ops_s8();
	ops_u16();
	ops_s16();
	ops_u32();
	ops_s32();
	ops_u64();
	ops_s64();
	samples();
	return 0;
}
