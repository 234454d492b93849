/* A toy in-guest JIT: code written at run time, run hot, then changed
 * while it stays hot, in every way a real JIT (or a packer, or a debugger)
 * changes code. Each case prints what the code computed, so a stale
 * translation or a stale decoded block shows as a wrong number:
 *  - an immediate patched between calls;
 *  - a loop that rewrites the instruction it runs next (a store into the
 *    block being run);
 *  - an instruction that straddles two pages, patched on the second;
 *  - code written through a second MAP_SHARED mapping of the same file
 *    (a writable view and an executable view, as W^X JITs do);
 *  - code that read(2) puts in place;
 *  - code in a MAP_SHARED mapping that a child process rewrites.
 * argv[1]: a scratch directory. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define CALLS 5000

typedef int (*fn)(void);

static unsigned char *rwx(size_t len, int flags) {
    void *p = mmap(0, len, PROT_READ | PROT_WRITE | PROT_EXEC, flags | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? 0 : p;
}

/* mov eax, imm32; ret */
static void emit_const(unsigned char *at, uint32_t v) {
    at[0] = 0xb8;
    memcpy(at + 1, &v, 4);
    at[5] = 0xc3;
}

static long run_hot(fn f) {
    long sum = 0;
    for (int i = 0; i < CALLS; i++)
        sum += f();
    return sum;
}

static void patched_immediate(void) {
    unsigned char *code = rwx(4096, MAP_PRIVATE);
    long total = 0;
    for (uint32_t k = 1; k <= 8; k++) {
        emit_const(code, k * 1000 + 7);
        total += run_hot((fn)code);
    }
    printf("patched immediate: %ld\n", total);
}

static void loop_rewrites_next_iteration(void) {
    unsigned char *code = rwx(4096, MAP_PRIVATE);
    /* push ebx; mov ebx, CODE; xor eax, eax; mov ecx, 100
     * L: mov [ebx+P+2], cl; P: add eax, 0; dec ecx; jnz L; pop ebx; ret */
    unsigned char *p = code;
    uint32_t base = (uint32_t)(uintptr_t)code;
    *p++ = 0x53;
    *p++ = 0xbb;
    memcpy(p, &base, 4);
    p += 4;
    *p++ = 0x31, *p++ = 0xc0;
    *p++ = 0xb9, *p++ = 100, *p++ = 0, *p++ = 0, *p++ = 0;
    unsigned char *loop = p;
    unsigned char *store = p;
    p += 6; /* mov [ebx+disp32], cl: 88 8b disp32 */
    unsigned char *add = p;
    *p++ = 0x83, *p++ = 0xc0, *p++ = 0x00;
    *p++ = 0x49;
    *p++ = 0x75;
    *p = (unsigned char)(loop - (p + 1));
    p++;
    *p++ = 0x5b;
    *p++ = 0xc3;
    uint32_t disp = (uint32_t)(add + 2 - code);
    store[0] = 0x88, store[1] = 0x8b;
    memcpy(store + 2, &disp, 4);
    long total = 0;
    for (int i = 0; i < CALLS / 10; i++)
        total += ((fn)code)();
    printf("loop rewriting its next iteration: %ld\n", total);
}

static void straddling_two_pages(void) {
    unsigned char *code = rwx(8192, MAP_PRIVATE);
    unsigned char *at = code + 4096 - 3; /* b8 and two bytes, then two bytes */
    long total = 0;
    for (uint32_t k = 1; k <= 6; k++) {
        emit_const(at, 0x01010101u * k);
        total += run_hot((fn)at);
        /* only the bytes on the second page change */
        code[4096] = (unsigned char)(0x40 + k);
        total += run_hot((fn)at);
    }
    printf("straddling two pages: %ld\n", total);
}

static void second_mapping(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/code", dir);
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0700);
    if (fd < 0 || ftruncate(fd, 4096) < 0) {
        puts("second mapping: no file");
        return;
    }
    unsigned char *w = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unsigned char *x = mmap(0, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (w == MAP_FAILED || x == MAP_FAILED) {
        puts("second mapping: mmap failed");
        return;
    }
    long total = 0;
    for (uint32_t k = 1; k <= 8; k++) {
        emit_const(w, k * 3 + 1);
        total += run_hot((fn)x);
    }
    printf("written through a second mapping: %ld\n", total);
    close(fd);
}

static void read_into_code(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/bytes", dir);
    unsigned char *code = rwx(4096, MAP_PRIVATE);
    long total = 0;
    for (uint32_t k = 1; k <= 6; k++) {
        unsigned char bytes[6];
        emit_const(bytes, k * 11);
        int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
        write(fd, bytes, sizeof bytes);
        lseek(fd, 0, SEEK_SET);
        read(fd, code, sizeof bytes);
        close(fd);
        total += run_hot((fn)code);
    }
    printf("read(2) into code: %ld\n", total);
}

static void rewritten_by_a_child(void) {
    unsigned char *code = rwx(4096, MAP_SHARED);
    long total = 0;
    for (uint32_t k = 1; k <= 4; k++) {
        emit_const(code, k);
        total += run_hot((fn)code);
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            emit_const(code, 100 * k);
            _exit(0);
        }
        waitpid(pid, 0, 0);
        total += run_hot((fn)code);
    }
    printf("rewritten by a child: %ld\n", total);
}

int main(int argc, char **argv) {
    if (argc < 2)
        return 2;
    patched_immediate();
    loop_rewrites_next_iteration();
    straddling_two_pages();
    second_mapping(argv[1]);
    read_into_code(argv[1]);
    rewritten_by_a_child();
    return 0;
}
