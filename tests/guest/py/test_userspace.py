"""The udmabuf Python package against the module (one process: numpy is slow to import).

Run by 95-userspace.sh with u-dma-buf loaded, udmabuf0 (1 MiB) present and the manager
usable. Prints TAP. Checks:
- Buffer: size/dma_addr against sysfs and raw ioctls, array() on the mapping, sync through
  SET_SYNC (exact, stored: sysfs sync_offset/sync_size/direction/owner) and through sysfs
  (encoded: stored range untouched), cpu_access(), errors with their cause;
- allocate() on a Pool: device addresses of slices, slice-exact sync ranges, alignment,
  exhaustion, fragmentation and coalescing;
- allocate() through the Manager: a buffer per allocation, freebuffer() deletes it;
- the README's ten-line loopback through edu;
- the --json output of the CLI (files the suite wrote to /tmp/cli-*.json).
"""
import fcntl
import glob
import json
import os
import struct
import sys
import traceback

sys.dont_write_bytecode = True
sys.path.insert(0, "/t/python")  # before py/, which has the seeds' udmabuf.py
import numpy as np  # noqa: E402
import udmabuf  # noqa: E402

NAME = "udmabuf0"
SYS = "/sys/class/u-dma-buf/"
failures = 0


def ok(what):
    print("ok - py: " + what, flush=True)


def not_ok(what, *diag):
    global failures
    failures += 1
    print("not ok - py: " + what)
    for d in diag:
        for line in str(d).splitlines() or [""]:
            print("# " + line)
    sys.stdout.flush()


def check(what, expected, got):
    if expected == got:
        ok(what)
    else:
        not_ok(what, "expected %r got %r" % (expected, got))


def raises(what, exc, fn, *args, **kw):
    """fn(*args) raises exc; the message is shown as a diagnostic."""
    try:
        fn(*args, **kw)
    except exc as e:
        ok("%s -> %s" % (what, type(e).__name__))
        print("#   message: %s" % e)
        return e
    except Exception as e:  # noqa: BLE001
        not_ok(what, "expected %s got %s: %s" % (exc.__name__, type(e).__name__, e))
        return None
    not_ok(what, "expected %s got no exception" % exc.__name__)
    return None


def attr(name, a):
    with open(SYS + name + "/" + a) as f:
        return f.read().strip()


def stored(name):
    """(sync_offset, sync_size, sync_direction, sync_owner) from sysfs."""
    return (int(attr(name, "sync_offset"), 16), int(attr(name, "sync_size")),
            int(attr(name, "sync_direction")), int(attr(name, "sync_owner")))


def section(fn):
    try:
        fn()
    except Exception:  # noqa: BLE001
        not_ok("%s ran to the end" % fn.__name__, traceback.format_exc())


