// `signcut compress` and `signcut image`: decompose an input, report what
// was achieved, write the result.
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common.hpp"
#include "input.hpp"
#include "signcut/arch.hpp"
#include <malloc.h>
#include "signcut/decompose.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/image.hpp"
#include "signcut/version.hpp"
#include "terminal.hpp"

namespace signcut::cli {
namespace {

/// The decomposition of one input and the figures measured on it.
struct Outcome {
    SignedCutDecomposition decomposition;
    DecomposeReport report;
    ErrorMetrics metrics;
    Shape shape;
    std::string original_dtype;
    int image_bit_depth = 0;
    Tensor reconstruction;
    Tensor original;  // kept for images only (small), to measure the PNG
    double decompose_seconds = 0;
};

DecomposeOptions decompose_options(const StopOptions& stop, std::uint64_t seed, unsigned threads,
                                   const std::string& original_dtype)
{
    DecomposeOptions o;
    o.width = stop.width;
    o.bits_per_value = stop.bits_per_value;
    o.rel_error = stop.rel_error;
    o.refit_scales = stop.refit;
    o.restarts = stop.restarts;
    if (stop.max_updates) o.max_mode_updates = *stop.max_updates;
    o.seed = seed;
    o.threads = threads;
    // An unreachable error target gives up before the decomposition would
    // take more bits per value than the original data.
    o.max_bits_per_value = 8.0 * static_cast<double>(dtype_size(original_dtype));
    return o;
}

Outcome decompose_input(const InputRef& ref, const StopOptions& stop, std::uint64_t seed, const CommonOptions& common,
                        const Terminal& terminal)
{
    const std::uint64_t max_bytes = memory_limit(common);
    const unsigned threads = thread_count(common);
    Outcome out;
    LoadedInput input = load_input(ref, max_bytes, terminal);
    // The reader's freed buffers go back to the system before the working
    // copies are made, so they do not add to the peak.
    malloc_trim(0);
    out.shape.assign(input.data.shape().begin(), input.data.shape().end());
    out.original_dtype = input.original_dtype;
    out.image_bit_depth = input.image_bit_depth;

    DecomposeOptions options = decompose_options(stop, seed, threads, out.original_dtype);
    std::optional<std::size_t> total = stop.width;
    if (!stop.width && !stop.rel_error) total = sct_width_for_bits(out.shape, stop.bits_per_value.value_or(1.0));
    ProgressBar bar(terminal, total, stop.rel_error);
    options.progress = [&](const Progress& p) {
        bar.update(p.terms, p.rel_error);
        return true;
    };
    const Stopwatch clock;
    // The decomposer takes the loaded buffer as its working remainder, so
    // only one more copy of the data is ever made.
    out.decomposition = decompose(std::move(input.data), options, &out.report);
    out.decompose_seconds = clock.seconds();
    bar.finish();
    if (stop.rel_error && !out.report.target_reached)
        terminal.warn(fmt::format("relative error {} not reached: stopped at {:.4g} with {} terms ({:.3g} bits per "
                                  "value, the size of the original {} data)",
                                  *stop.rel_error, out.report.rel_error, out.decomposition.width(),
                                  out.decomposition.bits_per_value(), out.original_dtype));

    // Measure against the original, read again: the buffer became the remainder.
    LoadedInput original = load_input(ref, max_bytes, Terminal{true, true, false});
    const std::span<const float> x(original.data.data(), original.data.size());
    if (ref.image) {
        // The image command writes the reconstruction, so it is built whole.
        out.reconstruction = out.decomposition.reconstruct(threads);
        out.metrics = compare(x, std::span<const float>(out.reconstruction.data(), out.reconstruction.size()));
        out.original = std::move(original.data);
    } else {
        // Block by block, so the peak stays at one copy of the data here.
        out.metrics = out.decomposition.error_against(x, threads);
    }
    return out;
}

Provenance provenance_of(const Outcome& out, const std::string& source, std::uint64_t seed)
{
    Provenance p;
    p.original_dtype = out.original_dtype;
    p.source = source;
    p.seed = seed;
    p.signcut_version = version;
    p.rel_fro_error = out.metrics.rel_fro_error;
    return p;
}

JsonObject outcome_json(const Outcome& out, std::uint64_t bytes, double seconds, unsigned threads, std::uint64_t seed,
                        const std::optional<double>& rel_error_target)
{
    JsonObject j;
    j.add("method", Json::string("sct"))
        .add("shape", Json::integers(out.shape))
        .add("width", Json::integer(out.decomposition.width()))
        .add("bits_per_value", Json::number(out.decomposition.bits_per_value()))
        .add("compression_ratio", Json::number(compression_ratio(out.decomposition.size(), out.original_dtype, bytes)))
        .add("file_bytes", Json::integer(bytes));
    add_metrics(j, out.metrics);
    j.add("seconds", Json::number(seconds))
        .add("decompose_seconds", Json::number(out.decompose_seconds))
        .add("arch", Json::string(arch_name(active_arch())))
        .add("threads", Json::integer(threads))
        .add("seed", Json::integer(seed))
        .add("target_reached", Json::boolean(!rel_error_target || out.report.target_reached))
        .add("scales_refit", Json::boolean(out.decomposition.scales_refit()))
        .add("greedy_rel_fro_error", Json::number(out.report.greedy_rel_error))
        .add("mode_updates", Json::integer(out.report.mode_updates));
    return j;
}

std::string summary_text(const std::string& command, const std::string& from, const std::string& to,
                         const Outcome& out, std::uint64_t bytes, double seconds, unsigned threads, std::uint64_t seed)
{
    const double raw = static_cast<double>(out.decomposition.size()) * double(dtype_size(out.original_dtype));
    return fmt::format(
        "signcut {}: {} -> {}\n"
        "  shape {} {}, method sct, width {}{}, {:.4g} bits/value\n"
        "  {} -> {} on disk, ratio {:.3g}x\n"
        "  rel error {}, rmse {}, max abs error {}, PSNR {} dB (20 log10(range/rmse))\n"
        "  {:.3g} s (decompose {:.3g} s), {} mode updates, {:.3g} passes/term, {}, {} thread{}, seed {}\n",
        command, from, to, format_shape(out.shape), out.original_dtype, out.decomposition.width(),
        out.decomposition.scales_refit()
            ? fmt::format(" (scales refit; greedy rel error {})", human_number(out.report.greedy_rel_error))
            : std::string(),
        out.decomposition.bits_per_value(), human_bytes(raw), human_bytes(double(bytes)), raw / double(bytes),
        human_number(out.metrics.rel_fro_error), human_number(out.metrics.rmse),
        human_number(out.metrics.max_abs_error), human_number(out.metrics.psnr_db), seconds, out.decompose_seconds,
        out.report.mode_updates,
        out.decomposition.width() ? out.report.dense_passes / double(out.decomposition.width()) : 0.0,
        arch_name(active_arch()), threads, threads == 1 ? "" : "s", seed);
}

/// What the 8-bit PNG holds, mapped back to the source scale, against the original.
double png_psnr_db(const Tensor& original, const Tensor& reconstruction, int bit_depth)
{
    const float scale = bit_depth == 16 ? 257.0f : 1.0f;
    std::vector<float> stored(reconstruction.size());
    for (std::size_t i = 0; i < stored.size(); ++i)
        stored[i] = std::round(std::clamp(reconstruction.data()[i] / scale, 0.0f, 255.0f)) * scale;
    return compare(std::span<const float>(original.data(), original.size()), stored).psnr_db;
}

std::uint64_t measured_file_bytes(const SignedCutDecomposition& d, const Provenance& prov)
{
    const auto dir = std::filesystem::temp_directory_path();
    const auto path = dir / fmt::format("signcut-size-{}.h5", ::getpid());
    write_decomposition(path.string(), d, prov, true);
    const std::uint64_t bytes = file_bytes(path.string());
    std::filesystem::remove(path);
    return bytes;
}

}  // namespace

int run_compress(const CompressOptions& o)
{
    const Stopwatch clock;
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    if (o.method == "lplr") return run_compress_lplr(o);
    if (o.lplr.rank || o.lplr.bits_l || o.lplr.bits_r || o.lplr.matricize || o.lplr.power_iterations)
        throw Error(errc::invalid_argument,
                    "--rank, --bits-l, --bits-r, --matricize and --power-iterations apply to --method lplr only");
    const InputRef ref = resolve_input(o.input);
    const std::string inputs[] = {ref.file};
    check_output_path(o.output, inputs, o.common.force);

    const Outcome out = decompose_input(ref, o.stop, o.seed, o.common, terminal);
    write_decomposition(o.output, out.decomposition, provenance_of(out, o.input, o.seed), o.common.force);
    const std::uint64_t bytes = file_bytes(o.output);
    const unsigned threads = thread_count(o.common);
    if (o.common.json)
        print_json(outcome_json(out, bytes, clock.seconds(), threads, o.seed, o.stop.rel_error));
    else
        terminal.summary(summary_text("compress", o.input, o.output, out, bytes, clock.seconds(), threads, o.seed));
    return 0;
}

int run_image(const ImageOptions& o)
{
    const Stopwatch clock;
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    const InputRef ref = resolve_input(o.input);
    if (!ref.image)
        throw Error(errc::bad_input, fmt::format("{} is not an image (.png .jpg .jpeg .ppm .pgm)", o.input));
    if (!is_image_path(o.output) || !o.output.ends_with(".png"))
        throw Error(errc::invalid_argument, fmt::format("the output {} must be a .png file", o.output));
    const std::string inputs[] = {ref.file};
    check_output_path(o.output, inputs, o.common.force);
    if (o.save) {
        check_output_path(*o.save, inputs, o.common.force);
        if (std::filesystem::absolute(*o.save) == std::filesystem::absolute(o.output))
            throw Error(errc::invalid_argument, "--save and -o name the same file");
    }

    const Outcome out = decompose_input(ref, o.stop, o.seed, o.common, terminal);
    std::vector<std::string> warnings;
    write_png(o.output, out.reconstruction, o.common.force, out.image_bit_depth, &warnings);
    for (const auto& w : warnings) terminal.warn(w);
    const double png_psnr = png_psnr_db(out.original, out.reconstruction, out.image_bit_depth);
    // file_bytes and the ratio are those of the decomposition file, saved
    // or not: without --save it is written to a temporary file and measured.
    std::uint64_t bytes = 0;
    const Provenance prov = provenance_of(out, o.input, o.seed);
    if (o.save) {
        write_decomposition(*o.save, out.decomposition, prov, o.common.force);
        bytes = file_bytes(*o.save);
    } else {
        bytes = measured_file_bytes(out.decomposition, prov);
    }
    const unsigned threads = thread_count(o.common);
    if (o.common.json) {
        JsonObject j = outcome_json(out, bytes, clock.seconds(), threads, o.seed, o.stop.rel_error);
        j.add("png_psnr_db", Json::number(png_psnr));
        print_json(j);
    } else {
        terminal.summary(summary_text("image", o.input, o.output, out, bytes, clock.seconds(), threads, o.seed));
        terminal.summary(fmt::format("  PNG output PSNR {} dB{}\n", human_number(png_psnr),
                                     o.save ? fmt::format(", decomposition saved to {}", *o.save) : ""));
    }
    return 0;
}

}  // namespace signcut::cli
