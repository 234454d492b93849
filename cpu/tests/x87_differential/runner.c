/* Host side of the x87 differential test (cpu/tests/x87_differential.rs).
 *
 * Every operation is a straight-line x87 snippet working on a data block
 * at a fixed address, so the very same bytes can run on the host CPU and
 * in Wax's interpreter. `runner dump` prints each snippet's name and
 * bytes; `runner` then reads cases ("op cw a_se a_sig b_se b_sig", hex)
 * and prints what the host computed. Built with gcc -m32. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define DATA 0x10000000u
/* Data block layout, shared with the Rust side. */
#define A_OFF 0x00   /* operand A (80-bit), ST(0) after the loads */
#define B_OFF 0x10   /* operand B (80-bit), ST(1) */
#define CW_OFF 0x20  /* control word; +2: 0x037f, all masked */
#define SW_OFF 0x30  /* status word after the operation */
#define R_OFF 0x40   /* first result (80-bit) */
#define R2_OFF 0x50  /* second result (80-bit) */
#define M_OFF 0x60   /* memory destination / EFLAGS (16 bytes) */

#define PRE "fninit\n fldcw word ptr ds:0x10000020\n fld tbyte ptr ds:0x10000010\n fld tbyte ptr ds:0x10000000\n"
/* After the status word is saved, mask everything so storing the results
 * (possibly from empty registers) cannot leave an exception pending. */
#define POST "fnstsw word ptr ds:0x10000030\n fnclex\n fldcw word ptr ds:0x10000022\n"
#define ST1 "fstp tbyte ptr ds:0x10000040\n"
#define ST2 ST1 "fstp tbyte ptr ds:0x10000050\n"

