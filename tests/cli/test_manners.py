#!/usr/bin/python3
"""End-to-end tests of the `signcut` binary. Manners: mistyped commands and options, help, usage lines, honest estimates.

usage: test_manners.py SIGNCUT_BINARY SOURCE_ROOT REPORT_XML
"""
import functools
import os
import sys

import h5py  # noqa: F401
import numpy as np  # noqa: F401

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from signcut_testing import CliCase, digest, run_signcut, run_signcut_json, run_suite  # noqa: E402,F401

SIGNCUT, ROOT, REPORT = sys.argv[1], sys.argv[2], sys.argv[3]
run = functools.partial(run_signcut, SIGNCUT)
run_json = functools.partial(run_signcut_json, SIGNCUT)


class CliManners(CliCase):
    binary = SIGNCUT


if __name__ == "__main__":
    run_suite(CliManners, "cli-manners", REPORT)
