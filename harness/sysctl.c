// SPDX-License-Identifier: MIT
/* Per-namespace sysctls through /proc/sys, opened after entering the namespace. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "sysctl.h"

static void key_to_path(const char *key, char *path, size_t len)
{
	size_t i, off = (size_t)snprintf(path, len, "/proc/sys/");

	for (i = 0; key[i] && off + 1 < len; i++)
		path[off++] = key[i] == '.' ? '/' : key[i];
	path[off] = '\0';
}

int lab_sysctl_set(const char *key, const char *value)
{
	char path[256];
	ssize_t n;
	int fd;

	key_to_path(key, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	close(fd);
	if (n < 0)
		return -errno;
	return 0;
}

int lab_sysctl_get(const char *key, char *buf, size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	key_to_path(key, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	/* multi-value sysctls are tab separated; keep them readable */
	for (char *p = buf; *p; p++)
		if (*p == '\t')
			*p = ' ';
	return 0;
}
