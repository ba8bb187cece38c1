"""The udmabuf Python package against stand-ins for the device: a regular file as
/dev/<name> and a directory as its sysfs (udmabuf.buffer.DEV_DIR/SYSFS_DIR). No module is
needed: runs on the host (python3 tests/guest/py/test_standin.py) and in the guest under
NumPy 1 and NumPy 2 (95-userspace.sh). Prints TAP ("ok - standin: ...").

The ioctls fail on a regular file (ENOTTY), so a Buffer falls back to sysfs and every sync
command is a write to the stand-in's sync_for_cpu/sync_for_device file: what reaches the
kernel is seen by wrapping Buffer._sync_cmd.

Checks the findings of the review of issue 15 that need no device: fork() and the Pool and
the Manager (1, 2), memory at interpreter exit (3), NumPy integers as offsets (4), dtypes
(5), 4 GiB (8), strided syncs (9, 10), freebuffer() in a loop (11), target= (12), closing
and allocating in threads (13), alignment and empty allocations (18), encode_sync (19),
copy()/astype() (21).
"""
import gc
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.environ.get("UDMABUF_PYTHON") or os.path.normpath(os.path.join(HERE, "../../../python"))
if not os.path.isdir(os.path.join(PKG, "udmabuf")):
    PKG = "/t/python"
sys.path.insert(0, PKG)
import numpy as np  # noqa: E402
import udmabuf  # noqa: E402
from childrun import Tap, in_child  # noqa: E402
import udmabuf.buffer as ub  # noqa: E402

ua = sys.modules["udmabuf.allocate"]
ROOT = tempfile.mkdtemp(prefix="udmabuf-standin-")
TAG = "standin numpy%s" % np.__version__.split(".")[0]


TAP = Tap(TAG + ": ")
ok, not_ok, check, raises = TAP.ok, TAP.not_ok, TAP.check, TAP.raises


