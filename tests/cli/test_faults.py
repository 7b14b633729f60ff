#!/usr/bin/python3
"""End-to-end tests of the `signcut` binary when the system, not the input,
is hostile: inputs that are not regular files, more threads than can be had,
a file size limit, and signals that stop a run. Each must end with one
`signcut: error:` line (or death by the signal) and a non-zero status,
never a crash or a hang, and leave no temporary file. And inputs whose
variable-length strings point into a damaged global heap, which crash
libhdf5 when read: their attributes and objects are left out with a
warning, the rest of the work is done.

usage: test_faults.py SIGNCUT_BINARY SOURCE_ROOT REPORT_XML
"""
import functools
import os
import resource
import struct
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, os.pardir))
from signcut_testing import UNDER_SANITIZERS, CliCase, digest, run_signcut, run_suite  # noqa: E402

SIGNCUT, ROOT, REPORT = sys.argv[1], sys.argv[2], sys.argv[3]
run = functools.partial(run_signcut, SIGNCUT)
CAT = os.path.join(ROOT, "data", "skimage_chelsea.png")
CAMERA = os.path.join(ROOT, "data", "skimage_camera.png")


def field(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    for a in range(len(shape)):
        x = np.cumsum(x, axis=a)
    return (x / np.abs(x).max()).astype(np.float32)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE)


