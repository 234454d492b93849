/* netcopy: moves N MiB from one process to another over a TCP connection
 * on 127.0.0.1 (the network group: system calls and socket buffers, little
 * computation). The child writes a deterministic stream in 64 KiB
 * writes; the parent reads it in 64 KiB reads and prints the byte count
 * and a checksum of the first byte of every 4 KiB of the stream (so the
 * checksum is cheap and still catches lost, repeated or reordered data).
 * `netcopy N PORT` only sends, to 127.0.0.1:PORT (a sink on the host: the
 * guest-to-host direction), and prints the checksum of what it sent. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHUNK 65536

static void send_all(int c, unsigned long long total, unsigned char *buf, unsigned long long *sum)
{
	for (size_t i = 0; i < CHUNK; i++)
		buf[i] = (unsigned char)(i * 7);
	for (unsigned long long sent = 0; sent < total;) {
		size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
		for (size_t i = 0; i < n; i += 4096) {
			buf[i] = (unsigned char)((sent + i) / 4096 * 2654435761u >> 13);
			if (sum)
				*sum = *sum * 131 + buf[i];
		}
		for (size_t off = 0; off < n;) {
			ssize_t w = write(c, buf + off, n - off);
			if (w <= 0) {
				perror("write");
				exit(1);
			}
			off += (size_t)w;
		}
		sent += n;
	}
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	unsigned long long total = (unsigned long long)(argc > 1 ? atoi(argv[1]) : 100) << 20;
	static unsigned char buf[CHUNK];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	if (argc > 2) {
		unsigned long long sum = 0;
		a.sin_port = htons((unsigned short)atoi(argv[2]));
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a))
			die("connect");
		send_all(c, total, buf, &sum);
		close(c);
		printf("%llu bytes sent, checksum %016llx\n", total, sum);
		return 0;
	}
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		die("listen");
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a))
			die("connect");
		send_all(c, total, buf, 0);
		close(c);
		_exit(0);
	}
	int s = accept(l, 0, 0);
	if (s < 0)
		die("accept");
	unsigned long long got = 0, sum = 0;
	for (;;) {
		ssize_t n = read(s, buf, CHUNK);
		if (n < 0)
			die("read");
		if (n == 0)
			break;
		for (unsigned long long p = (got + 4095) / 4096 * 4096; p < got + (unsigned long long)n; p += 4096)
			sum = sum * 131 + buf[p - got];
		got += (unsigned long long)n;
	}
	int status;
	waitpid(pid, &status, 0);
	printf("%llu bytes, checksum %016llx, sender status %d\n", got, sum, status);
	return got == total && status == 0 ? 0 : 1;
}
