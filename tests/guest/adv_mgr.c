// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * adv_mgr: the manager under attack (issue 10 findings 9 and 14; INTERFACE.md §13.20).
 * Prints TAP.
 *
 *   adv_mgr opener          (node mode 0666, set by the suite) the opener's credentials
 *                           decide: an fd opened by uid 65534 and handed to root by
 *                           SCM_RIGHTS refuses root's writes (EPERM) and does not run an
 *                           unterminated command at root's close; an fd opened by root and
 *                           handed to a uid-65534 process creates and deletes for it
 *   adv_mgr stall NAME SIZE a thread creates a SIZE buffer through the manager while
 *                           another opens and closes /dev/NAME in a loop: no open waits
 *                           as long as half the create (a ratio of two times)
 */
#include "tap.h"
#include <pthread.h>
#include <grp.h>
#include <sys/socket.h>

#define MGR "/dev/u-dma-buf-mgr"
#define NOBODY 65534

static int send_fd(int sock, int fd, int err)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &err, sizeof(err) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	memset(cbuf, 0, sizeof(cbuf));
	if (fd >= 0) {
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, 0) < 0 ? -1 : 0;
}

/* The fd received, or -errno the sender reported (or EIO). */
static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	int err = EIO, fd;
	struct iovec iov = { &err, sizeof(err) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;

	if (recvmsg(sock, &msg, 0) < (ssize_t)sizeof(err))
		return -EIO;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -(err ? err : EIO);
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static int drop_to_nobody(void)
{
	return setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY) ? -1 : 0;
}

static int wr(int fd, const char *text)
{
	ssize_t n = write(fd, text, strlen(text));

	return n < 0 ? errno : n == (ssize_t)strlen(text) ? 0 : EIO;
}

static int exists(const char *name)
{
	return access(S("/dev/%s", name), F_OK) == 0;
}

/* Deletes NAME through a root-opened fd if a test left it. */
static void cleanup(const char *name)
{
	int fd;

	if (!exists(name))
		return;
	fd = open(MGR, O_WRONLY);
	if (fd >= 0) {
		wr(fd, S("delete %s\n", name));
		close(fd);
	}
}

static int cmd_opener(void)
{
	int sv[2], fd, e, st;
	pid_t pid;

	/* 1. Opened by nobody, handed to root. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		if (drop_to_nobody())
			_exit(send_fd(sv[1], -1, errno) ? 3 : 2);
		fd = open(MGR, O_WRONLY);
		_exit(send_fd(sv[1], fd, fd < 0 ? errno : 0) ? 3 : 0);
	}
	close(sv[1]);
	fd = recv_fd(sv[0]);
	waitpid(pid, &st, 0);
	close(sv[0]);
	if (fd == -EPERM || fd == -EACCES) {
		tap(1, "an fd opened by uid 65534 cannot be used by root: the open itself is refused",
		    "");
		diag("the open by uid 65534 failed with %s", errname(-fd));
	} else if (fd < 0) {
		tap(0, "uid 65534 opens " MGR " (mode 0666) and hands the fd to root by SCM_RIGHTS",
		    "expected an fd or EPERM got %s", errname(-fd));
	} else {
		e = wr(fd, "create adv-x 4096\n");
		tap(e == EPERM && !exists("adv-x"),
		    "root writing 'create adv-x 4096\\n' through an fd opened by uid 65534 -> EPERM, nothing created",
		    "expected EPERM and no /dev/adv-x got %s and %s", errname(e), exists("adv-x") ? "/dev/adv-x" : "none");
		e = wr(fd, "create adv-y 4096");
		close(fd);
		tap(!exists("adv-y"),
		    "an unterminated 'create adv-y 4096' written by root through uid 65534's fd does not run at root's close",
		    "expected no /dev/adv-y got one (the write gave %s)", errname(e));
		cleanup("adv-x");
		cleanup("adv-y");
	}

	/* 2. Opened by root, handed to nobody. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		if (drop_to_nobody())
			_exit(20);
		fd = recv_fd(sv[1]);
		if (fd < 0)
			_exit(21);
		e = wr(fd, "create adv-z 4096\n");
		if (e)
			_exit(e == EPERM ? 22 : 23);
		if (!exists("adv-z"))
			_exit(24);
		e = wr(fd, "delete adv-z\n");
		if (e)
			_exit(25);
		e = wr(fd, "create adv-w 4096");
		if (e)
			_exit(26);
		close(fd);
		_exit(exists("adv-w") ? 0 : 27);
	}
	close(sv[1]);
	fd = open(MGR, O_WRONLY);
	if (fd < 0 || send_fd(sv[0], fd, 0))
		return 1;
	close(fd);
	close(sv[0]);
	waitpid(pid, &st, 0);
	e = WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
	tap(e == 0,
	    "an fd opened by root, handed to a uid-65534 process: its create, delete and unterminated create (run at its close) work",
	    "expected every step to work got: %s",
	    e == 22 ? "the create was refused with EPERM" : e == 23 ? "the create failed (not EPERM)" :
	    e == 24 ? "no node after the create" : e == 25 ? "the delete failed" :
	    e == 26 ? "the unterminated create's write failed" :
	    e == 27 ? "the unterminated create did not run at close" : S("child status %d", e));
	cleanup("adv-z");
	cleanup("adv-w");
	return 0;
}

/* --- stall ----------------------------------------------------------------- */

/*
 * The guest has one CPU and a kernel without forced preemption: while the create runs a
 * long stretch without a preemption point (the allocator zeroing the memory) no other
 * thread runs at all, lock or no lock.  So what counts is the time an open() spent
 * asleep (off the run queue: waiting for a lock), from /proc/thread-self/schedstat:
 * wall time - CPU time - time runnable but waiting for the CPU.
 */
static const char *node;
static volatile int stop;
static volatile double c_start, c_end;
static double max_sleep, max_lat, base_max;
static long during, total;
static int have_schedstat;

/*
 * CPU time + run-queue wait of this thread, in seconds; -1 when unknown.  (A kernel
 * without CONFIG_SCHED_INFO reads "0 0 0": then the wall time counts as asleep.)
 */
static double on_rq(int fd)
{
	char buf[128];
	unsigned long long run, wait;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	if (sscanf(buf, "%llu %llu", &run, &wait) != 2)
		return -1;
	return (run + wait) / 1e9;
}

static void *opener(void *arg)
{
	int sfd = open("/proc/thread-self/schedstat", O_RDONLY);

	(void)arg;
	have_schedstat = sfd >= 0 && on_rq(sfd) >= 0;
	while (!stop) {
		double q0 = have_schedstat ? on_rq(sfd) : 0, t0 = now(), t1, q1, slept;
		int fd = open(node, O_RDONLY);

		if (fd >= 0)
			close(fd);
		t1 = now();
		q1 = have_schedstat ? on_rq(sfd) : 0;
		slept = t1 - t0 - (q1 - q0);
		total++;
		/* An open that overlapped the create. */
		if (c_start && t0 < (c_end ? c_end : 1e300) && t1 > c_start) {
			during++;
			if (t1 - t0 > max_lat)
				max_lat = t1 - t0;
			if (slept > max_sleep)
				max_sleep = slept;
		} else if (!c_start && t1 - t0 > base_max) {
			base_max = t1 - t0;
		}
	}
	if (sfd >= 0)
		close(sfd);
	return NULL;
}

static long meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(key);

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = atol(line + n + 1);
	if (f)
		fclose(f);
	return v;
}

