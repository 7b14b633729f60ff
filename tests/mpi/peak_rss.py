#!/usr/bin/python3
"""Runs a command as a child and prints its peak resident set on stderr,
"peak RSS <KiB> KiB", then exits with the child's status. Under mpirun each
rank runs it around signcut-mpi: the child inherits the rank's environment,
so it is the MPI process, and wait4 gives its own peak alone.

usage: peak_rss.py COMMAND [ARG...]
"""
import os
import sys

pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"peak RSS {usage.ru_maxrss} KiB\n")
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
