// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The command-line tool, built for the bench guests as /t/bin/udmabuf (one copy: tools/udmabuf.c). */
#include "../../tools/udmabuf.c"
