# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""PYNQ-style allocate(): NumPy arrays in DMA memory that know their device address.

Two backends:
  Manager()  one new buffer per allocation through /dev/u-dma-buf-mgr (root);
  Pool(name) sub-allocation from one large pre-created buffer (no root needed).
"""

import ctypes
import itertools
import os
import threading
import weakref

import numpy as np

from .buffer import (BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE, Buffer, SizeError,
                     OutOfDmaMemory, UdmabufError, create, delete)


class Allocation:
    """One allocated range: `buffer` (a Buffer), `offset`, `nbytes`; freed once."""

    def __init__(self, backend, buffer, offset, nbytes):
        self.backend, self.buffer, self.offset, self.nbytes = backend, buffer, offset, nbytes
        self.freed = False
        self._finalizer = weakref.finalize(self, backend._free, buffer, offset, nbytes)

    def free(self):
        if not self.freed:
            self.freed = True
            self._finalizer()


class DmaArray(np.ndarray):
    """An ndarray in DMA memory. Views and slices keep their own device address, and
    their flush()/invalidate() sync only the bytes they cover."""

    def __array_finalize__(self, obj):
        # A view keeps the allocation; a copy (memory elsewhere) does not.
        a = getattr(obj, "_alloc", None)
        if a is not None and not a.freed and self.size:
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
        return a

    def _byte_range(self):
        """(offset in the u-dma-buf buffer, size) of the bytes this view covers."""
        a = self._alloc_or_raise()
        if self.size == 0:
            return a.offset, 0
        low, high = np.byte_bounds(self)
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
    def buffer_offset(self):
        """Byte offset of this view's first element in the u-dma-buf buffer."""
        a = self._alloc_or_raise()
        return self.__array_interface__["data"][0] - a.buffer.address

    @property
    def udmabuf(self):
        return self._alloc_or_raise().buffer

    def _sync(self, for_device, direction):
        a = self._alloc_or_raise()
        off, size = self._byte_range()
        if size == 0:
            return
        if a.buffer.interface == "sysfs":
            # The encoded command needs 16-byte multiples: widen to whole 16-byte units
            # (inside one cache line, so no other data is affected).
            end = min(-(-(off + size) // 16) * 16, a.buffer.size)
            off -= off % 16
            size = end - off
            if size % 16:
                raise SizeError("sync of the buffer's last %d bytes cannot be encoded" % size)
        a.buffer._sync(for_device, off, size, direction)

    def flush(self, direction=BIDIRECTIONAL):
        """Write this view's bytes back for the device (sync_for_device)."""
        self._sync(True, direction)

    def invalidate(self, direction=BIDIRECTIONAL):
        """Make the device's writes visible to the CPU (sync_for_cpu)."""
        self._sync(False, direction)

    def sync_to_device(self):
        self.flush(TO_DEVICE)

    def sync_from_device(self):
        self.invalidate(FROM_DEVICE)

    def freebuffer(self):
        """Return the memory (every view of it becomes invalid)."""
        self._alloc_or_raise().free()

    close = freebuffer

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        a = getattr(self, "_alloc", None)
        if a is not None:
            a.free()

    def __array_wrap__(self, obj, context=None, return_scalar=False):
        # Results of ufuncs are new memory: plain ndarrays, not DMA arrays.
        if obj.shape == ():
            return obj[()]
        return np.asarray(obj)


def _make_array(alloc, shape, dtype):
    raw = (ctypes.c_char * alloc.nbytes).from_address(alloc.buffer.address + alloc.offset)
    arr = np.ndarray(shape, dtype, buffer=raw).view(DmaArray)
    arr._alloc = alloc
    return arr


class Manager:
    """One buffer per allocation, created and deleted through the manager (root)."""

    _seq = itertools.count()

    def __init__(self, prefix=None, dma_mask=None, quirk_mmap=None, interface="ioctl"):
        self.prefix = prefix or "pyudb%d_" % os.getpid()
        self.dma_mask, self.quirk_mmap, self.interface = dma_mask, quirk_mmap, interface

    def alloc(self, nbytes, alignment=None):
        name = "%s%d" % (self.prefix, next(self._seq))
        create(name, nbytes, dma_mask=self.dma_mask, quirk_mmap=self.quirk_mmap)
        try:
            buf = Buffer(name, interface=self.interface)
        except BaseException:
            delete(name)
            raise
        if alignment and buf.dma_addr % alignment:
            buf.close()
            delete(name)
            raise SizeError("buffer %s at 0x%x is not aligned to %d" % (name, buf.dma_addr, alignment))
        return Allocation(self, buf, 0, nbytes)

    @staticmethod
    def _free(buf, offset, nbytes):
        buf.unmap()
        buf.close()
        delete(buf.name)


class Pool:
    """Sub-allocates from one existing buffer (first fit, coalescing free list).
    `alignment` applies to the DMA address; sizes are rounded up to it."""

    def __init__(self, name, alignment=64, interface="ioctl"):
        if alignment <= 0 or alignment & (alignment - 1):
            raise SizeError("alignment must be a power of two, got %d" % alignment)
        self.buffer = Buffer(name, interface=interface)
        self.alignment = alignment
        self._free_list = [(0, self.buffer.size)]  # sorted (offset, size)
        self._lock = threading.Lock()

    @property
    def free_bytes(self):
        return sum(s for _, s in self._free_list)

    @property
    def largest_free(self):
        return max((s for _, s in self._free_list), default=0)

    @property
    def free_ranges(self):
        return list(self._free_list)

    def alloc(self, nbytes, alignment=None):
        align = max(alignment or 1, self.alignment)
        if align & (align - 1):
            raise SizeError("alignment must be a power of two, got %d" % align)
        size = -(-nbytes // self.alignment) * self.alignment
        base = self.buffer.dma_addr
        with self._lock:
            for i, (off, sz) in enumerate(self._free_list):
                start = -(-(base + off) // align) * align - base
                if start + size <= off + sz:
                    pieces = []
                    if start > off:
                        pieces.append((off, start - off))
                    if off + sz > start + size:
                        pieces.append((start + size, off + sz - start - size))
                    self._free_list[i:i + 1] = pieces
                    return Allocation(self, self.buffer, start, size)
            raise OutOfDmaMemory(
                "pool %s: no free range of %d bytes aligned to %d (free %d bytes in %d "
                "pieces, largest %d%s)" % (
                    self.buffer.name, size, align, self.free_bytes, len(self._free_list),
                    self.largest_free,
                    ": fragmented" if self.free_bytes >= size else ""))

    def _free(self, buf, offset, nbytes):
        with self._lock:
            fl = self._free_list
            fl.append((offset, nbytes))
            fl.sort()
            merged = []
            for off, sz in fl:
                if merged and merged[-1][0] + merged[-1][1] == off:
                    merged[-1] = (merged[-1][0], merged[-1][1] + sz)
                else:
                    merged.append((off, sz))
            self._free_list[:] = merged

    def close(self):
        self.buffer.close()


_backend = None


def set_backend(backend):
    """The backend allocate() uses when none is given (a Manager or a Pool)."""
    global _backend
    _backend = backend
    return backend


def get_backend():
    global _backend
    if _backend is None:
        pool = os.environ.get("UDMABUF_POOL")
        _backend = Pool(pool) if pool else Manager()
    return _backend


def allocate(shape, dtype="u4", target=None, alignment=None, **kwargs):
    """A DmaArray of `shape` and `dtype` in DMA memory (PYNQ's allocate()).

    target: a backend (Manager() or Pool(name)); default set_backend()'s, else
    Pool($UDMABUF_POOL) when that is set, else Manager()."""
    backend = target or get_backend()
    dtype = np.dtype(dtype)
    if isinstance(shape, int):
        shape = (shape,)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if nbytes <= 0:
        raise SizeError("cannot allocate %d bytes (shape %r)" % (nbytes, shape))
    return _make_array(backend.alloc(nbytes, alignment), shape, dtype)