def buffer_api():
    size, phys = int(attr(NAME, "size")), int(attr(NAME, "phys_addr"), 16)
    with udmabuf.Buffer(NAME) as b:
        check("Buffer.interface is ioctl", "ioctl", b.interface)
        check("Buffer.size equals sysfs size", size, b.size)
        check("Buffer.dma_addr equals sysfs phys_addr", phys, b.dma_addr)
        fd = os.open("/dev/" + NAME, os.O_RDONLY)
        raw_size = struct.unpack("=Q", fcntl.ioctl(fd, 0x80085502, bytes(8)))[0]
        raw_addr = struct.unpack("=Q", fcntl.ioctl(fd, 0x80085503, bytes(8)))[0]
        check("Buffer.size/dma_addr equal GET_SIZE/GET_DMA_ADDR", (raw_size, raw_addr),
              (b.size, b.dma_addr))
        check("Buffer.coherent equals sysfs dma_coherent", int(attr(NAME, "dma_coherent")),
              int(b.coherent))
        a = b.array(np.uint32, (256,), offset=8192)
        a[:] = np.arange(256, dtype=np.uint32) * 3 + 1
        got = np.frombuffer(os.pread(fd, 1024, 8192), np.uint32)
        check("array(uint32, 256, offset=8192) writes what read() sees at 8192", True,
              bool((got == a).all()))
        wfd = os.open("/dev/" + NAME, os.O_WRONLY)
        os.pwrite(wfd, b"\xab" * 16, 8192)
        os.close(wfd)
        check("a write() to the node shows in the array", 0xABABABAB, int(a[0]))
        whole = b.array()
        check("array() with no shape covers the buffer", (size,), whole.shape)
        os.close(fd)

        b.sync_for_cpu(4096, 100, udmabuf.FROM_DEVICE)
        check("sync_for_cpu(4096, 100, FROM_DEVICE) via SET_SYNC: sysfs shows the exact range,"
              " direction 2, owner CPU", (4096, 100, 2, 0), stored(NAME))
        check("sync_state (GET_SYNC) agrees with sysfs", stored(NAME), b.sync_state)
        b.sync_for_device(17, 3, udmabuf.TO_DEVICE)
        check("sync_for_device(17, 3, TO_DEVICE): offset 17 size 3 direction 1 owner device",
              (17, 3, 1, 1), stored(NAME))
        with b.cpu_access(0, 64):
            check("inside cpu_access(0, 64) the CPU owns the buffer", 0, stored(NAME)[3])
        check("after cpu_access the device owns it again", 1, stored(NAME)[3])
        b.sync_for_device()
        check("sync_for_device() with no range: the whole buffer", (0, size, 0, 1), stored(NAME))
        raises("sync_for_cpu past the end", udmabuf.SizeError, b.sync_for_cpu, size - 16, 32)
        raises("sync with a negative offset", udmabuf.SizeError, b.sync_for_cpu, -1, 16)
        raises("array past the end", udmabuf.SizeError, b.array, np.uint64, 2, size - 8)
        del a, whole

    with udmabuf.Buffer(NAME, interface="sysfs") as s:
        check("Buffer(interface='sysfs') reads the same size and address", (size, phys),
              (s.size, s.dma_addr))
        s.sync_for_cpu(0, 64, udmabuf.BIDIRECTIONAL)
        before = stored(NAME)
        s.sync_for_device(64, 32, udmabuf.TO_DEVICE)
        after = stored(NAME)
        check("sysfs sync (encoded command) leaves the stored range and makes the device owner",
              before[:3] + (1,), after)
        check("sysfs sync_for_device reads 0 again afterwards", "0", attr(NAME, "sync_for_device"))
        raises("sysfs sync of 100 bytes (not a multiple of 16)", udmabuf.AlignmentError,
               s.sync_for_device, 0, 100)

    raises("Buffer('no-such-buffer')", udmabuf.NoSuchBuffer, udmabuf.Buffer, "no-such-buffer")
    raises("Buffer(interface='dma')", ValueError, udmabuf.Buffer, NAME, interface="dma")
    check("names() lists udmabuf0", True, NAME in udmabuf.names())


