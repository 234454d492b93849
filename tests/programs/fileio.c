/* File I/O inside the directory given as argv[1]: create, write, read back,
 * seek, stat, truncate, rename, link, list, remove. Prints only what is the
 * same on every run and every machine (no inode numbers, times or paths). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			printf("FAIL line %d: %s (errno %d %s)\n", __LINE__, #cond, errno, \
			       strerror(errno));                                     \
			failures++;                                                  \
		}                                                                    \
	} while (0)

static unsigned char data[100000];

static void write_and_read(void)
{
	for (unsigned i = 0; i < sizeof data; i++)
		data[i] = (unsigned char)(i * 7 + (i >> 8));
	int fd = open("a.bin", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	CHECK(fd >= 0);
	for (unsigned off = 0, chunk = 1; off < sizeof data; off += chunk, chunk = chunk * 3 % 8191 + 1) {
		unsigned n = off + chunk > sizeof data ? sizeof data - off : chunk;
		CHECK(write(fd, data + off, n) == (ssize_t)n);
	}
	CHECK(close(fd) == 0);

	struct stat st;
	CHECK(stat("a.bin", &st) == 0);
	printf("a.bin: size=%lld mode=%o reg=%d nlink=%d\n", (long long)st.st_size,
	       st.st_mode & 07777, S_ISREG(st.st_mode), (int)st.st_nlink);

	static unsigned char back[sizeof data + 10];
	fd = open("a.bin", O_RDONLY);
	CHECK(fd >= 0);
	ssize_t got = 0, r;
	while ((r = read(fd, back + got, 4093)) > 0)
		got += r;
	printf("read %zd bytes, equal=%d, read at eof=%zd\n", got, !memcmp(data, back, sizeof data),
	       read(fd, back, 10));
	CHECK(lseek(fd, 1000, SEEK_SET) == 1000);
	CHECK(read(fd, back, 4) == 4 && !memcmp(back, data + 1000, 4));
	CHECK(lseek(fd, -10, SEEK_CUR) == 994);
	CHECK(lseek(fd, -5, SEEK_END) == (off_t)sizeof data - 5);
	CHECK(read(fd, back, 100) == 5 && !memcmp(back, data + sizeof data - 5, 5));
	CHECK(pread(fd, back, 8, 5000) == 8 && !memcmp(back, data + 5000, 8));
	CHECK(lseek(fd, 0, SEEK_CUR) == (off_t)sizeof data);
	struct stat fst;
	CHECK(fstat(fd, &fst) == 0 && fst.st_size == (off_t)sizeof data);
	CHECK(close(fd) == 0);
}

static void modify(void)
{
	int fd = open("a.bin", O_RDWR);
	CHECK(pwrite(fd, "HELLO", 5, 10) == 5);
	CHECK(ftruncate(fd, 50) == 0);
	CHECK(lseek(fd, 100, SEEK_SET) == 100);
	CHECK(write(fd, "end", 3) == 3); /* leaves a hole from 50 to 100 */
	char buf[110];
	CHECK(pread(fd, buf, sizeof buf, 0) == 103);
	printf("after modify: %.5s hole-zero=%d tail=%.3s\n", buf + 10,
	       buf[50] == 0 && buf[99] == 0, buf + 100);
	CHECK(close(fd) == 0);

	fd = open("a.bin", O_WRONLY | O_APPEND);
	CHECK(write(fd, "++", 2) == 2);
	CHECK(close(fd) == 0);
	struct stat st;
	CHECK(stat("a.bin", &st) == 0);
	printf("after append: size=%lld\n", (long long)st.st_size);
}

static void stdio_file(void)
{
	FILE *f = fopen("notes.txt", "w");
	CHECK(f != NULL);
	for (int i = 0; i < 100; i++)
		fprintf(f, "note %d: %s\n", i, i % 2 ? "odd" : "even");
	CHECK(fclose(f) == 0);
	f = fopen("notes.txt", "r");
	char line[64];
	int lines = 0, odd = 0;
	while (fgets(line, sizeof line, f)) {
		lines++;
		odd += strstr(line, "odd") != NULL;
	}
	CHECK(fclose(f) == 0);
	printf("notes.txt: %d lines, %d odd\n", lines, odd);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

static void list(const char *dir)
{
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	if (!d)
		return;
	char *names[64];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64)
		names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof *names, cmp_names);
	printf("%s:", dir);
	for (int i = 0; i < n; i++) {
		printf(" %s", names[i]);
		free(names[i]);
	}
	printf("\n");
}

