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
- the --json output of the CLI (files the suite wrote to /tmp/cli-*.json);
- issue 15: NumPy 2, gc inside Pool.alloc, arrays that outlive their buffer (in forked
  children, so a segfault is a failure and not the end of the run), one-off syncs that
  leave the stored range alone, Pools in two processes and four threads, PYNQ keywords,
  strided invalidate, in-place operators, fd leaks, sizes that are not multiples of 16,
  buffers bound to the DMA master, the example's exit status, names, alignment.
Syncs are one-off (the stored sync range never changes): the ranges the package asks for
are seen by wrapping Buffer._sync (Spy).
"""
import fcntl
import gc
import glob
import json
import os
import signal
import struct
import sys
import threading
import time
import traceback

sys.dont_write_bytecode = True
import faulthandler  # noqa: E402
faulthandler.dump_traceback_later(480, exit=True)  # a hang shows where, and ends the run
sys.path.insert(0, "/t/python")  # before py/, which has the seeds' udmabuf.py
import numpy as np  # noqa: E402
import udmabuf  # noqa: E402
from childrun import Tap, in_child  # noqa: E402

NAME = "udmabuf0"
SYS = "/sys/class/u-dma-buf/"


TAP = Tap("py: ")
ok, not_ok, check, raises = TAP.ok, TAP.not_ok, TAP.check, TAP.raises


def attr(name, a):
    with open(SYS + name + "/" + a) as f:
        return f.read().strip()


def stored(name):
    """(sync_offset, sync_size, sync_direction, sync_owner) from sysfs."""
    return (int(attr(name, "sync_offset"), 16), int(attr(name, "sync_size")),
            int(attr(name, "sync_direction")), int(attr(name, "sync_owner")))


class Spy:
    """Records the (for_device, offset, size, direction) of every Buffer._sync (calls, the
    range asked for) and of every encoded command that reaches the kernel (cmds, through
    Buffer._sync_cmd: ranges widened to multiples of 16 bytes)."""

    def __enter__(self):
        self.calls = []
        self.cmds = []
        self.orig = orig = udmabuf.Buffer._sync
        self.orig_cmd = orig_cmd = udmabuf.Buffer._sync_cmd

        def rec(buf, for_device, offset, size, direction):
            self.calls.append((for_device, offset, size, direction))
            return orig(buf, for_device, offset, size, direction)

        def rec_cmd(buf, for_device, cmd):
            self.cmds.append((for_device, cmd >> 32, cmd & 0xFFFFFFF0, (cmd >> 2) & 3))
            return orig_cmd(buf, for_device, cmd)
        udmabuf.Buffer._sync = rec
        udmabuf.Buffer._sync_cmd = rec_cmd
        return self

    def __exit__(self, *exc):
        udmabuf.Buffer._sync = self.orig
        udmabuf.Buffer._sync_cmd = self.orig_cmd


def child_check(what, fn, timeout=120):
    """fn() in a child must exit 0: not killed by a signal, not hung, no exception."""
    st, sig, out = in_child(fn, timeout)
    if st == 0:
        ok(what)
    elif sig is not None:
        not_ok(what, "the child was killed by signal %d (%s)" % (
            sig, "time-out/deadlock" if sig == signal.SIGALRM else "crash"), out)
    else:
        not_ok(what, "the child exited %d" % st, out)


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

        before = stored(NAME)
        with Spy() as spy:
            b.sync_for_cpu(4096, 100, udmabuf.FROM_DEVICE)
            after_cpu = stored(NAME)
            b.sync_for_device(17, 3, udmabuf.TO_DEVICE)
            after_dev = stored(NAME)
            with b.cpu_access(0, 64):
                inside = stored(NAME)[3]
            after_access = stored(NAME)
            b.sync_for_device()
            after_whole = stored(NAME)
        check("issue 15 item 4: one-off syncs (sync_for_cpu/device, cpu_access, whole buffer)"
              " leave sysfs sync_offset/sync_size/sync_direction as they were",
              [before[:3]] * 4, [after_cpu[:3], after_dev[:3], after_access[:3], after_whole[:3]])
        check("sync_for_cpu makes the CPU owner, sync_for_device the device",
              (0, 1), (after_cpu[3], after_dev[3]))
        check("inside cpu_access(0, 64) the CPU owns the buffer, after it the device", (0, 1),
              (inside, after_access[3]))
        check("the package asked for exactly the ranges given", [
            (False, 4096, 100, 2), (True, 17, 3, 1), (False, 0, 64, 0), (True, 0, 64, 0),
            (True, 0, None, 0)], spy.calls)
        check("sync_state (GET_SYNC) agrees with sysfs", stored(NAME), b.sync_state)
        b.set_sync_area(4096, 100, udmabuf.FROM_DEVICE)
        check("set_sync_area(4096, 100, FROM_DEVICE) stores that range (SET_SYNC, no sync)",
              (4096, 100, 2), stored(NAME)[:3])
        b.set_sync_area()
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
        before = stored(NAME)
        s.sync_for_device(0, 100)
        check("sysfs sync of 100 bytes (widened to 112 for the encoded command) works and leaves"
              " the stored range", before[:3], stored(NAME)[:3])

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
    before = stored(NAME)
    with Spy() as spy:
        a[3:5].flush()
        a[2, 5:9].invalidate()
        a[:, 1].sync_to_device()
        a[10:11, 3:4].sync_from_device()
    check("slice syncs: a[3:5].flush() 512 bytes, a[2, 5:9].invalidate() 16 bytes, a[:, 1]"
          ".sync_to_device() its span, a[10:11, 3:4].sync_from_device() 4 bytes", [
              (True, o + 768, 512, 0), (False, o + 2 * 256 + 20, 16, 0),
              (True, o + 4, 63 * 256 + 4, 1), (False, o + 10 * 256 + 12, 4, 2)], spy.calls)
    check("and the stored sync range is as it was", before[:3], stored(NAME)[:3])
    with Spy() as spy:
        a[:, 1].invalidate()
    check("issue 15 item 7: a[:, 1].invalidate() syncs its 64 words one by one, never the "
          "span between them", [(False, o + 4 + 256 * i, 4, 0) for i in range(64)], spy.calls)
    check("review 10: what reaches the kernel for a[:, 1].invalidate(): 64 commands of 16 "
          "bytes (columns 1-4 of each row: the encoded command's granularity)",
          [(False, o + 4 + 256 * i, 16, 0) for i in range(64)], spy.cmds)
    with Spy() as spy:
        a[::2, ::16].sync_from_device()
    check("a[::2, ::16].sync_from_device(): 32 x 4 words, 4 bytes each", 128,
          len([c for c in spy.calls if c[2] == 4]))
    b = udmabuf.allocate(100, np.uint8, target=pool)
    with Spy() as spy:
        b[3:10].flush()
    check("b[3:10] of a uint8 array asks for exactly 7 bytes", [(True, b.buffer_offset + 3, 7, 0)],
          spy.calls)
    check("encoded_ranges widens 7 bytes at 3 to 16 bytes at 3 (less than a cache line)",
          [(3, 16)], udmabuf.encoded_ranges(3, 7, 1 << 20))
    c = a * 2
    check("a ufunc result is a plain ndarray (new memory)", np.ndarray, type(c))
    d = a.copy()
    check("review 21: a.copy() is a plain ndarray (new memory), like a ufunc result",
          np.ndarray, type(d))
    a[5, :4] = [1, 2, 3, 4]
    with udmabuf.Buffer(NAME) as buf:
        got = buf.array(np.uint32, 4, offset=o + 5 * 256).tolist()
    check("what a slice writes is in the buffer at its offset", [1, 2, 3, 4], got)
    a.freebuffer()
    raises("flush() after freebuffer()", udmabuf.UdmabufError, a.flush)
    a.freebuffer()
    ok("freebuffer() twice is harmless")
    raises("a write through an array after its freebuffer()", ValueError, a.__setitem__, 0, 1)
    b.freebuffer()
    del a, b, c, d

    sp = udmabuf.Pool(NAME, interface="sysfs")
    e = udmabuf.allocate(100, np.uint8, target=sp)
    before = stored(NAME)
    e[3:10].flush()
    check("with the sysfs interface a slice sync works (widened to 16 bytes) and leaves the"
          " stored range", before[:3] + (1,), stored(NAME))
    e.freebuffer()
    del e
    sp.close()
    pool.close()


def pool_backend():
    size = int(attr(NAME, "size"))
    pool = udmabuf.Pool(NAME)
    raises("Pool(alignment=48)", udmabuf.SizeError, udmabuf.Pool, NAME, alignment=48)
    raises("allocate of 0 bytes", udmabuf.SizeError, udmabuf.allocate, 0, np.uint8, target=pool)
    x = udmabuf.allocate(10, np.uint8, target=pool)
    y = udmabuf.allocate(10, np.uint8, target=pool, alignment=4096)
    check("alignment=4096: physical_address % 4096 == 0", 0, y.physical_address % 4096)
    check("issue 15 (smaller): default alignment 128 (arm64's DMA minimum): the second small "
          "block starts 128 bytes after the first", x.physical_address + 128,
          udmabuf.allocate(1, np.uint8, target=pool).physical_address)
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
    parts[0] = parts[2] = None
    check("freeing quarters 0 and 2 leaves half the pool free in 2 pieces", (2 * q, 2),
          (pool.free_bytes, len(pool.free_ranges)))
    e = raises("half the pool when the free half is fragmented", udmabuf.OutOfDmaMemory,
               udmabuf.allocate, 2 * q, np.uint8, target=pool)
    check("the error says the pool is fragmented", True, e is not None and "fragmented" in str(e))
    parts[1].freebuffer()
    parts[1] = None
    check("freeing quarter 1 coalesces 0..2 into one range", [(0, 3 * q)], pool.free_ranges)
    with udmabuf.allocate(3 * q, np.uint8, target=pool) as big:
        check("three quarters fit again after coalescing", pool.buffer.dma_addr,
              big.physical_address)
    del big
    parts[3].freebuffer()
    parts[3] = None
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
    before = stored(name)
    with Spy() as spy:
        x[10:20].flush()
    check("x[10:20].flush() syncs bytes 20..40 of that buffer, stored range unchanged",
          ([(True, 20, 20, 0)], before[:3] + (1,)), (spy.calls, stored(name)))
    y = udmabuf.allocate(4096, np.uint8, target=m)
    check("a second allocation is a second buffer", True, y.udmabuf.name != name)
    x.freebuffer()
    check("freebuffer() keeps the buffer while the array lives", True, name in udmabuf.names())
    del x
    gc.collect()
    check("the buffer is deleted when its array goes", False, name in udmabuf.names())
    y.freebuffer()
    del y
    gc.collect()
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
    del src, dst
    gc.collect()


ODD = 'odd"q\\\u00e9'


def cli_odd():
    """Review 14: the decoded odd names are the names given (U+FFFD for a byte that is not
    UTF-8)."""
    def load(f):
        try:
            with open("/tmp/cli-%s.json" % f, encoding="utf-8", errors="strict") as fh:
                return json.load(fh)
        except (OSError, ValueError) as e:
            return "%s: %s" % (type(e).__name__, e)
    lst = load("odd-list")
    check("review 14: the odd names decode to what was given", [
        {"created": ODD, "size": 4096}, True, ODD, "no buffer 'tab\there'",
        "no buffer 'bad\ufffdbyte'", {"deleted": ODD}],
        [load("odd-create"), isinstance(lst, list) and any(o.get("name") == ODD for o in lst),
         (load("odd-show") or {}).get("name") if isinstance(load("odd-show"), dict) else None,
         (load("odd-tab") or {}).get("error") if isinstance(load("odd-tab"), dict) else None,
         (load("odd-byte") or {}).get("error") if isinstance(load("odd-byte"), dict) else None,
         load("odd-delete")])


def cli_race():
    """Review 7: --json list and show while a buffer comes and goes: every output parses."""
    files = sorted(glob.glob("/tmp/cli-race-*.out"))
    bad = []
    for f in files:
        with open(f) as fh:
            text = fh.read()
        try:
            json.loads(text)
        except ValueError:
            bad.append((os.path.basename(f), text[:200]))
    check("review 7: %d --json list/show outputs made while 0race came and went all parse"
          % len(files), (True, []), (len(files) == 300, bad[:3]))


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


# ---- issue 15 -------------------------------------------------------------------------
def fds():
    return len(os.listdir("/proc/self/fd"))


def edu_address():
    for d in sorted(glob.glob("/sys/bus/pci/devices/*")):
        with open(d + "/device") as f, open(d + "/vendor") as v:
            if (v.read().strip(), f.read().strip()) == ("0x1234", "0x11e8"):
                return os.path.basename(d)
    return None


def numpy2():
    """Item 1: every sync of a DmaArray works under this NumPy (1.x and 2.x)."""
    print("# NumPy %s, Python %s" % (np.__version__, sys.version.split()[0]))
    pool = udmabuf.Pool(NAME)
    a = udmabuf.allocate((16, 16), np.uint32, target=pool)
    for m in ("flush", "invalidate", "sync_to_device", "sync_from_device"):
        try:
            getattr(a, m)()
            getattr(a[2:5, 1:3], m)()
            ok("item 1: NumPy %s: a.%s() and a[2:5, 1:3].%s() work" % (np.__version__, m, m))
        except Exception as e:  # noqa: BLE001
            not_ok("item 1: NumPy %s: a.%s() works" % (np.__version__, m),
                   "%s: %s" % (type(e).__name__, e))
    check("byte_bounds of a[2:5, 1:3] (NumPy 2 has no np.byte_bounds)",
          (a.virtual_address + 2 * 64 + 4, a.virtual_address + 4 * 64 + 12),
          udmabuf.byte_bounds(a[2:5, 1:3]) if hasattr(udmabuf, "byte_bounds") else None)
    del a
    pool.close()


def gc_in_alloc():
    """Item 2: garbage collection inside Pool.alloc runs releases that must not deadlock."""
    def run():
        pool = udmabuf.Pool(NAME)
        gc.set_threshold(1, 1, 1)  # a collection at nearly every allocation
        stop = time.monotonic() + 5
        n = 0

        def worker():
            nonlocal n
            while time.monotonic() < stop:
                x = udmabuf.allocate(256, np.uint8, target=pool)
                cyc = [x]
                cyc.append(cyc)  # only the cycle collector frees it, at any moment
                del x, cyc
                n += 1
        ts = [threading.Thread(target=worker) for _ in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        gc.set_threshold(700, 10, 10)
        gc.collect()
        print("# %d allocations, free %d of %d" % (n, pool.free_bytes, pool.buffer.size))
        return 0 if pool.free_bytes == pool.buffer.size and n > 0 else 1
    child_check("item 2: 3 threads allocate from one Pool for 5 s with gc at every allocation"
                " (releases inside alloc): no deadlock, everything returns", run, timeout=90)


def lifetime():
    """Item 3 and Buffer.array() after close(): views that outlive their buffer."""
    def pool_close():
        pool = udmabuf.Pool(NAME)
        a = udmabuf.allocate(4096, np.uint8, target=pool)
        v = a[100:200]
        del a
        pool.close()
        gc.collect()
        v[:] = 7  # the memory must still be mapped
        assert int(v.sum()) == 700
        try:
            v.flush()
        except udmabuf.UdmabufError as e:
            print("# flush after close: %s" % e)
            return 0
        return 3
    child_check("item 3: a view outliving Pool.close(): readable, writable, flush() raises "
                "UdmabufError (no segfault)", pool_close)

    def manager_free():
        a = udmabuf.allocate(8192, np.uint8, target=udmabuf.Manager(prefix="pylt"))
        v = a[4000:]
        name = a.udmabuf.name
        a.freebuffer()
        del a
        gc.collect()
        v[:] = 3
        assert int(v[0]) == 3 and name in udmabuf.names()
        del v
        gc.collect()
        return 0 if name not in udmabuf.names() else 4
    child_check("item 3: a view outliving freebuffer() of a Manager array: still mapped; the "
                "buffer is deleted when the view goes", manager_free)

    def with_block():
        with udmabuf.allocate(8192, np.uint8, target=udmabuf.Manager(prefix="pylt")) as a:
            v = a[:16]
        gc.collect()
        v[:] = 9
        return 0 if int(v.sum()) == 144 else 5
    child_check("item 3: a view outliving its with block: no segfault", with_block)

    def no_overlap():
        pool = udmabuf.Pool(NAME)
        a = udmabuf.allocate(4096, np.uint8, target=pool)
        v = a[:]
        a.freebuffer()
        del a
        b = udmabuf.allocate(4096, np.uint8, target=pool)
        v[:] = 1
        b[:] = 2
        return 0 if int(v.sum()) == 4096 and abs(v.virtual_address - b.virtual_address) >= 4096 \
            else 6
    child_check("item 3: a freed Pool array's live view is not handed out again (no overwrite "
                "of the next allocation)", no_overlap)

    def buffer_close():
        b = udmabuf.Buffer(NAME)
        arr = b.array(np.uint8, 64)
        b.close()
        arr[:] = 1
        try:
            b.array(np.uint8, 64)
        except udmabuf.UdmabufError as e:
            print("# %s" % e)
            return 0
        return 7
    child_check("(smaller) Buffer.array() after close() raises; arrays made before stay valid",
                buffer_close)


def pools():
    """Item 5: two processes, two Pools in one process, four threads in get_backend()."""
    def holder(wr, rd):
        def run():
            pool = udmabuf.Pool(NAME)
            xs = [udmabuf.allocate(4096, np.uint8, target=pool) for _ in range(8)]
            os.write(wr, (" ".join(str(x.buffer_offset) for x in xs) + "\n").encode())
            os.read(rd, 1)  # hold them until the parent has both lists
            return 0
        return run
    r1, w1 = os.pipe()
    g1, h1 = os.pipe()
    r2, w2 = os.pipe()
    g2, h2 = os.pipe()
    res = {}

    def go(key, wr, rd):
        res[key] = in_child(holder(wr, rd), timeout=120)
    import select

    def line(r):  # what a child wrote, or nothing when it said nothing in 120 s
        return os.read(r, 4096).decode().split() if select.select([r], [], [], 120)[0] else []
    ts = [threading.Thread(target=go, args=(1, w1, g1))]
    ts[0].start()
    l1 = line(r1)
    ts.append(threading.Thread(target=go, args=(2, w2, g2)))
    ts[1].start()
    l2 = line(r2)
    os.write(h1, b"x")
    os.write(h2, b"x")
    for t in ts:
        t.join()
    for fd in (r1, w1, g1, h1, r2, w2, g2, h2):
        os.close(fd)
    for k in (1, 2):
        if res.get(k, (None,))[0] != 0:
            print("# child %d: %r" % (k, res.get(k)))
    s1, s2 = {int(x) for x in l1}, {int(x) for x in l2}
    overlap = [o for o in s1 for p in s2 if abs(o - p) < 4096]
    check("item 5: two processes with a Pool each on %s get 8 + 8 disjoint blocks" % NAME,
          (8, 8, []), (len(s1), len(s2), overlap))
    if overlap:
        print("# process 1: %s\n# process 2: %s" % (l1, l2))

    p1, p2 = udmabuf.Pool(NAME), udmabuf.Pool(NAME)
    a, b = udmabuf.allocate(4096, np.uint8, target=p1), udmabuf.allocate(4096, np.uint8, target=p2)
    check("item 5: two Pools on one buffer in one process give disjoint blocks", True,
          abs(a.buffer_offset - b.buffer_offset) >= 4096)
    del a, b
    p1.close()
    p2.close()

    def threads():
        os.environ["UDMABUF_POOL"] = NAME
        udmabuf.set_backend(None)
        ua = sys.modules["udmabuf.allocate"]  # (udmabuf.allocate is the function)

        class SlowPool(ua.Pool):  # widens the window between "no backend yet" and "made"
            def __init__(self, *a, **kw):
                time.sleep(0.2)
                super().__init__(*a, **kw)
        ua.Pool = SlowPool
        bar = threading.Barrier(4)
        got = []

        def t():
            bar.wait()
            got.append(udmabuf.allocate(64, np.uint8))
        ts = [threading.Thread(target=t) for _ in range(4)]
        for x in ts:
            x.start()
        for x in ts:
            x.join()
        addrs = sorted(x.physical_address for x in got)
        print("# addresses: %s" % [hex(x) for x in addrs])
        return 0 if len(set(addrs)) == 4 else 8
    child_check("item 5: four threads racing into get_backend() get four different addresses",
                threads)


def pte_type(addr):
    """The memory type of this process's page-table entry for addr, from
    tests/kmod/udmabuf_pte_test (loaded on first use), or None without the module."""
    param = "/sys/module/udmabuf_pte_test/parameters/uaddr"
    if not os.path.exists(param):
        ko = "/t/kmod/udmabuf_pte_test.ko"
        if not os.path.exists(ko):
            return None
        import subprocess
        subprocess.run(["/t/bin/modctl", "load", ko], stdout=subprocess.PIPE)
        if not os.path.exists(param):
            return None
    # A mapping's page is mapped at its first access (the module maps on fault).
    import ctypes
    ctypes.c_ubyte.from_address(addr).value
    with open(param, "w") as f:
        f.write("0x%x" % addr)
    with open(param) as f:
        line = f.read()
    print("#   %s" % line.strip())
    for word in line.split():
        if word.startswith("type="):
            return word[5:]
    return line.strip()


def pynq():
    """Item 6 (PYNQ keywords, cacheable=False) and the PYNQ properties."""
    raises("item 6: allocate() with an unknown keyword", TypeError, udmabuf.allocate, 16,
           np.uint8, colour="red")
    pool = udmabuf.Pool(NAME)
    raises("item 6: allocate(cacheable=False) from a cached Pool fails loudly",
           udmabuf.UdmabufError, udmabuf.allocate, 16, np.uint8, target=pool, cacheable=False)
    pool.close()
    m = udmabuf.Manager(prefix="pyc")
    try:
        a = udmabuf.allocate(4096, np.uint8, target=m, cacheable=False)
    except Exception as e:  # noqa: BLE001
        not_ok("item 6: allocate(cacheable=False) through the Manager", "%s: %s" % (type(e).__name__, e))
        return
    x86 = os.uname().machine == "x86_64"
    check("item 6: allocate(cacheable=False): the node is open with O_SYNC, sync_mode %s gives an"
          " uncached mapping (x86: cached, DMA-coherent)" % attr(a.udmabuf.name, "sync_mode"),
          (True, x86, bool(int(attr(a.udmabuf.name, "dma_coherent"))) if x86 else a.coherent),
          (a.udmabuf.o_sync, a.cacheable, a.coherent))
    check(".virtual_address is the CPU address of the data", a.__array_interface__["data"][0],
          a.virtual_address)
    mt = pte_type(a.virtual_address)
    if mt is None:
        print("ok - py: review 15: the page table's memory type of a cacheable=False mapping "
              "# SKIP no /t/kmod/udmabuf_pte_test.ko")
    else:
        # arm64: Normal non-cacheable (sync_mode %s, O_SYNC); x86: PAT keeps RAM write-back.
        check("review 15: the page-table entry of allocate(cacheable=False)'s mapping has the "
              "memory type %s (udmabuf_pte_test), and .cacheable agrees"
              % ("wb" if x86 else "normal-nc"),
              ("wb", True) if x86 else ("normal-nc", False), (mt, a.cacheable))
        b2 = udmabuf.allocate(4096, np.uint8, target=m)
        check("review 15: the control: allocate() (cacheable) is mapped %s"
              % ("wb" if x86 else "normal-wb"), True,
              (pte_type(b2.virtual_address) or "").startswith("wb" if x86 else "normal-wb"))
        del b2
    a[:] = 5
    a.flush()
    a.freebuffer()
    a.freebuffer()
    ok("freebuffer() twice is harmless")
    del a
    gc.collect()
    sp = udmabuf.Pool(NAME, cacheable=False)
    b = udmabuf.allocate(256, np.uint8, target=sp, cacheable=False)
    check("Pool(cacheable=False) gives cacheable=False allocations (x86: cached)", x86, b.cacheable)
    del b
    sp.close()


def inplace():
    """Item 8: in-place operators keep the DmaArray."""
    pool = udmabuf.Pool(NAME)
    a = udmabuf.allocate(64, np.uint32, target=pool)
    a[:] = 1
    a += 1
    np.multiply(a, 3, out=a)
    a[2:4] *= 2
    check("item 8: after a += 1, np.multiply(a, 3, out=a), a[2:4] *= 2 a is still a DmaArray "
          "with the values", (True, 6, 12), (isinstance(a, udmabuf.DmaArray), int(a[0]), int(a[2])))
    try:
        a.flush()
        ok("item 8: a.flush() after a += 1")
    except Exception as e:  # noqa: BLE001
        not_ok("item 8: a.flush() after a += 1", "%s: %s" % (type(e).__name__, e))
    check("a + 1 is new memory: a plain ndarray", np.ndarray, type(a + 1))
    check("a.sum() is a scalar", True, np.isscalar(a.sum()))
    del a
    pool.close()


def fd_leaks():
    """Item 9: no fd outlives its Buffer."""
    gc.collect()
    n0 = fds()
    for _ in range(5):
        udmabuf.Buffer(NAME)  # never closed
    gc.collect()
    check("item 9: 5 Buffers dropped without close(): no fd left", n0, fds())
    import udmabuf.buffer as ub
    saved = ub.SYSFS_DIR
    ub.SYSFS_DIR = "/nonexistent"
    try:
        try:
            udmabuf.Buffer(NAME, interface="sysfs")
        except udmabuf.UdmabufError as e:
            print("#   message: %s" % e)
    finally:
        ub.SYSFS_DIR = saved
    gc.collect()
    check("item 9: a Buffer whose sysfs read fails leaves no fd", n0, fds())
    udmabuf.create("pyt-leak", 4096)
    udmabuf.Buffer("pyt-leak")
    gc.collect()
    try:
        udmabuf.delete("pyt-leak")
        ok("item 9: delete after a dropped Buffer succeeds (no EBUSY)")
    except udmabuf.UdmabufError as e:
        not_ok("item 9: delete after a dropped Buffer succeeds (no EBUSY)", e)
        os.system("ls -l /proc/%d/fd >&2" % os.getpid())


def odd_sizes():
    """Item 10: Manager allocations of any size sync through sysfs too."""
    m = udmabuf.Manager(prefix="pys", interface="sysfs")
    for n in (100, 15 * 16 + 1, 4096 + 7):
        try:
            x = udmabuf.allocate(n, np.uint8, target=m)
            before = stored(x.udmabuf.name)
            x.flush()
            x[n - 3:].invalidate()
            x.sync_to_device()
            check("item 10: allocate(%d, uint8) via sysfs: flush()/invalidate()/sync_to_device() "
                  "work, stored range unchanged" % n, before[:3], stored(x.udmabuf.name)[:3])
            del x
            gc.collect()
        except Exception as e:  # noqa: BLE001
            not_ok("item 10: allocate(%d, uint8) via sysfs syncs" % n, "%s: %s" % (type(e).__name__, e))
    def covered(o, n, sz):
        rs = udmabuf.encoded_ranges(o, n, sz)
        if not all(r[1] > 0 and r[1] % 16 == 0 and r[0] >= 0 and r[0] + r[1] <= sz
                   and r[0] >= o - 15 and r[0] + r[1] <= o + n + 15 for r in rs):
            return False
        at = o  # the ranges, in order, must leave no gap in [o, o + n)
        for r0, r1 in sorted(rs):
            if r0 > at:
                return False
            at = max(at, r0 + r1)
        return at >= o + n
    bad = [(o, n, sz) for sz in (16, 17, 31, 100, 257)
           for o in range(sz) for n in range(1, sz - o + 1) if not covered(o, n, sz)]
    check("encoded_ranges covers every range of buffers of 16, 17, 31, 100 and 257 bytes with "
          "16-byte multiples inside the buffer, widened by less than 16 bytes", [], bad[:5])


def bound():
    """Item 11: allocate(target=<device>) binds the buffer to the DMA master."""
    edu = edu_address()
    if edu is None:
        print("ok - py: item 11: bound allocation # SKIP no edu device")
        return
    try:
        a = udmabuf.allocate(4096, np.uint8, target="pci:" + edu)
    except Exception as e:  # noqa: BLE001
        not_ok("item 11: allocate(target='pci:%s')" % edu, "%s: %s" % (type(e).__name__, e))
        return
    name = a.udmabuf.name
    check("item 11: allocate(target='pci:%s') makes a buffer whose parent is edu" % edu,
          os.path.realpath("/sys/bus/pci/devices/" + edu),
          os.path.realpath(SYS + name + "/device"))
    check("its .device names the DMA master and physical_address is its sysfs phys_addr",
          ("pci:" + edu, int(attr(name, "phys_addr"), 16)), (a.device, a.physical_address))
    b = udmabuf.allocate(4096, np.uint8, target="/sys/bus/pci/devices/" + edu)
    sys.path.insert(1, "/t/examples")
    from edu_loopback import Edu
    e = Edu()
    a[:2048] = np.arange(2048) % 251
    b[:] = 0
    a.sync_to_device()
    b.flush()
    e.dma(a.physical_address, Edu.RAM, 2048, to_ram=False)
    e.dma(Edu.RAM, b.physical_address, 2048, to_ram=True)
    b.sync_from_device()
    e.close()
    check("a loopback through edu between two bound allocations moves the data", True,
          bool((a[:2048] == b[:2048]).all()))
    del a, b
    gc.collect()
    check("no bound buffer is left", [], [n for n in udmabuf.names() if n.startswith("pyudb")])


def example_exit():
    """Item 12: examples/edu_loopback.py exits 2 on a setup error (no edu device)."""
    def run():
        import runpy
        real = os.listdir
        os.listdir = lambda p=".": [] if p == "/sys/bus/pci/devices" else real(p)
        sys.argv = ["edu_loopback.py", NAME]
        try:
            runpy.run_path("/t/examples/edu_loopback.py", run_name="__main__")
        except SystemExit as e:
            return e.code if isinstance(e.code, int) else 1
        return 0
    st, sig, out = in_child(run)
    check("item 12: edu_loopback.py without an edu device exits 2 (setup error), like the C "
          "version", 2, st)
    print("#   output: %s" % out.strip().splitlines()[-1:] if out.strip() else "#   (no output)")


def names_checked():
    """(smaller) manager names are validated: ';' cannot chain a second command."""
    raises("create('pyt-x;create pyt-y 4096', 4096)", ValueError, udmabuf.create,
           "pyt-x;create pyt-y 4096", 4096)
    raises("create('pyt a', 4096) (a space)", ValueError, udmabuf.create, "pyt a", 4096)
    raises("create('pyt\\ta', 4096) (a tab)", ValueError, udmabuf.create, "pyt\ta", 4096)
    left = [n for n in udmabuf.names() if n.startswith("pyt-")]
    check("no buffer was made by the refused names", [], left)
    for n in left:
        udmabuf.delete(n)
    check("a name with a quote, a backslash and non-ASCII is fine", True,
          udmabuf.check_name('caf\u00e9"\\x') == 'caf\u00e9"\\x' if hasattr(udmabuf, "check_name")
          else False)


def pyproject():
    try:
        text = open("/t/python/pyproject.toml").read()
    except OSError as e:
        not_ok("pyproject.toml readable", e)
        return
    check("(smaller) pyproject.toml: licence GPL-2.0 OR BSD-2-Clause, like the SPDX headers",
          True, 'license = "GPL-2.0 OR BSD-2-Clause"' in text or
          'license = { text = "GPL-2.0 OR BSD-2-Clause" }' in text)


for part in sys.argv[1:] or ["buffer_api", "permissions", "slices", "pool_backend",
                             "manager_backend", "readme_loopback", "cli_json", "cli_odd",
                             "cli_race", "numpy2",
                             "gc_in_alloc", "lifetime", "pools", "pynq", "inplace", "fd_leaks",
                             "odd_sizes", "bound", "example_exit", "names_checked", "pyproject"]:
    section(globals()[part])
sys.exit(1 if TAP.failures else 0)