def default_stop_signals():
    """A preexec_fn: the stop signals at their default action in the child,
    whatever this test inherited (nohup and background jobs ignore SIGHUP
    and SIGINT, and signcut keeps an ignored signal ignored)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


def limited(resource_id, value):
    """A preexec_fn that sets one resource limit in the child."""
    def set_limit():
        resource.setrlimit(resource_id, (value, value))
    return set_limit


def damage_heap_object(path, text):
    """Makes the global heap object holding `text` (a variable-length string
    h5py wrote) claim 2^62 bytes: libhdf5 copies that many when it reads the
    string, and crashes."""
    with open(path, "rb") as f:
        data = bytearray(f.read())
    encoded = text.encode()
    for heap in (i for i in range(len(data)) if data.startswith(b"GCOL", i)):
        p = heap + 16  # signature, version, reserved, collection size
        end = heap + struct.unpack_from("<Q", data, heap + 8)[0]
        while p + 16 <= end:  # index (2), reference count (2), reserved (4), size (8), data padded to 8
            index, _, _, size = struct.unpack_from("<HHIQ", data, p)
            if index == 0:
                break
            if bytes(data[p + 16:p + 16 + size]) == encoded:
                struct.pack_into("<Q", data, p + 8, 2 ** 62)
                with open(path, "wb") as f:
                    f.write(data)
                return
            p += 16 + -(-size // 8) * 8
    raise AssertionError(f"no heap object holds {text!r}")


class Faults(CliCase):
    binary = SIGNCUT
    folder_prefix = "signcut-faults-"

    def one_error_line(self, p, fragment):
        lines = [line for line in p.stderr.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, f"stderr was {p.stderr!r}")
        self.assertTrue(lines[0].startswith("signcut: error: "), lines[0])
        self.assertIn(fragment, lines[0])

    def temporaries(self):
        return [f for f in os.listdir(self.dir) if "signcut-tmp" in f]

    def test_a_fifo_or_a_device_is_refused_without_blocking(self):
        fifo_h5, fifo_png = self.path("in.h5"), self.path("in.png")
        os.mkfifo(fifo_h5)
        os.mkfifo(fifo_png)
        for args in (["info", fifo_h5], ["compress", fifo_h5 + ":/data", "-o", self.path("o.h5")],
                     ["decompress", fifo_h5, "-o", self.path("o.h5")], ["eval", fifo_h5, CAMERA],
                     ["compress", fifo_png, "-o", self.path("o.h5")], ["image", fifo_png, "-o", self.path("o.png")],
                     ["info", "/dev/zero"]):
            # Nothing ever writes into the FIFOs: an open that blocks would
            # hang here until the timeout.
            p = subprocess.run([SIGNCUT, *args], capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 1, f"{args}: {p.stderr}")
            self.one_error_line(p, "not a regular file")
        self.assertEqual(sorted(os.listdir(self.dir)), ["in.h5", "in.png"])

    def test_threads_beyond_the_cap_are_a_usage_error(self):
        for n in ("100000", "1025", "4294967296"):
            self.refuse(["compress", CAMERA, "-o", self.path("o.h5"), "--threads", n], 2, "from 1 to 1024",
                        output=self.path("o.h5"))

    def test_threads_the_system_cannot_start_change_nothing(self):
        if UNDER_SANITIZERS:
            self.skipTest("AddressSanitizer reserves more address space than the limit leaves")
        one, many = self.path("one.sct.h5"), self.path("many.sct.h5")
        run("compress", CAT, "-o", one, "-b", "1", "--threads", "1", "-q")
        # 1000 threads of 8 MiB stacks do not fit in 2 GiB of address space:
        # the ones that cannot start leave their work to those that did.
        limit = limited(resource.RLIMIT_AS, 2 << 30)
        p = subprocess.run([SIGNCUT, "compress", CAT, "-o", many, "-b", "1", "--threads", "1000", "-q"],
                           capture_output=True, text=True, timeout=300, preexec_fn=limit)
        self.assertEqual(p.returncode, 0, p.stderr)
        with h5py.File(one, "r") as a, h5py.File(many, "r") as b:
            for k in ("widths", "scales", "signs"):
                np.testing.assert_array_equal(a["decomposition"][k][()], b["decomposition"][k][()], k)
        # OpenBLAS (lplr) is given no more threads than cores, so it cannot
        # wait for ones it failed to start, during the run or at exit.
        p = subprocess.run([SIGNCUT, "compress", CAT, "-o", self.path("l.h5"), "--method", "lplr", "-b", "1",
                            "--threads", "1000", "-q"], capture_output=True, text=True, timeout=300, preexec_fn=limit)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_a_file_size_limit_is_an_error_that_leaves_nothing(self):
        # Past RLIMIT_FSIZE a write raises SIGXFSZ, which would kill the run
        # and leave its temporary; signcut ignores it, so the write fails
        # like a full disk: one line, status 1, no output, no temporary, and
        # no crash in HDF5's teardown afterwards.
        limit = limited(resource.RLIMIT_FSIZE, 16 << 10)
        out = self.path("o.sct.h5")
        p = subprocess.run([SIGNCUT, "compress", CAMERA, "-o", out, "-b", "2"], capture_output=True, text=True,
                           timeout=300, preexec_fn=limit)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.one_error_line(p, "File too large")
        self.assertFalse(os.path.exists(out))
        self.assertEqual(self.temporaries(), [])
        # Into an existing file: the file and its other objects stay as they were.
        dec = self.path("d.sct.h5")
        run("compress", CAMERA, "-o", dec, "-b", "2", "-q")
        host = self.h5("host.h5", np.arange(10, dtype=np.int32), dataset="keep")
        before = digest(host)
        p = subprocess.run([SIGNCUT, "decompress", dec, "-o", host + ":/image"], capture_output=True, text=True,
                           timeout=300, preexec_fn=limited(resource.RLIMIT_FSIZE, 64 << 10))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.one_error_line(p, "File too large")
        self.assertEqual(digest(host), before)
        self.assertEqual(self.temporaries(), [])

    def test_stop_signals_remove_the_temporary(self):
        # A decompress into HDF5 writes its output slab by slab, so the
        # temporary exists for most of the run; each signal is sent while it
        # does, and the run must end by that signal with nothing left.
        shape = (32, 256, 256) if UNDER_SANITIZERS else (128, 256, 256)
        src = self.h5("f.h5", field(shape, 3))
        dec = self.path("f.sct.h5")
        run("compress", src, "-o", dec, "-b", "1", "--codecs", "sct", "--block", "16x32x32", "-q")
        old = self.path("old.h5")
        with open(old, "wb") as f:
            f.write(b"an older output")
        for sig in STOP_SIGNALS:
            for out, force in ((self.path("new.h5"), []), (old, ["--force"])):
                p = subprocess.Popen([SIGNCUT, "decompress", dec, "-o", out, "--threads", "1", "-q", *force],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     preexec_fn=default_stop_signals)
                t0 = time.monotonic()
                while not self.temporaries() and p.poll() is None and time.monotonic() - t0 < 120:
                    time.sleep(0.001)
                seen = bool(self.temporaries())
                p.send_signal(sig)
                _, err = p.communicate(timeout=120)
                self.assertTrue(seen, f"{sig!r}: no temporary appeared before the run ended")
                self.assertEqual(p.returncode, -sig, f"{sig!r}: {err}")
                self.assertEqual(self.temporaries(), [], f"{sig!r}")
                if force:
                    with open(old, "rb") as f:
                        self.assertEqual(f.read(), b"an older output", f"{sig!r}")
                else:
                    self.assertFalse(os.path.exists(out), f"{sig!r}")
        # A signal the caller ignores (nohup, a background job's SIGHUP)
        # stays ignored: the run goes on and writes its output.
        out = self.path("nohup.h5")
        p = subprocess.Popen([SIGNCUT, "decompress", dec, "-o", out, "--threads", "1", "-q"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
        t0 = time.monotonic()
        while not self.temporaries() and p.poll() is None and time.monotonic() - t0 < 120:
            time.sleep(0.001)
        p.send_signal(signal.SIGHUP)
        _, err = p.communicate(timeout=300)
        self.assertEqual(p.returncode, 0, err)
        with h5py.File(out, "r") as f:
            self.assertEqual(f["data"].shape, shape)

    def test_damaged_variable_length_strings_are_left_out_with_a_warning(self):
        # An input dataset whose "history" attribute (a Python str, so a
        # variable-length string) points into a damaged heap: reading it
        # crashed the run. It is tried in a child process and left out.
        src = self.path("src.h5")
        with h5py.File(src, "w") as f:
            d = f.create_dataset("t", data=field((40, 30), 1))
            d.attrs["units"] = np.bytes_("K")
            # Written before the damaged one: libhdf5 stops its walk of the
            # heap at the damage, and the strings stored after it read as
            # empty, in h5py as in signcut.
            d.attrs["source"] = "a model run"
            d.attrs["history"] = "a damaged history"
        damage_heap_object(src, "a damaged history")
        out = self.path("t.sct.h5")
        p = run("compress", src + ":/t", "-o", out, "-b", "2")
        # Crashed: by a signal, or (under AddressSanitizer, which catches the
        # bad copy first) by the sanitizer's exit status.
        self.assertIn("history: a variable-length string that could not be read safely: a trial read crashed",
                      p.stderr)
        self.assertEqual(len([l for l in p.stderr.splitlines() if "warning" in l]), 1, p.stderr)
        with h5py.File(out, "r") as f:
            carried = f["decomposition/source_attributes"].attrs
            self.assertEqual(sorted(carried), ["source", "units"])
            self.assertEqual(carried["source"], b"a model run")

        # The whole file: a damaged attribute of a group, then a dataset of
        # damaged variable-length strings, are not copied, and said so;
        # everything else is.
        for damaged, said in (("attribute", "attribute history of"), ("dataset", "/meta/notes is not copied")):
            whole = self.path(f"whole-{damaged}.h5")
            with h5py.File(whole, "w") as f:
                f["t"] = field((40, 30), 1)
                g = f.create_group("meta")
                g.attrs["licence"] = np.bytes_("CC-BY-4.0")
                g["counts"] = np.arange(5)
                if damaged == "attribute":
                    g.attrs["history"] = "a damaged history"
                else:
                    g["notes"] = np.array(["a damaged note"], dtype=h5py.string_dtype())
            damage_heap_object(whole, "a damaged history" if damaged == "attribute" else "a damaged note")
            all_out = self.path(f"whole-{damaged}.sct.h5")
            p = run("compress", whole, "--all", "-o", all_out, "-b", "2")
            self.assertIn(said, p.stderr)
            self.assertIn("could not be read safely (a trial read crashed", p.stderr)
            with h5py.File(all_out, "r") as f:
                self.assertEqual(list(f["meta"].attrs), ["licence"])
                self.assertNotIn("notes", f["meta"])
                np.testing.assert_array_equal(f["meta/counts"][()], np.arange(5))
                self.assertIn("decomposition", f["t"])


if __name__ == "__main__":
    run_suite(Faults, "cli-faults", REPORT)
