# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# Out-of-tree build of u-dma-buf.ko.
#
#   make                                  build for the running kernel
#   make KERNEL_SRC=/path/to/headers      build for another kernel
#   make ARCH=arm64                       cross build (picks aarch64-linux-gnu-)
#   make install                          module, then the ioctl header (and tools/udmabuf if built)
#   make tools                            the command-line tool tools/udmabuf
#   make clean | test | demo | bench
#
# The kernel build itself reads Kbuild in this directory.

HOST_ARCH      := $(shell uname -m | sed -e 's/arm.*/arm/' -e 's/aarch64.*/arm64/' -e 's/x86_64/x86/')
ARCH           ?= $(HOST_ARCH)
KERNEL_SRC_DIR ?= /lib/modules/$(shell uname -r)/build
KERNEL_SRC     ?= $(KERNEL_SRC_DIR)

ifneq ($(ARCH),$(HOST_ARCH))
  ifeq ($(ARCH),arm)
    CROSS_COMPILE ?= arm-linux-gnueabihf-
  endif
  ifeq ($(ARCH),arm64)
    CROSS_COMPILE ?= aarch64-linux-gnu-
  endif
endif

KBUILD_ARGS := -C $(KERNEL_SRC) M=$(CURDIR) ARCH=$(ARCH) $(if $(CROSS_COMPILE),CROSS_COMPILE=$(CROSS_COMPILE))

.PHONY: all modules install modules_install headers_install tools tools_install clean test demo bench

all: modules

modules:
	$(MAKE) $(KBUILD_ARGS) modules

# The ioctl header for user programs goes to $(INSTALL_HDR_PATH)/linux/.
INSTALL_HDR_PATH ?= $(DESTDIR)/usr/include

install: modules_install headers_install tools_install

# The command-line tool (user space, built with the host's or CROSS_COMPILE's cc).
CC_TOOLS ?= $(CROSS_COMPILE)gcc
tools: tools/udmabuf

tools/udmabuf: tools/udmabuf.c u-dma-buf-ioctl.h
	$(CC_TOOLS) -O2 -Wall -Wextra $(CFLAGS) $(LDFLAGS) -o $@ tools/udmabuf.c

# Installed only if `make tools` built it, so the module build needs no user-space cc.
tools_install:
	if [ -e tools/udmabuf ]; then install -D -m 0755 tools/udmabuf $(DESTDIR)/usr/bin/udmabuf; fi

headers_install:
	install -D -m 0644 u-dma-buf-ioctl.h $(INSTALL_HDR_PATH)/linux/u-dma-buf-ioctl.h

# Kbuild installs into /lib/modules/<release>/extra (6.1; updates/ from 6.5 on) and skips
# depmod when it finds no System.map (Debian's headers have none): run it here, so that
# modprobe and device-tree autoloading find the module at once.  Not for a DESTDIR or
# INSTALL_MOD_PATH staging install.
KERNELRELEASE_OF_SRC = $(shell $(MAKE) -s -C $(KERNEL_SRC) kernelrelease 2>/dev/null)
modules_install: modules
	$(MAKE) $(KBUILD_ARGS) modules_install
	if [ -z "$(DESTDIR)$(INSTALL_MOD_PATH)" ] && command -v depmod >/dev/null; then \
		depmod -a $(KERNELRELEASE_OF_SRC); fi

clean:
	$(MAKE) $(KBUILD_ARGS) clean
	rm -f tools/udmabuf

# Boots real kernels in QEMU and runs every test (see tests/README.md).
test:
	tests/run

# Boots one guest and shows a buffer at work, no hardware needed.
demo:
	tests/demo

# Boots the arm64 and amd64 6.12 guests and runs `udmabuf bench` there beside the kernel's
# own buffers; results in bench/results/ (see bench/run).
bench:
	bench/run
