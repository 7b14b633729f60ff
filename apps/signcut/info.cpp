// `signcut info`: what a decomposition file holds, from its metadata alone
// (attributes, sct's widths and version 3's codecs), for either method and
// format version.
#include <cmath>

#include <fmt/format.h>

#include "common.hpp"
#include "signcut/hdf5.hpp"
#include "terminal.hpp"

namespace signcut::cli {

int run_info(const InfoOptions& o)
{
    const DecompositionInfo info = read_decomposition_info(o.input);
    const std::uint64_t bytes = info.file_bytes;  // the file's size, also for a decomposition in a group of it
    const std::uint64_t n = element_count(info.shape);
    const double ratio = compression_ratio(n, info.provenance.original_dtype, bytes);
    Provenance p = info.provenance;
    p.norm2 = info.norm2;  // NaN (null, "not stored") in a version-1 file
    const bool sct = info.method == "sct";
    const std::uint64_t blocks = sct ? block_count(info.shape, info.block_shape) : 0;
    // How many blocks each codec stores (every block is signed cuts before
    // format version 3).
    const std::uint64_t zfp_blocks = info.blocks_of(CodecId::zfp);
    const std::uint64_t sct_blocks = blocks - zfp_blocks;
    if (o.common.json) {
        JsonObject j;
        j.add("method", Json::string(info.method))
            .add("shape", Json::integers(info.shape))
            .add("original_dtype", Json::string(p.original_dtype))
            .add("width", Json::integer(info.width))
            .add("bits_per_value", Json::number(info.bits_per_value()))
            .add("counted_bits_per_value", Json::number(info.counted_bits_per_value()))
            .add("compression_ratio", Json::number(ratio))
            .add("file_bytes", Json::integer(bytes))
            .add("rel_fro_error", Json::number(p.rel_fro_error))
            .add("provenance", provenance_json(p))
            .add("block_shape", sct ? Json::integers(info.block_shape) : Json::null())
            .add("blocks", sct ? Json::integer(blocks) : Json::null())
            .add("format_version", Json::integer(std::uint64_t(info.format_version)))
            .add("scales_refit", Json::boolean(info.scales_refit))
            // How many blocks each codec stores (format version 3).
            .add("zfp_blocks", sct ? Json::integer(zfp_blocks) : Json::null())
            .add("block_codecs", sct ? JsonObject()
                                           .add("sct", Json::integer(sct_blocks))
                                           .add("zfp", Json::integer(zfp_blocks))
                                           .json()
                                     : Json::null())
            .add("scale_bits", sct ? Json::integer(info.scale_bits) : Json::null())
            .add("signs_deflate_level", sct ? Json::integer(std::uint64_t(info.signs_deflate_level)) : Json::null());
        if (!sct)
            j.add("bits_l", Json::integer(info.bits_l))
                .add("bits_r", Json::integer(info.bits_r))
                .add("matricize", Json::string(info.matricization.to_string()));
        print_json(j);
        return 0;
    }
    std::string grid = sct ? blocks_text(info.shape, info.block_shape, blocks) : std::string();
    if (sct && info.format_version >= 3 && !grid.empty() && grid.back() == ')') {
        // "16x16x16 (4096 blocks: 3010 signed cuts, 1086 zfp)"
        grid.pop_back();
        grid += fmt::format(": {} signed cuts, {} zfp)", sct_blocks, zfp_blocks);
    }
    const std::string layout =
        sct ? fmt::format("blocks {}, width {}, {}-bit scales, {} signs{}", grid, info.width, info.scale_bits,
                          info.signs_deflate_level > 0 ? fmt::format("deflated (level {})", info.signs_deflate_level)
                                                       : std::string("plain"),
                          info.scales_refit ? " (scales refit)" : "")
            : fmt::format("rank {} ({}x{} matricization {}), {}-bit L, {}-bit R", info.width,
                          info.matricization.rows(info.shape), info.matricization.cols(info.shape),
                          info.matricization.to_string(), info.bits_l, info.bits_r);
    write_stdout(fmt::format("{}\n"
               "  format version {}, method {}, shape {} {}, {}\n"
               "  {:.4g} bits/value stored ({:.4g} counted), {} on disk, ratio {:.3g}x, stored rel error {}\n"
               "  source {}, seed {}, signcut {}, created {}{}\n",
               o.input, info.format_version, info.method, format_shape(info.shape), p.original_dtype, layout,
               info.bits_per_value(), info.counted_bits_per_value(), human_bytes(double(bytes)), ratio,
               human_number(p.rel_fro_error), p.source.empty() ? "-" : p.source, p.seed, p.signcut_version, p.created,
               std::isfinite(info.norm2) ? std::string() : " (no norm2: a version-1 file, which recut cannot cut)"));
    return 0;
}

}  // namespace signcut::cli
