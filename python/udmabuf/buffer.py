# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""One u-dma-buf buffer: mapping, DMA address, cache sync (ioctl or sysfs)."""

import atexit
import contextlib
import ctypes
import errno
import fcntl
import mmap
import operator
import os
import struct
import threading
import time
import weakref

import numpy as np

BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE = 0, 1, 2
DEV_DIR = "/dev"
SYSFS_DIR = "/sys/class/u-dma-buf"
MANAGER = "/dev/u-dma-buf-mgr"
PAGE = mmap.PAGESIZE


class UdmabufError(Exception):
    """Base of every error this package raises; `errno` is set when the kernel said no."""

    def __init__(self, msg, err=None):
        super().__init__(msg)
        self.errno = err


class NoSuchBuffer(UdmabufError, FileNotFoundError):
    """No /dev/<name> (module not loaded, or no buffer of that name)."""


class PermissionDenied(UdmabufError, PermissionError):
    """The node, the sysfs file or the manager is not accessible to this user."""


class SizeError(UdmabufError, ValueError):
    """A size, offset or range does not fit the buffer."""


class AlignmentError(UdmabufError, ValueError):
    """A sync range the chosen interface cannot express (sysfs: size a multiple of 16)."""


class OutOfDmaMemory(UdmabufError, MemoryError):
    """The kernel or the pool has no contiguous memory of that size left."""


class BufferExists(UdmabufError, FileExistsError):
    """The manager already has a buffer of that name."""


class BufferBusy(UdmabufError):
    """The buffer is open or mapped and cannot be deleted."""


class BadName(UdmabufError, ValueError):
    """A buffer or device name the manager cannot carry (whitespace, ';', '!', '/', ...)."""


def oserror(e, what):
    """Turns an OSError into the matching UdmabufError, keeping the cause."""
    table = {
        errno.ENOENT: NoSuchBuffer, errno.ENODEV: NoSuchBuffer, errno.ENXIO: NoSuchBuffer,
        errno.EACCES: PermissionDenied, errno.EPERM: PermissionDenied,
        errno.ENOMEM: OutOfDmaMemory, errno.ENOSPC: OutOfDmaMemory,
        errno.EEXIST: BufferExists, errno.EBUSY: BufferBusy,
        errno.EINVAL: SizeError, errno.ERANGE: SizeError,
    }
    cls = table.get(e.errno, UdmabufError)
    return cls("%s: %s" % (what, os.strerror(e.errno) if e.errno else e), e.errno)


# ---- ioctl ABI of u-dma-buf-ioctl.h (asm-generic numbering: x86, arm, arm64, riscv) ----
def _ioc(direction, nr, size):
    return (direction << 30) | (size << 16) | (ord("U") << 8) | nr


_R, _W = 2, 1
IOCTL_GET_DRV_INFO = _ioc(_R, 1, 24)
IOCTL_GET_SIZE = _ioc(_R, 2, 8)
IOCTL_GET_DMA_ADDR = _ioc(_R, 3, 8)
IOCTL_GET_SYNC_OWNER = _ioc(_R, 4, 4)
IOCTL_SET_SYNC_FOR_CPU = _ioc(_W, 5, 8)
IOCTL_SET_SYNC_FOR_DEVICE = _ioc(_W, 6, 8)
IOCTL_GET_DEV_INFO = _ioc(_R, 7, 24)
IOCTL_GET_SYNC = _ioc(_R, 8, 24)
IOCTL_SET_SYNC = _ioc(_W, 9, 24)
_SYNC_ARGS = struct.Struct("=QQQ")  # flags, size, offset
SYNC_CMD_FOR_CPU, SYNC_CMD_FOR_DEVICE = 1, 3


ENC_LIMIT = 1 << 32  # the encoded command's offset and size fields are 32 bits: 4 GiB


def _index(v, what):
    """An integer argument as a Python int (NumPy integers included: their own arithmetic
    would overflow or turn into float); anything else is a TypeError."""
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError("%s must be an integer, got %r" % (what, v)) from None


def _direction(direction):
    direction = _index(direction, "direction")
    if direction not in (BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE):
        raise ValueError("direction must be BIDIRECTIONAL (0), TO_DEVICE (1) or FROM_DEVICE "
                         "(2), got %r" % (direction,))
    return direction


