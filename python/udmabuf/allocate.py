# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""PYNQ-style allocate(): NumPy arrays in DMA memory that know their device address.

Two backends:
  Manager()  one new buffer per allocation through /dev/u-dma-buf-mgr (root);
  Pool(name) sub-allocation from one large pre-created buffer (no root needed).

Lifetime: an array (and every view of it) keeps its memory mapped and reserved. freebuffer()
ends the array's DMA life (its sync methods raise, the array turns read-only), and the memory
goes back to the Pool or the kernel when no array over it is left (the array itself and
every view: when the last of them is garbage collected). So no view ever reads or writes
memory that another allocation owns, and nothing is unmapped under a live array, not even
at interpreter exit (the mappings of arrays alive then stay until the process ends; Manager
buffers of such arrays are left for `udmabuf delete`).
"""

import atexit
import collections
import errno
import gc
import fcntl
import itertools
import os
import struct
import threading
import warnings
import weakref

import numpy as np

from . import buffer as _buffer
from .buffer import (BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE, Buffer, SizeError,
                     OutOfDmaMemory, UdmabufError, BufferExists, create, delete, check_name,
                     check_dtype, shape_of, typed, _index)

# invalidate() of a strided view: runs of bytes less than this apart are one command (the
# encoded command covers multiples of 16 bytes anyway), and at most this many commands.
SYNC_MERGE_GAP = 16
MAX_SYNC_COMMANDS = 65536

# arm64's ARCH_DMA_MINALIGN (the largest of the architectures the module supports): two
# allocations never share a cache line, so syncing one never touches the other.
DMA_MINALIGN = 128


def byte_bounds(a):
    """(low, high) CPU addresses of the bytes an array covers (np.byte_bounds, which NumPy 2
    removed from the main namespace)."""
    ai = a.__array_interface__
    low = high = ai["data"][0]
    itemsize = a.dtype.itemsize
    if a.size == 0:
        return low, low
    strides = ai["strides"]
    if strides is None:
        return low, low + a.size * itemsize
    for n, st in zip(ai["shape"], strides):
        if st < 0:
            low += (n - 1) * st
        else:
            high += (n - 1) * st
    return low, high + itemsize


def _run_arrays(a, gap=0):
    """(starts, ends) NumPy arrays of the byte runs of `a` (CPU addresses, sorted), runs less
    than `gap` bytes apart merged (gap 0: only touching or overlapping runs)."""
    lo, hi = byte_bounds(a)
    if a.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if a.flags.c_contiguous or a.flags.f_contiguous:
        return np.array([lo], np.int64), np.array([hi], np.int64)
    shape, strides, item = a.shape, a.strides, a.dtype.itemsize
    # Innermost dimensions that are contiguous form one run.
    run, k = item, len(shape)
    while k > 0 and strides[k - 1] == run:
        run *= shape[k - 1]
        k -= 1
    if k == len(shape) and shape:  # the innermost axis is strided: runs of one element
        run = item
    starts = np.zeros(1, dtype=np.int64)
    for n, st in sorted(zip(shape[:k], strides[:k]), key=lambda x: -abs(x[1])):
        starts = (starts[:, None] + np.arange(n, dtype=np.int64) * st).ravel()
    starts.sort()
    starts += a.__array_interface__["data"][0]
    ends = np.maximum.accumulate(starts + run)
    brk = np.flatnonzero(starts[1:] - ends[:-1] >= max(gap, 1)) + 1
    first = np.concatenate(([0], brk))
    last = np.concatenate((brk - 1, [len(starts) - 1]))
    return starts[first], ends[last]


def byte_runs(a, gap=0):
    """The contiguous byte runs [(low, high), ...] of an array (sorted, merged): one run for
    a contiguous array, one per row segment for a strided view such as a[:, 1]. Runs less
    than `gap` bytes apart are merged (gap 0: only touching or overlapping ones)."""
    s, e = _run_arrays(a, gap)
    return list(zip(s.tolist(), e.tolist()))


class _Owner:
    """The base of every array of one allocation: exposes its memory to NumPy (as raw
    bytes) and holds the allocation (and through it the mapping) alive as long as any array
    uses it."""

    def __init__(self, alloc, nbytes):
        self.alloc = alloc
        self.__array_interface__ = {
            "data": (alloc.buffer.address + alloc.offset, False),
            "shape": (nbytes,), "typestr": "|u1", "version": 3}


_exit_registered = []


def _collect_at_exit():
    """At exit: arrays that are garbage go now (their Manager buffers are deleted); the
    mappings of the others are pinned (buffer._at_exit) and their buffers left alone."""
    try:
        gc.collect()
    finally:
        _buffer._at_exit()


class Allocation:
    """One allocated range: `buffer` (a Buffer), `offset`, `nbytes`. Its memory returns to
    the backend once, when the allocation is garbage (no array over it is left)."""

    def __init__(self, backend, buffer, offset, nbytes, cacheable=True):
        self.backend, self.buffer, self.offset, self.nbytes = backend, buffer, offset, nbytes
        self.cacheable = cacheable
        self.freed = False
        self.pid = os.getpid()
        mm = buffer._mm
        if mm is None:
            raise UdmabufError("buffer %s is closed" % buffer.name)
        # An export of the mapping, held for as long as this allocation lives: close()
        # cannot unmap it meanwhile. The finalizer releases it before the backend's release.
        # Not at exit (atexit=False): arrays may still be in use then (_collect_at_exit).
        f = weakref.finalize(self, _release, backend, buffer, offset, nbytes, memoryview(mm),
                             self.pid)
        f.atexit = False
        if not _exit_registered:
            _exit_registered.append(True)
            atexit.register(_collect_at_exit)  # after weakref's own: runs before it

    def free(self):
        self.freed = True


def _release(backend, buffer, offset, nbytes, view, pid):
    view.release()
    if pid != os.getpid():
        return  # inherited through fork(): the parent owns the memory (and the lock)
    backend._release(buffer, offset, nbytes)


class DmaArray(np.ndarray):
    """An ndarray in DMA memory. Views and slices keep their own device address, and
    their flush()/invalidate() sync only the bytes they cover."""

    def __array_finalize__(self, obj):
        # A view keeps the allocation; new memory (a copy, a ufunc result) does not.
        a = getattr(obj, "_alloc", None)
        if a is not None and self.size:
            p = self.__array_interface__["data"][0] - a.buffer.address
            if not a.offset <= p < a.offset + a.nbytes:
                a = None
        self._alloc = a

    def _alloc_or_raise(self):
        a = getattr(self, "_alloc", None)
        if a is None:
            raise UdmabufError("this array is not in DMA memory (a copy, not a view)")
        if a.freed:
            raise UdmabufError("the buffer of this array has been freed (freebuffer())")
        if a.buffer.closed or getattr(a.backend, "closed", False):
            raise UdmabufError("the pool or buffer of this array has been closed")
        return a

    def _byte_range(self):
        """(offset in the u-dma-buf buffer, size) of the span this view covers."""
        a = self._alloc_or_raise()
        if self.size == 0:
            return a.offset, 0
        low, high = byte_bounds(self)
        off = low - a.buffer.address
        if off < a.offset or high - a.buffer.address > a.offset + a.nbytes:
            raise UdmabufError("array does not lie in its allocation")
        return off, high - low

    @property
    def physical_address(self):
        """The DMA address of this view's first element."""
        a = self._alloc_or_raise()
        return a.buffer.dma_addr + (self.__array_interface__["data"][0] - a.buffer.address)

    device_address = physical_address

    @property
    def virtual_address(self):
        """The CPU address of this view's first element (PYNQ's virtual_address)."""
        return self.__array_interface__["data"][0]

    @property
    def buffer_offset(self):
        """Byte offset of this view's first element in the u-dma-buf buffer."""
        a = self._alloc_or_raise()
        return self.__array_interface__["data"][0] - a.buffer.address

    @property
    def udmabuf(self):
        return self._alloc_or_raise().buffer

    @property
    def coherent(self):
        """True when the device's DMA is cache-coherent (no sync needed; PYNQ's .coherent)."""
        return self._alloc_or_raise().buffer.coherent

    @property
    def cacheable(self):
        """False when the CPU mapping is uncached (allocate(cacheable=False))."""
        return self._alloc_or_raise().buffer.cacheable

    @property
    def device(self):
        """The DMA master the buffer is bound to ('pci:0000:00:03.0'), or None: then
        physical_address is the address for the u-dma-buf device itself, which is the
        master's only where no IOMMU translates (see allocate(target=...))."""
        return getattr(self._alloc_or_raise().backend, "device", None)

    def _sync(self, for_device, direction):
        a = self._alloc_or_raise()
        direction = _buffer._direction(direction)
        base = a.buffer.address
        if (not for_device and direction != TO_DEVICE
                and not (self.flags.c_contiguous or self.flags.f_contiguous)):
            # A strided view invalidates only its own bytes, run by run: the span between
            # them may hold CPU writes to other columns that are not flushed yet. Runs less
            # than 16 bytes apart are one command (the encoded command's granularity).
            # A write-back (flush) of the span harms nothing: it is one command.
            self._byte_range()  # inside the allocation
            starts, ends = _run_arrays(self, SYNC_MERGE_GAP)
            if len(starts) > MAX_SYNC_COMMANDS:
                raise UdmabufError(
                    "this strided view has %d separate runs of bytes (more than %d sync "
                    "commands): invalidating them one by one is too slow, and invalidating "
                    "the span would throw away CPU writes between them. Invalidate the whole "
                    "array (or a contiguous part) instead" % (len(starts), MAX_SYNC_COMMANDS))
            runs = zip((starts - base).tolist(), (ends - starts).tolist())
        else:
            runs = [self._byte_range()]
        for off, size in runs:
            if size:
                a.buffer._sync(for_device, off, size, direction)

    def flush(self, direction=BIDIRECTIONAL):
        """Write this view's bytes back for the device (sync_for_device)."""
        self._sync(True, direction)

    def invalidate(self, direction=BIDIRECTIONAL):
        """Make the device's writes visible to the CPU (sync_for_cpu). A strided view
        syncs its own bytes only, not the span between them."""
        self._sync(False, direction)

    def sync_to_device(self):
        self.flush(TO_DEVICE)

    def sync_from_device(self):
        self.invalidate(FROM_DEVICE)

    def freebuffer(self):
        """Ends this allocation: its sync methods raise and this array turns read-only; the
        memory returns when no array over it is left (this one included). A second call
        does nothing."""
        a = getattr(self, "_alloc", None)
        if a is None:
            return
        a.free()
        self.flags.writeable = False

    close = freebuffer

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.freebuffer()

    def __array_wrap__(self, obj, context=None, return_scalar=False):
        # In-place results (a += 1, out=a) are in DMA memory and stay DMA arrays; other
        # ufunc results are new memory: plain ndarrays (or scalars).
        if isinstance(obj, DmaArray) and getattr(obj, "_alloc", None) is not None:
            return obj
        if return_scalar or obj.shape == ():
            return obj[()]
        return np.asarray(obj)

    # New memory is a plain ndarray, as ufunc results are.
    def copy(self, order="C"):
        return np.asarray(self).copy(order)

    def astype(self, *args, **kwargs):
        return np.asarray(self).astype(*args, **kwargs)

    def __copy__(self):
        return np.asarray(self).copy()

    def __deepcopy__(self, memo):
        return np.asarray(self).copy()

    def __reduce__(self):
        # A pickle (or a copy through it) is plain memory.
        return np.asarray(self).copy().__reduce__()


