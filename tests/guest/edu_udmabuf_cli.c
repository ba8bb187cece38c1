// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The tools/ program, built for the guests (one copy: tools/udmabuf.c). */
#include "../../tools/udmabuf.c"