def encode_sync(offset, size, direction):
    """The encoded one-off sync command of sysfs sync_for_* and ioctls 5/6 (INTERFACE §5.2).

    A one-off command syncs [offset, offset + size) and leaves the buffer's stored
    sync_offset/sync_size/sync_direction untouched; size must be a multiple of 16, offset
    and size below 4 GiB (the command's fields are 32 bits)."""
    offset, size = _index(offset, "offset"), _index(size, "size")
    direction = _direction(direction)
    if offset < 0 or size < 0:
        raise SizeError("sync range offset=%d size=%d is negative" % (offset, size))
    if size % 16:
        raise AlignmentError("sync size %d is not a multiple of 16 (the encoded sync command "
                             "cannot express it; use the ioctl interface)" % size)
    if offset >= ENC_LIMIT or size >= ENC_LIMIT:
        raise SizeError("sync range offset=0x%x size=0x%x: the encoded one-off sync command "
                        "cannot express an offset or size of 4 GiB or more (32-bit fields, "
                        "INTERFACE §5.2)" % (offset, size))
    if size == 0:
        raise SizeError("an encoded sync of 0 bytes would mean 'the stored range'")
    return (offset << 32) | size | (direction << 2) | 1


_ENC_MAX = 0xFFFFFFF0  # the largest size one encoded command can carry