static void names(void)
{
	CHECK(mkdir("sub", 0755) == 0);
	CHECK(mkdir("sub", 0755) == -1 && errno == EEXIST);
	CHECK(rename("notes.txt", "sub/renamed.txt") == 0);
	CHECK(link("a.bin", "sub/hard") == 0);
	CHECK(symlink("../a.bin", "sub/soft") == 0);
	char target[64] = {0};
	CHECK(readlink("sub/soft", target, sizeof target - 1) == 8);
	printf("readlink: %s\n", target);
	struct stat st, lst;
	CHECK(stat("sub/soft", &st) == 0 && lstat("sub/soft", &lst) == 0);
	printf("stat follows link: reg=%d; lstat: lnk=%d\n", S_ISREG(st.st_mode), S_ISLNK(lst.st_mode));
	CHECK(stat("a.bin", &st) == 0);
	printf("a.bin nlink=%d\n", (int)st.st_nlink);
	for (int i = 0; i < 20; i++) {
		char name[32];
		snprintf(name, sizeof name, "sub/f%02d", i);
		int fd = open(name, O_CREAT | O_EXCL | O_WRONLY, 0600);
		CHECK(fd >= 0);
		CHECK(write(fd, name, strlen(name)) == (ssize_t)strlen(name));
		close(fd);
	}
	CHECK(open("sub/f00", O_CREAT | O_EXCL | O_WRONLY, 0600) == -1 && errno == EEXIST);
	list(".");
	list("sub");
	CHECK(rmdir("sub") == -1 && errno == ENOTEMPTY);
	CHECK(open("missing", O_RDONLY) == -1 && errno == ENOENT);
	CHECK(stat("missing/x", &st) == -1 && errno == ENOENT);
	CHECK(open("a.bin/x", O_RDONLY) == -1 && errno == ENOTDIR);
	CHECK(access("a.bin", R_OK | W_OK) == 0);
	CHECK(unlink("sub") == -1 && (errno == EISDIR || errno == EPERM));
}

static void cleanup(void)
{
	DIR *d = opendir("sub");
	struct dirent *e;
	int removed = 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			char path[300];
			snprintf(path, sizeof path, "sub/%s", e->d_name);
			CHECK(unlink(path) == 0);
			removed++;
		}
	closedir(d);
	CHECK(rmdir("sub") == 0);
	CHECK(unlink("a.bin") == 0);
	printf("removed %d files\n", removed);
	list(".");
}

static void descriptors(void)
{
	int fd = open("dup.txt", O_CREAT | O_RDWR | O_TRUNC, 0644);
	int fd2 = dup(fd);
	CHECK(fd2 > fd);
	CHECK(dup2(fd, 20) == 20);
	CHECK(write(fd, "abc", 3) == 3 && write(fd2, "def", 3) == 3 && write(20, "ghi", 3) == 3);
	CHECK(lseek(fd2, 0, SEEK_CUR) == 9); /* duplicates share the offset */
	char buf[10] = {0};
	CHECK(pread(20, buf, 9, 0) == 9);
	printf("dup: %s\n", buf);
	CHECK(fcntl(fd, F_GETFD) == 0);
	CHECK(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC);
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
	close(fd);
	close(fd2);
	close(20);
	CHECK(close(20) == -1 && errno == EBADF);
	CHECK(unlink("dup.txt") == 0);
}

int main(int argc, char **argv)
{
	if (argc != 2 || chdir(argv[1]) != 0) {
		fprintf(stderr, "usage: fileio EMPTY-DIR\n");
		return 2;
	}
	umask(022);
	write_and_read();
	modify();
	stdio_file();
	names();
	descriptors();
	cleanup();
	printf("%d failures\n", failures);
	return failures != 0;
}