#define OP(name, body) \
  __asm__(".intel_syntax noprefix\n .text\n .globl op_" #name "\n op_" #name ":\n" \
          body "\n .globl op_" #name "_end\n op_" #name "_end:\n ret\n .att_syntax prefix\n"); \
  extern char op_##name[], op_##name##_end[];

OP(add, PRE "faddp st(1), st\n" POST ST2)
OP(sub, PRE "fsubrp st(1), st\n" POST ST2)
OP(subr, PRE "fsubp st(1), st\n" POST ST2)
OP(mul, PRE "fmulp st(1), st\n" POST ST2)
OP(div, PRE "fdivrp st(1), st\n" POST ST2)
OP(divr, PRE "fdivp st(1), st\n" POST ST2)
OP(add_st0, PRE "fadd st, st(1)\n" POST ST2)
OP(div_st0, PRE "fdiv st, st(1)\n" POST ST2)
OP(addd, PRE "fadd qword ptr ds:0x10000010\n" POST ST2)
OP(subrd, PRE "fsubr qword ptr ds:0x10000010\n" POST ST2)
OP(muls, PRE "fmul dword ptr ds:0x10000010\n" POST ST2)
OP(divs, PRE "fdiv dword ptr ds:0x10000010\n" POST ST2)
OP(iadd32, PRE "fiadd dword ptr ds:0x10000010\n" POST ST2)
OP(idivr16, PRE "fidivr word ptr ds:0x10000010\n" POST ST2)
OP(sqrt, PRE "fsqrt\n" POST ST2)
OP(rndint, PRE "frndint\n" POST ST2)
OP(chs, PRE "fchs\n" POST ST2)
OP(abs, PRE "fabs\n" POST ST2)
OP(prem, PRE "fprem\n" POST ST2)
OP(prem1, PRE "fprem1\n" POST ST2)
OP(scale, PRE "fscale\n" POST ST2)
OP(xtract, PRE "fxtract\n" POST ST2)
OP(sin, PRE "fsin\n" POST ST2)
OP(cos, PRE "fcos\n" POST ST2)
OP(sincos, PRE "fsincos\n" POST ST2)
OP(ptan, PRE "fptan\n" POST ST2)
OP(patan, PRE "fpatan\n" POST ST2)
OP(f2xm1, PRE "f2xm1\n" POST ST2)
OP(yl2x, PRE "fyl2x\n" POST ST2)
OP(yl2xp1, PRE "fyl2xp1\n" POST ST2)
OP(std, PRE "fst qword ptr ds:0x10000060\n" POST ST2)
OP(sts, PRE "fst dword ptr ds:0x10000060\n" POST ST2)
OP(st80, PRE "fstp tbyte ptr ds:0x10000060\n" POST ST2)
OP(ist16, PRE "fist word ptr ds:0x10000060\n" POST ST2)
OP(ist32, PRE "fistp dword ptr ds:0x10000060\n" POST ST2)
OP(ist64, PRE "fistp qword ptr ds:0x10000060\n" POST ST2)
OP(istt16, PRE "fisttp word ptr ds:0x10000060\n" POST ST2)
OP(istt32, PRE "fisttp dword ptr ds:0x10000060\n" POST ST2)
OP(istt64, PRE "fisttp qword ptr ds:0x10000060\n" POST ST2)
OP(bst, PRE "fbstp tbyte ptr ds:0x10000060\n" POST ST2)
OP(ldd, PRE "fld qword ptr ds:0x10000010\n" POST ST2)
OP(lds, PRE "fld dword ptr ds:0x10000010\n" POST ST2)
OP(ild16, PRE "fild word ptr ds:0x10000010\n" POST ST2)
OP(ild32, PRE "fild dword ptr ds:0x10000010\n" POST ST2)
OP(ild64, PRE "fild qword ptr ds:0x10000010\n" POST ST2)
OP(bld, PRE "fbld tbyte ptr ds:0x10000010\n" POST ST2)
OP(com, PRE "fcom st(1)\n" POST ST2)
OP(ucom, PRE "fucom st(1)\n" POST ST2)
OP(comd, PRE "fcom qword ptr ds:0x10000010\n" POST ST2)
OP(comps, PRE "fcomp dword ptr ds:0x10000010\n" POST ST2)
OP(compp, PRE "fcompp\n" POST ST2)
OP(ucompp, PRE "fucompp\n" POST ST2)
OP(comi, PRE "fcomi st, st(1)\n pushfd\n pop dword ptr ds:0x10000060\n" POST ST2)
OP(ucomip, PRE "fucomip st, st(1)\n pushfd\n pop dword ptr ds:0x10000060\n" POST ST2)
OP(tst, PRE "ftst\n" POST ST2)
OP(xam, PRE "fxam\n" POST ST2)
#define PRE1 "fninit\n fldcw word ptr ds:0x10000020\n fld tbyte ptr ds:0x10000000\n"
OP(under_add, PRE1 "fadd st, st(1)\n" POST ST2)
OP(under_xch, PRE1 "fxch st(2)\n" POST ST2)
OP(under_compp, PRE1 "fcompp\n" POST ST2)
OP(under_st, PRE1 "fstp st(3)\n" POST ST2)
OP(under_ist, "fninit\n fldcw word ptr ds:0x10000020\n fistp dword ptr ds:0x10000060\n" POST)
OP(under_std, "fninit\n fldcw word ptr ds:0x10000020\n fst qword ptr ds:0x10000060\n" POST)
OP(over, PRE "fld st(0)\n fld st(0)\n fld st(0)\n fld st(0)\n fld st(0)\n fld st(0)\n fld st(0)\n" POST ST2)

struct op { const char *name; char *start, *end; };
#define E(n) { #n, op_##n, op_##n##_end },
static const struct op ops[] = {
  E(add) E(sub) E(subr) E(mul) E(div) E(divr) E(add_st0) E(div_st0) E(addd) E(subrd) E(muls)
  E(divs) E(iadd32) E(idivr16) E(sqrt) E(rndint) E(chs) E(abs) E(prem) E(prem1) E(scale)
  E(xtract) E(sin) E(cos) E(sincos) E(ptan) E(patan) E(f2xm1) E(yl2x) E(yl2xp1) E(std) E(sts)
  E(st80) E(ist16) E(ist32) E(ist64) E(istt16) E(istt32) E(istt64) E(bst) E(ldd) E(lds)
  E(ild16) E(ild32) E(ild64) E(bld) E(com) E(ucom) E(comd) E(comps) E(compp) E(ucompp) E(comi) E(ucomip) E(tst) E(xam)
  E(under_add) E(under_xch) E(under_compp) E(under_st) E(under_ist) E(under_std) E(over)
  { 0, 0, 0 } };

static void put80(unsigned off, unsigned se, unsigned long long sig) {
  unsigned char *d = (unsigned char *)DATA + off;
  memcpy(d, &sig, 8); memcpy(d + 8, &se, 2);
}

static void print80(unsigned off) {
  unsigned char *d = (unsigned char *)DATA + off;
  unsigned long long sig; unsigned short se;
  memcpy(&sig, d, 8); memcpy(&se, d + 8, 2);
  printf(" %04x %016llx", se, sig);
}

int main(int argc, char **argv) {
  if (mmap((void *)DATA, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
    return 1;
  if (argc > 1 && !strcmp(argv[1], "dump")) {
    for (const struct op *o = ops; o->name; o++) {
      printf("%s", o->name);
      for (char *p = o->start; p < o->end; p++) printf(" %02x", (unsigned char)*p);
      printf("\n");
    }
    return 0;
  }
  char name[32]; unsigned cw, ase, bse; unsigned long long asig, bsig;
  while (scanf("%31s %x %x %llx %x %llx", name, &cw, &ase, &asig, &bse, &bsig) == 6) {
    const struct op *o = ops;
    while (o->name && strcmp(o->name, name)) o++;
    if (!o->name) return 2;
    memset((void *)DATA, 0x5a, 0x70);
    put80(A_OFF, ase, asig); put80(B_OFF, bse, bsig);
    *(unsigned short *)(DATA + CW_OFF) = cw;
    *(unsigned short *)(DATA + CW_OFF + 2) = 0x037f;
    ((void (*)(void))o->start)();
    print80(R_OFF); print80(R2_OFF);
    printf(" %04x", *(unsigned short *)(DATA + SW_OFF));
    for (int i = 0; i < 16; i++) printf("%s%02x", i ? "" : " ", ((unsigned char *)DATA)[M_OFF + i]);
    printf("\n");
    fflush(stdout);
  }
  return 0;
}
