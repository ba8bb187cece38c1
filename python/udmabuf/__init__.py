# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""udmabuf: user-space access to u-dma-buf DMA buffers (pure Python + NumPy).

    buf = udmabuf.Buffer("udmabuf0")          # open /dev/udmabuf0, mapped
    a = buf.array(np.uint8, 4096, offset=0)   # NumPy view on the mapping
    buf.sync_for_device(0, 4096, udmabuf.TO_DEVICE); ... buf.dma_addr ...
    x = udmabuf.allocate((1024,), np.uint32)  # PYNQ style, x.physical_address
"""

from .buffer import (BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE, Buffer, UdmabufError,
                     NoSuchBuffer, PermissionDenied, SizeError, AlignmentError,
                     OutOfDmaMemory, BufferExists, BufferBusy, BadName, create, delete, names,
                     encode_sync, encoded_ranges, check_name)
from .allocate import (DmaArray, Manager, Pool, allocate, set_backend, get_backend,
                       byte_bounds, byte_runs)

__version__ = "0.1.0"
__all__ = ["BIDIRECTIONAL", "TO_DEVICE", "FROM_DEVICE", "Buffer", "UdmabufError",
           "NoSuchBuffer", "PermissionDenied", "SizeError", "AlignmentError",
           "OutOfDmaMemory", "BufferExists", "BufferBusy", "BadName", "create", "delete",
           "names", "encode_sync", "encoded_ranges", "check_name", "DmaArray", "Manager", "Pool", "allocate", "set_backend",
           "get_backend", "byte_bounds", "byte_runs"]
