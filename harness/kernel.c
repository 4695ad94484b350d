// SPDX-License-Identifier: MIT
/* Kernel release, HZ and features, read from the kernel's own config where it publishes one. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include "kernel.h"

/* look for "CONFIG_NAME=value" or "# CONFIG_NAME is not set" */
static int scan_line(const char *line, const char *key, char *value, size_t len)
{
	size_t kl = strlen(key);

	if (!strncmp(line, key, kl) && line[kl] == '=') {
		snprintf(value, len, "%s", line + kl + 1);
		value[strcspn(value, "\n")] = '\0';
		return 0;
	}
	if (!strncmp(line, "# ", 2) && !strncmp(line + 2, key, kl) &&
	    !strncmp(line + 2 + kl, " is not set", 11)) {
		snprintf(value, len, "n");
		return 0;
	}
	return -ENOENT;
}

int lab_kernel_config(const char *name, char *value, size_t len)
{
	char key[96], path[160], line[512];
	struct utsname u;
	gzFile gz;
	int ret = -ENOENT;

	snprintf(key, sizeof(key), "CONFIG_%s", name);
	uname(&u);
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	/* zlib reads plain files too, so one loop serves both places */
	gz = gzopen("/proc/config.gz", "rb");
	if (!gz)
		gz = gzopen(path, "rb");
	if (!gz)
		return -ENOENT;
	while (ret && gzgets(gz, line, sizeof(line)))
		ret = scan_line(line, key, value, len);
	gzclose(gz);
	return ret;
}

unsigned int lab_kernel_version(const char *release)
{
	unsigned int a = 0, b = 0, c = 0;

	if (sscanf(release, "%u.%u.%u", &a, &b, &c) < 2 || a > 255 || b > 255)
		return 0;
	return LAB_KERNEL_VERSION(a, b, c);
}

/* @name in /lib/modules/RELEASE/modules.dep or modules.builtin */
static bool module_listed(const char *release, const char *name)
{
	static const char *const lists[] = { "modules.dep", "modules.builtin" };
	char path[256], line[512], want[64];
	bool found = false;
	size_t i;
	FILE *f;

	snprintf(want, sizeof(want), "/%s.ko", name);
	for (i = 0; i < 2 && !found; i++) {
		snprintf(path, sizeof(path), "/lib/modules/%s/%s", release, lists[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (!found && fgets(line, sizeof(line), f)) {
			line[strcspn(line, ":\n")] = '\0'; /* the module's own path */
			found = strstr(line, want);
		}
		fclose(f);
	}
	return found;
}

void lab_kernel_probe(struct lab_kernel *k)
{
	struct utsname u;
	char v[32];

	uname(&u);
	snprintf(k->release, sizeof(k->release), "%s", u.release);
	k->version = lab_kernel_version(k->release);
	k->hz = lab_kernel_config("HZ", v, sizeof(v)) == 0 ? atoi(v) : 0;
	k->netem = -1;
	if (lab_kernel_config("NET_SCH_NETEM", v, sizeof(v)) == 0)
		k->netem = v[0] == 'y' || v[0] == 'm';
	else if (module_listed(u.release, "sch_netem"))
		k->netem = 1; /* no config published, but the module is there (or built in) */
}
