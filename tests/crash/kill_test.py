#!/usr/bin/python3
"""Crash safety: `signcut compress` and `signcut decompress` killed with
SIGKILL at moments spread over their run time.

For each command the run time is measured first, on an input made large
enough that one run takes at least 2 s; then the command is started again
and again and killed with SIGKILL: half of the kills at moments spread
evenly over the measured time, the other half by bisection towards the
moment of the final rename, so that some land while the output is being
written (the last two runs of each batch are killed the moment their
temporary file appears). After every kill:

  * the output path either does not exist or holds a complete, valid file
    (`signcut info` and `signcut eval` succeed on it, and eval finds the
    expected error); when the run replaced an older output (--force), that
    path holds either the old file, intact, or the new one;
  * whatever else the run left in the folder is a temporary file named
    `.NAME.signcut-tmp-XXXXXX` (nothing can remove it after SIGKILL);
  * the input is unchanged.

A kill that leaves no output (or the old one) landed before the final
rename. Each command is killed 24 times (14 runs writing a new output, 10
replacing an older one), and at least 10 kills must land before the rename.

Writes into an existing file (`-o FILE.h5:/object`) are killed 24 times
more: 12 compress runs adding a decomposition to a netCDF-like file with a
64 MiB variable, dimension scales, object references and a user block, and
12 decompress runs replacing a dataset of it. After each kill the file is
either the old one, byte for byte, or holds the new object with every other
object, attribute and the user block as they were.

The counts are printed, and each test is one test case of the XML report.

usage: kill_test.py SIGNCUT_BINARY REPORT_XML
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from signcut_testing import TempFolderCase, digest, hdf5_snapshot, run_suite, write_netcdf_like_file  # noqa: E402

SIGNCUT, REPORT = os.path.abspath(sys.argv[1]), sys.argv[2]
KILLS_NEW = 14    # runs writing a new output
KILLS_FORCE = 10  # runs replacing an existing output (--force)
KILLS_INTO = 12   # runs adding an object to an existing file, and as many replacing one
MIN_SECONDS = 2.0
TARGET_SECONDS = 3.0  # calibration aims here, so that noise cannot bring a run under MIN_SECONDS
SHAPE = (2048, 2048)             # compress input
DECOMPRESS_SHAPE = (4096, 4096)  # decompress output: 128 MiB of float64


def signcut(*args, check=True):
    p = subprocess.run([SIGNCUT, *map(str, args)], capture_output=True, text=True, timeout=600)
    if check and p.returncode != 0:
        raise AssertionError(f"signcut {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}")
    return p


def timed(args):
    t0 = time.monotonic()
    signcut(*args)
    return time.monotonic() - t0


def calibrate(make_args, parameter, limit):
    """Grows `parameter` (a width) until one run of make_args(parameter)
    takes TARGET_SECONDS; returns (parameter, measured seconds)."""
    for _ in range(8):
        seconds = timed(make_args(parameter))
        if seconds >= TARGET_SECONDS or parameter >= limit:
            break
        parameter = min(limit, max(parameter + 1, int(parameter * min(4.0, 1.15 * TARGET_SECONDS / seconds))))
    seconds = min(timed(make_args(parameter)), seconds)  # the shorter of two runs: kills must fit inside
    if seconds < MIN_SECONDS:
        raise AssertionError(f"could not make one run take {MIN_SECONDS} s (parameter {parameter}: {seconds:.2f} s)")
    return parameter, seconds


def write_decomposition(path, shape, width, seed):
    """A valid decomposition file with random signs, written per the format
    (so the decompress input's size does not depend on compress)."""
    rng = np.random.default_rng(seed)
    vlen = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:
        f.attrs.create("signcut_format", "signcut-decomposition", dtype=vlen)
        f.attrs.create("format_version", 1, dtype="<i4")
        g = f.create_group("decomposition")
        for key, value in (("method", "sct"), ("original_dtype", "float32"), ("source", "kill test"),
                           ("signcut_version", "0"), ("created", "2024-01-01T00:00:00Z")):
            g.attrs.create(key, value, dtype=vlen)
        g.attrs.create("shape", np.array(shape, "<u8"))
        g.attrs.create("width", width, dtype="<u8")
        g.attrs.create("scales_refit", 0, dtype="<u1")
        g.attrs.create("seed", seed, dtype="<u8")
        g.attrs.create("rel_fro_error", 0.0, dtype="<f8")
        g.create_dataset("scales", data=(rng.standard_normal(width) / np.arange(1, width + 1)).astype("<f4"))
        s = g.create_group("signs")
        for a, d in enumerate(shape):
            words = rng.integers(0, 2 ** 64, size=(width, (d + 63) // 64), dtype=np.uint64)
            if d % 64:
                words[:, -1] &= np.uint64((1 << (d % 64)) - 1)
            s.create_dataset(f"mode_{a}", data=words)


class KillTest(TempFolderCase):
    folder_prefix = "signcut-kill-"
    figures = {}

    def kill_runs(self, name, kills, make_args, output, seconds, inputs, valid, old=None):
        """Starts make_args() `kills` times and kills each run with SIGKILL:
        the first half at moments spread evenly over `seconds`, most of the
        rest by bisection towards the moment of the final rename, and the
        last two as soon as their temporary file appears, so that kills land
        while the output is being written. `valid(path)` checks a
        complete output. With `old`, the output path holds a copy of that
        older valid file before each run (the runs use --force). Returns how
        many kills landed before the rename."""
        before = {p: digest(p) for p in inputs}
        temporary = re.compile(r"^\." + re.escape(os.path.basename(output)) + r"\.signcut-tmp-[A-Za-z0-9]{6}$")
        old_digest = digest(old) if old else None
        keep = {os.path.basename(q) for q in inputs} | {os.path.basename(output)} | \
            ({os.path.basename(old)} if old else set())
        spread = (kills + 1) // 2
        at_write = 2  # the last runs are killed as soon as their temporary file appears
        early, late = 0.0, 1.25 * seconds  # bisection bounds: before and after the rename
        landed_before = stale = 0
        for i in range(kills):
            if old:
                shutil.copyfile(old, output)
            elif os.path.exists(output):
                os.remove(output)
            delay = seconds * (i + 0.5) / spread if i < spread else (early + late) / 2
            t0 = time.monotonic()
            p = subprocess.Popen([SIGNCUT, *make_args()], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if i < kills - at_write:
                time.sleep(delay)
            else:
                while p.poll() is None and not any(temporary.match(f) for f in os.listdir(self.dir)):
                    time.sleep(0.001)
                delay = time.monotonic() - t0
            p.send_signal(signal.SIGKILL)
            p.wait()
            left = sorted(set(os.listdir(self.dir)) - keep)
            for f in left:
                self.assertRegex(f, temporary, f"{name}, kill {i} at {delay:.3f} s left an unrecognisable file")
                os.remove(self.path(f))
            stale += len(left)
            if not os.path.exists(output):
                self.assertIsNone(old, f"{name}, kill {i}: the old output is gone")
                before_rename = True
            elif old and digest(output) == old_digest:
                before_rename = True
            else:
                valid(output)
                before_rename = False
            landed_before += before_rename
            if i < kills - at_write:
                if before_rename:
                    early = max(early, delay)
                else:
                    late = min(late, delay)
            for q, h in before.items():
                self.assertEqual(digest(q), h, f"{name}, kill {i}: the input {q} changed")
        print(f"{name}: {kills} kills ({spread} spread over {seconds:.2f} s, {kills - spread - at_write} closing "
              f"in on the rename at about {early:.3f}-{late:.3f} s, {at_write} as the temporary appeared): "
              f"{landed_before} before the final rename, "
              f"{kills - landed_before} after it; {stale} temporaries left, all named .NAME.signcut-tmp-XXXXXX",
              flush=True)
        self.figures.setdefault(name.split()[0], []).append((kills, landed_before, stale, seconds))
        self.assertGreater(stale, 0, f"{name}: no kill landed while the output was being written")
        return landed_before

    def smooth_field(self, seed):
        """A smooth SHAPE float32 field as field.h5:/data; returns the path."""
        src = self.path("field.h5")
        rng = np.random.default_rng(seed)
        x = np.cumsum(np.cumsum(rng.standard_normal(SHAPE), axis=0), axis=1).astype("<f4")
        with h5py.File(src, "w") as f:
            f.create_dataset("data", data=x)
        return src

    @staticmethod
    def calibrated_compress(src, out, what):
        """The arguments of a compress of `src` into `out` (a file or
        FILE:/object) and the width at which it runs long enough to be
        killed; returns (args(width, force=True), width, seconds)."""
        # One block, so that --width W is the file's width (with blocks it
        # counts terms per block) and the run time grows with it.
        def args(width, force=True):
            return ["compress", src, "-o", out, "--width", str(width), "--block", "whole", "--quiet"] + \
                (["--force"] if force else [])
        width, seconds = calibrate(args, 32, 4096)
        print(f"{what}: {SHAPE[0]}x{SHAPE[1]} float32 at --width {width} takes {seconds:.2f} s", flush=True)
        return args, width, seconds

    def test_compress(self):
        src = self.smooth_field(1)
        out = self.path("field.sct.h5")
        args, width, seconds = self.calibrated_compress(src, out, "compress")

        def valid(path):
            info = json.loads(signcut("info", path, "--json").stdout)
            self.assertEqual(info["shape"], list(SHAPE))
            self.assertIn(info["width"], (width, width // 2))
            e = json.loads(signcut("eval", src, path, "--json").stdout)
            self.assertAlmostEqual(e["rel_fro_error"], info["rel_fro_error"], delta=1e-4)

        os.remove(out)
        first = self.kill_runs("compress (new output)", KILLS_NEW, lambda: args(width, force=False), out, seconds,
                               [src], valid)
        old = self.path("old.sct.h5")
        signcut("compress", src, "-o", old, "--width", str(width // 2), "--block", "whole", "--quiet")
        second = self.kill_runs("compress --force (replacing an output)", KILLS_FORCE, lambda: args(width), out,
                                seconds, [src], valid, old=old)
        self.assertGreaterEqual(first + second, 10)
        os.remove(out)
        signcut(*args(width))  # an uninterrupted run completes
        valid(out)

    def test_decompress(self):
        dec = self.path("terms.sct.h5")
        out = self.path("restored.h5")

        def args(force=True):
            return ["decompress", dec, "-o", out + ":/data", "--dtype", "float64", "--quiet"] + \
                (["--force"] if force else [])
        width = 512
        for _ in range(8):  # the input's width sets the run time
            write_decomposition(dec, DECOMPRESS_SHAPE, width, 7)
            seconds = timed(args())
            if seconds >= TARGET_SECONDS or width >= 1 << 16:
                break
            width = min(1 << 16, int(width * min(4.0, 1.15 * TARGET_SECONDS / seconds)))
        seconds = min(timed(args()), seconds)
        self.assertGreaterEqual(seconds, MIN_SECONDS, f"width {width}")
        print(f"decompress: width {width} to {DECOMPRESS_SHAPE[0]}x{DECOMPRESS_SHAPE[1]} float64 takes {seconds:.2f} s",
              flush=True)

        def valid(path):
            e = json.loads(signcut("eval", path + ":/data", dec, "--json").stdout)
            self.assertLess(e["rel_fro_error"], 1e-6)  # the file holds the reconstruction itself
            with h5py.File(path, "r") as f:
                self.assertEqual(f["data"].shape, DECOMPRESS_SHAPE)

        os.remove(out)
        first = self.kill_runs("decompress (new output)", KILLS_NEW, lambda: args(force=False), out, seconds, [dec],
                               valid)
        old = self.path("old.h5")
        with h5py.File(old, "w") as f:
            f.create_dataset("data", data=np.zeros(DECOMPRESS_SHAPE, "<f8"))
        second = self.kill_runs("decompress --force (replacing an output)", KILLS_FORCE, args, out, seconds, [dec],
                                valid, old=old)
        self.assertGreaterEqual(first + second, 10)
        os.remove(out)
        signcut(*args())  # an uninterrupted run completes
        valid(out)

    def test_writes_into_an_existing_file(self):
        src = self.smooth_field(2)
        rng = np.random.default_rng(2)
        # The file written into: netCDF-like metadata and a 64 MiB variable,
        # which every edit copies before it changes anything.
        pristine = self.path("pristine.h5")
        write_netcdf_like_file(pristine)
        with h5py.File(pristine, "r+") as f:
            f.create_dataset("big", data=rng.standard_normal((4096, 2048)).astype("<f8"), chunks=(256, 2048))
        target = self.path("model.h5")
        shutil.copyfile(pristine, target)
        kept = hdf5_snapshot(pristine, user_block=512)

        compress_args, width, seconds = self.calibrated_compress(src, target + ":/dec", "compress into an existing file")

        def added(path):
            self.assertEqual(hdf5_snapshot(path, user_block=512, leave_out=("dec",)), kept,
                             "another object of the file changed")
            info = json.loads(signcut("info", path + ":/dec", "--json").stdout)
            self.assertEqual(info["shape"], list(SHAPE))
            self.assertEqual(info["width"], width)
        first = self.kill_runs("compress into an existing file (adding an object)", KILLS_INTO,
                               lambda: compress_args(width, force=False), target, seconds, [src], added, old=pristine)

        # Replacing a dataset: the file already holds /restored.
        dec = self.path("terms.sct.h5")
        signcut("compress", src, "-o", dec, "--width", str(width), "--block", "whole", "--quiet")
        with_old = self.path("with-old.h5")
        shutil.copyfile(pristine, with_old)
        with h5py.File(with_old, "r+") as f:
            f.create_dataset("restored", data=np.zeros(SHAPE, "<f4"))
        kept = hdf5_snapshot(with_old, user_block=512, leave_out=("restored",))

        def decompress_args():
            return ["decompress", dec, "-o", target + ":/restored", "--force", "--quiet"]
        shutil.copyfile(with_old, target)
        seconds = min(timed(decompress_args()), timed(decompress_args()))

        def replaced(path):
            self.assertEqual(hdf5_snapshot(path, user_block=512, leave_out=("restored",)), kept,
                             "another object of the file changed")
            e = json.loads(signcut("eval", path + ":/restored", dec, "--json").stdout)
            self.assertLess(e["rel_fro_error"], 1e-6)
        print(f"decompress into an existing file: {SHAPE[0]}x{SHAPE[1]} takes {seconds:.2f} s", flush=True)
        second = self.kill_runs("decompress --force into an existing file (replacing an object)", KILLS_INTO,
                                decompress_args, target, seconds, [dec, src, pristine], replaced, old=with_old)
        self.assertGreaterEqual(first + second, 10)


def print_figures(result):
    for name, runs in sorted(KillTest.figures.items()):
        print(f"kill test: {name}: {sum(r[0] for r in runs)} SIGKILLs over a {runs[0][3]:.2f} s run, "
              f"{sum(r[1] for r in runs)} before the final rename, {sum(r[2] for r in runs)} stale temporaries")


if __name__ == "__main__":
    run_suite(KillTest, "crash", REPORT, after=print_figures)
