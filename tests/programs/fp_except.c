/* Exception flags: feclearexcept, an operation, fetestexcept, for each of
 * the five IEEE exceptions raised by arithmetic, conversions and libm, in
 * float, double and long double. glibc's fetestexcept ORs the x87 status
 * word and MXCSR, so the x87 and SSE builds exercise different units. */
#include <fenv.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>

static volatile double zero = 0.0, one = 1.0, three = 3.0, big = 1e308, tiny = 1e-308;
static volatile double minus = -1.0, inf = INFINITY, qnan = NAN;
static volatile float fzero = 0.0f, fone = 1.0f, fbig = 3e38f, ftiny = 1e-38f;
static volatile long double lzero = 0.0L, lone = 1.0L, lbig = 1e4932L;
static volatile double sink;
static volatile float fsink;
static volatile long double lsink;
static volatile int isink;
static volatile long long llsink;

static void show(const char *what)
{
	int e = fetestexcept(FE_ALL_EXCEPT);
	printf("%-22s %s%s%s%s%s%s\n", what, e & FE_INVALID ? " invalid" : "",
	       e & FE_DIVBYZERO ? " divbyzero" : "", e & FE_OVERFLOW ? " overflow" : "",
	       e & FE_UNDERFLOW ? " underflow" : "", e & FE_INEXACT ? " inexact" : "",
	       e ? "" : " none");
	feclearexcept(FE_ALL_EXCEPT);
}

#define CASE(what, stmt)                                                                          \
	do {                                                                                      \
		feclearexcept(FE_ALL_EXCEPT);                                                     \
		stmt;                                                                             \
		show(what);                                                                       \
	} while (0)

int main(void)
{
	CASE("nothing", (void)0);
	CASE("exact add", sink = one + three);
	CASE("1/3", sink = one / three);
	CASE("1/0", sink = one / zero);
	CASE("-1/0", sink = minus / zero);
	CASE("0/0", sink = zero / zero);
	CASE("inf-inf", sink = inf - inf);
	CASE("inf*0", sink = inf * zero);
	CASE("nan+1 (quiet)", sink = qnan + one);
	CASE("nan<1", isink = qnan < one);
	CASE("nan==1", isink = qnan == one);
	CASE("sqrt(-1)", sink = sqrt(minus));
	CASE("big*big", sink = big * big);
	CASE("tiny*tiny", sink = tiny * tiny);
	CASE("tiny/3 (denormal)", sink = tiny / three);
	CASE("float 1/0", fsink = fone / fzero);
	CASE("float big*10", fsink = fbig * 10.0f);
	CASE("float tiny/1e10", fsink = ftiny / 1e10f);
	CASE("double->float ovf", fsink = (float)big);
	CASE("double->float inexact", fsink = (float)(one / three));
	CASE("long 1/0", lsink = lone / lzero);
	CASE("long big*big", lsink = lbig * lbig);
	CASE("long 0/0", lsink = lzero / lzero);
	CASE("(int)2.5", isink = (int)(three - 0.5));
	CASE("(int)1e10", isink = (int)(big / 1e298));
	CASE("(int)nan", isink = (int)qnan);
	CASE("(long long)1e300", llsink = (long long)(big / 1e8));
	CASE("(unsigned)-1.5", isink = (int)(unsigned)(minus - 0.5));
	CASE("log(0)", sink = log(zero));
	CASE("log(-1)", sink = log(minus));
	CASE("exp(1000)", sink = exp(big / 1e305));
	CASE("exp(-1000)", sink = exp(-big / 1e305));
	CASE("pow(0,-1)", sink = pow(zero, minus));
	CASE("atan2(1,1)", sink = atan2(one, one));
	CASE("fmod(1,0)", sink = fmod(one, zero));
	CASE("lrint(2.5)", isink = (int)lrint(three - 0.5));
	CASE("lrint(1e10)", isink = (int)lrint(big / 1e298));
	CASE("rint(2.5)", sink = rint(three - 0.5));
	CASE("nearbyint(2.5)", sink = nearbyint(three - 0.5));
	CASE("sin(inf)", sink = sin(inf));
	CASE("strtod is quiet", sink = 0.1);
	feraiseexcept(FE_OVERFLOW | FE_INEXACT);
	show("feraiseexcept ovf|inx");
	fexcept_t saved;
	feraiseexcept(FE_DIVBYZERO);
	fegetexceptflag(&saved, FE_ALL_EXCEPT);
	feclearexcept(FE_ALL_EXCEPT);
	fesetexceptflag(&saved, FE_DIVBYZERO);
	show("fesetexceptflag div");
	fenv_t env;
	feholdexcept(&env);
	sink = one / zero;
	show("feholdexcept+1/0");
	feupdateenv(&env);
	show("feupdateenv");
	printf("%g %g %d %lld\n", sink, (double)fsink, isink, llsink);
	return 0;
}
