// SPDX-License-Identifier: MIT
/* Kept labs: pinned namespaces and who kept them, so `clean` removes only the caller's own. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "kept.h"

void lab_owner_self(struct lab_owner *o)
{
	const char *tag = getenv(LAB_TAG_ENV), *sudo = getenv("SUDO_UID");
	char *end;
	unsigned long uid;
	size_t i;

	o->uid = (unsigned int)getuid();
	if (!o->uid && sudo && *sudo) {
		errno = 0;
		uid = strtoul(sudo, &end, 10);
		if (!errno && !*end && uid < (unsigned int)-1)
			o->uid = (unsigned int)uid;
	}
	snprintf(o->tag, sizeof(o->tag), "%s", tag ? tag : "");
	for (i = 0; o->tag[i]; i++) /* one line in the record, whatever the environment held */
		if (iscntrl((unsigned char)o->tag[i]))
			o->tag[i] = '_';
}

bool lab_owner_same(const struct lab_owner *a, const struct lab_owner *b)
{
	return a->uid == b->uid && !strcmp(a->tag, b->tag);
}

static void record_path(char *buf, size_t len, const char *lab)
{
	snprintf(buf, len, "%s/%s.owner", LAB_KEPT_OWNER_DIR, lab);
}

int lab_owner_read(const char *lab, struct lab_owner *o)
{
	char path[128], line[256];
	bool have_uid = false;
	FILE *f;

	record_path(path, sizeof(path), lab);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	*o = (struct lab_owner){ .uid = 0 };
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "uid=", 4))
			have_uid = sscanf(line + 4, "%u", &o->uid) == 1;
		else if (!strncmp(line, "tag=", 4) &&
			 snprintf(o->tag, sizeof(o->tag), "%s", line + 4) >= (int)sizeof(o->tag))
			o->tag[sizeof(o->tag) - 1] = '\0'; /* cut like lab_owner_self() cuts it */
	}
	fclose(f);
	return have_uid ? 0 : -EINVAL;
}

/* written whole under a temporary name, then renamed: a reader never sees half a record */
static int record_write(const char *lab, const struct lab_owner *o, const char *results)
{
	char path[128], tmp[128];
	int fd, err = 0;

	if (mkdir(LAB_KEPT_OWNER_DIR, 0755) < 0 && errno != EEXIST)
		return lab_fail(-errno, "mkdir %s", LAB_KEPT_OWNER_DIR);
	record_path(path, sizeof(path), lab);
	snprintf(tmp, sizeof(tmp), "%s/.new-%d", LAB_KEPT_OWNER_DIR, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return lab_fail(-errno, "create %s", tmp);
	if (dprintf(fd, "uid=%u\ntag=%s\npid=%d\nresults=%s\n", o->uid, o->tag, (int)getpid(),
		    results) < 0)
		err = lab_fail(-errno, "write %s", tmp);
	if (close(fd) < 0 && !err)
		err = lab_fail(-errno, "write %s", tmp);
	if (!err && rename(tmp, path) < 0)
		err = lab_fail(-errno, "rename %s to %s", tmp, path);
	if (err)
		unlink(tmp);
	return err;
}

int lab_kept_pin(const struct lab_topo *t, const char *id, const struct lab_owner *owner,
		 const char *results, char names[LAB_NHOSTS][LAB_KEPT_NAME_MAX])
{
	char lab[LAB_KEPT_NAME_MAX - 8], path[128]; /* room left for "-server" */
	enum lab_host h;
	int err;

	if (snprintf(lab, sizeof(lab), "tcplab-%s", id) >= (int)sizeof(lab))
		return lab_fail(-ENAMETOOLONG, "lab id '%s'", id);
	/* the record first: a pinned namespace always has an owner to be judged by */
	err = record_write(lab, owner, results);
	for (h = 0; h < LAB_NHOSTS && !err; h++) {
		snprintf(names[h], LAB_KEPT_NAME_MAX, "%s-%s", lab, lab_host_name(h));
		err = lab_netns_pin(&t->ns[h], names[h]);
		if (err)
			while (h-- > 0)
				lab_netns_unpin(names[h]);
	}
	if (err) {
		record_path(path, sizeof(path), lab);
		unlink(path);
	}
	return err;
}

/* "tcplab-ID-HOST" -> "tcplab-ID" */
static bool lab_of(const char *name, char *lab, size_t len)
{
	const char *dash = strrchr(name, '-');

	if (strncmp(name, "tcplab-", 7) || !dash || dash - name <= 7 ||
	    (size_t)(dash - name) >= len)
		return false;
	snprintf(lab, len, "%.*s", (int)(dash - name), name);
	return true;
}

static bool is_mine(const char *lab, const struct lab_owner *self, bool all)
{
	struct lab_owner o;

	return all || (!lab_owner_read(lab, &o) && lab_owner_same(&o, self));
}

static bool any_pinned(const char *lab)
{
	char path[128];
	enum lab_host h;

	for (h = 0; h < LAB_NHOSTS; h++) {
		snprintf(path, sizeof(path), "%s/%s-%s", LAB_NETNS_RUN_DIR, lab, lab_host_name(h));
		if (!access(path, F_OK))
			return true;
	}
	return false;
}

/* records whose namespaces are all gone (cleaned now, or never pinned): the caller's, or all */
static void drop_records(const struct lab_owner *self, bool all)
{
	DIR *d = opendir(LAB_KEPT_OWNER_DIR);
	char lab[LAB_KEPT_NAME_MAX], path[128];
	struct dirent *e;
	size_t len;

	while (d && (e = readdir(d))) {
		len = strlen(e->d_name);
		if (strncmp(e->d_name, "tcplab-", 7) || len <= 7 + 6 ||
		    strcmp(e->d_name + len - 6, ".owner") || len - 6 >= sizeof(lab))
			continue;
		snprintf(lab, sizeof(lab), "%.*s", (int)(len - 6), e->d_name);
		if (any_pinned(lab) || !is_mine(lab, self, all))
			continue;
		record_path(path, sizeof(path), lab);
		unlink(path);
	}
	if (d)
		closedir(d);
}

int lab_kept_clean(const struct lab_owner *self, bool all, FILE *out, struct lab_kept_clean *res)
{
	DIR *d = opendir(LAB_NETNS_RUN_DIR);
	char lab[LAB_KEPT_NAME_MAX];
	struct dirent *e;

	*res = (struct lab_kept_clean){ .removed = 0 };
	if (!d && errno != ENOENT)
		return lab_fail(-errno, "open %s", LAB_NETNS_RUN_DIR);
	while (d && (e = readdir(d))) {
		if (!lab_of(e->d_name, lab, sizeof(lab)))
			continue;
		if (!is_mine(lab, self, all)) {
			res->others++;
			continue;
		}
		if (lab_netns_unpin(e->d_name)) {
			res->failed++;
			continue;
		}
		fprintf(out, "removed %s\n", e->d_name);
		res->removed++;
	}
	if (d)
		closedir(d);
	drop_records(self, all);
	return 0;
}
