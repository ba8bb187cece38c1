"""Python checks in one process (importing numpy takes ~25 s on arm64 TCG).

Runs against /dev/udmabuf0, loaded by 50-seeds.sh. Prints TAP.
- seed 000's udmabuf_test.py (INTERFACE.md §4: numpy.memmap works), then its interactive
  check of the buffer contents, and memmap.flush() (§13.10);
- seed 002's Udmabuf class: phys_addr, size, memmap, set_sync_area and the set_sync_to_*
  helpers, sync_for_cpu, sync_for_device, with the data they hand over;
- NumPy on non-cached mappings (sync_mode 5/6/7, O_SYNC with 1/2/3) raises no SIGBUS (§12.8).
  (QEMU 7.2 TCG does not fault on arm64 Device memory, so this only bites on hardware.)
"""
import contextlib
import io
import mmap
import os
import runpy
import signal
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

NAME = 'udmabuf0'
DEV = '/dev/' + NAME
SYS = '/sys/class/u-dma-buf/%s/' % NAME
failures = 0


def ok(what):
    print('ok - ' + what, flush=True)


def not_ok(what, *diag):
    global failures
    failures += 1
    print('not ok - ' + what)
    for d in diag:
        for line in str(d).splitlines() or ['']:
            print('# ' + line)
    sys.stdout.flush()


def check(what, expected, got):
    if expected == got:
        ok(what)
    else:
        not_ok(what, 'expected %r got %r' % (expected, got))


def attr(name):
    with open(SYS + name) as f:
        return f.read().strip()


def set_attr(name, value):
    with open(SYS + name, 'w') as f:
        f.write(str(value))


def read_all():
    with open(DEV, 'rb', buffering=0) as f:
        return f.read()


@contextlib.contextmanager
def section(what):
    """A test section: an exception inside it is one failure, and the rest goes on."""
    try:
        yield
    except Exception:  # pylint: disable=broad-except
        not_ok(what + ' ran without an exception', traceback.format_exc())


t0 = time.time()
import numpy as np  # noqa: E402
from udmabuf import Udmabuf  # noqa: E402
print('# numpy %s imported in %.1f s' % (np.__version__, time.time() - t0), flush=True)

size = int(attr('size'))
pattern = (np.arange(size, dtype=np.uint64) * 2654435761 >> 7).astype(np.uint8)

# --- seed 000 -------------------------------------------------------------------------
with section('seed 000 udmabuf_test.py'):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(os.path.join(HERE, 'seed000_udmabuf_test.py'), run_name='__main__')
    lines = out.getvalue().splitlines()
    for line in lines:
        print('# seed000: ' + line)
    check('seed 000 udmabuf_test.py prints test_size = the buffer size',
          True, 'test_size  : %d' % size in lines)
    check('seed 000 udmabuf_test.py prints "udmabuf0 == comparison : OK"',
          True, 'udmabuf0 == comparison : OK' in lines)

with section('seed 000 contents check'):
    data = read_all()
    check('after seed 000, read() of /dev/udmabuf0 gives size bytes of 0x31 (as its dd + od)',
          (size, True), (len(data), data == b'\x31' * size))
    a = np.memmap('/dev/udmabuf0', dtype=np.uint8, mode='r+', shape=(size))
    check('seed 000 interactive memmap: itemsize 1, size = buffer size, every byte 49',
          (1, size, True), (a.itemsize, a.size, bool((a == 49).all())))
    a.flush()
    ok('numpy memmap.flush() (msync) works')
    del a

