#!/usr/bin/python3
"""Runs the bad-input corpus (cases.json, files/) against the signcut binary.

Every case must exit with its status (1 bad input, 2 bad usage) and print
exactly one line on stderr, "signcut: error: ...", containing the case's
fragment, and nothing on stdout; it must leave no output and no temporary
file in its scratch folder, and every corpus file must keep its bytes. A
crash, a hang, a sanitizer report or a second line of output fails the case.

The corpus is copied to a scratch folder first, so a misbehaving run cannot
touch the committed files. Each case is one test case of the XML report.

usage: run_corpus.py SIGNCUT_BINARY CORPUS_DIR REPORT_XML
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from signcut_testing import run_suite  # noqa: E402

SIGNCUT, CORPUS, REPORT = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
CATEGORIES = ("decomposition", "dataset", "image", "cli")
TIMEOUT = 120  # seconds; every case takes well under one, even under sanitizers

with open(os.path.join(CORPUS, "cases.json")) as f:
    CASES = json.load(f)


def snapshot(folder):
    """File name -> sha256 of every file below `folder`."""
    out = {}
    for root, _, names in os.walk(folder):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, folder)] = hashlib.sha256(f.read()).hexdigest()
    return out


class Corpus(unittest.TestCase):
    work = None
    before = None

    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="signcut-corpus-")
        shutil.copytree(os.path.join(CORPUS, "files"), os.path.join(cls.work, "files"))
        cls.before = snapshot(cls.work)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def signcut(self, args, outdir):
        # "{fifo}": a named pipe nobody writes to, outside the corpus folder
        # (whose snapshot would block reading it).
        fifo_dir = tempfile.mkdtemp(prefix="signcut-corpus-fifo-") if any("{fifo}" in a for a in args) else None
        if fifo_dir:
            os.mkfifo(os.path.join(fifo_dir, "input.h5"))
        args = [a.replace("{out}", os.path.join(outdir, "out.h5"))
                 .replace("{out.png}", os.path.join(outdir, "out.png"))
                 .replace("{outdir}", outdir)
                 .replace("{fifo}", os.path.join(fifo_dir or "", "input.h5")) for a in args]
        try:
            return subprocess.run([SIGNCUT, *args], cwd=self.work, capture_output=True, text=True, timeout=TIMEOUT,
                                  errors="replace")
        finally:
            if fifo_dir:
                shutil.rmtree(fifo_dir, ignore_errors=True)

    def check_case(self, c):
        outdir = tempfile.mkdtemp(prefix="signcut-corpus-out-")
        try:
            p = self.signcut(c["args"], outdir)
            shown = f"signcut {' '.join(c['args'])} ({c['why']})"
            self.assertEqual(p.returncode, c["exit"], f"{shown}: exit {p.returncode}\nstderr: {p.stderr}")
            self.assertEqual(p.stdout, "", f"{shown}: printed on stdout")
            lines = [line for line in p.stderr.splitlines() if line.strip()]
            self.assertEqual(len(lines), 1, f"{shown}: stderr was {p.stderr!r}")
            self.assertTrue(lines[0].startswith("signcut: error: "), f"{shown}: {lines[0]}")
            self.assertIn(c["message"], lines[0], f"{shown}: the message does not say why")
            self.assertEqual(os.listdir(outdir), [], f"{shown}: left files in the output folder")
        finally:
            shutil.rmtree(outdir, ignore_errors=True)
        self.assertEqual(snapshot(self.work), self.before, f"{c['name']}: the corpus files changed")

    # The refusals mean something only if the same command lines succeed on
    # the valid files the cases start from.
    def test_control_valid_inputs_are_accepted(self):
        outdir = tempfile.mkdtemp(prefix="signcut-corpus-out-")
        try:
            for args in (["info", "files/valid.sct.h5"],
                         ["decompress", "files/valid.sct.h5", "-o", "{out}"],
                         ["compress", "files/valid.h5", "-o", "{outdir}/v.sct.h5", "--width", "3"],
                         ["decompress", "files/valid.sct.h5", "-o", "{outdir}/r.h5", "--region", "0:5,:"],
                         # The version-2 files the v2 cases damage, each in one way.
                         ["info", "files/valid-v2.sct.h5"],
                         ["decompress", "files/valid-v2.sct.h5", "-o", "{outdir}/v2.h5"],
                         ["decompress", "files/valid-v2.sct.h5", "-o", "{outdir}/v2r.h5", "--region", "0:5,:"],
                         ["eval", "files/valid.h5", "files/valid-v2.sct.h5"],
                         ["recut", "files/valid-v2.sct.h5", "-o", "{outdir}/v2b.sct.h5", "-b", "1.5"],
                         ["recut", "files/valid-v2.sct.h5", "-o", "{outdir}/v2e.sct.h5", "-e", "0.5"],
                         ["decompress", "files/valid-v2.lplr.h5", "-o", "{outdir}/v2l.h5"],
                         # 6x8x3 values hold one term from about 1.3 bits per value (its payload, §6)
                         ["image", "files/valid.png", "-o", "{out.png}", "--bits-per-value", "2", "--quiet"]):
                p = self.signcut(args, outdir)
                self.assertEqual(p.returncode, 0, f"signcut {' '.join(args)}: {p.stderr}")
        finally:
            shutil.rmtree(outdir, ignore_errors=True)

    def test_control_corpus_size(self):
        self.assertGreaterEqual(len(CASES), 30)
        for cat in CATEGORIES:
            self.assertGreaterEqual(sum(c["category"] == cat for c in CASES), 3, cat)
        self.assertEqual({c["category"] for c in CASES} - set(CATEGORIES), set())


def add_case(c):
    def test(self):
        self.check_case(c)
    name = "test_{}_{}".format(c["category"], c["name"].replace("-", "_"))
    test.__doc__ = None
    setattr(Corpus, name, test)


for c in CASES:
    add_case(c)


def print_counts(result):
    counts = {cat: sum(c["category"] == cat for c in CASES) for cat in CATEGORIES}
    print("corpus: {} cases ({})".format(len(CASES), ", ".join(f"{n} {k}" for k, n in counts.items())))


if __name__ == "__main__":
    run_suite(Corpus, "corpus", REPORT, after=print_counts)
