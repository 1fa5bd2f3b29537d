"""Imported first by the server batch workers are forked from (workers.py): from here on that
server ignores Ctrl-C, which is the batch's to handle. Python's forkserver ignores it only
once its imports (WeasyPrint: about a second) are done; a Ctrl-C before printed a traceback.
Importing this module anywhere else has the same effect: do not."""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
