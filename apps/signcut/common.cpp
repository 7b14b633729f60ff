#include "common.hpp"

#include <algorithm>
#include <thread>

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

void print_json(const JsonObject& obj)
{
    fmt::print("{}\n", obj.json().text());
    std::fflush(stdout);
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