def _make_array(alloc, shape, dtype):
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    arr = typed(np.asarray(_Owner(alloc, nbytes)), shape, dtype).view(DmaArray)
    arr._alloc = alloc
    return arr


def _parse_device(target):
    """'0000:00:03.0', 'pci:0000:00:03.0', 'platform:foo' or a /sys/.../devices path ->
    (bus, device), or None when `target` is no device."""
    if not isinstance(target, str):
        return None
    t = target
    if t.startswith("/sys/"):
        real = os.path.realpath(t)
        sub = os.path.realpath(os.path.join(real, "subsystem"))
        bus = os.path.basename(sub)
        return bus, os.path.basename(real)
    if ":" in t and t.split(":", 1)[0] in ("pci", "amba", "platform"):
        bus, dev = t.split(":", 1)
        return bus, dev
    if os.path.exists("/sys/bus/pci/devices/" + t):
        return "pci", t
    for bus in ("platform", "amba"):
        if os.path.exists("/sys/bus/%s/devices/%s" % (bus, t)):
            return bus, t
    raise UdmabufError("target %r: no such device (give 'pci:<address>', 'platform:<name>', "
                       "a /sys/bus/*/devices/ path, a Manager or a Pool)" % (target,))


def _iommu_present():
    try:
        return bool(os.listdir("/sys/class/iommu"))
    except OSError:
        return False


