#!/usr/bin/python3
"""The signcut HDF5 filter as HDF5 programs see it: h5py writing and reading
through the plugin (found with HDF5_PLUGIN_PATH), h5dump and h5repack, and
`signcut repack`.

Each HDF5 program runs in a child process whose environment names the
plugin's folder, or a folder without it: the plugin path is read once, when
HDF5 first needs a plugin.

usage: test_hdf5_filter.py SIGNCUT_BINARY PLUGIN_MODULE REPORT_XML
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import textwrap

import h5py
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
from signcut_testing import UNDER_SANITIZERS, TempFolderCase, run_signcut, run_suite  # noqa: E402

SIGNCUT, PLUGIN, REPORT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
PLUGIN_DIR = os.path.dirname(PLUGIN)
FILTER_ID = 34021


def parameters(bits=None, rel_error=None, rmse=None, seed=0, zfp=True, block=()):
    """cd_values as the filter's header documents them."""
    kind, value = (1, bits) if bits is not None else (2, rel_error) if rel_error is not None else (3, rmse)
    low, high = struct.unpack("<II", struct.pack("<d", value))
    return (1, kind, low, high, seed & 0xffffffff, seed >> 32, 1 if zfp else 0, len(block), *block)


def field(shape, seed, noise=0.05):
    rng = np.random.default_rng(seed)
    grids = np.meshgrid(*[np.linspace(0, 3, n) for n in shape], indexing="ij")
    x = sum(np.sin((i + 1) * g) for i, g in enumerate(grids))
    return (x + noise * rng.standard_normal(shape)).astype(np.float32)


def rel(x, y):
    x = np.asarray(x, np.float64)
    return float(np.linalg.norm(x - y) / np.linalg.norm(x))


