// `signcut info`: what a decomposition file holds, from its metadata alone.
#include <fmt/format.h>

#include "common.hpp"
#include "signcut/hdf5.hpp"
#include "terminal.hpp"

namespace signcut::cli {

int run_info(const InfoOptions& o)
{
    if (read_decomposition_method(o.input) == "lplr") return run_info_lplr(o);
    const DecompositionInfo info = read_decomposition_info(o.input);
    const std::uint64_t bytes = file_bytes(o.input);
    const std::uint64_t n = element_count(info.shape);
    const double ratio = compression_ratio(n, info.provenance.original_dtype, bytes);
    const Provenance& p = info.provenance;
    if (o.common.json) {
        const JsonObject prov = provenance_json(p);
        JsonObject j;
        j.add("method", Json::string(info.method))
            .add("shape", Json::integers(info.shape))
            .add("original_dtype", Json::string(p.original_dtype))
            .add("width", Json::integer(info.width))
            .add("bits_per_value", Json::number(info.bits_per_value()))
            .add("compression_ratio", Json::number(ratio))
            .add("file_bytes", Json::integer(bytes))
            .add("rel_fro_error", Json::number(p.rel_fro_error))
            .add("scales_refit", Json::boolean(info.scales_refit))
            .add("provenance", prov);
        print_json(j);
        return 0;
    }
    fmt::print("{}\n"
               "  method {}, shape {} {}, width {}{}\n"
               "  {:.4g} bits/value, {} on disk, ratio {:.3g}x, stored rel error {}\n"
               "  source {}, seed {}, signcut {}, created {}\n",
               o.input, info.method, format_shape(info.shape), p.original_dtype, info.width,
               info.scales_refit ? " (scales refit)" : "", info.bits_per_value(), human_bytes(double(bytes)), ratio,
               human_number(p.rel_fro_error), p.source.empty() ? "-" : p.source, p.seed, p.signcut_version,
               p.created);
    return 0;
}

}  // namespace signcut::cli
