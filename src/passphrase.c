/* passphrase.c — reading a passphrase (see passphrase.h). */
#include "src/passphrase.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "store/err.h"

#define PASS_MAX 1024

/* One line from fd into a malloc'd buffer, without its newline. */
static int read_line(int fd, const char *from, char **ret, size_t *ret_len)
{
	char *buf = malloc(PASS_MAX + 1);
	if (!buf)
		return store_fail(-ENOMEM, "passphrase: out of memory");
	size_t len = 0;
	for (;;) {
		char ch;
		ssize_t n = read(fd, &ch, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = store_failp(-errno, "passphrase: reading %s", from);
			pass_free(buf, PASS_MAX + 1);
			return r;
		}
		if (n == 0 || ch == '\n')
			break;
		if (len == PASS_MAX) {
			pass_free(buf, PASS_MAX + 1);
			return store_fail(-E2BIG, "passphrase: longer than %d bytes in %s", PASS_MAX,
					  from);
		}
		buf[len++] = ch;
	}
	if (len && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int from_file(const char *path, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return store_failp(-errno, "passphrase: CKPTFS_PASSPHRASE_FILE %s", path);
	int r = read_line(fd, path, ret, ret_len);
	close(fd);
	return r;
}

/* Prompt on the terminal tty with echo off. */
static int ask(int tty, const char *prompt, char **ret, size_t *ret_len)
{
	struct termios old, quiet;
	bool restore = tcgetattr(tty, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		tcsetattr(tty, TCSANOW, &quiet);
	}
	if (write(tty, prompt, strlen(prompt)) < 0) {
		/* the read below fails the same way */
	}
	int r = read_line(tty, "the terminal", ret, ret_len);
	if (restore)
		tcsetattr(tty, TCSANOW, &old);
	return r;
}

static int from_terminal(const char *what, bool confirm, char **ret, size_t *ret_len)
{
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty < 0)
		return store_fail(-ENOTTY, "%s: no terminal to ask on (set CKPTFS_PASSPHRASE_FILE%s)",
				  what, confirm ? " or use --passphrase-stdin" : "");
	char prompt[512], *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	snprintf(prompt, sizeof prompt, "%s: ", what);
	int r = ask(tty, prompt, &a, &alen);
	if (r == 0 && confirm && alen == 0)
		r = store_fail(-EINVAL, "passphrase: an empty passphrase protects nothing");
	if (r == 0 && confirm) {
		r = ask(tty, "again: ", &b, &blen);
		if (r == 0 && (alen != blen || sodium_memcmp(a, b, alen) != 0))
			r = store_fail(-EINVAL, "passphrase: the two entries differ");
		pass_free(b, blen + 1);
	}
	close(tty);
	if (r < 0) {
		pass_free(a, alen + 1);
		return r;
	}
	*ret = a;
	*ret_len = alen;
	return 0;
}

int pass_get(const char *what, bool confirm, bool from_stdin, char **ret, size_t *ret_len)
{
	int r;
	const char *file = getenv("CKPTFS_PASSPHRASE_FILE");
	if (from_stdin)
		r = read_line(STDIN_FILENO, "standard input", ret, ret_len);
	else if (file && *file)
		r = from_file(file, ret, ret_len);
	else
		return from_terminal(what, confirm, ret, ret_len);
	if (r == 0 && confirm && *ret_len == 0) {
		pass_free(*ret, *ret_len + 1);
		*ret = NULL;
		*ret_len = 0;
		return store_fail(-EINVAL, "passphrase: an empty passphrase protects nothing");
	}
	return r;
}

void pass_free(char *pass, size_t len)
{
	if (!pass)
		return;
	sodium_memzero(pass, len);
	free(pass);
}

int pass_repo_source(const char *what, char **ret, size_t *ret_len)
{
	char prompt[4200];
	snprintf(prompt, sizeof prompt, "passphrase of %s", what);
	return pass_get(prompt, false, false, ret, ret_len);
}
