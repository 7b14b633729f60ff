// `signcut eval`: how far a decomposition (or a prefix of it) is from the original.
#include <fmt/format.h>

#include "common.hpp"
#include "input.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "terminal.hpp"

namespace signcut::cli {

int run_eval(const EvalOptions& o)
{
    if (read_decomposition_method(o.decomposition) == "lplr") return run_eval_lplr(o);
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    const std::uint64_t max_bytes = memory_limit(o.common);
    const InputRef ref = resolve_input(o.original);
    SignedCutDecomposition d = read_decomposition(o.decomposition, max_bytes);
    apply_width(d, o.width, o.decomposition);
    const LoadedInput original = load_input(ref, max_bytes, terminal);
    const Shape shape(original.data.shape().begin(), original.data.shape().end());
    if (shape != d.shape())
        throw Error(errc::bad_input, fmt::format("{} has shape {} but {} decomposes shape {}", o.original,
                                                 format_shape(shape), o.decomposition, format_shape(d.shape())));
    const Tensor y = d.reconstruct(thread_count(o.common));
    const ErrorMetrics m = compare(std::span<const float>(original.data.data(), original.data.size()),
                                   std::span<const float>(y.data(), y.size()));
    if (o.common.json) {
        JsonObject j;
        j.add("width", Json::integer(d.width()));
        add_metrics(j, m);
        print_json(j);
    } else {
        fmt::print("{} vs {} at width {}: rel error {}, rmse {}, max abs error {}, PSNR {} dB\n", o.decomposition,
                   o.original, d.width(), human_number(m.rel_fro_error), human_number(m.rmse),
                   human_number(m.max_abs_error), human_number(m.psnr_db));
    }
    return 0;
}

}  // namespace signcut::cli
