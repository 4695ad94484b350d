// SPDX-License-Identifier: MIT
/*
 * What a program really set on its connection, read from outside: a user's program (curl,
 * socat) sets its own keepalive, not the scenario's parameters. The socket on the lab port is
 * found among the file descriptors of the processes in the host's namespace, borrowed with
 * pidfd_getfd() (Linux 5.6; the harness started them, so it may) and asked with getsockopt():
 * the kernel answers with what the connection uses (keepalive_time_when(): the socket's own
 * value, else the namespace's sysctl).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* a connected TCP socket of ours with the lab port at either end: read its options */
static bool read_opts(int fd, uint16_t port, struct lab_sockopts *out)
{
	struct sockaddr_in me, peer;
	socklen_t len = sizeof(me), plen = sizeof(peer), ilen = sizeof(int);
	int type = 0, v;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &ilen) || type != SOCK_STREAM ||
	    getsockname(fd, (struct sockaddr *)&me, &len) || me.sin_family != AF_INET ||
	    getpeername(fd, (struct sockaddr *)&peer, &plen) ||
	    (ntohs(me.sin_port) != port && ntohs(peer.sin_port) != port))
		return false;
	*out = (struct lab_sockopts){ .read = true };
	ilen = sizeof(v);
	if (!getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, &ilen))
		out->keepalive = v;
	ilen = sizeof(v);
	if (!getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, &ilen))
		out->keepidle_s = v;
	ilen = sizeof(v);
	if (!getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &v, &ilen))
		out->keepintvl_s = v;
	ilen = sizeof(v);
	if (!getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, &ilen))
		out->keepcnt = v;
	ilen = sizeof(v);
	if (!getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v, &ilen))
		out->user_timeout_ms = v;
	return true;
}

/* the process @pid's sockets: one on the lab port? */
static bool from_process(int pid, uint16_t port, struct lab_sockopts *out)
{
	char path[64], link[64];
	struct dirent *d;
	bool found = false;
	int pidfd, fd;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	if (!dir)
		return false;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	while (pidfd >= 0 && !found && (d = readdir(dir))) {
		char fdpath[320];
		ssize_t n;

		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, d->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		if (n <= 0 || strncmp(link, "socket:", 7))
			continue;
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(d->d_name), 0);
		if (fd < 0)
			continue;
		found = read_opts(fd, port, out);
		close(fd);
	}
	if (pidfd >= 0)
		close(pidfd);
	closedir(dir);
	if (found)
		snprintf(out->program, sizeof(out->program), "pid %d", pid);
	return found;
}

void lab_sockopts(struct lab_run *run, enum lab_host host, struct lab_sockopts *out)
{
	struct stat ns, other;
	struct dirent *d;
	char path[64];
	DIR *proc;

	*out = (struct lab_sockopts){ 0 };
	if (run->err || run->dry || fstat(run->topo.ns[host].fd, &ns))
		return;
	proc = opendir("/proc");
	if (!proc)
		return;
	/* only processes in that namespace: the lab's programs, never the host's */
	while (!out->read && (d = readdir(proc))) {
		int pid = atoi(d->d_name);

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (stat(path, &other) || other.st_ino != ns.st_ino || other.st_dev != ns.st_dev)
			continue;
		from_process(pid, run->port, out);
	}
	closedir(proc);
}
