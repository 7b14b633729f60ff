#include "compress_options.hpp"

#include <fmt/format.h>

#include "common.hpp"
#include "signcut/datasets.hpp"
#include "signcut/deflated_signs.hpp"
#include "signcut/error.hpp"
#include "signcut/zfp_block_codec.hpp"

namespace signcut::cli {

/// `--block` as given, checked against the input's shape before any data is
/// read: a malformed shape, a zero extent, the wrong number of modes or an
/// extent beyond its dimension is a usage error, and so is --refit with an
/// explicit shape of more than one block. The default is auto, or whole with
/// --refit (the refit needs one block; `--block auto --refit` is refused by
/// the decomposer if the auto rule cuts the tensor).
BlockChoice block_choice(const StopOptions& stop, const Shape& shape)
{
    if (!stop.block) return stop.refit ? BlockChoice::whole() : BlockChoice::automatic();
    BlockChoice choice;
    try {
        choice = BlockChoice::parse(*stop.block);
        check_block_choice(choice, shape);
    } catch (const Error& e) {
        throw Error(errc::invalid_argument, fmt::format("--block {}: {}", *stop.block, e.what()));
    }
    if (stop.refit && choice.kind == BlockChoice::Kind::shape && choice.shape != shape)
        throw Error(errc::invalid_argument,
                    fmt::format("--refit needs one block (--block whole): the allocation between blocks ranks the "
                                "greedy's own scales, and --block {} cuts shape {} into blocks",
                                *stop.block, format_shape(shape)));
    return choice;
}

/// `--codecs`: signed cuts always, zfp when named.
BlockCodecs parse_codecs(const std::string& text)
{
    bool sct = false, zfp = false;
    std::size_t at = 0;
    for (;;) {
        const std::size_t comma = text.find(',', at);
        const std::string name = text.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        if (name == "sct") sct = true;
        else if (name == "zfp") zfp = true;
        else
            throw Error(errc::invalid_argument,
                        fmt::format("--codecs {}: unknown codec '{}' (the codecs are sct and zfp, e.g. sct,zfp)", text,
                                    name));
        if (comma == std::string::npos) break;
        at = comma + 1;
    }
    if (!sct)
        throw Error(errc::invalid_argument,
                    fmt::format("--codecs {}: sct must be among them (the allocation ranks every block against its "
                                "signed cuts): use sct or sct,zfp",
                                text));
    BlockCodecs codecs;
    if (zfp) codecs.push_back(zfp_block_codec());
    return codecs;
}

DecomposeOptions decompose_options(const StopOptions& stop, std::uint64_t seed, unsigned threads,
                                   const std::string& original_dtype)
{
    DecomposeOptions o;
    o.width = stop.width;
    o.bits_per_value = stop.bits_per_value;
    o.rel_error = stop.rel_error;
    o.refit_scales = stop.refit;
    o.restarts = stop.restarts;
    if (stop.screen_cycles) o.screen_cycles = *stop.screen_cycles;
    if (stop.max_updates) o.max_mode_updates = *stop.max_updates;
    o.codecs = parse_codecs(stop.codecs);
    o.short_scales = stop.scales == "short";
    if (stop.signs == "deflate") o.sign_storage = deflated_signs();
    o.seed = seed;
    o.threads = threads;
    // An unreachable error target gives up before the decomposition would
    // take more bits per value than the original data.
    o.max_bits_per_value = 8.0 * static_cast<double>(dtype_size(original_dtype));
    return o;
}

}  // namespace signcut::cli
