# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""What the Python tests (test_userspace.py, test_standin.py) share: TAP output,
and a test step in a forked child, where a crash (signal) or a hang (alarm) of
the step is a result to check, not the end of the test run."""
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


class Tap:
    """TAP lines "ok - <prefix><what>", "not ok - ..." with "# " diagnostics; counts
    the failures."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.failures = 0

    def ok(self, what):
        print("ok - %s%s" % (self.prefix, what), flush=True)

    def not_ok(self, what, *diag):
        self.failures += 1
        print("not ok - %s%s" % (self.prefix, what))
        for d in diag:
            for line in str(d).splitlines() or [""]:
                print("# " + line)
        sys.stdout.flush()

    def check(self, what, expected, got):
        if expected == got:
            self.ok(what)
        else:
            self.not_ok(what, "expected %r got %r" % (expected, got))

    def raises(self, what, exc, fn, *args, **kw):
        """fn(*args) raises exc; the message is shown as a diagnostic."""
        try:
            fn(*args, **kw)
        except exc as e:
            self.ok("%s -> %s" % (what, type(e).__name__))
            print("#   message: %s" % e)
            return e
        except Exception as e:  # noqa: BLE001
            self.not_ok(what, "expected %s got %s: %s" % (exc.__name__, type(e).__name__, e))
            return None
        self.not_ok(what, "expected %s got no exception" % exc.__name__)
        return None
