// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * seed002: the C snippets of the established driver's README (shared/seeds/002),
 * run against /dev/udmabuf0 as users wrote them (INTERFACE.md §13.14: every line
 * of the seeds' programs must work unchanged). Each snippet below is copied
 * verbatim inside a function; the only edits are the initializers of the values
 * written, which take the function's argument. Prints TAP.
 *
 * The snippets do not compile cleanly with -Wall -Wextra (unsigned char buffers
 * given to sscanf/strlen, %d/%x with unsigned long, int/unsigned compares):
 * those warnings are switched off for the copied code only.
 */
#include "tap.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wpointer-sign"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-result"

static unsigned long seed_phys_addr(void)
{
    int fd;
    unsigned char  attr[1024];
    unsigned long  phys_addr;
    if ((fd  = open("/sys/class/u-dma-buf/udmabuf0/phys_addr", O_RDONLY)) != -1) {
        read(fd, attr, 1024);
        sscanf(attr, "%x", &phys_addr);
        close(fd);
    }
    return phys_addr;
}

static unsigned int seed_size(void)
{
    int fd;
    unsigned char  attr[1024];
    unsigned int   buf_size;
    if ((fd  = open("/sys/class/u-dma-buf/udmabuf0/size", O_RDONLY)) != -1) {
        read(fd, attr, 1024);
        sscanf(attr, "%d", &buf_size);
        close(fd);
    }
    return buf_size;
}

static void seed_sync_mode(unsigned long value)
{
    int fd;
    unsigned char  attr[1024];
    unsigned long  sync_mode = value;
    if ((fd  = open("/sys/class/u-dma-buf/udmabuf0/sync_mode", O_WRONLY)) != -1) {
        sprintf(attr, "%d", sync_mode);
        write(fd, attr, strlen(attr));
        close(fd);
    }
}

static void seed_sync_offset(unsigned long value)
{
    int fd;
    unsigned char  attr[1024];
    unsigned long  sync_offset = value;
    if ((fd  = open("/sys/class/u-dma-buf/udmabuf0/sync_offset", O_WRONLY)) != -1) {
        sprintf(attr, "%d", sync_offset);
        write(fd, attr, strlen(attr));
        close(fd);
    }
}

static void seed_sync_size(unsigned long value)
{
    int fd;
    unsigned char  attr[1024];
    unsigned long  sync_size = value;
    if ((fd  = open("/sys/class/u-dma-buf/udmabuf0/sync_size", O_WRONLY)) != -1) {
        sprintf(attr, "%d", sync_size);
        write(fd, attr, strlen(attr));
        close(fd);
    }
}

static void seed_sync_direction(unsigned long value)
{
    int fd;
    unsigned char  attr[1024];
    unsigned long  sync_direction = value;
    if ((fd  = open("/sys/class/u-dma-buf/udmabuf0/sync_direction", O_WRONLY)) != -1) {
        sprintf(attr, "%d", sync_direction);
        write(fd, attr, strlen(attr));
        close(fd);
    }
}

static int seed_dma_coherent(void)
{
    int fd;
    unsigned char  attr[1024];
    int dma_coherent;
    if ((fd  = open("/sys/class/u-dma-buf/udmabuf0/dma_coherent", O_RDONLY)) != -1) {
        read(fd, attr, 1024);
        sscanf(attr, "%x", &dma_coherent);
        close(fd);
    }
    return dma_coherent;
}

static int seed_sync_owner(void)
{
    int fd;
    unsigned char  attr[1024];
    int sync_owner;
    if ((fd  = open("/sys/class/u-dma-buf/udmabuf0/sync_owner", O_RDONLY)) != -1) {
        read(fd, attr, 1024);
        sscanf(attr, "%x", &sync_owner);
        close(fd);
    }
    return sync_owner;
}

static void seed_sync_for_cpu(void)
{
    int fd;
    unsigned char  attr[1024];
    unsigned long  sync_for_cpu = 1;
    if ((fd  = open("/sys/class/u-dma-buf/udmabuf0/sync_for_cpu", O_WRONLY)) != -1) {
        sprintf(attr, "%d", sync_for_cpu);
        write(fd, attr, strlen(attr));
        close(fd);
    }
}

static void seed_sync_for_cpu_encoded(unsigned long offset, unsigned long size, unsigned int direction)
{
    int fd;
    unsigned char  attr[1024];
    unsigned long  sync_offset     = offset;
    unsigned long  sync_size        = size;
    unsigned int   sync_direction = direction;
    unsigned long  sync_for_cpu    = 1;
    if ((fd  = open("/sys/class/u-dma-buf/udmabuf0/sync_for_cpu", O_WRONLY)) != -1) {
        sprintf(attr, "0x%08X%08X", (sync_offset & 0xFFFFFFFF), (sync_size & 0xFFFFFFF0) | (sync_direction << 2) | sync_for_cpu);
        write(fd, attr, strlen(attr));
        close(fd);
    }
}

static void seed_sync_for_device(void)
{
    int fd;
    unsigned char  attr[1024];
    unsigned long  sync_for_device = 1;
    if ((fd  = open("/sys/class/u-dma-buf/udmabuf0/sync_for_device", O_WRONLY)) != -1) {
        sprintf(attr, "%d", sync_for_device);
        write(fd, attr, strlen(attr));
        close(fd);
    }
}

static void seed_sync_for_device_encoded(unsigned long offset, unsigned long size, unsigned int direction)
{
    int fd;
    unsigned char  attr[1024];
    unsigned long  sync_offset     = offset;
    unsigned long  sync_size        = size;
    unsigned int   sync_direction  = direction;
    unsigned long  sync_for_device = 1;
    if ((fd  = open("/sys/class/u-dma-buf/udmabuf0/sync_for_device", O_WRONLY)) != -1) {
        sprintf(attr, "0x%08X%08X", (sync_offset & 0xFFFFFFFF), (sync_size & 0xFFFFFFF0) | (sync_direction << 2) | sync_for_device);
        write(fd, attr, strlen(attr));
        close(fd);
    }
}

static unsigned char *seed_open_mmap(unsigned int buf_size)
{
    int fd;
    unsigned char *buf = MAP_FAILED;
    /* CPUキャッシュを有効にする場合はO_SYNCをつけずにopen する */
    if ((fd  = open("/dev/udmabuf0", O_RDWR)) != -1) {
        buf = mmap(NULL, buf_size, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0);
        /* ここでbufに読み書きする処理を行う */
        close(fd);
    }
    return buf;
}

static unsigned char *seed_open_mmap_osync(unsigned int buf_size)
{
    int fd;
    unsigned char *buf = MAP_FAILED;
    /* CPUキャッシュを無効にする場合はO_SYNCをつけてopen する */
    if ((fd  = open("/dev/udmabuf0", O_RDWR | O_SYNC)) != -1) {
        buf = mmap(NULL, buf_size, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0);
        /* ここでbufに読み書きする処理を行う */
        close(fd);
    }
    return buf;
}

int check_buf(unsigned char* buf, unsigned int size)
{
    int m = 256;
    int n = 10;
    int i, k;
    int error_count = 0;
    while(--n > 0) {
      for(i = 0; i < size; i = i + m) {
        m = (i+256 < size) ? 256 : (size-i);
        for(k = 0; k < m; k++) {
          buf[i+k] = (k & 0xFF);
        }
        for(k = 0; k < m; k++) {
          if (buf[i+k] != (k & 0xFF)) {
            error_count++;
          }
        }
      }
    }
    return error_count;
}
int clear_buf(unsigned char* buf, unsigned int size)
{
    int n = 100;
    int error_count = 0;
    while(--n > 0) {
      memset((void*)buf, 0, size);
    }
    return error_count;
}

#pragma GCC diagnostic pop

/* ------------------------------------------------------------------------ */

#define DEV "udmabuf0"

static unsigned int buf_size;

static const char *attr_text(const char *attr)
{
	char b[128];
	int r = attr_read(DEV, attr, b, sizeof(b));

	return r < 0 ? errname(-r) : S("%s", b);
}

/* Where read() of the whole buffer differs from want(i), or "". */
static const char *read_differs(uint8_t (*want)(size_t))
{
	uint8_t *b = xmalloc(buf_size);
	int fd = open("/dev/" DEV, O_RDONLY);
	const char *r = "";

	if (fd < 0 || pread_all(fd, b, buf_size, 0) != (ssize_t)buf_size) {
		r = S("read() failed: %s", errname(errno));
	} else {
		for (size_t i = 0; i < buf_size; i++)
			if (b[i] != want(i)) {
				r = S("byte %zu: expected 0x%02x got 0x%02x", i, want(i), b[i]);
				break;
			}
	}
	if (fd >= 0)
		close(fd);
	free(b);
	return r;
}

static uint8_t want_check_buf(size_t i)
{
	return i & 0xFF;
}

static uint8_t want_zero(size_t i)
{
	(void)i;
	return 0;
}

struct run {
	int mode, osync;
};

/* In a child: a SIGBUS in check_buf/clear_buf ends the child, not the program. */
static int run_checks(void *arg)
{
	struct run *r = arg;
	const char *what = S("sync_mode %d %s", r->mode, r->osync ? "with O_SYNC" : "without O_SYNC");
	unsigned char *buf = r->osync ? seed_open_mmap_osync(buf_size) : seed_open_mmap(buf_size);
	const char *d;
	double t;
	int errs;

	if (!tap(buf != MAP_FAILED, S("seed open+mmap %s works", what), "expected a mapping got %s",
		 errname(errno)))
		return 1;
	seed_sync_for_cpu();
	t = now();
	errs = check_buf(buf, buf_size);
	t = now() - t;
	seed_sync_for_device();
	seed_sync_for_cpu();
	d = read_differs(want_check_buf);
	tap(errs == 0 && !d[0], S("seed check_buf %s: no error, and read() sees its pattern", what),
	    "expected 0 errors and the pattern got %d errors, %s", errs, d[0] ? d : "pattern ok");
	diag("%s: check_buf %.3f s", what, t);

	t = now();
	errs = clear_buf(buf, buf_size);
	t = now() - t;
	seed_sync_for_device();
	seed_sync_for_cpu();
	d = read_differs(want_zero);
	tap(errs == 0 && !d[0], S("seed clear_buf %s: the buffer reads back as zeros", what),
	    "expected zeros got %d errors, %s", errs, d[0] ? d : "zeros");
	diag("%s: clear_buf %.3f s", what, t);
	munmap(buf, buf_size);
	return 0;
}

int main(void)
{
	unsigned long long phys = attr_u64(DEV, "phys_addr"), size = attr_u64(DEV, "size");
	unsigned long seed_phys = seed_phys_addr();
	int owner;

	buf_size = seed_size();
	tap((uint32_t)seed_phys == (uint32_t)phys && phys <= 0xFFFFFFFFull,
	    "seed phys_addr snippet (sscanf %x) reads the DMA address (below 4 GiB with the default mask)",
	    "expected 0x%llx got 0x%lx", phys, (unsigned long)(uint32_t)seed_phys);
	tap(buf_size == size, "seed size snippet (sscanf %d) reads the size", "expected %llu got %u",
	    size, buf_size);
	tap(seed_dma_coherent() == (int)attr_u64(DEV, "dma_coherent"),
	    "seed dma_coherent snippet (sscanf %x) reads dma_coherent", "expected %s got %d",
	    attr_text("dma_coherent"), seed_dma_coherent());
	tap(seed_sync_owner() == 0, "seed sync_owner snippet reads 0 at first", "expected 0 got %d",
	    seed_sync_owner());

	seed_sync_mode(2);
	tap(!strcmp(attr_text("sync_mode"), "2"), "seed sync_mode snippet sets sync_mode 2",
	    "expected 2 got %s", attr_text("sync_mode"));
	seed_sync_offset(0x00000000);
	seed_sync_size(1024);
	seed_sync_direction(1);
	tap(!strcmp(S("%s %s %s", attr_text("sync_offset"), attr_text("sync_size"), attr_text("sync_direction")),
		    "0x0 1024 1"),
	    "seed sync_offset/sync_size/sync_direction snippets store 0, 1024, 1",
	    "expected '0x0 1024 1' got '%s %s %s'", attr_text("sync_offset"), attr_text("sync_size"),
	    attr_text("sync_direction"));

	seed_sync_for_device();
	owner = seed_sync_owner();
	tap(owner == 1 && !strcmp(attr_text("sync_for_device"), "0"),
	    "seed sync_for_device snippet (1): sync_owner 1, sync_for_device reads 0",
	    "expected owner 1 and 0 got owner %d and %s", owner, attr_text("sync_for_device"));
	seed_sync_for_cpu();
	owner = seed_sync_owner();
	tap(owner == 0 && !strcmp(attr_text("sync_for_cpu"), "0"),
	    "seed sync_for_cpu snippet (1): sync_owner 0, sync_for_cpu reads 0",
	    "expected owner 0 and 0 got owner %d and %s", owner, attr_text("sync_for_cpu"));

	seed_sync_for_device_encoded(0, 0x10000, 1);
	owner = seed_sync_owner();
	tap(owner == 1 && !strcmp(attr_text("sync_for_device"), "0"),
	    "seed encoded sync_for_device snippet (offset 0, size 0x10000, dir 1): sync_owner 1, reads 0",
	    "expected owner 1 and 0 got owner %d and %s", owner, attr_text("sync_for_device"));
	seed_sync_for_cpu_encoded(0, 0x10000, 1);
	owner = seed_sync_owner();
	tap(owner == 0 && !strcmp(attr_text("sync_for_cpu"), "0"),
	    "seed encoded sync_for_cpu snippet (offset 0, size 0x10000, dir 1): sync_owner 0, reads 0",
	    "expected owner 0 and 0 got owner %d and %s", owner, attr_text("sync_for_cpu"));
	tap(!strcmp(S("%s %s %s", attr_text("sync_offset"), attr_text("sync_size"), attr_text("sync_direction")),
		    "0x0 1024 1"),
	    "seed encoded sync snippets leave the stored sync_offset/sync_size/sync_direction alone",
	    "expected '0x0 1024 1' got '%s %s %s'", attr_text("sync_offset"), attr_text("sync_size"),
	    attr_text("sync_direction"));

	/* The stored range covers the buffer for the check_buf/clear_buf runs. */
	seed_sync_size(buf_size);
	seed_sync_direction(0);
	for (int mode = 0; mode < 8; mode++) {
		seed_sync_mode(mode);
		if (!tap(attr_u64(DEV, "sync_mode") == (unsigned long long)mode,
			 S("seed sync_mode snippet sets sync_mode %d", mode), "expected %d got %s", mode,
			 attr_text("sync_mode")))
			continue;
		for (int osync = 0; osync < 2; osync++) {
			struct run r = { mode, osync };
			const char *end = run_child(run_checks, &r);

			tap(!strcmp(end, "0"), S("seed check_buf/clear_buf with sync_mode %d %s end without a signal",
						 mode, osync ? "with O_SYNC" : "without O_SYNC"),
			    "expected exit 0 got %s", end);
		}
	}
	seed_sync_mode(1);
	return 0;
}
