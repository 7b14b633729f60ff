#include "common.hpp"

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

void apply_width(SignedCutDecomposition& d, std::optional<std::size_t> width, const std::string& path)
{
    if (!width) return;
    if (*width > d.width())
        throw Error(errc::bad_input,
                    fmt::format("--width {} exceeds the {} terms stored in {}", *width, d.width(), path));
    d.truncate(*width);
}

JsonObject provenance_json(const Provenance& p)
{
    JsonObject prov;
    prov.add("source", Json::string(p.source))
        .add("seed", Json::integer(p.seed))
        .add("signcut_version", Json::string(p.signcut_version))
        .add("created", Json::string(p.created));
    return prov;
}

}  // namespace signcut::cli