def as_nobody(fn):
    """Runs fn in a child as uid/gid 65534; returns its exit status."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(65534)
            os.setuid(65534)
            os._exit(fn())
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
            os._exit(99)
    return os.waitpid(pid, 0)[1] >> 8


def permissions():
    def open_node():
        try:
            udmabuf.Buffer(NAME)
        except udmabuf.PermissionDenied as e:
            print("#   message: %s" % e)
            return 0
        return 1

    def manager():
        try:
            udmabuf.allocate(16, np.uint8, target=udmabuf.Manager())
        except udmabuf.PermissionDenied as e:
            print("#   message: %s" % e)
            return 0
        return 1

    check("a non-root user opening /dev/udmabuf0 (0600) gets PermissionDenied", 0,
          as_nobody(open_node))
    check("a non-root user allocating through the Manager gets PermissionDenied", 0,
          as_nobody(manager))


def slices():
    pool = udmabuf.Pool(NAME, alignment=64)
    a = udmabuf.allocate((64, 64), np.uint32, target=pool)
    base = pool.buffer.dma_addr
    check("allocate((64, 64), uint32) is a DmaArray", True, isinstance(a, udmabuf.DmaArray))
    check("its physical_address is the buffer's dma_addr + its offset", base + a.buffer_offset,
          a.physical_address)
    check("device_address equals physical_address", a.physical_address, a.device_address)
    check("a[3:5].physical_address is 3 rows (768 bytes) further", a.physical_address + 768,
          a[3:5].physical_address)
    check("a[2, 5:].physical_address is 2 rows + 5 words further",
          a.physical_address + 2 * 256 + 20, a[2, 5:].physical_address)
    check("a view of a view keeps the address (a[3:][1:2] == a[4:5])",
          a[4:5].physical_address, a[3:][1:2].physical_address)
    o = a.buffer_offset
    a[3:5].flush()
    check("a[3:5].flush() syncs exactly its 512 bytes for the device", (o + 768, 512, 0, 1),
          stored(NAME))
    a[2, 5:9].invalidate()
    check("a[2, 5:9].invalidate() syncs exactly its 16 bytes for the CPU",
          (o + 2 * 256 + 20, 16, 0, 0), stored(NAME))
    a[:, 1].sync_to_device()
    check("a[:, 1] (a strided column) syncs from its first to its last byte, TO_DEVICE",
          (o + 4, 63 * 256 + 4, 1, 1), stored(NAME))
    a[10:11, 3:4].sync_from_device()
    check("a[10:11, 3:4] (one word) syncs 4 bytes FROM_DEVICE", (o + 10 * 256 + 12, 4, 2, 0),
          stored(NAME))
    b = udmabuf.allocate(100, np.uint8, target=pool)
    b[3:10].flush()
    check("b[3:10] of a uint8 array syncs exactly 7 bytes (not rounded to 16)",
          (b.buffer_offset + 3, 7, 0, 1), stored(NAME))
    c = a * 2
    check("a ufunc result is a plain ndarray (new memory)", np.ndarray, type(c))
    d = a.copy()
    raises("flush() of a copy (not in DMA memory)", udmabuf.UdmabufError, d.flush)
    a[5, :4] = [1, 2, 3, 4]
    with udmabuf.Buffer(NAME) as buf:
        got = buf.array(np.uint32, 4, offset=o + 5 * 256).tolist()
    check("what a slice writes is in the buffer at its offset", [1, 2, 3, 4], got)
    a.freebuffer()
    raises("flush() after freebuffer()", udmabuf.UdmabufError, a.flush)
    b.freebuffer()

    sp = udmabuf.Pool(NAME, interface="sysfs")
    e = udmabuf.allocate(100, np.uint8, target=sp)
    before = stored(NAME)
    e[3:10].flush()
    check("with the sysfs interface a slice sync works (widened to 16 bytes) and leaves the"
          " stored range", before[:3] + (1,), stored(NAME))
    e.freebuffer()
    sp.close()
    pool.close()


def pool_backend():
    size = int(attr(NAME, "size"))
    pool = udmabuf.Pool(NAME, alignment=64)
    raises("Pool(alignment=48)", udmabuf.SizeError, udmabuf.Pool, NAME, alignment=48)
    raises("allocate of 0 bytes", udmabuf.SizeError, udmabuf.allocate, 0, np.uint8, target=pool)
    x = udmabuf.allocate(10, np.uint8, target=pool)
    y = udmabuf.allocate(10, np.uint8, target=pool, alignment=4096)
    check("alignment=4096: physical_address % 4096 == 0", 0, y.physical_address % 4096)
    check("default alignment 64: the second small block starts 64 bytes after the first",
          x.physical_address + 64, udmabuf.allocate(1, np.uint8, target=pool).physical_address)
    raises("allocate more than the pool", udmabuf.OutOfDmaMemory, udmabuf.allocate,
           size + 1, np.uint8, target=pool)
    del x, y
    import gc
    gc.collect()
    check("arrays that are garbage collected return their memory", [(0, size)],
          pool.free_ranges)

    q = size // 4
    parts = [udmabuf.allocate(q, np.uint8, target=pool) for _ in range(4)]
    check("four quarters fill the pool", 0, pool.free_bytes)
    raises("a fifth block when the pool is exhausted", udmabuf.OutOfDmaMemory,
           udmabuf.allocate, 64, np.uint8, target=pool)
    parts[0].freebuffer()
    parts[2].freebuffer()
    check("freeing quarters 0 and 2 leaves half the pool free in 2 pieces", (2 * q, 2),
          (pool.free_bytes, len(pool.free_ranges)))
    e = raises("half the pool when the free half is fragmented", udmabuf.OutOfDmaMemory,
               udmabuf.allocate, 2 * q, np.uint8, target=pool)
    check("the error says the pool is fragmented", True, e is not None and "fragmented" in str(e))
    parts[1].freebuffer()
    check("freeing quarter 1 coalesces 0..2 into one range", [(0, 3 * q)], pool.free_ranges)
    with udmabuf.allocate(3 * q, np.uint8, target=pool) as big:
        check("three quarters fit again after coalescing", pool.buffer.dma_addr,
              big.physical_address)
    parts[3].freebuffer()
    check("the context manager and freebuffer() return everything", [(0, size)],
          pool.free_ranges)
    pool.close()


def manager_backend():
    m = udmabuf.Manager(prefix="pyt")
    x = udmabuf.allocate((1000,), np.uint16, target=m)
    name = x.udmabuf.name
    check("Manager allocate creates a buffer of its own (%s)" % name, True,
          name in udmabuf.names())
    check("its sysfs size is the array's 2000 bytes", "2000", attr(name, "size"))
    check("physical_address is that buffer's phys_addr", int(attr(name, "phys_addr"), 16),
          x.physical_address)
    x[:] = 7
    x[10:20].flush()
    check("x[10:20].flush() syncs bytes 20..40 of that buffer", (20, 20, 0, 1), stored(name))
    y = udmabuf.allocate(4096, np.uint8, target=m)
    check("a second allocation is a second buffer", True, y.udmabuf.name != name)
    x.freebuffer()
    check("freebuffer() deletes the buffer", False, name in udmabuf.names())
    y.freebuffer()
    raises("Manager allocate of 256 MiB (more than the guest has contiguous)",
           udmabuf.OutOfDmaMemory, udmabuf.allocate, 256 << 20, np.uint8, target=m)
    raises("create a buffer with a taken name", udmabuf.BufferExists, udmabuf.create, NAME, 4096)
    raises("create with dma_mask=99", udmabuf.SizeError, udmabuf.create, "pyt-mask", 4096,
           dma_mask=99)
    udmabuf.create("pyt-busy", 4096)
    with udmabuf.Buffer("pyt-busy"):
        raises("delete of an open buffer", udmabuf.BufferBusy, udmabuf.delete, "pyt-busy")
    udmabuf.delete("pyt-busy")
    raises("delete of a buffer that does not exist", udmabuf.NoSuchBuffer, udmabuf.delete,
           "pyt-busy")
    check("no buffer of the Manager is left", [], [n for n in udmabuf.names() if n.startswith("pyt")])


def readme_loopback():
    """The README's ten-line loopback, line for line (amd64 only: it needs edu)."""
    if not any(open(d).read().strip() == "0x11e8"
               for d in glob.glob("/sys/bus/pci/devices/*/device")):
        print("ok - py: README loopback # SKIP no edu device")
        return
    sys.path.insert(1, "/t/examples")
    from edu_loopback import Edu
    udmabuf.set_backend(udmabuf.Pool("udmabuf0"))
    src, dst = udmabuf.allocate(2048, np.uint8), udmabuf.allocate(2048, np.uint8)
    src[:] = np.random.randint(0, 256, 2048)
    src.sync_to_device(); dst.flush()  # noqa: E702
    edu = Edu()
    edu.dma(src.physical_address, Edu.RAM, 2048, to_ram=False)
    edu.dma(Edu.RAM, dst.physical_address, 2048, to_ram=True)
    dst.sync_from_device()
    check("the README's ten-line Python loopback moves the data through edu", True,
          bool((src == dst).all()))
    edu.close()
    src.freebuffer()
    dst.freebuffer()
    udmabuf.set_backend(None)


