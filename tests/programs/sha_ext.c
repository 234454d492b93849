/* The SHA extensions (SHA1RNDS4, SHA1NEXTE, SHA1MSG1/2, SHA256RNDS2,
 * SHA256MSG1/2) against portable C: SHA-1 and SHA-256 of known messages.
 * The digests printed are the C code's; where CPUID reports the
 * extensions (always under Wax; natively on AMD since Zen and Intel since
 * Goldmont and Ice Lake) the same digests are also computed with the
 * instructions and compared here, so the output is the same on hosts with
 * and without them. */
#include <cpuid.h>
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, int n) { return x >> n | x << (32 - n); }
static uint32_t rotl(uint32_t x, int n) { return x << n | x >> (32 - n); }
static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

typedef void (*blocks_fn)(uint32_t *state, const uint8_t *p, size_t n);

static void sha256_c(uint32_t *s, const uint8_t *p, size_t n) {
    for (; n--; p += 64) {
        uint32_t w[64], v[8];
        for (int i = 0; i < 16; i++) w[i] = be32(p + 4 * i);
        for (int i = 16; i < 64; i++) {
            uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ w[i - 15] >> 3;
            uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ w[i - 2] >> 10;
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        memcpy(v, s, sizeof v);
        for (int i = 0; i < 64; i++) {
            uint32_t t1 = v[7] + (rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25)) +
                          ((v[4] & v[5]) ^ (~v[4] & v[6])) + K256[i] + w[i];
            uint32_t t2 = (rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22)) +
                          ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
            memmove(v + 1, v, 7 * sizeof *v);
            v[4] += t1;
            v[0] = t1 + t2;
        }
        for (int i = 0; i < 8; i++) s[i] += v[i];
    }
}

static void sha1_c(uint32_t *s, const uint8_t *p, size_t n) {
    for (; n--; p += 64) {
        uint32_t w[80], a = s[0], b = s[1], c = s[2], d = s[3], e = s[4];
        for (int i = 0; i < 16; i++) w[i] = be32(p + 4 * i);
        for (int i = 16; i < 80; i++) w[i] = rotl(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
        for (int i = 0; i < 80; i++) {
            uint32_t f, k;
            if (i < 20) f = (b & c) | (~b & d), k = 0x5a827999;
            else if (i < 40) f = b ^ c ^ d, k = 0x6ed9eba1;
            else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
            else f = b ^ c ^ d, k = 0xca62c1d6;
            uint32_t t = rotl(a, 5) + f + e + k + w[i];
            e = d, d = c, c = rotl(b, 30), b = a, a = t;
        }
        s[0] += a, s[1] += b, s[2] += c, s[3] += d, s[4] += e;
    }
}

/* SHA-256 groups hold W(4i) in lane 0; the state is ABEF and CDGH. */
__attribute__((target("sha,ssse3"))) static void sha256_x86(uint32_t *s, const uint8_t *p,
                                                             size_t n) {
    const __m128i swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    __m128i abef = _mm_set_epi32(s[0], s[1], s[4], s[5]);
    __m128i cdgh = _mm_set_epi32(s[2], s[3], s[6], s[7]);
    for (; n--; p += 64) {
        __m128i w[16], abef0 = abef, cdgh0 = cdgh;
        for (int i = 0; i < 4; i++)
            w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), swap);
        for (int i = 4; i < 16; i++) {
            __m128i m = _mm_sha256msg1_epu32(w[i - 4], w[i - 3]);
            m = _mm_add_epi32(m, _mm_alignr_epi8(w[i - 1], w[i - 2], 4));
            w[i] = _mm_sha256msg2_epu32(m, w[i - 1]);
        }
        for (int i = 0; i < 16; i++) {
            __m128i wk = _mm_add_epi32(w[i], _mm_loadu_si128((const __m128i *)(K256 + 4 * i)));
            /* After two rounds, CDGH is the ABEF of two rounds back. */
            __m128i two = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            __m128i four = _mm_sha256rnds2_epu32(abef, two, _mm_shuffle_epi32(wk, 0x0e));
            cdgh = two;
            abef = four;
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    uint32_t a[4], c[4];
    _mm_storeu_si128((__m128i *)a, abef);
    _mm_storeu_si128((__m128i *)c, cdgh);
    s[0] = a[3], s[1] = a[2], s[4] = a[1], s[5] = a[0];
    s[2] = c[3], s[3] = c[2], s[6] = c[1], s[7] = c[0];
}

#define RNDS4(abcd, we, g)                                                                        \
    switch (g) {                                                                                  \
    case 0: abcd = _mm_sha1rnds4_epu32(abcd, we, 0); break;                                       \
    case 1: abcd = _mm_sha1rnds4_epu32(abcd, we, 1); break;                                       \
    case 2: abcd = _mm_sha1rnds4_epu32(abcd, we, 2); break;                                       \
    default: abcd = _mm_sha1rnds4_epu32(abcd, we, 3); break;                                      \
    }

/* SHA-1 groups hold W(4i) in lane 3; the state is ABCD (A in lane 3) and E. */
__attribute__((target("sha,ssse3"))) static void sha1_x86(uint32_t *s, const uint8_t *p, size_t n) {
    const __m128i swap = _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m128i abcd = _mm_set_epi32(s[0], s[1], s[2], s[3]);
    uint32_t e = s[4];
    for (; n--; p += 64) {
        __m128i w[20], abcd0 = abcd, prev = abcd;
        for (int i = 0; i < 4; i++)
            w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), swap);
        for (int i = 4; i < 20; i++) {
            __m128i m = _mm_xor_si128(_mm_sha1msg1_epu32(w[i - 4], w[i - 3]), w[i - 2]);
            w[i] = _mm_sha1msg2_epu32(m, w[i - 1]);
        }
        __m128i we = _mm_add_epi32(w[0], _mm_set_epi32(e, 0, 0, 0));
        RNDS4(abcd, we, 0);
        for (int i = 1; i < 20; i++) {
            we = _mm_sha1nexte_epu32(prev, w[i]);
            prev = abcd;
            RNDS4(abcd, we, i / 5);
        }
        /* E after 80 rounds: A of the state before the last group, rotated. */
        __m128i last = _mm_sha1nexte_epu32(prev, _mm_setzero_si128());
        e += (uint32_t)_mm_extract_epi16(last, 6) | (uint32_t)_mm_extract_epi16(last, 7) << 16;
        abcd = _mm_add_epi32(abcd, abcd0);
    }
    uint32_t a[4];
    _mm_storeu_si128((__m128i *)a, abcd);
    s[0] = a[3], s[1] = a[2], s[2] = a[1], s[3] = a[0], s[4] = e;
}

