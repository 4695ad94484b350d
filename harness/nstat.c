// SPDX-License-Identifier: MIT
/*
 * /proc/net/netstat and /proc/net/snmp come in line pairs:
 *   TcpExt: SyncookiesSent SyncookiesRecv ...
 *   TcpExt: 0 0 ...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "nstat.h"

static int add(struct lab_nstat *s, const char *prefix, size_t plen, const char *field, size_t flen,
	       int64_t value)
{
	struct lab_counter *grown;

	if (plen + flen >= sizeof(s->v[0].name))
		return -EINVAL;
	grown = realloc(s->v, (s->n + 1) * sizeof(*s->v));
	if (!grown)
		return -ENOMEM;
	s->v = grown;
	memcpy(s->v[s->n].name, prefix, plen);
	memcpy(s->v[s->n].name + plen, field, flen);
	s->v[s->n].name[plen + flen] = '\0';
	s->v[s->n].value = value;
	s->n++;
	return 0;
}

/* one header line and its value line, both "Prefix: a b c" */
static int parse_pair(struct lab_nstat *s, const char *names, const char *values, size_t nlen,
		      size_t vlen)
{
	const char *colon = memchr(names, ':', nlen), *n, *v, *nend = names + nlen,
		   *vend = values + vlen;
	size_t plen;
	int err;

	if (!colon || vlen <= (size_t)(colon - names) ||
	    memcmp(names, values, (size_t)(colon - names + 1)))
		return -EINVAL;
	plen = (size_t)(colon - names);
	n = colon + 1;
	v = values + plen + 1;
	for (;;) {
		const char *ne, *ve;
		char num[32];
		char *end;
		int64_t value;

		while (n < nend && *n == ' ')
			n++;
		while (v < vend && *v == ' ')
			v++;
		if (n == nend || v == vend)
			return n == nend && v == vend ? 0 : -EINVAL;
		for (ne = n; ne < nend && *ne != ' '; ne++)
			;
		for (ve = v; ve < vend && *ve != ' '; ve++)
			;
		if ((size_t)(ve - v) >= sizeof(num))
			return -EINVAL;
		memcpy(num, v, (size_t)(ve - v));
		num[ve - v] = '\0';
		errno = 0;
		value = strtoll(num, &end, 10);
		if (errno || *end || end == num)
			return -EINVAL;
		err = add(s, names, plen, n, (size_t)(ne - n), value);
		if (err)
			return err;
		n = ne;
		v = ve;
	}
}

int lab_nstat_parse(struct lab_nstat *s, const char *text)
{
	const char *line = text;
	int err;

	while (*line) {
		const char *eol = strchr(line, '\n'), *next, *eol2;

		if (!eol)
			return -EINVAL;
		next = eol + 1;
		eol2 = strchr(next, '\n');
		if (!eol2)
			return -EINVAL;
		err = parse_pair(s, line, next, (size_t)(eol - line), (size_t)(eol2 - next));
		if (err)
			return err;
		line = eol2 + 1;
	}
	return 0;
}

static int read_file(const char *path, char *buf, size_t len)
{
	size_t have = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (have + 1 < len && (n = read(fd, buf + have, len - 1 - have)) > 0)
		have += (size_t)n;
	close(fd);
	buf[have] = '\0';
	return 0;
}

int lab_nstat_read(struct lab_nstat *s, const struct lab_netns *ns)
{
	static const char *const files[] = { "/proc/thread-self/net/netstat",
					     "/proc/thread-self/net/snmp" };
	size_t len = 1 << 16, i;
	char *buf = malloc(len);
	int saved = -1, err;

	if (!buf)
		return -ENOMEM;
	err = lab_netns_enter(ns, &saved);
	for (i = 0; i < 2 && !err; i++) {
		err = read_file(files[i], buf, len);
		if (!err)
			err = lab_nstat_parse(s, buf);
		if (err)
			lab_fail(err, "%s: %s", ns->name, files[i]);
	}
	lab_netns_leave(&saved);
	free(buf);
	return err;
}

bool lab_nstat_get(const struct lab_nstat *s, const char *name, int64_t *value)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].name, name)) {
			*value = s->v[i].value;
			return true;
		}
	return false;
}

int64_t lab_nstat_delta(const struct lab_nstat *before, const struct lab_nstat *after,
			const char *name)
{
	int64_t a = 0, b = 0;

	lab_nstat_get(before, name, &b);
	lab_nstat_get(after, name, &a);
	return a - b;
}

void lab_nstat_free(struct lab_nstat *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}