def cli_json():
    files = sorted(glob.glob("/tmp/cli-*.json"))
    if not files:
        not_ok("the suite wrote CLI --json outputs", "no /tmp/cli-*.json")
        return
    for f in files:
        with open(f) as fh:
            text = fh.read()
        try:
            obj = json.loads(text)
        except ValueError as e:
            not_ok("CLI --json output %s parses" % os.path.basename(f), e, text)
            continue
        expect_file = f[:-5] + ".expect"
        if os.path.exists(expect_file):
            with open(expect_file) as fh:
                expect = json.load(fh)
            sub = obj[0] if isinstance(obj, list) and isinstance(expect, dict) else obj
            if isinstance(obj, list) and isinstance(expect, dict):
                sub = next((o for o in obj if o.get("name") == expect.get("name")), None)
            bad = {k: (v, None if sub is None else sub.get(k)) for k, v in expect.items()
                   if sub is None or sub.get(k) != v}
            if bad:
                not_ok("CLI --json output %s parses and has the expected values"
                       % os.path.basename(f), "expected vs got: %r" % bad, text)
            else:
                ok("CLI --json output %s parses and has the expected values"
                   % os.path.basename(f))
        else:
            ok("CLI --json output %s parses" % os.path.basename(f))


for part in sys.argv[1:] or ["buffer_api", "permissions", "slices", "pool_backend",
                             "manager_backend", "readme_loopback", "cli_json"]:
    section(globals()[part])
sys.exit(1 if failures else 0)