class Manager:
    """One buffer per allocation, created and deleted through the manager (root).

    device: the DMA master to bind the buffers to ('pci:0000:00:03.0', a /sys path; default
            $UDMABUF_DEVICE): then physical_address is that device's DMA address, also
            behind an IOMMU. Unbound buffers warn once when the system has an IOMMU."""

    _seq = itertools.count()
    _warned = False

    def __init__(self, prefix=None, dma_mask=None, quirk_mmap=None, interface="ioctl",
                 device=None):
        # Names: <prefix><pid>_<n>, the pid of the allocating process (after a fork the
        # child's names differ from the parent's); a taken name is skipped.
        self.prefix = prefix if prefix is not None else "pyudb"
        check_name(self.prefix + "%d_0" % (1 << 22))
        self.dma_mask, self.quirk_mmap, self.interface = dma_mask, quirk_mmap, interface
        device = device or os.environ.get("UDMABUF_DEVICE") or None
        self._bind = _parse_device(device) if device else None
        self.device = "%s:%s" % self._bind if self._bind else None

    def alloc(self, nbytes, alignment=None, cacheable=True):
        nbytes = _index(nbytes, "nbytes")
        if nbytes <= 0:
            raise SizeError("cannot allocate %d bytes" % nbytes)
        _check_alignment(alignment)
        bus, dev = self._bind or (None, None)
        if not self._bind and not Manager._warned and _iommu_present():
            Manager._warned = True
            warnings.warn("udmabuf: this system has an IOMMU and the buffer is not bound to "
                          "a DMA master: physical_address is not the device's address. Use "
                          "allocate(..., target='pci:<address>') or Manager(device=...).",
                          stacklevel=3)
        for tries in range(100):
            name = "%s%d_%d" % (self.prefix, os.getpid(), next(self._seq))
            try:
                create(name, nbytes, dma_mask=self.dma_mask, quirk_mmap=self.quirk_mmap,
                       bus=bus, device=dev)
                break
            except BufferExists:
                if tries == 99:
                    raise
        try:
            buf = Buffer(name, o_sync=not cacheable, interface=self.interface)
        except BaseException:
            delete(name)
            raise
        try:
            if alignment and buf.dma_addr % alignment:
                raise SizeError("buffer %s at 0x%x is not aligned to %d"
                                % (name, buf.dma_addr, alignment))
            if not cacheable and buf.cacheable and not buf.coherent:
                raise UdmabufError(
                    "buffer %s: cacheable=False but its sync_mode (%d) gives a cached CPU "
                    "mapping even with O_SYNC" % (name, buf.sync_mode))
        except BaseException:
            buf.close()
            delete(name)
            raise
        return Allocation(self, buf, 0, nbytes, cacheable)

    @staticmethod
    def _release(buf, offset, nbytes):
        # Runs when no array of the allocation is left (possibly inside gc).
        name = buf.name
        buf.close()
        try:
            delete(name)
        except UdmabufError as e:
            warnings.warn("udmabuf: could not delete buffer %s: %s" % (name, e))


