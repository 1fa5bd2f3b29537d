"""Imported by every Python process that has tests/clock on PYTHONPATH: see testclock.py."""

import testclock

testclock.start()
