/* Reads all of standard input in odd-sized chunks and reports what it saw,
 * then echoes it upper-cased: covers reads from a pipe, short reads and
 * end of file. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	size_t cap = 1 << 16, len = 0;
	unsigned char *data = malloc(cap);
	ssize_t r;
	unsigned reads = 0;
	while ((r = read(0, data + len, 997 < cap - len ? 997 : cap - len)) > 0) {
		len += r;
		reads++;
		if (len == cap)
			data = realloc(data, cap *= 2);
	}
	unsigned long lines = 0, sum = 0;
	for (size_t i = 0; i < len; i++) {
		lines += data[i] == '\n';
		sum = sum * 31 + data[i];
	}
	fprintf(stderr, "read %zu bytes, %lu lines, hash %08lx, last read %zd\n", len, lines, sum, r);
	for (size_t i = 0; i < len; i++)
		data[i] = toupper(data[i]);
	fwrite(data, 1, len, stdout);
	return reads == 0 ? 3 : 0;
}
