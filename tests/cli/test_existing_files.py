#!/usr/bin/python3
"""End-to-end tests of the `signcut` binary. Writing into existing HDF5 files,
and attributes that travel with a decomposition.

An output "FILE.h5:/path" adds or replaces that one object and keeps every
other object of FILE.h5 as it was: data, attributes, object references,
dimension scales and the user block. The checks compare everything h5py can
see in the file before and after, and the user block byte for byte.

usage: test_existing_files.py SIGNCUT_BINARY SOURCE_ROOT REPORT_XML
"""
import functools
import os
import signal
import stat
import subprocess
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from signcut_testing import (UNDER_SANITIZERS, CliCase, digest, hdf5_snapshot, run_signcut, run_signcut_json,  # noqa: E402,F401
                             run_suite, write_netcdf_like_file)

SIGNCUT, ROOT, REPORT = sys.argv[1], sys.argv[2], sys.argv[3]
run = functools.partial(run_signcut, SIGNCUT)
run_json = functools.partial(run_signcut_json, SIGNCUT)
USER_BLOCK = 512


def field(shape, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    for a in range(len(shape)):
        x = np.cumsum(x, axis=a)
    return x.astype(np.float32)


snapshot = functools.partial(hdf5_snapshot, user_block=USER_BLOCK)
write_netcdf_like = functools.partial(write_netcdf_like_file, user_block=USER_BLOCK)


class CliExistingFiles(CliCase):
    binary = SIGNCUT

    def setUp(self):
        super().setUp()
        self.nc = self.path("model.h5")
        write_netcdf_like(self.nc)
        self.sct = self.path("t.sct.h5")
        run("compress", self.nc + ":/t", "-o", self.sct, "-b", "2", "-q")

    def assert_kept(self, before, path, new=()):
        """Every object and attribute of `before` is unchanged in `path`;
        the only new objects are `new` (and their members)."""
        after = snapshot(path)
        for name, v in before.items():
            if any(name == n or name.startswith(n + "/") for n in new):
                continue
            self.assertIn(name, after, f"{name} was lost")
            self.assertEqual(after[name], v, f"{name} changed")
        extra = [n for n in after if n not in before and not any(n == m or n.startswith(m + "/") for m in new)]
        self.assertEqual(extra, [])

    def test_decompress_into_an_existing_file_keeps_every_other_object(self):
        before = snapshot(self.nc)
        run("decompress", self.sct, "-o", self.nc + ":/restored", "-q")
        self.assert_kept(before, self.nc, new=("restored",))
        with h5py.File(self.nc, "r") as f:
            r = f["restored"]
            self.assertEqual(r.shape, (48, 40))
            # The dimension scales of t still resolve, both ways.
            self.assertEqual(f["t"].dims[0][0].name, "/lat")
            self.assertEqual(f["t"].dims[1][0].name, "/lon")
            self.assertEqual(f["meta/refs"][0] and f[f["meta/refs"][0]].name, "/t")
            # Attributes travelled (strings come back fixed-length).
            self.assertEqual(r.attrs["units"], b"K")
            self.assertEqual(r.attrs["long_name"], b"air temperature")
            np.testing.assert_array_equal(r.attrs["valid_range"], np.array([-500, 500], np.float32))
            self.assertEqual(r.attrs["_FillValue"].dtype, np.float32)
            np.testing.assert_array_equal(r.attrs["levels"], np.array([1, 2, 3], np.int16))
            self.assertEqual(r.attrs["levels"].dtype, np.int16)
            self.assertNotIn("DIMENSION_LIST", r.attrs)
        with h5py.File(self.sct, "r") as f:
            a = f["decomposition/source_attributes"].attrs
            self.assertEqual(sorted(a), ["_FillValue", "levels", "long_name", "units", "valid_range"])
            for k in ("units", "long_name"):
                t = f["decomposition/source_attributes"].attrs.get_id(k).get_type()
                self.assertFalse(t.is_variable_str(), k)

    def test_replacing_an_object_needs_force_and_keeps_the_rest(self):
        run("decompress", self.sct, "-o", self.nc + ":/meta/restored", "-q")
        before = snapshot(self.nc)
        self.refuse(["decompress", self.sct, "-o", self.nc + ":/meta/restored"], 1, "use --force", [self.nc])
        self.refuse(["decompress", self.sct, "-o", self.nc + ":/meta/counts"], 1, "exists (a dataset)", [self.nc])
        run("decompress", self.sct, "-o", self.nc + ":/meta/counts", "--force", "-q")
        self.assert_kept(before, self.nc, new=("meta/counts",))
        with h5py.File(self.nc, "r") as f:
            self.assertEqual(f["meta/counts"].shape, (48, 40))
            # The reference to /t in the same group still resolves.
            self.assertEqual(f[f["meta/refs"][0]].name, "/t")

    def test_compress_into_the_input_file_and_read_it_from_there(self):
        before = snapshot(self.nc)
        j = run_json("compress", self.nc + ":/t", "-o", self.nc + ":/signcut/t", "-b", "2")
        self.assert_kept(before, self.nc, new=("signcut",))
        with h5py.File(self.nc, "r") as f:
            g = f["signcut/t"]
            self.assertEqual(g.attrs["signcut_format"], b"signcut-decomposition")
            self.assertEqual(int(g.attrs["format_version"]), 2)
            self.assertIn("decomposition/widths", g)
        # file_bytes is the decomposition's own size, not the whole file's.
        self.assertEqual(j["file_bytes"], os.path.getsize(self.sct))
        info = run_json("info", self.nc + ":/signcut/t")
        self.assertEqual(info["shape"], [48, 40])
        ev = run_json("eval", self.nc + ":/t", self.nc + ":/signcut/t")
        self.assertAlmostEqual(ev["rel_fro_error"], j["rel_fro_error"], places=5)
        run("decompress", self.nc + ":/signcut/t", "-o", self.path("a.h5"), "-q")
        run("decompress", self.sct, "-o", self.path("b.h5"), "-q")
        with h5py.File(self.path("a.h5"), "r") as a, h5py.File(self.path("b.h5"), "r") as b:
            np.testing.assert_array_equal(a["data"][()], b["data"][()])
        run("recut", self.nc + ":/signcut/t", "-o", self.nc + ":/signcut/t_half", "-b", "1", "-q")
        with h5py.File(self.nc, "r") as f:
            self.assertIn("units", f["signcut/t_half/decomposition/source_attributes"].attrs)

    def test_an_output_that_is_or_holds_the_input_is_refused(self):
        self.refuse(["compress", self.nc + ":/t", "-o", self.nc + ":/t", "--force"], 1, "it is the input", [self.nc])
        self.refuse(["compress", self.nc + ":/meta/counts", "-o", self.nc + ":/meta", "--force"], 1,
                    "would remove the input /meta/counts", [self.nc])
        self.refuse(["compress", self.nc + ":/t", "-o", self.nc + ":/t/x"], 1, "lies inside the input /t", [self.nc])
        self.refuse(["compress", self.nc + ":/t", "-o", self.nc + ":/lat/x"], 1, "/lat in", [self.nc])
        self.refuse(["compress", self.nc + ":/t", "-o", self.nc + ":/"], 2, "names the root group", [self.nc])
        run("compress", self.nc + ":/t", "-o", self.nc + ":/s", "-q")
        self.refuse(["decompress", self.nc + ":/s", "-o", self.nc + ":/s/x"], 1, "lies inside the input /s", [self.nc])
        self.refuse(["decompress", self.nc + ":/s", "-o", self.nc + ":/s", "--force"], 1, "it is the input",
                    [self.nc])
        self.refuse(["decompress", self.nc + ":/nothing", "-o", self.path("x.h5")], 1, "has no object /nothing",
                    [self.nc], self.path("x.h5"))
        self.refuse(["decompress", self.nc + ":/t", "-o", self.path("x.h5")], 1, "a dataset, not a decomposition",
                    [self.nc], self.path("x.h5"))
        # A whole-file decomposition: writing next to it is fine, over it not.
        run("decompress", self.sct, "-o", self.sct + ":/restored", "-q")
        self.refuse(["decompress", self.sct, "-o", self.sct + ":/decomposition/x", "--force"], 1,
                    "lies inside the input /decomposition", [self.sct])

    def test_files_that_cannot_take_an_object_are_left_alone(self):
        text = self.path("notes.txt")
        with open(text, "w") as f:
            f.write("not HDF5\n")
        self.refuse(["decompress", self.sct, "-o", text + ":/x", "--force"], 1, "is not an HDF5 file", [text])
        empty = self.path("empty.h5")
        open(empty, "w").close()
        self.refuse(["decompress", self.sct, "-o", empty + ":/x", "--force"], 1, "the file is empty", [empty])
        self.refuse(["decompress", self.sct, "-o", self.nc + ":/a/../b"], 2, "is not an HDF5 object name", [self.nc])

    def test_a_bare_file_name_is_a_whole_new_file(self):
        out = self.path("out.h5")
        run("decompress", self.sct, "-o", out + ":/first", "-q")
        run("decompress", self.sct, "-o", out + ":/second", "-q")
        with h5py.File(out, "r") as f:
            self.assertEqual(sorted(f), ["first", "second"])
        self.refuse(["decompress", self.sct, "-o", out], 1, "use --force", [out])
        run("decompress", self.sct, "-o", out, "--force", "-q")
        with h5py.File(out, "r") as f:
            self.assertEqual(sorted(f), ["data"])

    def test_mode_owner_symbolic_and_hard_links(self):
        os.chmod(self.nc, 0o640)
        if os.geteuid() == 0:
            os.chown(self.nc, 4321, 4321)
        run("decompress", self.sct, "-o", self.nc + ":/r1", "-q")
        st = os.stat(self.nc)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o640)
        if os.geteuid() == 0:
            self.assertEqual((st.st_uid, st.st_gid), (4321, 4321))
        # A symbolic link stays a link; its target is the file edited.
        link = self.path("link.h5")
        os.symlink(self.nc, link)
        run("decompress", self.sct, "-o", link + ":/r2", "-q")
        self.assertTrue(os.path.islink(link))
        with h5py.File(self.nc, "r") as f:
            self.assertIn("r2", f)
        # Another hard link keeps the old contents, and signcut says so.
        hard = self.path("hard.h5")
        os.link(self.nc, hard)
        old = digest(hard)
        p = run("decompress", self.sct, "-o", self.nc + ":/r3")
        self.assertIn("1 other hard links", p.stderr)
        self.assertEqual(digest(hard), old)
        with h5py.File(self.nc, "r") as f:
            self.assertIn("r3", f)

    def test_a_kill_at_any_moment_leaves_the_old_file_or_the_new_one(self):
        if UNDER_SANITIZERS:
            self.skipTest("SIGKILL leaves no sanitizer report; the release build runs it")
        big = self.path("big.h5")
        with h5py.File(big, "w") as f:
            f["x"] = field((160, 160, 40), 3)
        big_sct = self.path("big.sct.h5")
        run("compress", big, "-o", big_sct, "-b", "1", "-q")
        before = snapshot(self.nc)
        old = digest(self.nc)
        outcomes = set()
        for delay in (0.0, 0.005, 0.01, 0.02, 0.04, 0.08, 0.15, 0.3, 1.0):
            p = subprocess.Popen([SIGNCUT, "decompress", big_sct, "-o", self.nc + ":/big", "--force", "-q"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            p.send_signal(signal.SIGKILL)
            p.wait()
            if digest(self.nc) == old:
                outcomes.add("old")
            else:
                self.assert_kept(before, self.nc, new=("big",))
                with h5py.File(self.nc, "r") as f:
                    self.assertEqual(f["big"].shape, (160, 160, 40))
                outcomes.add("new")
                break
            for name in os.listdir(self.dir):  # what SIGKILL leaves: only a recognisable temporary
                if "signcut-tmp" in name:
                    os.remove(os.path.join(self.dir, name))
        self.assertIn("old", outcomes)

    def test_attributes_travel_through_lplr_and_are_reported_when_left_out(self):
        p = run("compress", self.nc + ":/t", "-o", self.path("l.h5"), "--method", "lplr", "-b", "2")
        self.assertIn("DIMENSION_LIST", p.stderr)
        self.assertIn("not kept", p.stderr)
        run("decompress", self.path("l.h5"), "-o", self.path("l.out.h5"), "-q")
        with h5py.File(self.path("l.out.h5"), "r") as f:
            self.assertEqual(f["data"].attrs["units"], b"K")
        # A source without attributes gives no source_attributes group.
        plain = self.h5("plain.h5", field((20, 30), 2))
        run("compress", plain, "-o", self.path("p.sct.h5"), "-q")
        with h5py.File(self.path("p.sct.h5"), "r") as f:
            self.assertNotIn("source_attributes", f["decomposition"])

    def test_damaged_source_attributes_are_refused(self):
        bad = self.path("bad.sct.h5")
        with open(self.sct, "rb") as a, open(bad, "wb") as b:
            b.write(a.read())
        with h5py.File(bad, "r+") as f:
            f["decomposition/source_attributes"].attrs["note"] = "variable length"
        self.refuse(["decompress", bad, "-o", self.path("x.h5")], 1, "variable-length string", [bad])
        with h5py.File(bad, "r+") as f:
            del f["decomposition/source_attributes"].attrs["note"]
            f["decomposition/source_attributes/x"] = np.arange(3)
        self.refuse(["info", bad], 1, "holds 1 members; it holds attributes only", [bad])


    def write_model(self, path):
        rng = np.random.default_rng(5)
        with h5py.File(path, "w") as f:
            f.attrs["name"] = "a small model"
            for i in range(3):
                g = f.create_group(f"layer{i}")
                g.attrs["kind"] = "dense"
                g.attrs["sizes"] = np.array([64, 48], np.int32)
                g["weight"] = field((64, 48), 10 + i)
                g["weight"].attrs["units"] = "1"
                g["bias"] = rng.standard_normal(48).astype(np.float32)
            f["steps"] = np.arange(5)
            f["halves"] = field((30, 20), 4).astype(np.float16)
            f["link"] = h5py.SoftLink("/layer0/weight")
            f["tiny"] = field((3, 2), 6)

    def test_compress_all_and_back(self):
        model = self.path("model.h5")
        self.write_model(model)
        out = self.path("model.sct.h5")
        j = run_json("compress", model, "--all", "-o", out, "-b", "1")
        actions = {r["path"]: r["action"] for r in j["datasets"]}
        self.assertEqual(actions, {"/layer0/weight": "decomposed", "/layer1/weight": "decomposed",
                                   "/layer2/weight": "decomposed", "/halves": "decomposed",
                                   "/layer0/bias": "copied", "/layer1/bias": "copied", "/layer2/bias": "copied",
                                   "/steps": "copied", "/tiny": "copied"})
        self.assertEqual((j["decomposed"], j["copied"]), (4, 5))
        with h5py.File(model, "r") as a, h5py.File(out, "r") as b:
            self.assertEqual(b.attrs["name"], a.attrs["name"])
            self.assertEqual(b["layer1"].attrs["kind"], "dense")
            np.testing.assert_array_equal(b["layer1"].attrs["sizes"], a["layer1"].attrs["sizes"])
            np.testing.assert_array_equal(b["layer2/bias"][()], a["layer2/bias"][()])
            np.testing.assert_array_equal(b["steps"][()], a["steps"][()])
            self.assertEqual(b["layer0/weight"].attrs["signcut_format"], b"signcut-decomposition")
            self.assertEqual(b.get("link", getlink=True).path, "/layer0/weight")
        # Each group is the same decomposition a single compress makes.
        run("compress", model + ":/layer1/weight", "-o", self.path("one.sct.h5"), "-b", "1", "-q")
        run("decompress", self.path("one.sct.h5"), "-o", self.path("one.h5"), "-q")
        back = self.path("model.out.h5")
        jd = run_json("decompress", out, "--all", "-o", back)
        self.assertEqual(jd["rebuilt"], 4)
        with h5py.File(model, "r") as a, h5py.File(back, "r") as b, h5py.File(self.path("one.h5"), "r") as one:
            self.assertEqual(sorted(b), sorted(a))
            np.testing.assert_array_equal(b["layer1/weight"][()], one["data"][()])
            self.assertEqual(b["layer1/weight"].attrs["units"], b"1")
            self.assertEqual(b["halves"].dtype, np.float16)
            np.testing.assert_array_equal(b["tiny"][()], a["tiny"][()])
            np.testing.assert_array_equal(b["layer0/bias"][()], a["layer0/bias"][()])

    def test_whole_file_usage_errors(self):
        model = self.path("model.h5")
        self.write_model(model)
        self.refuse(["compress", model, "--all", "-o", self.path("x.h5") + ":/g"], 2, "whole new file", [model])
        self.refuse(["compress", model, "--all", "-o", self.path("x.h5"), "--method", "lplr"], 2, "--method sct only",
                    [model])
        self.refuse(["compress", model, "--all", "-o", self.path("x.h5"), "--width", "3"], 2, "not --width", [model])
        self.refuse(["decompress", self.sct, "--all", "-o", self.path("x.h5")], 2, "decompress it without --all",
                    [self.sct])
        self.refuse(["decompress", self.sct, "--all", "-o", self.path("x.h5"), "--region", "0:2,:"], 2,
                    "not to --all", [self.sct])
        self.refuse(["compress", model, "--all", "-o", model, "--force"], 1, "it is the input file", [model])

if __name__ == "__main__":
    run_suite(CliExistingFiles, "cli-existing-files", REPORT)
