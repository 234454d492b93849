/* libm on i386: square root, exponentials, logarithms, trigonometry and
 * rounding, printed to full double precision. glibc's i386 libm uses x87
 * instructions (fsqrt, fyl2x, f2xm1, fprem, frndint, ...) for several of
 * these, so results must match the host CPU bit for bit. */
#include <math.h>
#include <stdio.h>

int main(void)
{
	static const double xs[] = {0.0, 0.5, 1.0, 2.0, 3.14159, 10.0, 100.5, 1e-5, 12345.678, -0.75};
	for (unsigned i = 0; i < sizeof xs / sizeof xs[0]; i++) {
		volatile double x = xs[i];
		printf("x=%g sqrt=%.17g exp=%.17g log=%.17g sin=%.17g cos=%.17g tan=%.17g\n", x,
		       sqrt(fabs(x)), exp(x / 10), log(fabs(x) + 1), sin(x), cos(x), tan(x));
		printf("  atan=%.17g atan2=%.17g pow=%.17g floor=%g ceil=%g round=%g rint=%g "
		       "fmod=%.17g\n",
		       atan(x), atan2(x, 0.3), pow(fabs(x) + 0.5, 1.7), floor(x), ceil(x), round(x),
		       rint(x), fmod(x, 0.7));
	}
	return 0;
}