# --- seed 002 -------------------------------------------------------------------------
with section('seed 002 Udmabuf class'):
    u = Udmabuf('udmabuf0')
    check('Udmabuf.phys_addr (int(phys_addr, 16)) is the DMA address',
          int(attr('phys_addr'), 16), u.phys_addr)
    check('Udmabuf.buf_size is the size', size, u.buf_size)
    arr = u.memmap(dtype=np.uint8, shape=(size,))
    check('Udmabuf.memmap gives a numpy memmap of the whole buffer',
          (True, size), (isinstance(arr, np.memmap), arr.size))

    u.set_sync_area()
    check('Udmabuf.set_sync_area() reads offset, size, direction (0, size, 0)',
          (0, size, 0), (u.sync_offset, u.sync_size, u.sync_direction))
    u.set_sync_to_device(offset=4096, size=8192)
    check('Udmabuf.set_sync_to_device(4096, 8192) stores 0x1000, 8192, direction 1',
          ('0x1000', '8192', '1'), (attr('sync_offset'), attr('sync_size'), attr('sync_direction')))
    u.set_sync_to_cpu()
    check('Udmabuf.set_sync_to_cpu() stores direction 2 and reads back offset 4096 (hex), size 8192',
          ('2', 4096, 8192), (attr('sync_direction'), u.sync_offset, u.sync_size))
    u.set_sync_to_bidirectional(0, size)
    check('Udmabuf.set_sync_to_bidirectional(0, size) stores 0x0, size, direction 0',
          ('0x0', str(size), '0'), (attr('sync_offset'), attr('sync_size'), attr('sync_direction')))
    u.sync_for_device()
    check('Udmabuf.sync_for_device() makes sync_owner 1, and sync_for_device reads 0',
          ('1', '0'), (attr('sync_owner'), attr('sync_for_device')))
    u.sync_for_cpu()
    check('Udmabuf.sync_for_cpu() makes sync_owner 0, and sync_for_cpu reads 0',
          ('0', '0'), (attr('sync_owner'), attr('sync_for_cpu')))

    arr[:] = pattern
    u.sync_for_device()
    u.sync_for_cpu()
    check('bytes stored through Udmabuf.memmap are read back by read() after sync_for_device',
          True, read_all() == pattern.tobytes())
    newer = pattern[::-1].copy()
    u.sync_for_device()
    fd = os.open(DEV, os.O_RDWR | os.O_SYNC)
    try:
        check('O_SYNC write() of the whole buffer', size, os.pwrite(fd, newer.tobytes(), 0))
    finally:
        os.close(fd)
    u.sync_for_cpu()
    check('bytes written by O_SYNC write() show in Udmabuf.memmap after sync_for_cpu',
          True, bool(np.array_equal(arr, newer)))
    arr.flush()
    ok('Udmabuf.memmap flush() works')
    del arr, u


# --- no SIGBUS on non-cached mappings -------------------------------------------------
def numpy_workout(a, mm):
    """memset-like fills, unaligned 2/4/8-byte views, sums; '' when the data is right."""
    a[:] = 0
    if a.any():
        return 'fill with 0 left non-zero bytes'
    a[:] = 0xa5
    if not (a == 0xa5).all():
        return 'fill with 0xa5 left other bytes'
    a[:] = pattern
    if not np.array_equal(a, pattern):
        return 'copy of the pattern differs'
    for dtype, offset in ((np.uint16, 1), (np.uint32, 3), (np.uint64, 1), (np.float64, 5)):
        count = (size - offset) // np.dtype(dtype).itemsize
        v = np.frombuffer(mm, dtype=dtype, count=count, offset=offset)
        want = np.arange(count).astype(dtype)
        v[:] = want
        same = np.array_equal(v, want) and v.sum() == want.sum()
        del v
        if not same:
            return 'the %s view at offset %d differs' % (np.dtype(dtype).name, offset)
    return ''


def in_child(fn):
    """Runs fn() in a child process: a SIGBUS there is a failed test, not a dead run."""
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        try:
            why = fn()
            if why:
                print('# ' + why, flush=True)
            os._exit(1 if why else 0)
        except BaseException:  # pylint: disable=broad-except
            traceback.print_exc()
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return signal.Signals(os.WTERMSIG(status)).name
    return 'exit %d' % os.WEXITSTATUS(status)


def through_numpy_memmap():
    m = np.memmap(DEV, dtype=np.uint8, mode='r+', shape=(size,))
    return numpy_workout(m, m)


def through_osync_mmap():
    fd = os.open(DEV, os.O_RDWR | os.O_SYNC)
    try:
        mm = mmap.mmap(fd, size)
    finally:
        os.close(fd)
    return numpy_workout(np.frombuffer(mm, dtype=np.uint8), mm)


for mode, osync in ((5, False), (6, False), (7, False), (1, True), (2, True), (3, True)):
    with section('numpy on sync_mode %d' % mode):
        set_attr('sync_mode', mode)
        how = 'an O_SYNC mmap' if osync else 'numpy.memmap'
        check('numpy fills, unaligned 2/4/8-byte views and sums on %s with sync_mode %d work (no SIGBUS)'
              % (how, mode), 'exit 0', in_child(through_osync_mmap if osync else through_numpy_memmap))
with section('restore sync_mode'):
    set_attr('sync_mode', 1)

print('# python checks took %.1f s' % (time.time() - t0), flush=True)
sys.exit(0)
