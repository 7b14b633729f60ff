"""The Python module: the API of DESIGN.md §11 against the library and the CLI."""

import ast
import ctypes
import ctypes.util
import os
import re
import subprocess
import threading
import time
import _thread

import h5py
import numpy as np
import pytest

import signcut
from conftest import SOURCE_ROOT, run_python, smooth_field


# --- compress and reconstruct -------------------------------------------------

def test_round_trip_has_the_documented_attributes(field):
    d = signcut.compress(field, bits_per_value=1.0)
    y = d.reconstruct()
    assert y.dtype == np.float32 and y.shape == field.shape and y.flags.c_contiguous
    assert d.method == "sct" and d.shape == field.shape
    assert len(d.block_shape) == 2 and d.blocks >= 1 and d.width > 0
    assert 0 < d.bits_per_value <= 1.0
    err = np.linalg.norm(field - y) / np.linalg.norm(field)
    assert d.rel_fro_error == pytest.approx(err, rel=1e-3)
    assert d.original_dtype == "float32" and d.seed == 0
    assert "sct" in repr(d)


def test_stopping_rules():
    x = smooth_field((64, 64), seed=1)
    by_width = signcut.compress(x, width=3, block="whole")
    assert by_width.width == 3 and by_width.blocks == 1 and by_width.block_shape == (64, 64)
    by_error = signcut.compress(x, rel_error=0.05)
    assert by_error.rel_fro_error <= 0.05
    blocked = signcut.compress(x, width=2, block=(32, 16))
    assert blocked.block_shape == (32, 16) and blocked.blocks == 8 and blocked.width == 16
    assert signcut.compress(x, width=2, block="32x16").block_shape == (32, 16)


def test_a_c_ordered_float32_input_is_read_in_place(field):
    d = signcut.compress(field)
    assert not d.input_copied
    assert d._held.input_address == field.ctypes.data
    # float64 in C order is read in place too (rounded block by block).
    x64 = field.astype(np.float64)
    d64 = signcut.compress(x64)
    assert not d64.input_copied and d64._held.input_address == x64.ctypes.data
    assert np.array_equal(d64.reconstruct(), d.reconstruct())
    # Anything else is converted once.
    fortran = np.asfortranarray(field)
    df = signcut.compress(fortran)
    assert df.input_copied and df._held.input_address != fortran.ctypes.data
    assert np.array_equal(df.reconstruct(), d.reconstruct())
    view = field[:, ::2]
    assert signcut.compress(view).input_copied
    unaligned = np.frombuffer(b"\0" + field.tobytes(), dtype=np.float32, offset=1).reshape(field.shape)
    assert not unaligned.flags.aligned
    du = signcut.compress(unaligned)
    assert du.input_copied and np.array_equal(du.reconstruct(), d.reconstruct())


def test_integer_inputs_match_their_float32_values():
    x = (smooth_field((48, 40), seed=2) * 3000).astype(np.int16)
    d = signcut.compress(x, bits_per_value=2)
    assert d.input_copied and d.original_dtype == "int16"
    same = signcut.compress(x.astype(np.float32), bits_per_value=2)
    assert np.array_equal(d.reconstruct(), same.reconstruct())
    assert signcut.compress(x.astype(np.uint8)).original_dtype == "uint8"


def test_results_do_not_depend_on_the_thread_count():
    x = smooth_field((24, 20, 12), seed=3)
    one = signcut.compress(x, threads=1, seed=5).reconstruct(threads=1)
    two = signcut.compress(x, threads=2, seed=5).reconstruct(threads=2)
    assert np.array_equal(one, two)


# --- regions --------------------------------------------------------------------

def test_a_region_equals_the_same_slice_of_the_whole():
    x = smooth_field((40, 30, 6), seed=4)
    d = signcut.compress(x, width=3, block=(16, 8, 3))
    full = d.reconstruct()
    for region in [(slice(3, 20), slice(None), 2), (5,), (slice(-10, None), -1), (Ellipsis, 4), (7, 8, 1),
                   (slice(0, 40), slice(8, 16), slice(3, 6)), np.int64(2), (slice(None, 5), Ellipsis)]:
        part = d.reconstruct(region=region)
        expected = full[region]
        assert part.shape == expected.shape, region
        assert np.array_equal(part, expected), region


