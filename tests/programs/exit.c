/* Exit status paths: `exit.c CODE HOW` ends with status CODE through
 * exit(), a return from main, or _exit(). exit() and return run atexit
 * handlers and flush stdio; _exit() does neither. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void handler(void) { printf("atexit handler ran\n"); }

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int code = atoi(argv[1]);
	atexit(handler);
	printf("exiting with %d via %s", code, argv[2]); /* no newline: must still be flushed */
	if (!strcmp(argv[2], "exit"))
		exit(code);
	if (!strcmp(argv[2], "_exit")) {
		fflush(stdout);
		_exit(code);
	}
	return code;
}