/*
 * A child that fills CMA with movable (anonymous) pages, then frees every other MiB of
 * them: the create must migrate pages out of its range, a long stretch with preemption
 * points, which is where an open() could wait for a lock.  Returns the child's pid; the
 * child holds its memory until it is killed.
 */
static pid_t fill_cma(int *pipefd)
{
	int p[2];
	pid_t pid;
	if (pipe(p))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		long total = meminfo_kb("CmaTotal"), n = 0;
		static uint8_t *chunk[4096];

		while (n < 4096 && meminfo_kb("CmaFree") > total / 5 && meminfo_kb("MemAvailable") > 160 * 1024) {
			chunk[n] = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
			if (chunk[n] == MAP_FAILED)
				break;
			memset(chunk[n], (int)n, 1 << 20);
			n++;
		}
		for (long i = 0; i < n; i += 2)
			munmap(chunk[i], 1 << 20);
		if (write(p[1], &n, sizeof(n)) != sizeof(n))
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	*pipefd = p[0];
	return pid;
}

static int cmd_stall(const char *name, const char *size)
{
	pthread_t th;
	int fd = open(MGR, O_WRONLY), e;
	double dur, worst;
	long before, mib = 0;
	pid_t filler;
	int fp = -1;

	node = S("/dev/%s", name);
	if (fd < 0)
		return 1;
	filler = fill_cma(&fp);
	if (filler > 0 && read(fp, &mib, sizeof(mib)) == sizeof(mib))
		diag("a child filled CMA with %ld MiB of anonymous memory and freed every other MiB: CmaFree %ld of %ld kB, MemFree %ld kB",
		     mib, meminfo_kb("CmaFree"), meminfo_kb("CmaTotal"), meminfo_kb("MemFree"));
	pthread_create(&th, NULL, opener, NULL);
	while (total < 200)
		usleep(1000);
	before = total;
	c_start = now();
	e = wr(fd, S("create adv-big %s\n", size));
	c_end = now();
	usleep(20000);
	stop = 1;
	pthread_join(th, NULL);
	close(fd);
	if (filler > 0) {
		kill(filler, SIGKILL);
		waitpid(filler, NULL, 0);
		close(fp);
	}
	dur = c_end - c_start;
	if (!tap(!e, S("create adv-big %s while another thread opens /dev/%s in a loop", size, name),
		 "expected success got %s", errname(e)))
		return 0;
	diag("create took %.1f ms; %ld opens before it (slowest %.2f ms), %ld overlapped it: slowest %.2f ms, longest asleep %.2f ms%s",
	     dur * 1e3, before, base_max * 1e3, during, max_lat * 1e3, max_sleep * 1e3,
	     have_schedstat ? "" : " (no schedstat: wall time used)");
	worst = have_schedstat ? max_sleep : max_lat;
	tap(during > 0 && worst < dur / 2,
	    S("no open of /dev/%s sleeps as long as half of a %s create (the allocation holds no global lock)", name, size),
	    "expected the longest %s of an overlapping open < %.1f ms (half the create) got %.2f ms (%ld overlapping opens)",
	    have_schedstat ? "sleep" : "latency", dur / 2 * 1e3, worst * 1e3, during);
	cleanup("adv-big");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "opener"))
		return cmd_opener();
	if (argc == 4 && !strcmp(argv[1], "stall"))
		return cmd_stall(argv[2], argv[3]);
	fprintf(stderr, "usage: adv_mgr opener | stall NAME SIZE\n");
	return 2;
}
