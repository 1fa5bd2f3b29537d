"""Imported first by the server batch workers are forked from (workers.py): from here on that
server ignores Ctrl-C and SIGTERM, which are the batch's to handle. It ends when the batch
does (Python's forkserver watches its pipe), and it must outlive the batch's workers: it is
what tells the batch they ended. Killed first by a service manager's stop (which signals every
process), it left the batch taking live workers for dead. Python's forkserver ignores Ctrl-C
only once its imports (WeasyPrint: about a second) are done; a Ctrl-C before printed a
traceback. Importing this module anywhere else has the same effect: do not."""

import signal

signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
