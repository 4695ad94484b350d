// SPDX-License-Identifier: MIT
/* Namespaces as fds: create with unshare() on this thread, keep the fd, step back at once. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "netns.h"

static int open_current(void)
{
	return open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
}

int lab_netns_enter(const struct lab_netns *ns, int *saved)
{
	*saved = open_current();
	if (*saved < 0)
		return lab_fail(-errno, "open current netns");
	if (setns(ns->fd, CLONE_NEWNET) < 0) {
		int err = -errno;

		close(*saved);
		*saved = -1;
		return lab_fail(err, "setns(%s)", ns->name);
	}
	return 0;
}

int lab_netns_leave(int *saved)
{
	int err = 0;

	if (*saved < 0)
		return 0;
	if (setns(*saved, CLONE_NEWNET) < 0)
		err = lab_fail(-errno, "setns(back)");
	close(*saved);
	*saved = -1;
	return err;
}

int lab_netns_new(struct lab_netns *ns, const char *name)
{
	int saved, err = 0;

	snprintf(ns->name, sizeof(ns->name), "%s", name);
	ns->cpu = -1;
	saved = open_current();
	if (saved < 0)
		return lab_fail(-errno, "open current netns");
	if (unshare(CLONE_NEWNET) < 0) {
		err = lab_fail(-errno, "unshare(CLONE_NEWNET) for %s", name);
		goto out;
	}
	ns->fd = open_current();
	if (ns->fd < 0)
		err = lab_fail(-errno, "open netns %s", name);
	if (setns(saved, CLONE_NEWNET) < 0 && !err)
		err = lab_fail(-errno, "setns(back) after creating %s", name);
out:
	close(saved);
	return err;
}

void lab_netns_close(struct lab_netns *ns)
{
	if (ns->fd >= 0)
		close(ns->fd);
	ns->fd = -1;
}

int lab_netns_in_child(int (*fn)(void *arg), void *arg, bool own_mounts)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (own_mounts &&
		    (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)))
			_exit(errno);
		_exit(-fn(arg));
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status))
		return -ECHILD;
	return -WEXITSTATUS(status);
}

static int try_new_netns(void *arg)
{
	return unshare(CLONE_NEWNET) < 0 ? -errno : 0;
}

int lab_netns_probe(void)
{
	return lab_netns_in_child(try_new_netns, NULL, false);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		err = -errno;
	close(fd);
	return err;
}

int lab_netns_become_root(void)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int err;

	if (!uid)
		return 0;
	/*
	 * An unprivileged user namespace in which we are root, and a network namespace of its own
	 * to come back to (setns() into a namespace of the init user namespace is refused there)
	 */
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return -errno;
	err = write_file("/proc/self/setgroups", "deny");
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)uid);
	if (!err)
		err = write_file("/proc/self/uid_map", map);
	snprintf(map, sizeof(map), "0 %u 1", (unsigned int)gid);
	if (!err)
		err = write_file("/proc/self/gid_map", map);
	return err;
}

/*
 * /run/netns as iproute2 leaves it: a mount point, shared. If `ip netns add` made it one after we
 * pinned (it bind-mounts the folder on itself), our pins would lie under that bind, and unlink()
 * of them fails with EBUSY forever. The check and the bind are serialised by a lock on the folder.
 */
static int run_dir_shared(void)
{
	int fd, err = 0;

	if (mkdir(LAB_NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return lab_fail(-errno, "mkdir %s", LAB_NETNS_RUN_DIR);
	fd = open(LAB_NETNS_RUN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		err = lab_fail(-errno, "lock %s", LAB_NETNS_RUN_DIR);
		goto out;
	}
	if (!mount("", LAB_NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL))
		goto out;
	if (errno != EINVAL) /* EINVAL: not a mount point yet */
		err = lab_fail(-errno, "make %s shared", LAB_NETNS_RUN_DIR);
	else if (mount(LAB_NETNS_RUN_DIR, LAB_NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
		err = lab_fail(-errno, "bind mount %s on itself", LAB_NETNS_RUN_DIR);
	else if (mount("", LAB_NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
		err = lab_fail(-errno, "make %s shared", LAB_NETNS_RUN_DIR);
out:
	if (fd >= 0)
		close(fd); /* and the lock with it */
	return err;
}

int lab_netns_pin(const struct lab_netns *ns, const char *name)
{
	char path[128], src[64];
	int fd, err;

	err = run_dir_shared();
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/%s", LAB_NETNS_RUN_DIR, name);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return lab_fail(-errno, "create %s", path);
	close(fd);
	snprintf(src, sizeof(src), "/proc/self/fd/%d", ns->fd);
	if (mount(src, path, "none", MS_BIND, NULL) < 0) {
		err = lab_fail(-errno, "bind mount %s", path);
		unlink(path);
	}
	return err;
}

int lab_netns_unpin(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", LAB_NETNS_RUN_DIR, name);
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
		return lab_fail(-errno, "umount %s", path);
	return unlink(path) < 0 ? lab_fail(-errno, "remove %s", path) : 0;
}

int lab_netns_socket(const struct lab_netns *ns, int type)
{
	int saved = -1, fd, err = lab_netns_enter(ns, &saved);

	if (err)
		return err;
	fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	err = fd < 0 ? -errno : fd;
	lab_netns_leave(&saved);
	return err;
}