# struct flock of 64-bit Linux: l_type, l_whence, l_start, l_len, l_pid (+ padding).
_FLOCK = struct.Struct("=hh4xqqi4x")
_F_OFD_GETLK, _F_OFD_SETLK = 36, 37


class Pool:
    """Sub-allocates from one existing buffer (first fit, coalescing free list).

    alignment  of every block's DMA address (a power of two, at least 128 by default so
               that two blocks never share a cache line); sizes are rounded up to it.
    cacheable  False: the pool maps its buffer uncached (O_SYNC with the buffer's sync_mode)
               and allocate(cacheable=False) takes from it.

    Several Pools on one buffer (in one process or in several) never hand out the same
    memory: each block is held by an open-file-description lock on its byte range of
    /dev/<name>, which the kernel drops when the process ends."""

    def __init__(self, name, alignment=DMA_MINALIGN, interface="ioctl", cacheable=True):
        alignment = _index(alignment, "alignment")
        if alignment <= 0 or alignment & (alignment - 1):
            raise SizeError("alignment must be a power of two, got %d" % alignment)
        self._name, self._interface = name, interface
        self._pid = os.getpid()
        self.buffer = Buffer(name, o_sync=not cacheable, interface=interface)
        self.alignment = alignment
        self.cacheable = cacheable
        self.device = None
        self._free_list = [(0, self.buffer.size)]  # sorted (offset, size), this process's view
        self._lock = threading.Lock()  # never taken by a release (it may run inside gc)
        self._pending = collections.deque()  # releases not yet merged into the free list
        self._live = {}  # (offset, size) -> weak reference to its Allocation
        self._closed = False
        if not cacheable and self.buffer.cacheable and not self.buffer.coherent:
            self.buffer.close()
            raise UdmabufError("pool %s: cacheable=False but sync_mode %d gives a cached "
                               "mapping even with O_SYNC" % (name, self.buffer.sync_mode))

    def _forked(self):
        """In a child of fork(): the open file (and with it the blocks' OFD locks) is the
        parent's too, so locks would never conflict between the two and the child's
        release would unlock the parent's blocks. The child opens the buffer again (an open
        file of its own) and starts with nothing of the parent's: the parent's blocks stay
        locked by the parent's open file, which the child's locks conflict with."""
        if self._pid == os.getpid():
            return
        self._lock = threading.Lock()  # another thread may have held it at the fork
        self._pid = os.getpid()
        self._pending = collections.deque()
        self._live = {}
        self._free_list = []
        self.buffer = Buffer(self._name, o_sync=not self.cacheable, interface=self._interface)
        self._free_list = [(0, self.buffer.size)]

    def _drain(self):
        """Merges released blocks into the free list (lock held)."""
        changed = False
        while self._pending:
            self._free_list.append(self._pending.popleft())
            changed = True
        if changed:
            fl = sorted(self._free_list)
            merged = []
            for off, sz in fl:
                if merged and merged[-1][0] + merged[-1][1] == off:
                    merged[-1] = (merged[-1][0], merged[-1][1] + sz)
                else:
                    merged.append((off, sz))
            self._free_list[:] = merged

    @property
    def free_bytes(self):
        self._forked()
        with self._lock:
            self._drain()
            return sum(s for _, s in self._free_list)

    @property
    def largest_free(self):
        self._forked()
        with self._lock:
            self._drain()
            return max((s for _, s in self._free_list), default=0)

    @property
    def free_ranges(self):
        self._forked()
        with self._lock:
            self._drain()
            return list(self._free_list)

    def _lock_range(self, start, size):
        """Takes the OFD lock of [start, start + size) (size > 0: a length of 0 would lock
        to the end of the file): None when taken, else the end of the conflicting lock held
        by another open file (another Pool or process)."""
        assert size > 0
        fd = self.buffer._fd
        for _ in range(100):
            try:
                fcntl.fcntl(fd, _F_OFD_SETLK,
                            _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, start, size, 0))
                return None
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            got = fcntl.fcntl(fd, _F_OFD_GETLK,
                              _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, start, size, 0))
            ltype, _, lstart, llen, _ = _FLOCK.unpack(got)
            if ltype != fcntl.F_UNLCK:
                return lstart + llen if llen else 1 << 62
            # the conflicting lock went meanwhile: try again at the same place
        return start + 1

    def alloc(self, nbytes, alignment=None, cacheable=True):
        if not cacheable and self.cacheable:
            raise UdmabufError("pool %s maps its buffer cached: for cacheable=False use "
                               "Pool(%r, cacheable=False) or the Manager"
                               % (self._name, self._name))
        nbytes = _index(nbytes, "nbytes")
        if nbytes <= 0:
            raise SizeError("cannot allocate %d bytes" % nbytes)
        align = max(_check_alignment(alignment) or 1, self.alignment)
        size = -(-nbytes // self.alignment) * self.alignment
        self._forked()
        with self._lock:
            if self._closed:
                raise UdmabufError("pool %s is closed" % self._name)
            base = self.buffer.dma_addr
            self._drain()
            for i, (off, sz) in enumerate(self._free_list):
                start = -(-(base + off) // align) * align - base
                while start + size <= off + sz:
                    busy_to = self._lock_range(start, size)
                    if busy_to is None:
                        try:
                            a = Allocation(self, self.buffer, start, size, self.cacheable)
                        except BaseException:
                            self._unlock(self.buffer._fd, start, size)
                            raise
                        pieces = []
                        if start > off:
                            pieces.append((off, start - off))
                        if off + sz > start + size:
                            pieces.append((start + size, off + sz - start - size))
                        self._free_list[i:i + 1] = pieces
                        self._live[(start, size)] = weakref.ref(a)
                        return a
                    start = -(-(base + max(busy_to, start + 1)) // align) * align - base
            free = sum(s for _, s in self._free_list)
            held = self._freed_but_held()
            raise OutOfDmaMemory(
                "pool %s: no free range of %d bytes aligned to %d (free %d bytes in %d "
                "pieces, largest %d%s%s%s)" % (
                    self._name, size, align, free, len(self._free_list),
                    max((s for _, s in self._free_list), default=0),
                    ": fragmented" if free >= size else "",
                    "; other Pools on this buffer may hold some of it",
                    "; freed with freebuffer() but still referenced by an array (they return "
                    "when the last array over them is gone, e.g. `del a` before the next "
                    "allocate()): %s" % ", ".join(sorted(held)) if held else ""))

    def _freed_but_held(self):
        """Blocks freed by freebuffer() that an array still holds (a function of its own:
        the exception raised with this list must not keep such an allocation alive)."""
        held = []
        for (o, n), ref in list(self._live.items()):
            al = ref()
            if al is not None and al.freed:
                held.append("0x%x+%d" % (o, n))
        return held

    def _release(self, buf, offset, nbytes):
        # Runs when no array of the block is left, possibly inside gc while this thread
        # holds self._lock: so no lock here, only a syscall and atomic container operations.
        if buf is not self.buffer:
            return  # an allocation from before a fork() (see _forked)
        self._unlock(buf._fd, offset, nbytes)
        self._pending.append((offset, nbytes))
        self._live.pop((offset, nbytes), None)
        if self._closed and not self._live:
            buf.close()

    @staticmethod
    def _unlock(fd, offset, nbytes):
        if fd >= 0:
            try:
                fcntl.fcntl(fd, _F_OFD_SETLK, _FLOCK.pack(fcntl.F_UNLCK, os.SEEK_SET, offset,
                                                         nbytes, 0))
            except OSError:
                pass

    def close(self):
        """No new allocations; the buffer is closed (and its blocks' locks dropped) once no
        array of this pool is left."""
        self._forked()
        with self._lock:  # an alloc() in another thread finishes first
            self._closed = True
        if not self._live:
            self.buffer.close()

    closed = property(lambda self: self._closed)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _check_alignment(alignment):
    """None, or a power of two (NumPy integers accepted)."""
    if alignment is None:
        return None
    alignment = _index(alignment, "alignment")
    if alignment <= 0 or alignment & (alignment - 1):
        raise SizeError("alignment must be a power of two, got %d" % alignment)
    return alignment


_backend = None
_backend_lock = threading.Lock()


def set_backend(backend):
    """The backend allocate() uses when none is given (a Manager or a Pool)."""
    global _backend
    with _backend_lock:
        _backend = backend
    return backend


def get_backend():
    """The default backend: set_backend()'s, else Pool($UDMABUF_POOL) when that is set,
    else Manager(). Made once, whatever the number of threads asking."""
    global _backend
    with _backend_lock:
        if _backend is None:
            pool = os.environ.get("UDMABUF_POOL")
            _backend = Pool(pool) if pool else Manager()
        return _backend


def allocate(shape, dtype="u4", target=None, alignment=None, cacheable=True, **kwargs):
    """A DmaArray of `shape` and `dtype` in DMA memory (PYNQ's allocate()).

    target     None: the default backend (get_backend()); a Manager or a Pool; or a DMA
               master ('pci:0000:00:03.0', '0000:00:03.0', 'platform:<name>', a
               /sys/bus/*/devices/ path): a Manager buffer bound to it, so
               physical_address is that device's DMA address.
    alignment  of the DMA address (a power of two).
    cacheable  False: an uncached CPU mapping (O_SYNC), or UdmabufError when the backend
               cannot give one; on a DMA-coherent device a cached mapping needs no sync
               and is accepted.
    Any other keyword is a TypeError (PYNQ keywords this package does not implement are
    refused rather than ignored)."""
    if kwargs:
        raise TypeError("allocate() got unsupported keyword(s) %s" % ", ".join(sorted(kwargs)))
    dtype = check_dtype(dtype)
    shape = shape_of(shape)
    _check_alignment(alignment)
    if target is None:
        backend = get_backend()
    elif hasattr(target, "alloc"):
        backend = target
    elif isinstance(target, str):
        backend = Manager(device=target)
    else:
        raise TypeError("allocate(target=%r): a target is a Manager, a Pool (anything with "
                        ".alloc()) or a device name/path string" % (target,))
    nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if nbytes <= 0:
        raise SizeError("cannot allocate %d bytes (shape %r)" % (nbytes, shape))
    return _make_array(backend.alloc(nbytes, alignment, cacheable), shape, dtype)