def encoded_ranges(offset, size, bufsize):
    """One-off sync ranges (each a non-zero multiple of 16 inside [0, bufsize)) that cover
    [offset, offset + size): the exact range when its size is a multiple of 16, else widened
    by less than 16 bytes (less than a cache line) inside the buffer, split where needed.
    SizeError when a range would start at 4 GiB or beyond (the command cannot say so)."""
    offset, size = _index(offset, "offset"), _index(size, "size")
    bufsize = _index(bufsize, "bufsize")
    if offset < 0:
        raise SizeError("sync offset %d is negative" % offset)
    if size <= 0:
        return []
    end = offset + size
    out = []
    while end - offset > _ENC_MAX:  # more than one command can carry
        out.append((offset, _ENC_MAX))
        offset += _ENC_MAX
    n = -(-(end - offset) // 16) * 16
    if n <= bufsize:
        out.append((max(0, min(offset, bufsize - n)), n))
    elif bufsize >= 16:  # the whole of a buffer whose size is not a multiple of 16
        if end - offset >= 16:
            out.append((offset, (end - offset) // 16 * 16))
        out.append((min(max(0, end - 16), bufsize - 16), 16))
    else:
        raise AlignmentError("a buffer of %d bytes is too small for the encoded sync command "
                             "(16 bytes at least)" % bufsize)
    for o, _ in out:
        if o >= ENC_LIMIT:
            raise SizeError("sync offset 0x%x: the encoded one-off sync command cannot express "
                            "an offset of 4 GiB or more (32-bit field, INTERFACE §5.2); this "
                            "package does not fall back to SET_SYNC, which changes the "
                            "buffer's shared sync range" % o)
    return out


_VALID_NAME_BAD = set(" \t\n\r\v\f;!/\0")


def check_name(name):
    """Refuses a name the manager or the device node cannot carry: empty, '.', '..',
    64 bytes or more, whitespace, control characters, ';', '!' or '/'."""
    if not isinstance(name, str):
        raise TypeError("a buffer name is a str, got %r" % (name,))
    raw = name.encode("utf-8", "surrogateescape")
    if (not name or name in (".", "..", "u-dma-buf-mgr") or len(raw) >= 64
            or any(c in _VALID_NAME_BAD or ord(c) < 32 or ord(c) == 127 for c in name)):
        raise BadName("bad u-dma-buf buffer name %r (1..63 bytes; no whitespace, control "
                         "characters, ';', '!' or '/'; not '.', '..' or u-dma-buf-mgr)"
                         % (name,))
    return name


def check_dtype(dtype):
    """A dtype that can live in DMA memory: no Python objects (NumPy would read pointers
    the device wrote)."""
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise TypeError("dtype %s holds Python objects: it cannot live in DMA memory" % dtype)
    return dtype


def shape_of(shape):
    """A shape as a tuple of Python ints (NumPy integers accepted)."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(_index(n, "a dimension") for n in shape)
    if any(n < 0 for n in shape):
        raise SizeError("negative dimension in shape %r" % (shape,))
    return shape


def typed(raw, shape, dtype):
    """An array of `shape` and `dtype` over the bytes of the uint8 array `raw`, which stays
    its base (any dtype: aligned, out-of-order or subarray fields are not rebuilt from
    descr)."""
    return np.ndarray(shape, dtype, buffer=raw)


class _Mapped:
    """An array's base: its memory as raw bytes, described to NumPy, and an export of the
    mapping."""

    def __init__(self, mm, address, nbytes):
        self.export = memoryview(mm)
        self.__array_interface__ = {"data": (address, False), "shape": (nbytes,),
                                    "typestr": "|u1", "version": 3}


class Buffer:
    """An open u-dma-buf buffer, mapped.

    name      the buffer's name (/dev/<name>, /sys/class/u-dma-buf/<name>)
    o_sync    open with O_SYNC (uncached CPU mapping as sync_mode says)
    interface "ioctl" (default; falls back to sysfs on an old driver) or "sysfs"
    """

    def __init__(self, name, o_sync=False, interface="ioctl"):
        if interface not in ("ioctl", "sysfs"):
            raise ValueError("interface must be 'ioctl' or 'sysfs'")
        self.name = name
        self.path = os.path.join(DEV_DIR, name)
        self.sysfs = os.path.join(SYSFS_DIR, name)
        self.o_sync = bool(o_sync)
        self._fd = -1
        self._mm = None
        self._owned = []  # [fd, mmap] while open; close() pops them (atomic: one closer)
        try:
            self._fd = os.open(self.path, os.O_RDWR | (os.O_SYNC if o_sync else 0))
        except OSError as e:
            if e.errno == errno.ENOENT:
                raise NoSuchBuffer("no u-dma-buf buffer %r (%s does not exist; is the module "
                                   "loaded and the buffer created?)" % (name, self.path),
                                   e.errno) from None
            raise oserror(e, "open %s" % self.path) from None
        self._owned.append(self._fd)
        try:
            self._setup(interface)
        except BaseException:
            self.close()  # no fd or mapping survives a failed construction
            raise

    def _setup(self, interface):
        self.interface = interface
        self.flags = None
        if interface == "ioctl":
            try:
                buf = fcntl.ioctl(self._fd, IOCTL_GET_DEV_INFO, bytes(24))
                self.flags, self.size, self.dma_addr = struct.unpack("=QQQ", buf)
            except OSError as e:
                if e.errno not in (errno.ENOTTY, errno.EINVAL):
                    raise oserror(e, "ioctl GET_DEV_INFO on %s" % self.path) from None
                self.interface = "sysfs"  # an old driver without ioctls
        if self.interface == "sysfs":
            self.size = int(self.attr("size"), 0)
            self.dma_addr = int(self.attr("phys_addr"), 0)
        self.alloc_size = (self.size + PAGE - 1) // PAGE * PAGE
        try:
            self._mm = mmap.mmap(self._fd, self.alloc_size, mmap.MAP_SHARED,
                                 mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as e:
            raise oserror(e, "mmap %s" % self.path) from None
        self._owned.append(self._mm)
        _LIVE.add(self)
        probe = ctypes.c_char.from_buffer(self._mm)
        self.address = ctypes.addressof(probe)  # CPU address of the mapping
        del probe

    # -- properties --
    phys_addr = property(lambda self: self.dma_addr)
    virtual_address = property(lambda self: self.address)
    coherent = property(lambda self: bool(int(self.attr("dma_coherent"))))
    mmap_mode = property(lambda self: int(self.attr("quirk_mmap_mode")))
    sync_mode = property(lambda self: int(self.attr("sync_mode")))

    @property
    def cacheable(self):
        """False when this open file's CPU mapping is uncached (O_SYNC, or sync_mode's
        'always' bit, with a non-cached flavour; INTERFACE §5.1). On x86 the kernel keeps RAM
        mappings write-back whatever is asked, and DMA there is cache-coherent."""
        mode = self.sync_mode
        if not (self.o_sync or mode & 4) or not mode & 3:
            return True
        return os.uname().machine in ("x86_64", "i386", "i686")

    @property
    def sync_state(self):
        """(offset, size, direction, owner) as the buffer stores them."""
        if self.interface == "ioctl":
            self._need_open()
            flags, size, offset = _SYNC_ARGS.unpack(
                fcntl.ioctl(self._fd, IOCTL_GET_SYNC, bytes(24)))
            return offset, size, (flags >> 2) & 3, (flags >> 16) & 1
        return (int(self.attr("sync_offset"), 0), int(self.attr("sync_size")),
                int(self.attr("sync_direction")), int(self.attr("sync_owner")))

    def attr(self, name):
        """One sysfs attribute, as text without the newline."""
        path = os.path.join(self.sysfs, name)
        try:
            with open(path) as f:
                return f.read().strip()
        except OSError as e:
            raise oserror(e, "read %s" % path) from None

    def set_attr(self, name, value):
        path = os.path.join(self.sysfs, name)
        try:
            with open(path, "w") as f:
                f.write(str(value))
        except OSError as e:
            raise oserror(e, "write %r to %s" % (value, path)) from None

    # -- data --
    def array(self, dtype=np.uint8, shape=None, offset=0):
        """A NumPy array on the mapping at byte `offset` (shape None: to the end)."""
        self._need_open()
        dtype = check_dtype(dtype)
        offset = _index(offset, "offset")
        if shape is None:
            shape = ((self.size - offset) // dtype.itemsize,)
        shape = shape_of(shape)
        nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if offset < 0 or offset + nbytes > self.size:
            raise SizeError("array of %d bytes at offset %d does not fit buffer %s (%d bytes)"
                            % (nbytes, offset, self.name, self.size))
        # The array's base holds an export of the mmap for as long as the array or any view
        # of it lives: mmap.close() refuses (BufferError) meanwhile, so close() never unmaps
        # under an array. (NumPy keeps no export of a buffer= object, not even of a
        # memoryview, which it unwraps.)
        mm = self._mm
        if mm is None:
            raise UdmabufError("buffer %s is closed" % self.name)
        return typed(np.asarray(_Mapped(mm, self.address + offset, nbytes)), shape, dtype)

    def _need_open(self):
        if self._fd < 0:
            raise UdmabufError("buffer %s is closed" % self.name)

    # -- cache --
    def _check_range(self, offset, size):
        offset = _index(offset, "offset")
        if size is None:
            size = self.size - offset
        size = _index(size, "size")
        if offset < 0 or size < 0 or offset + size > self.size:
            raise SizeError("sync range offset=%d size=%d is outside buffer %s (%d bytes)"
                            % (offset, size, self.name, self.size))
        return offset, size

    def _sync(self, for_device, offset, size, direction):
        """A one-off sync of [offset, offset + size): the encoded command through ioctl
        SET_SYNC_FOR_CPU/DEVICE or sysfs, so the buffer's stored sync range is untouched."""
        offset, size = self._check_range(offset, size)
        direction = _direction(direction)
        self._need_open()
        for off, n in encoded_ranges(offset, size, self.size):
            self._sync_cmd(for_device, encode_sync(off, n, direction))

    def _sync_cmd(self, for_device, cmd):
        """Hands one encoded command to the kernel (the one place that does)."""
        what = "sync_for_device" if for_device else "sync_for_cpu"
        if self.interface == "ioctl":
            try:
                fcntl.ioctl(self._fd, IOCTL_SET_SYNC_FOR_DEVICE if for_device
                            else IOCTL_SET_SYNC_FOR_CPU, struct.pack("=Q", cmd))
            except OSError as e:
                raise oserror(e, "%s(0x%016x) on %s" % (what, cmd, self.name)) from None
        else:
            self.set_attr(what, "0x%016X" % cmd)

    def set_sync_area(self, offset=0, size=None, direction=BIDIRECTIONAL):
        """Stores offset/size/direction as the buffer's sync range (what `echo 1 >
        sync_for_cpu` uses), shared with every other user of the buffer. Syncs nothing."""
        offset, size = self._check_range(offset, size)
        direction = _direction(direction)
        self._need_open()
        if self.interface == "ioctl":
            try:
                fcntl.ioctl(self._fd, IOCTL_SET_SYNC,
                            _SYNC_ARGS.pack(direction << 2, size or self.size, offset))
            except OSError as e:
                raise oserror(e, "SET_SYNC on %s" % self.name) from None
        else:
            self.set_attr("sync_offset", offset)
            self.set_attr("sync_size", size)
            self.set_attr("sync_direction", direction)

    def sync_for_cpu(self, offset=0, size=None, direction=BIDIRECTIONAL):
        """Before the CPU reads what the device wrote (invalidate)."""
        self._sync(False, offset, size, direction)

    def sync_for_device(self, offset=0, size=None, direction=BIDIRECTIONAL):
        """Before the device reads what the CPU wrote (write back)."""
        self._sync(True, offset, size, direction)

    @contextlib.contextmanager
    def cpu_access(self, offset=0, size=None, direction=BIDIRECTIONAL):
        """with buf.cpu_access(off, n): sync_for_cpu on entry, sync_for_device on exit."""
        self.sync_for_cpu(offset, size, direction)
        try:
            yield self
        finally:
            self.sync_for_device(offset, size, direction)

    # -- lifetime --
    def close(self):
        """Closes the node and unmaps; arrays that still use the mapping keep it (it goes
        with the last of them), so closing never pulls memory from under a live array."""
        # Several threads (or a gc release racing an explicit close) may get here at once:
        # list.pop() hands each resource to exactly one of them, so nothing is closed twice
        # (a second os.close() could hit a descriptor number reused meanwhile).
        self._fd = -1
        self._mm = None
        while True:
            try:
                res = self._owned.pop()
            except (IndexError, AttributeError):
                return
            if isinstance(res, int):
                os.close(res)
            elif not _EXITING:  # at exit nothing is unmapped (see _at_exit)
                try:
                    res.close()
                except BufferError:
                    pass  # arrays still use it: it goes when they go

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 (interpreter shutdown)
            pass

    def unmap(self):
        """Unmaps now; BufferBusy while arrays still use the mapping."""
        mm = self._mm
        if mm is not None:
            try:
                mm.close()
            except BufferError:
                raise BufferBusy("buffer %s: arrays still use the mapping" % self.name,
                                 errno.EBUSY) from None
            self._mm = None

    closed = property(lambda self: self._fd < 0)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<udmabuf.Buffer %s size=%d dma_addr=0x%x via %s>" % (
            self.name, self.size, self.dma_addr, self.interface)


# ---- interpreter exit ----
# At exit nothing is unmapped: a daemon thread (NumPy releases the GIL in its loops) or an
# atexit handler registered before this package may still use an array. The mappings of
# every Buffer still open are pinned (never deallocated, so never unmapped: the kernel
# unmaps them when the process ends), and Buffer.close() then leaves mappings alone.
_LIVE = weakref.WeakSet()
_EXITING = False
_exit_lock = threading.Lock()


def _at_exit():
    global _EXITING
    with _exit_lock:
        if _EXITING:
            return
        _EXITING = True
    for buf in list(_LIVE):
        for res in list(getattr(buf, "_owned", ())):
            if isinstance(res, mmap.mmap):
                ctypes.pythonapi.Py_IncRef(ctypes.py_object(res))


atexit.register(_at_exit)


# ---- the manager ----
def _manager(cmd, what):
    if any(c in cmd for c in ";\n\0"):
        raise BadName("%s: a manager command cannot contain ';', newline or NUL" % what)
    try:
        fd = os.open(MANAGER, os.O_WRONLY)
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise NoSuchBuffer("%s: %s does not exist (is u-dma-buf loaded?)" % (what, MANAGER),
                               e.errno) from None
        if e.errno in (errno.EACCES, errno.EPERM):
            raise PermissionDenied("%s: %s is root only; without root use a Pool on a "
                                   "pre-created buffer" % (what, MANAGER), e.errno) from None
        raise oserror(e, what) from None
    try:
        os.write(fd, (cmd + "\n").encode())
    except OSError as e:
        raise oserror(e, what) from None
    finally:
        os.close(fd)


def create(name, size, dma_mask=None, bus=None, device=None, quirk_mmap=None, wait=2.0):
    """Creates buffer `name` through /dev/u-dma-buf-mgr (root) and waits for /dev/<name>."""
    check_name(name)
    if isinstance(size, bool) or int(size) != size or int(size) <= 0:
        raise SizeError("buffer size must be an integer > 0, got %r" % (size,))
    cmd = "create %s %d" % (name, size)
    if bus:
        if bus not in ("pci", "amba", "platform"):
            raise ValueError("bus must be 'pci', 'amba' or 'platform', got %r" % (bus,))
        cmd += " bus=%s" % bus
    if device:
        check_name(device)
        cmd += " device=%s" % device
    if dma_mask:
        cmd += " dma-mask=%d" % int(dma_mask)
    if quirk_mmap:
        if quirk_mmap not in ("on", "off", "auto", "page"):
            raise ValueError("quirk_mmap must be 'on', 'off', 'auto' or 'page'")
        cmd += " quirk-mmap-%s" % quirk_mmap
    _manager(cmd, "create %s (%d bytes)" % (name, size))
    end = time.monotonic() + wait
    while not os.path.exists(os.path.join(DEV_DIR, name)) and time.monotonic() < end:
        time.sleep(0.01)


def delete(name):
    """Deletes buffer `name` through the manager (BufferBusy while open or mapped)."""
    check_name(name)
    _manager("delete %s" % name, "delete %s" % name)


def names():
    """The names of the buffers that exist now."""
    try:
        return sorted(os.listdir(SYSFS_DIR))
    except FileNotFoundError:
        return []
