// signcut._signcut: the compiled half of `import signcut`.
//
// Thin on purpose: each function checks what only C++ can check, releases
// the GIL and calls the library, the same functions the CLI calls, so that
// the same input, options and seed give the same bits. Argument spelling,
// numpy conversions and region parsing live in the pure-Python half
// (signcut/__init__.py), which is the documented API.
//
// Code inside somebody else's process: no signal handler is installed (a
// Ctrl-C reaches the library through InterruptCheck), HDF5's error
// printing and life cycle are left alone, every library error becomes a
// Python exception, and no thread outlives a call (the library's worker
// pools are per call, so a fork() between calls finds none).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "held_decomposition.hpp"
#include "interrupt_check.hpp"
#include "numpy_arrays.hpp"
#include "python_errors.hpp"
#include "signcut/datasets.hpp"
#include "signcut/decompose.hpp"
#include "signcut/deflated_signs.hpp"
#include "signcut/hdf5_filter.hpp"
#include "signcut/lplr.hpp"
#include "signcut/memory_limit.hpp"
#include "signcut/metrics.hpp"
#include "signcut/version.hpp"
#include "signcut/zfp_block_codec.hpp"

namespace signcut::python {
namespace {

namespace py = pybind11;
using namespace py::literals;

/// One mode of a region as the Python layer resolves it: (start, stop, keep).
using RegionEntry = std::tuple<std::size_t, std::size_t, bool>;

unsigned thread_count(std::optional<unsigned> threads)
{
    if (threads && *threads > 0) return *threads;
    return std::max(1u, std::thread::hardware_concurrency());
}

/// The wall time of the library's work in the last call (seconds), for the
/// overhead measurement in BENCHMARKS.md.
thread_local double last_library_seconds = 0;

class LibraryClock {
public:
    ~LibraryClock()
    {
        last_library_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

private:
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

struct CompressArguments {
    std::optional<std::size_t> width;
    std::optional<double> bits_per_value;
    std::optional<double> rel_error;
    std::string block = "auto";
    std::uint64_t seed = 0;
    std::optional<unsigned> threads;
    bool zfp = true;
    std::optional<std::size_t> restarts;
    bool short_scales = true;
    bool deflate_signs = true;
    bool refit = false;
};

/// The options `signcut compress` builds from the same settings
/// (apps/signcut/compress.cpp), so that both give the same bits.
DecomposeOptions decompose_options(const CompressArguments& a, const Shape& shape, const std::string& original_dtype)
{
    DecomposeOptions o;
    o.width = a.width;
    o.bits_per_value = a.bits_per_value;
    o.rel_error = a.rel_error;
    o.blocks = BlockChoice::parse(a.block);
    check_block_choice(o.blocks, shape);
    o.refit_scales = a.refit;
    o.restarts = a.restarts;
    if (a.zfp) o.codecs.push_back(zfp_block_codec());
    o.short_scales = a.short_scales;
    if (a.deflate_signs) o.sign_storage = deflated_signs();
    o.seed = a.seed;
    o.threads = thread_count(a.threads);
    o.max_bits_per_value = 8.0 * static_cast<double>(dtype_size(original_dtype));
    o.max_memory = default_memory_limit();
    return o;
}

HeldDecomposition compress(const py::array& x, const std::string& original_dtype, bool input_copied,
                           const CompressArguments& a)
{
    const ViewedType type = viewable_type(x);
    const Shape shape = shape_of(x);
    check_shape(shape);
    DecomposeOptions options = decompose_options(a, shape, original_dtype);
    InterruptCheck interrupt;
    options.progress = [&](const Progress&) { return interrupt.keep_going(); };

    HeldDecomposition held;
    DecomposeReport report;
    try {
        py::gil_scoped_release release;
        const LibraryClock clock;
        held.decomposition = type == ViewedType::float32 ? decompose(view_of<float>(x), options, &report)
                                                         : decompose(view_of<double>(x), options, &report);
    } catch (const Error& e) {
        // A stop during the auto rule's trials throws; Python's own
        // exception (KeyboardInterrupt) is the one to raise.
        if (e.code() == errc::cancelled) interrupt.raise_if_interrupted();
        throw;
    }
    interrupt.raise_if_interrupted();
    if (report.cancelled) throw Error(errc::cancelled, "compress was cancelled");
    held.provenance.original_dtype = original_dtype;
    held.provenance.seed = a.seed;
    held.provenance.signcut_version = version;
    held.provenance.norm2 = report.norm2;
    // Blocked runs measure the result as they go; a one-block run bookkeeps
    // its error exactly.
    held.provenance.rel_fro_error = report.metrics ? report.metrics->rel_fro_error : report.rel_error;
    held.input_copied = input_copied;
    held.input_address = reinterpret_cast<std::uintptr_t>(x.data());
    return held;
}

Region region_from(const std::vector<RegionEntry>& entries, const Shape& shape)
{
    Region region;
    for (const auto& [start, stop, keep] : entries) region.push_back(RegionRange{start, stop, keep});
    check_region(region, shape);
    return region;
}

py::array_t<float> reconstruct(const HeldDecomposition& h, const std::optional<std::vector<RegionEntry>>& region,
                               std::optional<unsigned> threads)
{
    std::optional<Region> r;
    if (region) r = region_from(*region, h.decomposition.shape());
    Tensor t;
    {
        py::gil_scoped_release release;
        const LibraryClock clock;
        const unsigned n = thread_count(threads);
        t = r ? h.decomposition.reconstruct(*r, n) : h.decomposition.reconstruct(n);
    }
    return to_numpy(std::move(t));
}

const SignedCutDecomposition& sct_of(const HeldDecomposition& h, const char* what)
{
    if (h.decomposition.sct() == nullptr)
        throw Error(errc::invalid_argument, fmt::format("{} applies to sct decompositions, not {}", what,
                                                        h.decomposition.method()));
    return *h.decomposition.sct();
}

HeldDecomposition recut_decomposition(const HeldDecomposition& h, std::optional<double> bits_per_value,
                                      std::optional<double> rel_error)
{
    const SignedCutDecomposition& d = sct_of(h, "recut");
    if (bits_per_value.has_value() == rel_error.has_value())
        throw Error(errc::invalid_argument, "recut needs one budget: bits_per_value or rel_error");
    if (!std::isfinite(h.provenance.norm2))
        throw Error(errc::bad_input,
                    "this decomposition comes from a format version 1 file, which does not store the original's "
                    "norm2 that recut needs; compress the original again");
    HeldDecomposition out;
    RecutReport report;
    {
        py::gil_scoped_release release;
        out.decomposition = recut(d, h.provenance.norm2, bits_per_value, rel_error, &report, h.provenance.rel_fro_error);
    }
    out.provenance = h.provenance;
    out.provenance.rel_fro_error = report.rel_fro_error_estimate;
    return out;
}

void save(const HeldDecomposition& h, const std::string& path, bool overwrite)
{
    py::gil_scoped_release release;
    if (const SignedCutDecomposition* d = h.decomposition.sct())
        write_decomposition(path, *d, h.provenance, overwrite);
    else
        write_lplr(path, *h.decomposition.lplr(), h.provenance, overwrite);
}

HeldDecomposition load(const std::string& path, std::optional<std::uint64_t> max_memory)
{
    return as_file_error([&] {
        HeldDecomposition h;
        DecompositionInfo info;
        {
            py::gil_scoped_release release;
            h.decomposition = read_decomposition(path, max_memory.value_or(default_memory_limit()), &info);
        }
        h.provenance = info.provenance;
        h.provenance.norm2 = info.norm2;
        return h;
    });
}

/// Every block's terms as numpy arrays, for to_cp(): a dict per block with
/// its origin and extents, its codec, and for signed cut blocks the scales
/// (float32) and one int8 matrix of ±1 per mode (extent × width).
py::list blocks_of(const HeldDecomposition& h)
{
    const SignedCutDecomposition& d = sct_of(h, "to_cp");
    py::list out;
    for (std::size_t b = 0; b < d.block_count(); ++b) {
        const Shape origin = d.grid().origin(b), extents = d.grid().extents(b);
        py::dict block("origin"_a = py::tuple(py::cast(origin)), "extents"_a = py::tuple(py::cast(extents)));
        if (d.codec(b) != CodecId::sct) {
            block["codec"] = "zfp";
            out.append(block);
            continue;
        }
        const SignedCutTerms& terms = d.block(b);
        block["codec"] = "sct";
        block["scales"] = py::array_t<float>(static_cast<py::ssize_t>(terms.width()), terms.scales().data());
        py::list signs;
        for (std::size_t a = 0; a < terms.order(); ++a) {
            const SignMatrix& m = terms.signs(a);
            py::array_t<std::int8_t> s({static_cast<py::ssize_t>(m.rows()), static_cast<py::ssize_t>(m.cols())});
            auto v = s.mutable_unchecked<2>();
            for (std::size_t j = 0; j < m.cols(); ++j)
                for (std::size_t i = 0; i < m.rows(); ++i) v(i, j) = static_cast<std::int8_t>(m(i, j));
            signs.append(s);
        }
        block["signs"] = signs;
        out.append(block);
    }
    return out;
}

HeldDecomposition lplr_of(const py::array& x, const std::string& original_dtype, std::optional<double> bits_per_value,
                          std::optional<std::size_t> rank, std::optional<unsigned> bits_l,
                          std::optional<unsigned> bits_r, std::optional<std::string> matricize,
                          std::optional<unsigned> power_iterations, std::uint64_t seed,
                          std::optional<unsigned> threads)
{
    if (viewable_type(x) != ViewedType::float32) throw Error(errc::invalid_argument, "lplr takes float32 data");
    const TensorView<float> view = view_of<float>(x);
    check_shape(view.shape);
    const bool explicit_rank = rank || bits_l || bits_r;
    if (explicit_rank && !(rank && bits_l && bits_r))
        throw Error(errc::invalid_argument, "rank, bits_l and bits_r go together: give all three");
    if (explicit_rank && bits_per_value)
        throw Error(errc::invalid_argument, "give either bits_per_value or rank with bits_l and bits_r");
    LplrOptions o;
    if (explicit_rank) {
        o.rank = rank;
        o.bits_l = bits_l;
        o.bits_r = bits_r;
    } else {
        o.bits_per_value = bits_per_value.value_or(1.0);
    }
    if (matricize) o.matricization = Matricization::parse(*matricize, view.shape.size());
    if (power_iterations) o.power_iterations = *power_iterations;
    o.seed = seed;
    o.threads = thread_count(threads);
    HeldDecomposition h;
    {
        py::gil_scoped_release release;
        h.decomposition = Decomposition(lplr(view, o));
        const std::span<const float> values(view.data, view.size());
        const ErrorMetrics m = h.decomposition.error_against(values, o.threads);
        double norm2 = 0;
        for (const float v : values) norm2 += double(v) * double(v);
        h.provenance.rel_fro_error = m.rel_fro_error;
        h.provenance.norm2 = norm2;
    }
    h.provenance.original_dtype = original_dtype;
    h.provenance.seed = seed;
    h.provenance.signcut_version = version;
    return h;
}

py::dict metrics_dict(const ErrorMetrics& m)
{
    return py::dict("rel_fro_error"_a = m.rel_fro_error, "rmse"_a = m.rmse, "max_abs_error"_a = m.max_abs_error,
                    "psnr_db"_a = m.psnr_db, "range"_a = m.range, "original_norm"_a = m.original_norm,
                    "error_norm"_a = m.error_norm);
}

py::dict compare_arrays(const py::array& original, const py::array& approximation)
{
    if (viewable_type(original) != ViewedType::float32 || viewable_type(approximation) != ViewedType::float32)
        throw Error(errc::invalid_argument, "compare takes float32 arrays");
    const std::span<const float> x(static_cast<const float*>(original.data()), static_cast<std::size_t>(original.size()));
    const std::span<const float> y(static_cast<const float*>(approximation.data()),
                                   static_cast<std::size_t>(approximation.size()));
    ErrorMetrics m;
    {
        py::gil_scoped_release release;
        m = compare(x, y);
    }
    return metrics_dict(m);
}

std::vector<unsigned> filter_parameters(int rule, double value, const Shape& block_shape, std::uint64_t seed, bool zfp)
{
    if (rule < 1 || rule > 3) throw Error(errc::invalid_argument, fmt::format("unknown filter rule {}", rule));
    if (!(std::isfinite(value) && value > 0))
        throw Error(errc::invalid_argument, fmt::format("the filter's target must be positive and finite, got {}", value));
    for (const std::size_t e : block_shape)
        if (e == 0 || e > 0xffffffffu)
            throw Error(errc::invalid_argument, fmt::format("block extent {} is outside 1..2^32-1", e));
    ChunkEncoding encoding;
    encoding.rule = ChunkRule{static_cast<ChunkRule::Kind>(rule), value};
    encoding.block_shape = block_shape;
    encoding.seed = seed;
    encoding.zfp = zfp;
    return hdf5_filter_parameters(encoding);
}

}  // namespace
}  // namespace signcut::python

PYBIND11_MODULE(_signcut, m)
{
    namespace py = pybind11;
    using namespace signcut;
    using namespace signcut::python;
    using namespace py::literals;

    m.doc() = "The compiled half of signcut; use the functions of the signcut package.";
    register_error_translation();
    m.attr("__version__") = version;
    m.attr("hdf5_filter_id") = hdf5_filter_id;

    py::class_<CompressArguments>(m, "CompressArguments", "Settings of one compress call (internal).")
        .def(py::init<>())
        .def_readwrite("width", &CompressArguments::width)
        .def_readwrite("bits_per_value", &CompressArguments::bits_per_value)
        .def_readwrite("rel_error", &CompressArguments::rel_error)
        .def_readwrite("block", &CompressArguments::block)
        .def_readwrite("seed", &CompressArguments::seed)
        .def_readwrite("threads", &CompressArguments::threads)
        .def_readwrite("zfp", &CompressArguments::zfp)
        .def_readwrite("restarts", &CompressArguments::restarts)
        .def_readwrite("short_scales", &CompressArguments::short_scales)
        .def_readwrite("deflate_signs", &CompressArguments::deflate_signs)
        .def_readwrite("refit", &CompressArguments::refit);

    py::class_<HeldDecomposition>(m, "HeldDecomposition", "A decomposition held by the library (internal).")
        .def_property_readonly("method", [](const HeldDecomposition& h) { return h.decomposition.method(); })
        .def_property_readonly("shape", [](const HeldDecomposition& h) { return py::tuple(py::cast(h.decomposition.shape())); })
        .def_property_readonly("block_shape",
                               [](const HeldDecomposition& h) -> py::object {
                                   if (h.decomposition.sct() == nullptr) return py::none();
                                   return py::tuple(py::cast(h.decomposition.sct()->block_shape()));
                               })
        .def_property_readonly("width", [](const HeldDecomposition& h) { return h.decomposition.width(); })
        .def_property_readonly("bits_per_value", [](const HeldDecomposition& h) { return h.decomposition.bits_per_value(); })
        .def_property_readonly("counted_bits_per_value",
                               [](const HeldDecomposition& h) { return h.decomposition.counted_bits_per_value(); })
        .def_property_readonly("blocks",
                               [](const HeldDecomposition& h) -> std::size_t {
                                   return h.decomposition.sct() ? h.decomposition.sct()->block_count() : 1;
                               })
        .def_property_readonly("zfp_blocks",
                               [](const HeldDecomposition& h) -> std::size_t {
                                   return h.decomposition.sct() ? h.decomposition.sct()->coded_block_count() : 0;
                               })
        .def_property_readonly("format_version",
                               [](const HeldDecomposition& h) {
                                   return h.decomposition.sct() ? h.decomposition.sct()->format_version() : 2;
                               })
        .def_property_readonly("rel_fro_error", [](const HeldDecomposition& h) { return h.provenance.rel_fro_error; })
        .def_property_readonly("norm2", [](const HeldDecomposition& h) { return h.provenance.norm2; })
        .def_property_readonly("seed", [](const HeldDecomposition& h) { return h.provenance.seed; })
        .def_property_readonly("original_dtype", [](const HeldDecomposition& h) { return h.provenance.original_dtype; })
        .def_property_readonly("source", [](const HeldDecomposition& h) { return h.provenance.source; })
        .def_property_readonly("input_copied", [](const HeldDecomposition& h) { return h.input_copied; })
        .def_property_readonly("input_address", [](const HeldDecomposition& h) { return h.input_address; })
        .def("reconstruct", &reconstruct, "region"_a = py::none(), "threads"_a = py::none())
        .def("recut", &recut_decomposition, "bits_per_value"_a = py::none(), "rel_error"_a = py::none())
        .def("save", &save, "path"_a, "overwrite"_a = false)
        .def("blocks_of", &blocks_of);

    m.def("compress", &compress, "x"_a, "original_dtype"_a, "input_copied"_a, "arguments"_a);
    m.def("load", &load, "path"_a, "max_memory"_a = py::none());
    m.def("lplr", &lplr_of, "x"_a, "original_dtype"_a, "bits_per_value"_a, "rank"_a, "bits_l"_a, "bits_r"_a,
          "matricize"_a, "power_iterations"_a, "seed"_a, "threads"_a);
    m.def("compare", &compare_arrays, "original"_a, "approximation"_a);
    m.def("hdf5_filter_parameters", &filter_parameters, "rule"_a, "value"_a, "block_shape"_a, "seed"_a, "zfp"_a);
    m.def("register_hdf5_filter", [] { register_hdf5_filter(); });
    m.def("last_library_seconds", [] { return last_library_seconds; },
          "Wall time of the library's own work in this thread's last compress or reconstruct.");
}
