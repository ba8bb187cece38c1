#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""edu_loopback.py: the DMA loopback of edu_loopback.c with NumPy and the udmabuf package.

QEMU's edu PCI device (1234:11e8, -device edu,dma_mask=0xffffffff) copies the first
half of a u-dma-buf buffer into its own RAM (device address 0x40000) and from there
into the second half. Cache rules: sync_for_device before the device reads or writes,
sync_for_cpu before the CPU reads what the device wrote.

usage: edu_loopback.py [--sysfs] [--no-bus-master] [--allocate] [--count N] BUFFER
  --sysfs          sync through sysfs (default: the ioctls)
  --no-bus-master  negative control: DMA is off, the data must NOT arrive
  --allocate       PYNQ style: two arrays from allocate() on a Pool of BUFFER
Exit status 0: data arrived; 1: mismatch; 2: setup error.
"""
import argparse
import mmap
import os
import sys
import time

import numpy as np

try:
    import udmabuf
except ImportError:  # running from the repository: use ../python
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
    import udmabuf


class SetupError(Exception):
    """Not a data mismatch: the device or the buffer could not be set up (exit 2)."""


class Edu:
    """Minimal driver for QEMU's edu device: BAR0 registers, DMA engine."""

    RAM = 0x40000  # the device's 4 KiB buffer, as the DMA engine addresses it

    def __init__(self, bus_master=True):
        for d in sorted(os.listdir("/sys/bus/pci/devices")):
            path = "/sys/bus/pci/devices/" + d
            with open(path + "/vendor") as v, open(path + "/device") as i:
                if (v.read().strip(), i.read().strip()) == ("0x1234", "0x11e8"):
                    break
        else:
            raise SetupError("no edu PCI device (1234:11e8)")
        # PCI command register (config offset 4): bit 1 memory, bit 2 bus master.
        self.cfg = os.open(path + "/config", os.O_RDWR)
        self.saved = os.pread(self.cfg, 2, 4)
        cmd = (int.from_bytes(self.saved, "little") | 2) & ~4 | (4 if bus_master else 0)
        os.pwrite(self.cfg, cmd.to_bytes(2, "little"), 4)
        fd = os.open(path + "/resource0", os.O_RDWR | os.O_SYNC)
        self.bar = mmap.mmap(fd, 4096)
        os.close(fd)
        self.regs = np.frombuffer(self.bar, np.uint64)  # 64-bit registers
        assert np.frombuffer(self.bar, np.uint32)[0] & 0xff == 0xed, "edu ID register"

    def dma(self, src, dst, count, to_ram):
        """One transfer (to_ram: device RAM -> host memory); waits until done."""
        self.regs[0x80 // 8], self.regs[0x88 // 8], self.regs[0x90 // 8] = src, dst, count
        self.regs[0x98 // 8] = 3 if to_ram else 1
        end = time.monotonic() + 10
        while int(self.regs[0x98 // 8]) & 1:
            if time.monotonic() > end:
                raise SetupError("DMA did not finish")
            time.sleep(0.001)

    def close(self):
        os.pwrite(self.cfg, self.saved, 4)  # leave the device as we found it
        os.close(self.cfg)


def loopback_buffer(edu, name, count, interface):
    """Two halves of one buffer, through the Buffer API."""
    with udmabuf.Buffer(name, interface=interface) as buf:
        half = buf.size // 2 // 16 * 16
        src = buf.array(np.uint8, count, offset=0)
        dst = buf.array(np.uint8, count, offset=half)
        src[:] = np.arange(count) * 7 + 3              # CPU writes the source
        dst[:] = 0x5A                                  # and poisons the destination
        buf.sync_for_device(0, count, udmabuf.TO_DEVICE)
        buf.sync_for_device(half, count, udmabuf.FROM_DEVICE)
        edu.dma(buf.dma_addr, Edu.RAM, count, to_ram=False)
        edu.dma(Edu.RAM, buf.dma_addr + half, count, to_ram=True)
        buf.sync_for_cpu(half, count, udmabuf.FROM_DEVICE)
        bad = int(np.count_nonzero(src != dst))
        addr = buf.dma_addr
        del src, dst
    return bad, addr


def loopback_allocate(edu, name, count, interface):
    """PYNQ style: two arrays from allocate() on a Pool of the buffer."""
    pool = udmabuf.Pool(name, interface=interface)
    with udmabuf.allocate(count, np.uint8, target=pool) as src, \
            udmabuf.allocate(count, np.uint8, target=pool) as dst:
        src[:] = np.arange(count) * 7 + 3
        dst[:] = 0x5A
        src.sync_to_device()
        dst.flush(udmabuf.FROM_DEVICE)
        edu.dma(src.physical_address, Edu.RAM, count, to_ram=False)
        edu.dma(Edu.RAM, dst.physical_address, count, to_ram=True)
        dst.sync_from_device()
        bad = int(np.count_nonzero(src != dst))
    del src, dst
    pool.close()
    return bad, pool.buffer.dma_addr


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("buffer")
    p.add_argument("--sysfs", action="store_true")
    p.add_argument("--no-bus-master", action="store_true")
    p.add_argument("--allocate", action="store_true")
    p.add_argument("--count", type=int, default=2048)
    a = p.parse_args()
    if not 0 < a.count <= 4080 or a.count % 16:  # QEMU 7.2 aborts on 4096
        p.error("--count must be a multiple of 16 in 16..4080")
    try:
        edu = Edu(bus_master=not a.no_bus_master)
    except (SetupError, OSError) as e:
        print("edu_loopback.py: %s" % e, file=sys.stderr)
        return 2
    try:
        run = loopback_allocate if a.allocate else loopback_buffer
        bad, addr = run(edu, a.buffer, a.count, "sysfs" if a.sysfs else "ioctl")
    except (udmabuf.UdmabufError, SetupError, OSError) as e:
        print("edu_loopback.py: %s" % e, file=sys.stderr)
        return 2
    finally:
        edu.close()
    print("edu_loopback.py: %s via %s%s, bus master %s, dma 0x%x, %d bytes: %s (%d differ)" % (
        a.buffer, "sysfs" if a.sysfs else "ioctl", " + allocate()" if a.allocate else "",
        "off" if a.no_bus_master else "on", addr, a.count,
        "MISMATCH" if bad else "data arrived", bad))
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:  # a setup error is 2, never the 1 of a data mismatch
        import traceback
        traceback.print_exc()
        sys.exit(2)