def test_regions_numpy_cannot_box_are_refused():
    d = signcut.compress(smooth_field((20, 10)), width=2)
    with pytest.raises(ValueError, match="step"):
        d.reconstruct(region=(slice(0, 10, 2),))
    with pytest.raises(IndexError):
        d.reconstruct(region=(20,))
    with pytest.raises(IndexError):
        d.reconstruct(region=(1, 2, 3))
    with pytest.raises(ValueError, match="selects nothing"):
        d.reconstruct(region=(slice(5, 5),))
    with pytest.raises(TypeError):
        d.reconstruct(region=("a",))


# --- files ------------------------------------------------------------------------

def test_save_and_load_round_trip_bit_exact(tmp_path, field):
    d = signcut.compress(field, bits_per_value=1.5, seed=9)
    path = tmp_path / "f.sct.h5"
    d.save(path)
    e = signcut.load(path)
    assert np.array_equal(e.reconstruct(), d.reconstruct())
    for name in ("shape", "block_shape", "width", "bits_per_value", "seed", "original_dtype", "blocks", "zfp_blocks"):
        assert getattr(e, name) == getattr(d, name), name
    assert e.rel_fro_error == pytest.approx(d.rel_fro_error)
    with pytest.raises(OSError, match="exists"):
        d.save(path)
    d.save(path, overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["f.sct.h5"]  # atomic: no leftover temporaries


def test_python_and_the_cli_give_the_same_bits(tmp_path, cli):
    cases = [
        (smooth_field((96, 80), seed=11), ["--bits-per-value", "1.5"], dict(bits_per_value=1.5)),
        (smooth_field((30, 28, 12), seed=12), ["--rel-error", "0.1", "--block", "16x16x12"],
         dict(rel_error=0.1, block=(16, 16, 12))),
        (smooth_field((64, 48), seed=13), ["--width", "4", "--block", "whole", "--codecs", "sct"],
         dict(width=4, block="whole", codecs=("sct",))),
    ]
    for i, (x, cli_args, kwargs) in enumerate(cases):
        source = tmp_path / f"in{i}.h5"
        with h5py.File(source, "w") as f:
            f["data"] = x
        by_cli = tmp_path / f"cli{i}.sct.h5"
        subprocess.run([cli, "compress", f"{source}:/data", "-o", str(by_cli), "--seed", "7", "--threads", "2", "--quiet"]
                       + cli_args, check=True)
        by_python = tmp_path / f"py{i}.sct.h5"
        d = signcut.compress(x, seed=7, threads=2, **kwargs)
        d.save(by_python)
        with h5py.File(by_cli) as a, h5py.File(by_python) as b:
            names = sorted(a["decomposition"].keys())
            assert names == sorted(b["decomposition"].keys())
            for name in names:
                assert np.array_equal(a["decomposition"][name][()], b["decomposition"][name][()]), (i, name)
            for attr in ("block_shape", "shape", "width"):
                assert np.array_equal(a["decomposition"].attrs[attr], b["decomposition"].attrs[attr]), (i, attr)
        assert np.array_equal(signcut.load(by_cli).reconstruct(), d.reconstruct())
        # and the CLI decompresses the Python file to the same values
        out = tmp_path / f"out{i}.h5"
        subprocess.run([cli, "decompress", str(by_python), "-o", f"{out}:/x", "--quiet"], check=True)
        with h5py.File(out) as f:
            assert np.array_equal(f["x"][()], d.reconstruct())


def test_recut_is_compress_at_the_smaller_budget(field):
    d = signcut.compress(field, bits_per_value=2, codecs="sct", seed=3)
    r = d.recut(bits_per_value=0.75)
    assert r.bits_per_value <= 0.75 and r.width < d.width
    direct = signcut.compress(field, bits_per_value=0.75, codecs="sct", seed=3, block=d.block_shape)
    assert np.array_equal(r.reconstruct(), direct.reconstruct())
    assert r.rel_fro_error == pytest.approx(direct.rel_fro_error, rel=0.05)
    with pytest.raises(ValueError, match="one budget"):
        d.recut()
    with pytest.raises(ValueError):
        d.recut(bits_per_value=5)


# --- to_cp --------------------------------------------------------------------------

def cp_tensor(weights, factors):
    letters = "abcdefgh"[:len(factors)]
    spec = "r," + ",".join(f"{c}r" for c in letters) + "->" + letters
    return np.einsum(spec, weights.astype(np.float64), *[f.astype(np.float64) for f in factors])


def test_to_cp_is_the_same_tensor():
    x = smooth_field((40, 24, 5), seed=6)
    d = signcut.compress(x, width=3, block=(16, 16, 5))
    weights, factors = d.to_cp()
    assert weights.shape == (d.width,) and [f.shape for f in factors] == [(40, d.width), (24, d.width), (5, d.width)]
    np.testing.assert_allclose(cp_tensor(weights, factors), d.reconstruct(), rtol=0, atol=1e-5)


def test_to_cp_holds_zfp_blocks_exactly():
    # Smooth data at a generous budget: the allocation gives some blocks to zfp.
    x = smooth_field((64, 64), seed=8)
    d = signcut.compress(x, bits_per_value=6, block=(16, 16))
    assert d.zfp_blocks > 0, "expected the allocation to pick zfp for some blocks"
    weights, factors = d.to_cp()
    np.testing.assert_allclose(cp_tensor(weights, factors), d.reconstruct(), rtol=0, atol=1e-5)


# --- the HDF5 filter through h5py --------------------------------------------------

def test_hdf5_filter_parameters_follow_the_documented_layout():
    kw = signcut.hdf5_filter(bits_per_value=2, block=(32, 16), seed=5, codecs="sct")
    assert kw["compression"] == signcut.HDF5_FILTER_ID == 34021
    low, high = np.array([2.0]).view(np.uint32)
    assert kw["compression_opts"] == (1, 1, low, high, 5, 0, 0, 2, 32, 16)
    assert signcut.hdf5_filter()["compression_opts"][:2] == (1, 1)
    assert signcut.hdf5_filter(rmse=0.1)["compression_opts"][1] == 3
    with pytest.raises(ValueError):
        signcut.hdf5_filter(bits_per_value=1, rel_error=0.1)


def test_h5py_writes_and_reads_through_the_filter_without_a_plugin_path(tmp_path):
    # A fresh interpreter with no HDF5_PLUGIN_PATH: only `import signcut`
    # registers the filter.
    path = tmp_path / "filtered.h5"
    env = {k: v for k, v in os.environ.items() if k != "HDF5_PLUGIN_PATH"}
    code = f"""
        import numpy as np, signcut, h5py  # signcut first: the order does not matter
        import sys; sys.path.insert(0, {os.path.dirname(__file__)!r})
        from conftest import smooth_field
        x = smooth_field((128, 96), seed=21)
        with h5py.File({str(path)!r}, "w") as f:
            f.create_dataset("t", data=x, chunks=(64, 48), **signcut.hdf5_filter(rel_error=0.02))
            f.create_dataset("t64", data=x.astype(np.float64), chunks=(64, 96),
                             **signcut.hdf5_filter(bits_per_value=4, block=(32, 32), seed=3))
        with h5py.File({str(path)!r}) as f:
            y64 = f["t64"][()]
            assert y64.dtype == np.float64 and np.linalg.norm(x - y64) / np.linalg.norm(x) < 0.05
        with h5py.File({str(path)!r}) as f:
            d = f["t"]
            assert d.id.get_create_plist().get_filter(0)[0] == signcut.HDF5_FILTER_ID
            y = d[()]
            part = d[10:70, 5]
        err = np.linalg.norm(x - y) / np.linalg.norm(x)
        assert err < 0.05, err
        assert np.array_equal(part, y[10:70, 5])
        assert d.id is not None
        print("stored", __import__("os").path.getsize({str(path)!r}), "of", x.nbytes)
    """
    r = subprocess.run(["/usr/bin/python3", "-c", __import__("textwrap").dedent(code)], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    size, raw = [int(v) for v in re.findall(r"\d+", r.stdout)]
    assert size < raw


def test_the_module_and_h5py_share_one_hdf5():
    import h5py.h5z
    assert h5py.h5z.filter_avail(signcut.HDF5_FILTER_ID)


# --- bad input never kills the interpreter ----------------------------------------

def test_bad_input_raises():
    x = smooth_field((16, 16))
    bad = x.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="(?i)nan|finite"):
        signcut.compress(bad)
    inf = x.copy()
    inf[0, 0] = np.inf
    with pytest.raises(ValueError):
        signcut.compress(inf)
    for empty in (np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.float32(1.0)):
        with pytest.raises(ValueError):
            signcut.compress(empty)
    for wrong in (x.astype(np.complex64), np.array([[object()]]), x > 0, np.array(["a", "b"])):
        with pytest.raises(ValueError, match="dtype"):
            signcut.compress(wrong)
    absurd = [dict(bits_per_value=-1), dict(bits_per_value=float("nan")), dict(width=0), dict(width=2.5),
              dict(rel_error=-0.1), dict(block="0x4"), dict(block=(4,)), dict(block=(99, 4)), dict(block="banana"),
              dict(threads=0), dict(seed=-1), dict(codecs="zfp"), dict(codecs="lz4"),
              dict(bits_per_value=1, width=2), dict(scales="double"), dict(restarts=-1)]
    for kwargs in absurd:
        with pytest.raises(ValueError):
            signcut.compress(x, **kwargs)


def test_bad_files_raise_oserror(tmp_path):
    with pytest.raises(OSError):
        signcut.load(tmp_path / "missing.h5")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not an HDF5 file" * 100)
    with pytest.raises(OSError):
        signcut.load(junk)
    plain = tmp_path / "plain.h5"
    with h5py.File(plain, "w") as f:
        f["data"] = np.zeros((4, 4), np.float32)
    with pytest.raises(OSError):
        signcut.load(plain)
    # A decomposition whose signs were overwritten: the checksums refuse it.
    good = tmp_path / "good.h5"
    signcut.compress(smooth_field((64, 64)), bits_per_value=2, block="whole").save(good)
    data = bytearray(good.read_bytes())
    with h5py.File(good) as f:
        offset = f["decomposition/scales"].id.get_offset()
    if offset is None:  # chunked: damage the middle of the file instead
        offset = len(data) // 2
    for i in range(offset, min(offset + 64, len(data))):
        data[i] ^= 0xFF
    damaged = tmp_path / "damaged.h5"
    damaged.write_bytes(bytes(data))
    with pytest.raises(OSError):
        signcut.load(damaged).reconstruct()
    with pytest.raises(OSError):
        signcut.compress(smooth_field((8, 8)), width=1).save(tmp_path / "no" / "such" / "dir.h5")


def test_bad_input_in_a_fresh_interpreter_leaves_it_running(tmp_path):
    # The riskiest calls in a child: a crash or abort there would show as a
    # signal, not as an exception.
    junk = tmp_path / "junk.sct.h5"
    junk.write_bytes(os.urandom(4096))
    r = run_python(f"""
        import numpy as np, signcut
        calls = [
            lambda: signcut.compress(np.full((64, 64), np.nan, np.float32)),
            lambda: signcut.compress(np.zeros((0, 0, 0), np.float32)),
            lambda: signcut.compress(np.ones((4, 4), np.complex128)),
            lambda: signcut.compress(np.ones((8, 8), np.float32), width=10**15),
            lambda: signcut.compress(np.ones((8, 8), np.float32), bits_per_value=1e300),
            lambda: signcut.compress(np.ones((8, 8), np.float32), block=(2**62, 2**62)),
            lambda: signcut.compress(np.full((8, 8), 3e38, np.float32), width=1),
            lambda: signcut.load({str(junk)!r}),
            lambda: signcut.compress(np.ones((8, 8), np.float32), width=1).reconstruct(region=(2**40,)),
            lambda: signcut.compress(np.ones((8, 8), np.float32), width=1).recut(bits_per_value=1e-9),
            lambda: signcut.lplr(np.ones((8, 8), np.float32), rank=100, bits_l=4, bits_r=4),
            lambda: signcut.compare(np.ones(4, np.float32), np.ones(5, np.float32)),
        ]
        for i, call in enumerate(calls):
            try:
                call()
                print(i, "returned")
            except (ValueError, OSError, MemoryError, IndexError) as e:
                print(i, type(e).__name__, str(e)[:60])
        print("still running")
    """)
    assert r.returncode == 0, (r.returncode, r.stderr)
    assert r.stdout.strip().endswith("still running"), r.stdout


# --- inside somebody else's process -------------------------------------------------

def test_the_pool_survives_fork():
    r = run_python("""
        import os, numpy as np, signcut
        import sys; sys.path.insert(0, %r)
        from conftest import smooth_field
        x = smooth_field((64, 48, 4), seed=30)
        before = signcut.compress(x, threads=2, bits_per_value=1).reconstruct()
        pid = os.fork()
        if pid == 0:
            y = signcut.compress(x, threads=2, bits_per_value=1).reconstruct(threads=2)
            os._exit(0 if np.array_equal(y, before) else 3)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status))
    """ % os.path.dirname(__file__), timeout=120)
    assert r.returncode == 0, r.stderr
    assert "child 0" in r.stdout


def _compress_width(seed):
    return signcut.compress(smooth_field((32, 32), seed=seed), width=2, threads=2).width


def test_multiprocessing_with_fork_after_a_threaded_call():
    import multiprocessing as mp
    signcut.compress(smooth_field((64, 64)), threads=2)
    with mp.get_context("fork").Pool(2) as pool:
        assert pool.map(_compress_width, [1, 2, 3]) == [_compress_width(s) for s in [1, 2, 3]]


def openblas():
    name = ctypes.util.find_library("openblas")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    return lib if hasattr(lib, "openblas_get_num_threads") else None


def test_openblas_thread_count_is_restored():
    lib = openblas()
    if lib is None:
        pytest.skip("OpenBLAS is not loaded")
    lib.openblas_set_num_threads(1)
    x = smooth_field((64, 48), seed=31)
    d = signcut.lplr(x, bits_per_value=2, threads=2)
    d.reconstruct(threads=2)
    assert lib.openblas_get_num_threads() == 1


def test_the_gil_is_released_while_the_library_works():
    x = np.random.default_rng(0).standard_normal((512, 512)).astype(np.float32)
    done = threading.Event()
    ticks = 0

    def work():
        signcut.compress(x, rel_error=0.3, block="whole", threads=1)
        done.set()

    t = threading.Thread(target=work)
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    assert ticks > 5  # the main thread ran while compress did


def test_ctrl_c_interrupts_a_long_compress():
    # Noise has no structure: an error of 1e-3 takes thousands of terms.
    x = np.random.default_rng(1).standard_normal((1024, 1024)).astype(np.float32)
    for block in ("whole", (256, 256)):
        timer = threading.Timer(0.2, _thread.interrupt_main)
        start = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            signcut.compress(x, rel_error=1e-3, block=block, threads=1)
        timer.join()
        assert time.monotonic() - start < 5
    # The default auto rule on a smooth field of 2^20 values: the work is
    # its trials of tile shapes, which must hear the stop too.
    smooth = smooth_field((1024, 1024), seed=2)
    timer = threading.Timer(0.2, _thread.interrupt_main)
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        signcut.compress(smooth, rel_error=1e-4, threads=1)
    timer.join()
    assert time.monotonic() - start < 5


# --- LPLR and compare -----------------------------------------------------------------

def test_lplr_through_python_and_the_cli_agree(tmp_path, cli):
    x = smooth_field((60, 50), seed=40)
    d = signcut.lplr(x, bits_per_value=2, threads=1, seed=2)
    assert d.method == "lplr" and d.block_shape is None and d.bits_per_value <= 2
    y = d.reconstruct()
    assert y.shape == x.shape
    assert d.rel_fro_error == pytest.approx(np.linalg.norm(x - y) / np.linalg.norm(x), rel=1e-3)
    path = tmp_path / "l.sct.h5"
    d.save(path)
    assert np.array_equal(signcut.load(path).reconstruct(), y)
    source = tmp_path / "in.h5"
    with h5py.File(source, "w") as f:
        f["data"] = x
    by_cli = tmp_path / "cli.h5"
    subprocess.run([cli, "compress", f"{source}:/data", "-o", str(by_cli), "--method", "lplr", "-b", "2", "--seed", "2",
                    "--threads", "1", "--quiet"], check=True)
    assert np.array_equal(signcut.load(by_cli).reconstruct(), y)
    explicit = signcut.lplr(x, rank=4, bits_l=4, bits_r=4)
    assert explicit.width == 4
    with pytest.raises(ValueError):
        signcut.lplr(x, rank=4)
    with pytest.raises(ValueError):
        d.recut(bits_per_value=1)


def test_compare_gives_the_library_figures(field):
    y = field + np.float32(0.01)
    m = signcut.compare(field, y)
    assert m["rmse"] == pytest.approx(0.01, rel=1e-4)
    assert m["max_abs_error"] == pytest.approx(0.01, rel=1e-4)
    assert m["rel_fro_error"] == pytest.approx(np.linalg.norm(field - y) / np.linalg.norm(field), rel=1e-4)


# --- documentation ---------------------------------------------------------------------

def test_every_public_name_has_a_docstring_and_a_stub():
    stub = ast.parse(open(os.path.join(os.path.dirname(signcut.__file__), "__init__.pyi")).read())
    stubbed = {n.name for n in stub.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stubbed |= {t.id for n in stub.body if isinstance(n, ast.AnnAssign) for t in [n.target]}
    for name in signcut.__all__:
        assert name in stubbed, name
        obj = getattr(signcut, name)
        if callable(obj):
            assert obj.__doc__, name
    for name in ("reconstruct", "recut", "save", "to_cp", "shape", "width", "rel_fro_error"):
        assert getattr(signcut.Decomposition, name).__doc__, name
    assert os.path.exists(os.path.join(os.path.dirname(signcut.__file__), "py.typed"))


def test_the_readme_example_runs(tmp_path):
    text = open(os.path.join(SOURCE_ROOT, "README.md")).read()
    section = text[text.index("## Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    r = subprocess.run(["/usr/bin/python3", "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_no_signal_handler_and_hdf5_error_printing_left_alone(tmp_path):
    import signal
    hdf5 = ctypes.CDLL("libhdf5_serial.so.103")

    def printing():
        func, data = ctypes.c_void_p(), ctypes.c_void_p()
        assert hdf5.H5Eget_auto2(ctypes.c_int64(0), ctypes.byref(func), ctypes.byref(data)) >= 0
        return func.value, data.value

    signals = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE, signal.SIGQUIT]
    handlers = [signal.getsignal(s) for s in signals]
    before = printing()
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"\x89HDF\r\n\x1a\n" + os.urandom(2000))
    with pytest.raises(OSError):
        signcut.load(junk)
    d = signcut.compress(smooth_field((32, 32)), width=2)
    d.save(tmp_path / "d.h5")
    signcut.load(tmp_path / "d.h5").reconstruct()
    assert printing() == before
    assert [signal.getsignal(s) for s in signals] == handlers