class Hdf5Filter(TempFolderCase):
    folder_prefix = "signcut-filter-"

    def setUp(self):
        # These programs (Python, h5dump, h5repack) are not instrumented: a
        # sanitizer build's plugin cannot be loaded into them. The Boost
        # suite `filter` runs the same filter class in-process there.
        if UNDER_SANITIZERS:
            self.skipTest("the plugin of a sanitizer build cannot load into uninstrumented programs")
        super().setUp()

    def python(self, code, plugin=True, expect=0):
        """Runs `code` in /usr/bin/python3 with h5py and numpy imported and
        the plugin's folder on HDF5_PLUGIN_PATH (or an empty folder)."""
        env = dict(os.environ)
        env["HDF5_PLUGIN_PATH"] = PLUGIN_DIR if plugin else self.path("no-plugins")
        os.makedirs(self.path("no-plugins"), exist_ok=True)
        p = subprocess.run(["/usr/bin/python3", "-c", "import h5py, numpy as np, json, sys\n" + textwrap.dedent(code)],
                           capture_output=True, text=True, env=env, timeout=300)
        self.assertEqual(p.returncode, expect, p.stderr)
        return p

    def write_through_plugin(self, path, datasets, opts):
        """Writes {name: (array, chunks)} to a new file `path` from a child
        Python, each dataset through the plugin with `opts`."""
        np.savez(self.path("in.npz"), **{name: x for name, (x, _) in datasets.items()})
        chunks = {name: c for name, (_, c) in datasets.items()}
        self.python(f"""
            x = np.load({self.path('in.npz')!r})
            with h5py.File({path!r}, "w") as f:
                for name, chunks in {chunks!r}.items():
                    f.create_dataset(name, data=x[name], chunks=chunks, compression={FILTER_ID},
                                     compression_opts={opts!r})
            """)

    def read_through_plugin(self, path):
        """Every dataset at the root of `path`, read by a child Python
        through the plugin."""
        self.python(f"""
            with h5py.File({path!r}, "r") as f:
                np.savez({self.path('out.npz')!r}, **{{k: f[k][()] for k in f}})
            """)
        with np.load(self.path("out.npz")) as out:
            return {k: out[k] for k in out.files}

    def test_h5py_writes_and_reads_through_the_plugin(self):
        path = self.path("w.h5")
        x = field((96, 80), 1)
        self.write_through_plugin(path, {"t": (x, (48, 40))}, parameters(bits=1))
        with h5py.File(path, "r") as f:
            d = f["t"]
            self.assertIn(str(FILTER_ID), d._filters)
            stored = d.id.get_storage_size()
        # Each chunk at most 1 bit per value.
        self.assertLessEqual(8 * stored, x.size * 1.0)
        y = self.read_through_plugin(path)["t"]
        self.assertEqual(y.dtype, np.float32)
        self.assertLess(rel(x, y), 0.2)

    def test_without_the_plugin_the_read_fails_clearly(self):
        path = self.path("w.h5")
        self.write_through_plugin(path, {"t": (np.ones((40, 40), np.float32), (20, 20))}, parameters(bits=2))
        p = self.python(f"""
            with h5py.File({path!r}, "r") as f:
                try:
                    f["t"][()]
                except OSError as e:
                    print(e)
                    sys.exit(3)
            """, plugin=False, expect=3)
        self.assertIn("filter", p.stdout.lower())
        # h5dump says the same, with a non-zero status.
        env = dict(os.environ, HDF5_PLUGIN_PATH=self.path("no-plugins"))
        d = subprocess.run(["h5dump", "-d", "/t", path], capture_output=True, text=True, env=env, timeout=60)
        self.assertNotEqual(d.returncode, 0)

    def test_chunks_from_one_value_to_the_whole_dataset_float64_and_edges(self):
        x = field((50, 33), 2).astype(np.float64)
        path = self.path("c.h5")
        cases = {"one": (1, 1), "row": (1, 33), "small": (7, 5), "edges": (32, 32), "whole": (50, 33)}
        datasets = {name: (x, chunks) for name, chunks in cases.items()}
        datasets["vector"] = (x[:, 0].copy(), (16,))
        self.write_through_plugin(path, datasets, parameters(bits=4))
        out = self.read_through_plugin(path)
        for name, chunks in cases.items():
            y = out[name]
            self.assertEqual(y.dtype, np.float64, name)
            self.assertEqual(y.shape, x.shape, name)
            if chunks[0] * chunks[1] < 20:
                np.testing.assert_array_equal(y, x, name)  # stored raw
            else:
                self.assertLess(rel(x, y), 0.2, name)
        self.assertLess(rel(x[:, 0], out["vector"]), 0.3)

    def test_fill_values_and_unwritten_chunks(self):
        path = self.path("f.h5")
        x = field((64, 64), 3)
        np.save(self.path("x.npy"), x)
        opts = parameters(bits=2)
        self.python(f"""
            x = np.load({self.path('x.npy')!r})
            with h5py.File({path!r}, "w") as f:
                d = f.create_dataset("t", shape=(128, 64), dtype="<f4", chunks=(32, 32), fillvalue=-7.0,
                                     compression={FILTER_ID}, compression_opts={opts!r})
                d[:64] = x
            with h5py.File({path!r}, "r") as f:
                np.save({self.path('y.npy')!r}, f["t"][()])
                print(f["t"].id.get_num_chunks())
            """)
        y = np.load(self.path("y.npy"))
        self.assertTrue(np.all(y[64:] == -7.0))
        self.assertLess(rel(x, y[:64]), 0.3)

    def test_integers_and_other_types_are_refused_by_name(self):
        opts = parameters(bits=1)
        for dtype, said in (("<i4", "32-bit integers"), ("<u2", "16-bit integers"), ("<f2", "16-bit floats"),
                            (">f4", "little-endian")):
            p = self.python(f"""
                try:
                    with h5py.File({self.path('i.h5')!r}, "w") as f:
                        f.create_dataset("t", data=np.ones((30, 30), {dtype!r}), chunks=(10, 10),
                                         compression={FILTER_ID}, compression_opts={opts!r})
                except (ValueError, OSError) as e:
                    print(repr(e))
                    sys.exit(3)
                """, expect=3)
            # h5py's exception carries the filter's own line, which names
            # the type.
            self.assertIn(said, p.stdout, dtype)

    def test_a_damaged_chunk_is_an_oserror(self):
        path = self.path("d.h5")
        self.write_through_plugin(path, {"t": (field((40, 40), 4), (20, 20))}, parameters(bits=2))
        with h5py.File(path, "r") as f:
            info = f["t"].id.get_chunk_info(1)
        with open(path, "r+b") as fh:
            fh.seek(info.byte_offset + info.size // 2)
            b = fh.read(1)
            fh.seek(info.byte_offset + info.size // 2)
            fh.write(bytes([b[0] ^ 0x10]))
        p = self.python(f"""
            with h5py.File({path!r}, "r") as f:
                f["t"][:20, :20]  # chunk 0 is intact
                try:
                    f["t"][()]
                except OSError as e:
                    print(e)
                    sys.exit(3)
            """, expect=3)
        self.assertIn("filter", p.stdout.lower())

    def test_repack_filters_float_datasets_and_copies_the_rest(self):
        src = self.path("model.h5")
        x = field((256, 192), 5)
        with h5py.File(src, "w") as f:
            f.attrs["title"] = "a model"
            f["weights"] = x
            f["weights"].attrs["units"] = "1"
            f["steps"] = np.arange(10, dtype=np.int64)
            f.create_dataset("chunked", data=x.astype(np.float64), chunks=(64, 64))
            g = f.create_group("g")
            g["bias"] = field((100,), 6)
        out = self.path("model.sct.h5")
        p = run_signcut(SIGNCUT, "repack", src, out, "-b", "1", "--json")
        j = json.loads(p.stdout)
        self.assertEqual(j["filtered"], 3)
        self.assertEqual(j["copied"], 1)
        rows = {r["path"]: r for r in j["datasets"]}
        for name in ("/weights", "/chunked"):
            self.assertLessEqual(rows[name]["bits_per_value"], 1.0, name)
        # The 100-value vector holds no term at 1 bit per value: stored raw.
        self.assertGreater(rows["/g/bias"]["bits_per_value"], 32)
        self.assertEqual(rows["/chunked"]["chunk"], [64, 64])  # a chunked input keeps its chunks
        self.assertEqual(rows["/weights"]["chunk"], [256, 192])  # under 2^20 values: one chunk
        # Compared with compress at the same bits: within 1.15x (one chunk
        # here, so the same allocation but the stream's head).
        c = json.loads(run_signcut(SIGNCUT, "compress", src + ":/weights", "-o", self.path("w.sct.h5"), "-b", "1",
                                   "--json").stdout)
        # The block shape is chosen once per dataset, as compress chooses
        # it, and cut to the chunk.
        self.assertEqual(rows["/weights"]["block"], c["block_shape"])
        self.assertTrue(all(b <= k for b, k in zip(rows["/chunked"]["block"], [64, 64])), rows["/chunked"])
        p = self.python(f"""
            with h5py.File({out!r}, "r") as f:
                print(json.dumps({{"title": f.attrs["title"], "units": f["weights"].attrs["units"],
                                   "steps": f["steps"][()].tolist(), "filters": list(f["weights"]._filters)}}))
                np.save({self.path('w.npy')!r}, f["weights"][()])
                np.save({self.path('c.npy')!r}, f["chunked"][()])
            """)
        meta = json.loads(p.stdout)
        self.assertEqual(meta["title"], "a model")
        self.assertEqual(meta["units"], "1")
        self.assertEqual(meta["steps"], list(range(10)))
        self.assertIn(str(FILTER_ID), meta["filters"])
        w = np.load(self.path("w.npy"))
        self.assertLessEqual(rel(x, w), 1.15 * c["rel_fro_error"])
        self.assertLess(rel(x.astype(np.float64), np.load(self.path("c.npy"))), 0.3)

    def test_h5dump_and_h5repack_use_the_plugin(self):
        src = self.path("r.h5")
        x = field((64, 48), 7)
        with h5py.File(src, "w") as f:
            f.create_dataset("t", data=x, chunks=(32, 48))
            f["n"] = np.arange(6, dtype=np.int32)
        out = self.path("r2.h5")
        env = dict(os.environ, HDF5_PLUGIN_PATH=PLUGIN_DIR)
        ud = "UD={},1,{},{}".format(FILTER_ID, 8, ",".join(map(str, parameters(bits=2))))
        p = subprocess.run(["h5repack", "-f", ud, src, out], capture_output=True, text=True, env=env, timeout=300)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        # Flag 1 makes the filter optional: the integer dataset passes
        # through unfiltered.
        d = subprocess.run(["h5dump", "-d", "/t", "-p", out], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(d.returncode, 0, d.stderr)
        self.assertIn(str(FILTER_ID), d.stdout)
        p = self.python(f"""
            with h5py.File({out!r}, "r") as f:
                np.save({self.path('y.npy')!r}, f["t"][()])
                print(f["n"][()].tolist(), list(f["n"]._filters))
            """)
        self.assertLess(rel(x, np.load(self.path("y.npy"))), 0.2)
        self.assertIn("[0, 1, 2, 3, 4, 5]", p.stdout)


if __name__ == "__main__":
    run_suite(Hdf5Filter, "hdf5-filter", REPORT)
