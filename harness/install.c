// SPDX-License-Identifier: MIT
/*
 * Who we are and where our parts are: the version (meson's project version and git describe at
 * build time) and the programs tcplab starts in the lab, in the build tree or installed.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lab.h"
#include "version.h"

#ifndef LAB_VERSION
#define LAB_VERSION "unknown"
#endif
#ifndef LAB_BUILD_ROOT
#define LAB_BUILD_ROOT "."
#endif
#ifndef LAB_BINDIR /* prefix/bindir and prefix/libexecdir/tcplab, from meson */
#define LAB_BINDIR "/usr/local/bin"
#endif
#ifndef LAB_PROGDIR
#define LAB_PROGDIR "/usr/local/libexec/tcplab"
#endif

const char *lab_version(void)
{
	/* outside git, vcs_tag() falls back to the project version itself */
	if (!LAB_VCS_DESCRIBE[0] || !strcmp(LAB_VCS_DESCRIBE, LAB_VERSION))
		return LAB_VERSION;
	return LAB_VERSION " (git " LAB_VCS_DESCRIBE ")";
}

/* is @path @dir or inside it? */
static bool inside(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || !path[n]);
}

/*
 * An installed tcplab (not in the build tree) runs the installed programs: with `meson install
 * --destdir D` it is D/BINDIR/tcplab and they are in D/PROGDIR, else in PROGDIR itself.
 */
static bool installed(const char *name, char path[PATH_MAX])
{
	char exe[PATH_MAX], root[PATH_MAX], *slash;
	size_t el, bl = strlen(LAB_BINDIR);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	if (inside(exe, realpath(LAB_BUILD_ROOT, root) ? root : LAB_BUILD_ROOT))
		return false;
	el = strlen(exe);
	if (el >= bl && !strcmp(exe + el - bl, LAB_BINDIR)) {
		snprintf(path, PATH_MAX, "%.*s%s/%s", (int)(el - bl), exe, LAB_PROGDIR, name);
		if (!access(path, X_OK))
			return true;
	}
	snprintf(path, PATH_MAX, "%s/%s", LAB_PROGDIR, name);
	return !access(path, X_OK);
}

const char *lab_program(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("TCPLAB_PROGRAMS");
	char path[PATH_MAX];

	if (dir)
		snprintf(buf, len, "%s/%s", dir, name);
	else if (installed(name, path))
		snprintf(buf, len, "%s", path);
	else
		snprintf(buf, len, "%s/%s/%s", LAB_BUILD_ROOT,
			 strstr(name, "server") ? "servers" : "clients", name);
	return buf;
}
