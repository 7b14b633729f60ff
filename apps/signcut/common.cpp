#include "common.hpp"

#include "byte_count.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>
#include <type_traits>

#include <fmt/format.h>

#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"

namespace signcut::cli {

std::uint64_t memory_limit(const CommonOptions& o)
{
    return o.max_memory ? parse_bytes(*o.max_memory) : default_memory_limit();
}

unsigned thread_count(const CommonOptions& o)
{
    if (o.threads > 0) return o.threads;
    return std::max(1u, std::thread::hardware_concurrency());
}

std::uint64_t file_bytes(const std::string& path)
{
    std::error_code ec;
    const auto n = std::filesystem::file_size(path, ec);
    if (ec) throw Error(errc::io, fmt::format("cannot stat {}: {}", path, ec.message()));
    return n;
}

double compression_ratio(std::uint64_t values, const std::string& dtype, std::uint64_t bytes)
{
    return static_cast<double>(values) * static_cast<double>(dtype_size(dtype)) / static_cast<double>(bytes);
}

void add_metrics(JsonObject& obj, const ErrorMetrics& m)
{
    obj.add("rel_fro_error", Json::number(m.rel_fro_error))
        .add("max_abs_error", Json::number(m.max_abs_error))
        .add("rmse", Json::number(m.rmse))
        .add("psnr_db", Json::number(m.psnr_db));
}

void write_stdout(std::string_view text)
{
    const auto fail = [](int e) {
        throw Error(errc::io, fmt::format("cannot write to standard output: {}",
                                          e != 0 ? std::strerror(e) : "write error"));
    };
    errno = 0;
    if (!text.empty() && std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) fail(errno);
    if (std::fflush(stdout) != 0) fail(errno);
    if (std::ferror(stdout)) fail(errno);
}

void print_json(const JsonObject& obj) { write_stdout(obj.json().text() + "\n"); }

void check_metrics(const ErrorMetrics& m, const std::string& what)
{
    if (m.finite()) return;
    throw Error(errc::bad_input,
                fmt::format("the error of {} is not a number (relative error {}, rmse {}, max abs error {}): the "
                            "reconstruction is not finite",
                            what, m.rel_fro_error, m.rmse, m.max_abs_error));
}

void refuse_non_finite(std::span<const float> x, const std::string& source, bool image_output)
{
    std::uint64_t bad = 0, first = 0;
    for (std::uint64_t i = x.size(); i-- > 0;)
        if (!std::isfinite(x[i])) ++bad, first = i;
    if (bad == 0) return;
    throw Error(errc::bad_input,
                fmt::format("the float32 reconstruction of {} overflows at {} values (the first at entry {}, where "
                            "it gives {}); {}",
                            source, bad, first, x[first],
                            image_output ? "decompress it to an HDF5 file with --dtype float64, which sums in double"
                                         : "write it with --dtype float64, which sums in double"));
}

void refuse_non_finite(std::span<const double> x, const std::string& source)
{
    std::uint64_t bad = 0, first = 0;
    for (std::uint64_t i = x.size(); i-- > 0;)
        if (!std::isfinite(x[i])) ++bad, first = i;
    if (bad == 0) return;
    throw Error(errc::bad_input, fmt::format("the float64 reconstruction of {} has {} non-finite values (the first at "
                                             "entry {}: {})",
                                             source, bad, first, x[first]));
}

namespace {

template <class T>
void refuse_non_finite_in(std::span<const T> x, std::uint64_t first, const std::string& source)
{
    std::uint64_t bad = 0, at = 0;
    for (std::uint64_t i = x.size(); i-- > 0;)
        if (!std::isfinite(x[i])) ++bad, at = i;
    if (bad == 0) return;
    if constexpr (std::is_same_v<T, float>)
        throw Error(errc::bad_input,
                    fmt::format("the float32 reconstruction of {} overflows at {} values of entries {}..{} (the first "
                                "at entry {}, where it gives {}); write it with --dtype float64, which sums in double",
                                source, bad, first, first + x.size() - 1, first + at, x[at]));
    else
        throw Error(errc::bad_input,
                    fmt::format("the float64 reconstruction of {} has {} non-finite values among entries {}..{} (the "
                                "first at entry {}: {})",
                                source, bad, first, first + x.size() - 1, first + at, x[at]));
}

}  // namespace

void refuse_non_finite_slab(std::span<const float> x, std::uint64_t first, const std::string& source)
{
    refuse_non_finite_in(x, first, source);
}

void refuse_non_finite_slab(std::span<const double> x, std::uint64_t first, const std::string& source)
{
    refuse_non_finite_in(x, first, source);
}

std::optional<Region> decompress_region(const std::optional<std::string>& given, const Shape& shape)
{
    if (!given) return std::nullopt;
    Region region;
    try {
        region = parse_region(*given, shape);
    } catch (const Error& e) {
        throw Error(errc::invalid_argument, fmt::format("--region: {}", e.what()));
    }
    if (region_shape(region).empty())
        throw Error(errc::invalid_argument,
                    fmt::format("--region {} selects a single value; keep at least one mode as a range (e.g. "
                                "{}:{} for the last one)",
                                *given, region.back().start, region.back().start + 1));
    return region;
}

void apply_width(Decomposition& d, std::optional<std::size_t> width, const DecompositionInfo& info,
                 const std::string& path)
{
    if (!width || d.sct() == nullptr) return;
    std::uint64_t widest = 0;
    for (const std::uint64_t w : info.widths) widest = std::max(widest, w);
    if (*width > widest) {
        if (info.widths.size() <= 1)
            throw Error(errc::bad_input, fmt::format("--width {} exceeds the {} terms stored in {}", *width, widest, path));
        throw Error(errc::bad_input,
                    fmt::format("--width {} exceeds the {} terms of the widest of the {} blocks in {} (--width counts "
                                "terms per block)",
                                *width, widest, info.widths.size(), path));
    }
    d = Decomposition(d.sct()->prefix(*width));
}

void no_prefixes(const std::string& option, const std::string& advice)
{
    throw Error(errc::invalid_argument,
                fmt::format("{} does not apply to lplr decompositions (they have no prefixes); {}", option, advice));
}

std::uint64_t block_count(const Shape& shape, const Shape& block_shape)
{
    std::uint64_t g = 1;
    for (std::size_t a = 0; a < shape.size() && a < block_shape.size(); ++a)
        g *= block_shape[a] > 0 ? (shape[a] + block_shape[a] - 1) / block_shape[a] : 0;
    return g;
}

std::string blocks_text(const Shape& shape, const Shape& block_shape, std::uint64_t blocks)
{
    if (block_shape.empty()) return "no blocks";
    if (block_shape == shape) return fmt::format("whole ({} block)", blocks);
    return fmt::format("{} ({} blocks)", format_shape(block_shape), blocks);
}

JsonObject provenance_json(const Provenance& p)
{
    JsonObject prov;
    prov.add("source", Json::string(p.source))
        .add("seed", Json::integer(p.seed))
        .add("signcut_version", Json::string(p.signcut_version))
        .add("created", Json::string(p.created))
        .add("norm2", Json::number(p.norm2));  // null for a version-1 file (NaN: not stored)
    return prov;
}

}  // namespace signcut::cli
