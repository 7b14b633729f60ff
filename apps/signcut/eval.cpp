// `signcut eval`: how far a decomposition (or a prefix of it) is from the
// original, for either method.
#include <fmt/format.h>

#include "common.hpp"
#include "input.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "terminal.hpp"

namespace signcut::cli {

int run_eval(const EvalOptions& o)
{
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    const std::uint64_t max_bytes = memory_limit(o.common);
    const InputRef ref = resolve_input(o.original);  // a missing original is reported first
    DecompositionInfo info = read_decomposition_info(o.decomposition);
    if (info.method == "lplr" && o.width)
        no_prefixes("--width", "eval measures the whole factorization (give no --width)");
    Decomposition d = read_decomposition(o.decomposition, max_bytes, &info);
    apply_width(d, o.width, info, o.decomposition);
    const LoadedInput original = load_original(ref, o.decomposition, d.shape(), max_bytes, terminal);
    // sct is rebuilt block by block: only the original is held whole.
    const ErrorMetrics m = d.error_against(std::span<const float>(original.data.data(), original.data.size()),
                                           thread_count(o.common));
    // A NaN or an infinite error is no measurement: exit 1, never print it.
    check_metrics(m, fmt::format("{} against {}", o.decomposition, o.original));
    if (m.float32_overflows > 0)
        terminal.warn(fmt::format("{} values of the float32 reconstruction of {} overflow float32: the figures are "
                                  "those of its float64 reconstruction (decompress --dtype float64)",
                                  m.float32_overflows, o.decomposition));
    if (o.common.json) {
        JsonObject j;
        j.add("width", Json::integer(d.width()));
        add_metrics(j, m);
        print_json(j);
    } else {
        write_stdout(fmt::format("{} vs {} ({} {} {}): rel error {}, rmse {}, max abs error {}, PSNR {} dB\n",
                                 o.decomposition, o.original, info.method, d.sct() != nullptr ? "width" : "rank",
                                 d.width(), human_number(m.rel_fro_error), human_number(m.rmse),
                                 human_number(m.max_abs_error), human_number(m.psnr_db)));
    }
    return 0;
}

}  // namespace signcut::cli
