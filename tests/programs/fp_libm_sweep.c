/* libm over many arguments, edge values included, printed bit-exactly
 * (%a) so that a last-bit difference shows. Double, float and long double
 * variants: glibc's i386 libm computes many of them (the long double ones
 * all) with x87 transcendental instructions. */
#include <float.h>
#include <math.h>
#include <stdio.h>

static const double args[] = {
	0.0, -0.0, 1e-310, 4.9e-324, 1e-300, 1e-20, 1e-8, 0.001, 0.1, 0.25, 0.5, 0.7,
	0.999999, 1.0, 1.5, 2.0, 2.5, 3.0, 3.141592653589793, 4.0, 7.5, 10.0, 22.0,
	33.3, 100.0, 700.0, 710.0, 1e10, 1e22, 1e300, DBL_MAX, -0.1, -0.5, -1.0,
	-1.5, -2.5, -3.7, -10.0, -100.0, -745.0, -1e22, INFINITY, -INFINITY, NAN,
};
#define NARGS (sizeof args / sizeof args[0])

typedef double (*f1)(double);
typedef double (*f2)(double, double);

static const struct { const char *name; f1 f; } unary[] = {
	{"sin", sin}, {"cos", cos}, {"tan", tan}, {"asin", asin}, {"acos", acos},
	{"atan", atan}, {"exp", exp}, {"exp2", exp2}, {"expm1", expm1}, {"log", log},
	{"log2", log2}, {"log10", log10}, {"log1p", log1p}, {"sqrt", sqrt},
	{"cbrt", cbrt}, {"sinh", sinh}, {"cosh", cosh}, {"tanh", tanh},
	{"asinh", asinh}, {"acosh", acosh}, {"atanh", atanh}, {"erf", erf},
	{"erfc", erfc}, {"lgamma", lgamma}, {"tgamma", tgamma}, {"floor", floor},
	{"ceil", ceil}, {"trunc", trunc}, {"round", round}, {"rint", rint},
	{"logb", logb}, {"j0", j0}, {"y0", y0},
};

static const struct { const char *name; f2 f; } binary[] = {
	{"pow", pow}, {"atan2", atan2}, {"fmod", fmod}, {"hypot", hypot},
	{"remainder", remainder}, {"fdim", fdim}, {"copysign", copysign},
	{"nextafter", nextafter},
};

static void doubles(void)
{
	for (unsigned i = 0; i < sizeof unary / sizeof unary[0]; i++) {
		printf("%s:", unary[i].name);
		for (unsigned j = 0; j < NARGS; j++)
			printf(" %a", unary[i].f(args[j]));
		printf("\n");
	}
	static const double second[] = {0.5, -2.0, 3.0, 0.3, 1e-300, 1e300, -0.0, INFINITY, NAN};
	for (unsigned i = 0; i < sizeof binary / sizeof binary[0]; i++) {
		printf("%s:", binary[i].name);
		for (unsigned j = 0; j < NARGS; j += 2)
			for (unsigned k = 0; k < sizeof second / sizeof second[0]; k++)
				printf(" %a", binary[i].f(args[j], second[k]));
		printf("\n");
	}
	int e;
	double m = frexp(12345.678, &e);
	printf("frexp %a %d ldexp %a %a modf", m, e, ldexp(0.75, 1000), ldexp(1.0, -1074));
	for (unsigned j = 0; j < NARGS; j += 3) {
		double ip, fp = modf(args[j], &ip);
		printf(" %a/%a", fp, ip);
	}
	printf("\nlrint %ld %ld llround %lld ilogb %d %d\n", lrint(2.5), lrint(-3.5), llround(-2.5),
	       ilogb(1e-310), ilogb(1e300));
}

static void floats(void)
{
	static const float fa[] = {0.0f, 1e-40f, 1e-7f, 0.3f, 1.0f, 2.0f, 3.14159265f, 10.0f,
				   88.0f, 89.0f, 1e30f, -0.7f, -5.5f, -104.0f};
	for (unsigned j = 0; j < sizeof fa / sizeof fa[0]; j++) {
		float x = fa[j];
		printf("f %a: %a %a %a %a %a %a %a %a %a %a\n", x, sinf(x), cosf(x), tanf(x),
		       expf(x), logf(x), powf(x, 1.5f), sqrtf(x), cbrtf(x), atan2f(x, 0.5f),
		       erff(x));
	}
}

/* The x87 transcendental instructions of the host are not correctly
 * rounded: about 1% of results differ from the true value in the last of
 * their 64 bits, where Wax rounds correctly (a documented deviation, see
 * cpu/src/interp/x87/transc.rs), and which results differ depends on the
 * CPU model. The long double functions built on them are therefore printed
 * to 16 significant digits (about 53 bits): two values an ulp of 64 bits
 * apart print differently only when they straddle a rounding boundary of
 * the 16th digit, about once in 8000 such pairs (at 18 digits it was one in
 * ten). The exact operations (sqrtl, fmodl) are printed bit for bit. */
static void long_doubles(void)
{
	static const long double la[] = {0.0L, 1e-4940L, 1e-30L, 0.1L, 0.5L, 1.0L, 2.0L,
					 3.14159265358979323846L, 10.0L, 1000.0L, 11356.0L,
					 1e4000L, -0.3L, -2.0L, -11400.0L};
	for (unsigned j = 0; j < sizeof la / sizeof la[0]; j++) {
		long double x = la[j];
		printf("l %La: %La %La\n", x, sqrtl(x), fmodl(x, 0.7L));
		printf("  %.16Lg %.16Lg %.16Lg %.16Lg %.16Lg %.16Lg\n", sinl(x), cosl(x), tanl(x),
		       expl(x), logl(x), atanl(x));
		printf("  %.16Lg %.16Lg %.16Lg %.16Lg %.16Lg\n", powl(x, 0.75L), exp2l(x), log2l(x),
		       log10l(x), atan2l(x, -1.5L));
	}
}

int main(void)
{
	doubles();
	floats();
	long_doubles();
	return 0;
}
