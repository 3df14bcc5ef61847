"""Runs pproxy (its command line is ours) and exits when stdin closes, so
a proxy never outlives the test process that started it."""

import os
import sys
import threading


def exit_at_eof():
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_at_eof, daemon=True).start()

from pproxy.server import main  # noqa: E402

sys.argv = ["pproxy"] + sys.argv[1:]
main()