/* Pads `msg` and runs `fn` over it, from the algorithm's initial state. */
static void digest(blocks_fn fn, int words, const uint8_t *msg, size_t len, uint32_t *out) {
    static const uint32_t iv256[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    static const uint32_t iv1[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    memcpy(out, words == 8 ? iv256 : iv1, words * sizeof *out);
    fn(out, msg, len / 64);
    uint8_t tail[128] = {0};
    size_t rest = len % 64, n = rest < 56 ? 64 : 128;
    memcpy(tail, msg + len - rest, rest);
    tail[rest] = 0x80;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) tail[n - 1 - i] = (uint8_t)(bits >> (8 * i));
    fn(out, tail, n / 64);
}

int main(void) {
    unsigned a, b, c, d;
    int has_sha = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 29 & 1);
    size_t big = 1000000;
    uint8_t *million = malloc(big), *noise = malloc(100003);
    memset(million, 'a', big);
    uint32_t x = 12345;
    for (size_t i = 0; i < 100003; i++) x = x * 1103515245 + 12345, noise[i] = x >> 23;
    struct {
        const char *name;
        const uint8_t *p;
        size_t len;
    } msgs[] = {
        {"empty", (const uint8_t *)"", 0},
        {"abc", (const uint8_t *)"abc", 3},
        {"448 bits", (const uint8_t *)"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56},
        {"a million a", million, big},
        {"100003 bytes of noise, from an odd address", noise + 1, 100002},
    };
    int agree = 1;
    for (size_t m = 0; m < sizeof msgs / sizeof *msgs; m++) {
        uint32_t s256[8], s1[5], h256[8], h1[5];
        digest(sha256_c, 8, msgs[m].p, msgs[m].len, s256);
        digest(sha1_c, 5, msgs[m].p, msgs[m].len, s1);
        printf("%s\n  sha256 ", msgs[m].name);
        for (int i = 0; i < 8; i++) printf("%08x", s256[i]);
        printf("\n  sha1   ");
        for (int i = 0; i < 5; i++) printf("%08x", s1[i]);
        printf("\n");
        if (has_sha) {
            digest(sha256_x86, 8, msgs[m].p, msgs[m].len, h256);
            digest(sha1_x86, 5, msgs[m].p, msgs[m].len, h1);
            if (memcmp(h256, s256, sizeof h256) || memcmp(h1, s1, sizeof h1)) {
                agree = 0;
                printf("  the SHA instructions give another digest\n");
            }
        }
    }
    printf("SHA instructions agree with C where CPUID reports them: %s\n", agree ? "yes" : "no");
    return !agree;
}
