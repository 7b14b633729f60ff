// `signcut decompress`: rebuild the tensor from a decomposition file.
#include <fmt/format.h>

#include "common.hpp"
#include "input.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "terminal.hpp"

namespace signcut::cli {

int run_decompress(const DecompressOptions& o)
{
    const Stopwatch clock;
    if (read_decomposition_method(o.input) == "lplr") return run_decompress_lplr(o);
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    const OutputRef out = parse_output(o.output);
    const std::string inputs[] = {o.input};
    check_output_path(out.file, inputs, o.common.force);

    DecompositionInfo info;
    SignedCutDecomposition d = read_decomposition(o.input, memory_limit(o.common), &info);
    apply_width(d, o.width, o.input);
    const Tensor x = d.reconstruct(thread_count(o.common));
    const std::string dtype = o.dtype.value_or(info.provenance.original_dtype);
    const std::uint64_t bytes =
        write_reconstruction(out, x, dtype, info.provenance.original_dtype, o.common.force, terminal);
    if (o.common.json) {
        JsonObject j;
        j.add("shape", Json::integers(d.shape()))
            .add("width", Json::integer(d.width()))
            .add("seconds", Json::number(clock.seconds()))
            .add("file_bytes", Json::integer(bytes));
        print_json(j);
    } else {
        terminal.summary(fmt::format("signcut decompress: {} -> {}\n  shape {} {}, width {} of {}, {} written, {:.3g} s\n",
                                     o.input, o.output, format_shape(d.shape()), out.image ? "png" : dtype, d.width(),
                                     info.width, human_bytes(double(bytes)), clock.seconds()));
    }
    return 0;
}

}  // namespace signcut::cli