def setup(name="sb0", size=1 << 20):
    """A stand-in buffer: /dev/<name> a sparse file, its sysfs a directory of files."""
    os.makedirs(ROOT + "/dev", exist_ok=True)
    d = ROOT + "/sys/" + name
    os.makedirs(d, exist_ok=True)
    with open(ROOT + "/dev/" + name, "wb") as f:
        f.truncate(-(-size // 4096) * 4096)
    for k, v in dict(size=size, phys_addr="0x0000000080000000", sync_offset="0x0",
                     sync_size=0, sync_direction=0, sync_owner=0, sync_for_cpu=0,
                     sync_for_device=0, dma_coherent=0, quirk_mmap_mode=2,
                     sync_mode=1).items():
        with open(d + "/" + k, "w") as f:
            f.write("%s\n" % v)
    return name


ub.DEV_DIR = ROOT + "/dev"
ub.SYSFS_DIR = ROOT + "/sys"
ub.MANAGER = ROOT + "/no-manager"


def fake_manager():
    """Manager create/delete on stand-ins; create of a taken name is BufferExists."""
    def create(name, size, **kw):
        if os.path.exists(ROOT + "/dev/" + name):
            raise udmabuf.BufferExists("create %s: File exists" % name)
        setup(name, size)
    ua.create = create
    ua.delete = lambda name: None


class CmdSpy:
    """Records every (for_device, offset, size, direction) that reaches the kernel (the
    encoded commands Buffer._sync_cmd hands over)."""

    def __enter__(self):
        self.cmds = []
        self.orig = orig = udmabuf.Buffer._sync_cmd

        def rec(buf, for_device, cmd):
            self.cmds.append((for_device, cmd >> 32, cmd & 0xFFFFFFF0, (cmd >> 2) & 3))
            return orig(buf, for_device, cmd)
        udmabuf.Buffer._sync_cmd = rec
        return self

    def __exit__(self, *exc):
        udmabuf.Buffer._sync_cmd = self.orig


def child_check(what, fn, timeout=120):
    st, sig, out = in_child(fn, timeout)
    if st == 0:
        ok(what)
        for line in out.strip().splitlines()[-3:]:
            print("#   " + line)
    elif sig is not None:
        not_ok(what, "the child was killed by signal %d" % sig, out)
    else:
        not_ok(what, "the child exited %d" % st, out)


def section(fn):
    try:
        fn()
    except Exception:  # noqa: BLE001
        not_ok("%s ran to the end" % fn.__name__, traceback.format_exc())


# ---- 1: a Pool used after fork() -------------------------------------------------------
def fork_pool():
    def run():
        n = setup("sbfork")
        p = udmabuf.Pool(n)
        a = udmabuf.allocate(4096, np.uint8, target=p)
        r, w = os.pipe()
        g, h = os.pipe()
        pid = os.fork()
        if pid == 0:
            b = udmabuf.allocate(4096, np.uint8, target=p)
            os.write(w, b"%d\n" % b.buffer_offset)
            os.read(g, 1)  # hold b until the parent has allocated
            os._exit(0)
        child_off = int(os.read(r, 100))
        c = udmabuf.allocate(4096, np.uint8, target=p)
        os.write(h, b"x")
        os.waitpid(pid, 0)
        print("parent block %d, child block %d, inherited a at %d"
              % (c.buffer_offset, child_off, a.buffer_offset))
        if abs(c.buffer_offset - child_off) < 4096 or abs(a.buffer_offset - child_off) < 4096:
            return 3
        # The child drops the inherited array: the parent's block must stay locked.
        pid = os.fork()
        if pid == 0:
            del a
            gc.collect()
            os._exit(0)
        os.waitpid(pid, 0)
        q = udmabuf.Pool(n)  # another Pool (another process)
        d = udmabuf.allocate(4096, np.uint8, target=q)
        print("parent's live a at %d; another Pool's new block at %d"
              % (a.buffer_offset, d.buffer_offset))
        return 4 if abs(d.buffer_offset - a.buffer_offset) < 4096 else 0
    child_check("review 1: after fork() parent and child get different blocks from one Pool, "
                "and a child dropping an inherited array does not unlock the parent's block",
                run)


# ---- 2: a Manager used after fork() ----------------------------------------------------
def fork_manager():
    def run():
        fake_manager()
        m = udmabuf.Manager()
        a = udmabuf.allocate(64, np.uint8, target=m)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            b = udmabuf.allocate(64, np.uint8, target=m)
            os.write(w, b.udmabuf.name.encode())
            os._exit(0)
        os.waitpid(pid, 0)
        child = os.read(r, 100).decode()
        c = udmabuf.allocate(64, np.uint8, target=m)
        print("parent: %s %s, child: %s" % (a.udmabuf.name, c.udmabuf.name, child))
        return 0 if len({a.udmabuf.name, c.udmabuf.name, child}) == 3 else 5
    child_check("review 2: a Manager used in a forked child and in the parent makes names "
                "that do not collide (no BufferExists)", run)


# ---- 3: interpreter exit ---------------------------------------------------------------
EXIT_PRELUDE = r'''
import os, sys, atexit, threading, time
sys.path.insert(0, %r)
import numpy as np, udmabuf, udmabuf.buffer as ub
ua = sys.modules["udmabuf.allocate"]
ROOT = %r
ub.DEV_DIR = ROOT + "/dev"; ub.SYSFS_DIR = ROOT + "/sys"
deleted = []
def setup(name, size):
    d = ROOT + "/sys/" + name
    os.makedirs(d, exist_ok=True)
    open(ROOT + "/dev/" + name, "wb").truncate(-(-size // 4096) * 4096)
    for k, v in dict(size=size, phys_addr="0x80000000", dma_coherent=0, quirk_mmap_mode=2,
                     sync_mode=1, sync_for_cpu=0, sync_for_device=0).items():
        open(d + "/" + k, "w").write("%%s\n" %% v)
ua.create = lambda name, size, **kw: setup(name, size)
ua.delete = lambda name: print("delete", name, flush=True)
'''
EXIT_CASES = {
    "a daemon thread writes a Manager array while the interpreter exits": r'''
a = udmabuf.allocate(1 << 16, np.uint8, target=udmabuf.Manager(prefix="x"))
def poll():
    while True:
        a[:] += 1
threading.Thread(target=poll, daemon=True).start()
time.sleep(0.3)
''',
    "a daemon thread writes an array of a closed Pool while the interpreter exits": r'''
setup("sbexit", 1 << 20)
p = udmabuf.Pool("sbexit")
a = udmabuf.allocate(1 << 16, np.uint8, target=p)
p.close()
def poll():
    while True:
        a[:] += 1
threading.Thread(target=poll, daemon=True).start()
time.sleep(0.3)
''',
    "an atexit handler registered first reads an array of a Pool closed by with": r'''
state = {}
atexit.register(lambda: print("atexit reads", int(state["a"].sum()), flush=True))
setup("sbexit2", 1 << 20)
with udmabuf.Pool("sbexit2") as p:
    state["a"] = udmabuf.allocate(1 << 16, np.uint8, target=p)
state["a"][:] = 1
''',
    "an atexit handler registered first reads a Manager array": r'''
state = {}
atexit.register(lambda: print("atexit reads", int(state["a"].sum()), flush=True))
state["a"] = udmabuf.allocate(1 << 16, np.uint8, target=udmabuf.Manager(prefix="y"))
state["a"][:] = 1
b = udmabuf.allocate(64, np.uint8, target=udmabuf.Manager(prefix="garbage"))
c = [b]; c.append(c); del b, c  # garbage in a cycle at exit: its buffer is deleted
''',
}


def at_exit():
    for what, body in EXIT_CASES.items():
        script = EXIT_PRELUDE % (PKG, ROOT) + body + "print('main done', flush=True)\n"
        p = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        out = p.stdout.decode(errors="replace")
        good = p.returncode == 0 and "main done" in out
        if "atexit reads" in body:
            good = good and "atexit reads 65536" in out
        if "garbage" in body:
            # the live array's buffer is left (mapped: the kernel would refuse), the
            # garbage one deleted
            good = good and "delete garbage" in out and "delete y" not in out
        if good:
            ok("review 3: %s: exit status 0, no crash" % what)
        else:
            not_ok("review 3: %s: exit status 0, no crash" % what,
                   "exit status %d" % p.returncode, out)


# ---- 4, 19: NumPy integers, encode_sync ------------------------------------------------
def integers():
    n = setup("sbint")
    with udmabuf.Buffer(n) as b:
        for t in (np.uint32, np.uint64, np.int64, np.int32):
            with CmdSpy() as spy:
                try:
                    b.sync_for_cpu(t(4096), t(64))
                except Exception as e:  # noqa: BLE001
                    spy.cmds.append("%s: %s" % (type(e).__name__, e))
            check("review 4: sync_for_cpu(np.%s(4096), 64) syncs 64 bytes at 4096"
                  % t.__name__, [(False, 4096, 64, 0)], spy.cmds)
        try:
            got = udmabuf.encode_sync(np.int64(3 << 30), np.int64(16), 0)
        except Exception as e:  # noqa: BLE001
            got = "%s: %s" % (type(e).__name__, e)
        check("review 4: encode_sync(np.int64(3 << 30), 16, 0) is (3 << 62) | 17",
              (3 << 62) | 17, got)
        try:
            got = udmabuf.encoded_ranges(np.uint32(4096), np.uint32(100), np.uint64(1 << 20))
        except Exception as e:  # noqa: BLE001
            got = "%s: %s" % (type(e).__name__, e)
        check("review 4: encoded_ranges of NumPy integers", [(4096, 112)], got)
        with CmdSpy() as spy:
            b.set_sync_area(np.uint32(4096), np.uint32(64))
        check("review 4: set_sync_area(np.uint32(4096), 64) stores 4096 and 64",
              ("4096", "64"), (b.attr("sync_offset"), b.attr("sync_size")))
        arr = b.array(np.uint8, 16, offset=np.uint32(4096))
        check("Buffer.array(offset=np.uint32(4096))", b.address + 4096,
              arr.__array_interface__["data"][0])
        del arr


def encode_checks():
    raises("review 19: encode_sync(0, 16, direction=4)", ValueError, udmabuf.encode_sync,
           0, 16, 4)
    raises("review 19: encode_sync(-16, 16, 0)", udmabuf.SizeError, udmabuf.encode_sync,
           -16, 16, 0)
    raises("review 19: encode_sync(0, -16, 0)", udmabuf.SizeError, udmabuf.encode_sync, 0, -16, 0)
    raises("review 19: encode_sync(1.5, 16, 0)", TypeError, udmabuf.encode_sync, 1.5, 16, 0)


# ---- 5: dtypes ------------------------------------------------------------------------
def dtypes():
    n = setup("sbdt")
    pool = udmabuf.Pool(n)
    raises("review 5: allocate(4, object) is refused before allocating", TypeError,
           udmabuf.allocate, 4, object, target=pool)
    raises("review 5: allocate(4, [('a', 'O')]) is refused", TypeError, udmabuf.allocate, 4,
           [("a", "u4"), ("b", "O")], target=pool)
    check("review 5: nothing was allocated by the refused dtypes", pool.buffer.size,
          pool.free_bytes)
    cases = [
        ("aligned struct", np.dtype([("a", "u1"), ("b", "u4")], align=True), 4),
        ("out-of-order offsets", np.dtype({"names": ["a", "b"], "formats": ["u4", "u4"],
                                           "offsets": [4, 0]}), 4),
        ("subarray '(2,3)f4'", np.dtype("(2,3)f4"), 4),
        ("struct with a subarray field", np.dtype([("a", "u2", (3,)), ("b", ">f8")]), (2, 3)),
    ]
    for what, dt, shape in cases:
        try:
            a = udmabuf.allocate(shape, dt, target=pool)
            want = np.zeros(shape, dt)
            a[...] = want
            got = (a.dtype, a.shape, a.nbytes, isinstance(a, udmabuf.DmaArray),
                   a.physical_address - pool.buffer.dma_addr == a.buffer_offset)
            check("review 5: allocate(%r, %s) has the dtype and shape np.zeros gives"
                  % (shape, what), (want.dtype, want.shape, want.nbytes, True, True), got)
            del a
        except Exception as e:  # noqa: BLE001
            not_ok("review 5: allocate(%r, %s)" % (shape, what), "%s: %s" % (type(e).__name__, e))
    gc.collect()
    check("review 5: everything returned", pool.buffer.size, pool.free_bytes)
    with udmabuf.Buffer(n) as b:
        dt = np.dtype([("a", "u1"), ("b", "u4")], align=True)
        x = b.array(dt, 4)
        check("review 5: Buffer.array() of an aligned struct keeps the dtype", dt, x.dtype)
        raises("review 5: Buffer.array(object)", TypeError, b.array, object, 4)
        del x
    pool.close()


# ---- 8: 4 GiB --------------------------------------------------------------------------
def four_gib():
    if sys.maxsize < 1 << 33:
        ok("review 8: 4 GiB # SKIP 32-bit Python")
        return
    n = setup("sbbig", 9 << 30)  # sparse
    with udmabuf.Buffer(n) as b:
        with CmdSpy() as spy:
            e = raises("review 8: sync_for_cpu of a range at 4 GiB + 4096 (the command's offset "
                       "field is 32 bits)", udmabuf.SizeError, b.sync_for_cpu, (4 << 30) + 4096, 64)
            e2 = raises("review 8: sync_for_device of the whole 9 GiB buffer (a piece would "
                        "start past 4 GiB)", udmabuf.SizeError, b.sync_for_device)
        check("review 8: the errors name the 4 GiB limit and nothing was synced", (True, []),
              (e is not None and e2 is not None and "4 GiB" in str(e) and "4 GiB" in str(e2),
               spy.cmds))
        with CmdSpy() as spy:
            b.sync_for_cpu((4 << 30) - 4096, 64)
        check("review 8: a range below 4 GiB syncs", [(False, (4 << 30) - 4096, 64, 0)], spy.cmds)


# ---- 9, 10: strided syncs --------------------------------------------------------------
def strided():
    n = setup("sbrun", 8 << 20)
    pool = udmabuf.Pool(n)
    a = udmabuf.allocate(4 << 20, np.uint8, target=pool)
    o = a.buffer_offset

    def timed(fn):
        with CmdSpy() as spy:
            t = time.monotonic()
            fn()
            return time.monotonic() - t, spy.cmds
    dt, cmds = timed(a[::2].invalidate)
    check("review 9: a[::2].invalidate() of 4 MiB: runs 1 byte apart are one command, in "
          "under 5 s (took %.1f s)" % dt, (True, [(False, o, 4 << 20, 0)]),
          (dt < 5, cmds))
    dt, cmds = timed(a[::2].flush)
    check("review 9: a[::2].flush(): one command for the span (took %.1f s)" % dt,
          (True, [(True, o, 4 << 20, 0)]), (dt < 5, cmds))
    m = a.reshape(-1, 32)  # 131072 rows of 32 bytes
    dt, cmds = timed(m[:, 0].flush)
    check("review 9: m[:, 0].flush() of 131072 rows: one command (took %.1f s)" % dt,
          (True, 1), (dt < 5, len(cmds)))
    t = time.monotonic()
    e = raises("review 9: m[:, 0].invalidate(): 131072 runs 31 bytes apart, more than the "
               "command cap: refused (invalidating the span would discard CPU writes)",
               udmabuf.UdmabufError, m[:, 0].invalidate)
    check("review 9: ... refused at once (%.1f s)" % (time.monotonic() - t), True,
          e is not None and time.monotonic() - t < 5)
    dt, cmds = timed(m[:1024, 0].invalidate)
    check("review 9: m[:1024, 0].invalidate(): 1024 commands of 16 bytes, one per row",
          [(False, o + 32 * i, 16, 0) for i in range(1024)], cmds)
    del m
    # 10: what reaches the kernel for a[:, 1] of a (64, 64) uint32 array
    b = udmabuf.allocate((64, 64), np.uint32, target=pool)
    ob = b.buffer_offset
    with CmdSpy() as spy:
        b[:, 1].invalidate()
    check("review 10: b[:, 1].invalidate() sends 64 commands of 16 bytes (columns 1-4 of each "
          "row: the command's 16-byte granularity)",
          [(False, ob + 4 + 256 * i, 16, 0) for i in range(64)], spy.cmds)
    with CmdSpy() as spy:
        b[:, 1:5].invalidate()
    check("review 10: b[:, 1:5].invalidate(): 64 commands of exactly 16 bytes",
          [(False, ob + 4 + 256 * i, 16, 0) for i in range(64)], spy.cmds)
    with CmdSpy() as spy:
        b[:, ::2].invalidate()
    check("review 10: b[:, ::2].invalidate(): words 4 bytes apart are one command",
          1, len(spy.cmds))
    check("byte_runs keeps exact runs (no merging)", [(b.virtual_address + 4 + 256 * i,
                                                       b.virtual_address + 8 + 256 * i)
                                                      for i in range(64)],
          udmabuf.byte_runs(b[:, 1]))
    del a, b
    pool.close()


def strided_child():
    """strided() in a child with a time limit: a sync that takes minutes is a failure."""
    st, sig, out = in_child(lambda: (strided(), TAP.failures)[1], timeout=90)
    sys.stdout.write(out)
    if sig is not None or st not in (0,) and "not ok" not in out:
        not_ok("review 9: the strided syncs end within 90 s", "status %r signal %r" % (st, sig))
    elif st:
        TAP.failures += st


# ---- 11: freebuffer() in a loop --------------------------------------------------------
def loop():
    n = setup("sbloop")
    pool = udmabuf.Pool(n)
    a = udmabuf.allocate(600 << 10, np.uint8, target=pool)
    a.freebuffer()
    e = raises("review 11: allocate(600K) again while `a` still holds the freed block: "
               "OutOfDmaMemory", udmabuf.OutOfDmaMemory, udmabuf.allocate, 600 << 10,
               np.uint8, target=pool)
    check("review 11: the error names the block freed with freebuffer() but still referenced",
          True, e is not None and "0x0+614400" in str(e) and "freebuffer" in str(e))
    del a
    b = udmabuf.allocate(600 << 10, np.uint8, target=pool)
    ok("review 11: after `del a` the memory is there again")
    del b
    pool.close()


# ---- 12: target= -----------------------------------------------------------------------
def targets():
    class PynqMem:  # a PYNQ memory object: .allocate, no .alloc
        def allocate(self, *a, **k):
            raise RuntimeError("would be used")
    raises("review 12: allocate(target=<PYNQ memory object>) is a TypeError", TypeError,
           udmabuf.allocate, 64, np.uint8, target=PynqMem())
    raises("review 12: allocate(target=42) is a TypeError", TypeError, udmabuf.allocate, 64,
           np.uint8, target=42)


# ---- 13: closing and allocating in threads ---------------------------------------------
def threads():
    n = setup("sbthr")

    def rollback():
        pool = udmabuf.Pool(n)
        before = pool.free_ranges
        real = ua.Allocation

        def failing(*a, **k):
            raise RuntimeError("injected")
        ua.Allocation = failing
        try:
            udmabuf.allocate(4096, np.uint8, target=pool)
        except RuntimeError:
            pass
        ua.Allocation = real
        other = udmabuf.Pool(n)
        x = udmabuf.allocate(4096, np.uint8, target=other)
        print("free before %s after %s; another Pool's block at %d"
              % (before, pool.free_ranges, x.buffer_offset))
        return 0 if pool.free_ranges == before and x.buffer_offset == 0 else 9
    child_check("review 13: an allocation that fails after its block was locked gives the "
                "block back (free list and lock)", rollback)

    def close_vs_alloc():
        pool = udmabuf.Pool(n)
        real = pool._lock_range

        def slow(start, size):
            time.sleep(0.3)
            return real(start, size)
        pool._lock_range = slow
        res = []

        def t():
            try:
                res.append(udmabuf.allocate(4096, np.uint8, target=pool))
            except Exception as e:  # noqa: BLE001
                res.append(e)
        th = threading.Thread(target=t)
        th.start()
        time.sleep(0.1)
        pool.close()
        th.join()
        r = res[0]
        print("alloc racing close: %s: %s" % (type(r).__name__, r))
        if isinstance(r, udmabuf.DmaArray):
            r[:] = 1  # usable, and its memory mapped
            return 0 if int(r.sum()) == 4096 else 12
        return 0 if isinstance(r, udmabuf.UdmabufError) else 10
    child_check("review 13: Pool.close() while another thread is inside alloc(): the "
                "allocation completes or fails with UdmabufError (no raw OSError)",
                close_vs_alloc)

    def double_close():
        closed = []
        real = os.close

        def rec(fd):
            closed.append(fd)
            real(fd)
        sys.setswitchinterval(1e-6)
        bufs = [udmabuf.Buffer(n) for _ in range(300)]
        fds = [b._fd for b in bufs]
        os.close = rec
        for b in bufs:
            bar = threading.Barrier(3)

            def t(b=b, bar=bar):
                bar.wait()
                b.close()
            ts = [threading.Thread(target=t) for _ in range(3)]
            for x in ts:
                x.start()
            for x in ts:
                x.join()
        os.close = real
        dup = len(closed) - len(set(closed))
        print("%d closes of %d descriptors" % (len(closed), len(fds)))
        return 0 if dup == 0 and sorted(closed) == sorted(fds) else 11
    child_check("review 13: three threads closing one Buffer close its descriptor once "
                "(300 buffers)", double_close)


# ---- 18: alignment and empty allocations -----------------------------------------------
def alignment():
    n = setup("sbal")
    pool = udmabuf.Pool(n)
    raises("review 18: Pool.alloc(64, alignment=96) (not a power of two)", udmabuf.SizeError,
           pool.alloc, 64, 96)
    raises("review 18: allocate(64, alignment=96)", udmabuf.SizeError, udmabuf.allocate, 64,
           np.uint8, target=pool, alignment=96)
    raises("review 18: Pool.alloc(0) (a length-0 lock would lock to the end of the file)",
           udmabuf.SizeError, pool.alloc, 0)
    check("review 18: nothing allocated or locked", pool.buffer.size, pool.free_bytes)
    other = udmabuf.Pool(n)
    x = udmabuf.allocate(64, np.uint8, target=other)
    check("review 18: another Pool still allocates from offset 0", 0, x.buffer_offset)
    del x
    other.close()
    pool.close()


# ---- 21: copy() and astype() -----------------------------------------------------------
def copies():
    n = setup("sbcp")
    pool = udmabuf.Pool(n)
    a = udmabuf.allocate(16, np.uint32, target=pool)
    import copy
    check("review 21: a.copy(), a.astype(float), copy.copy(a), copy.deepcopy(a) are plain "
          "ndarrays (new memory), like ufunc results",
          [np.ndarray] * 4, [type(a.copy()), type(a.astype(float)), type(copy.copy(a)),
                             type(copy.deepcopy(a))])
    check("review 21: a[2:4] is still a DmaArray", udmabuf.DmaArray, type(a[2:4]))
    del a
    pool.close()


try:
    for part in sys.argv[1:] or ["fork_pool", "fork_manager", "at_exit", "integers",
                                 "encode_checks", "dtypes",
                                 "four_gib", "strided_child", "loop", "targets", "threads",
                                 "alignment", "copies"]:
        section(globals()[part])
finally:
    shutil.rmtree(ROOT, ignore_errors=True)
sys.exit(1 if TAP.failures else 0)
