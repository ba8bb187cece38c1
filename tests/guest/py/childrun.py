# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""A test step in a forked child, for the Python tests (test_userspace.py,
test_standin.py): a crash (signal) or a hang (alarm) of the step is a result to
check, not the end of the test run."""
import os
import signal
import sys
import traceback


def in_child(fn, timeout=120):
    """Runs fn() in a forked child; returns (exit status or None, signal or None, output).
    A crash or a hang of fn is a result, not the end of this process."""
    r, w = os.pipe()
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.dup2(w, 1)
        os.dup2(w, 2)
        signal.alarm(timeout)
        try:
            st = fn()
        except BaseException:  # noqa: BLE001
            traceback.print_exc()
            st = 98
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(st if isinstance(st, int) else 0)
    os.close(w)
    out = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        out += chunk
    os.close(r)
    st = os.waitpid(pid, 0)[1]
    text = out.decode(errors="replace")
    if os.WIFSIGNALED(st):
        return None, os.WTERMSIG(st), text
    return os.WEXITSTATUS(st), None, text
