// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The examples/ program, built for the guests (one copy: examples/edu_loopback.c). */
#include "../../examples/edu_loopback.c"
