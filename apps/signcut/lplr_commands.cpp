// compress, decompress, info and eval for method "lplr": the same contract
// as the sct commands, except that an LPLR factorization has no prefixes,
// so --width and --rel-error are usage errors.
#include <fmt/format.h>

#include "common.hpp"
#include "input.hpp"
#include "signcut/arch.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/image.hpp"
#include "signcut/lplr.hpp"
#include "signcut/version.hpp"
#include "terminal.hpp"

namespace signcut::cli {
namespace {

[[noreturn]] void no_prefixes(const char* option)
{
    throw Error(errc::invalid_argument,
                fmt::format("{} does not apply to lplr decompositions (they have no prefixes); use --bits-per-value, "
                            "or --rank with --bits-l and --bits-r",
                            option));
}

LplrOptions lplr_options(const CompressOptions& o, const Shape& shape, unsigned threads)
{
    const LplrCliOptions& l = o.lplr;
    const bool explicit_rank = l.rank || l.bits_l || l.bits_r;
    if (explicit_rank && !(l.rank && l.bits_l && l.bits_r))
        throw Error(errc::invalid_argument, "--rank, --bits-l and --bits-r go together: give all three");
    if (explicit_rank && o.stop.bits_per_value)
        throw Error(errc::invalid_argument, "give either --bits-per-value or --rank with --bits-l and --bits-r");
    LplrOptions opt;
    if (explicit_rank) {
        opt.rank = l.rank;
        opt.bits_l = l.bits_l;
        opt.bits_r = l.bits_r;
    } else {
        opt.bits_per_value = o.stop.bits_per_value.value_or(1.0);
    }
    if (l.matricize) opt.matricization = Matricization::parse(*l.matricize, shape.size());
    if (l.power_iterations) opt.power_iterations = *l.power_iterations;
    opt.seed = o.seed;
    opt.threads = threads;
    return opt;
}

JsonObject lplr_fields(JsonObject j, unsigned bits_l, unsigned bits_r, const Matricization& split)
{
    j.add("bits_l", Json::integer(bits_l)).add("bits_r", Json::integer(bits_r)).add("matricize", Json::string(split.to_string()));
    return j;
}

}  // namespace

int run_compress_lplr(const CompressOptions& o)
{
    const Stopwatch clock;
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    if (o.stop.width) no_prefixes("--width");
    if (o.stop.rel_error) no_prefixes("--rel-error");
    if (o.stop.refit) throw Error(errc::invalid_argument, "--refit applies to --method sct only");
    if (o.stop.restarts) throw Error(errc::invalid_argument, "--restarts applies to --method sct only");
    if (o.stop.max_updates) throw Error(errc::invalid_argument, "--max-updates applies to --method sct only");
    const InputRef ref = resolve_input(o.input);
    const std::string inputs[] = {ref.file};
    check_output_path(o.output, inputs, o.common.force);

    const std::uint64_t max_bytes = memory_limit(o.common);
    const unsigned threads = thread_count(o.common);
    const LoadedInput input = load_input(ref, max_bytes, terminal);
    const Shape shape(input.data.shape().begin(), input.data.shape().end());
    const LplrOptions options = lplr_options(o, shape, threads);

    const Stopwatch decompose_clock;
    LplrReport report;
    const LplrDecomposition d = lplr(TensorView<float>{input.data.data(), shape}, options, &report);
    const double decompose_seconds = decompose_clock.seconds();
    const Tensor y = d.reconstruct(threads);
    const ErrorMetrics m = compare(std::span<const float>(input.data.data(), input.data.size()),
                                   std::span<const float>(y.data(), y.size()));

    Provenance p;
    p.original_dtype = input.original_dtype;
    p.source = o.input;
    p.seed = o.seed;
    p.signcut_version = version;
    p.rel_fro_error = m.rel_fro_error;
    write_lplr(o.output, d, p, o.common.force);
    const std::uint64_t bytes = file_bytes(o.output);
    const double ratio = compression_ratio(d.size(), input.original_dtype, bytes);
    if (o.common.json) {
        JsonObject j;
        j.add("method", Json::string("lplr"))
            .add("shape", Json::integers(shape))
            .add("width", Json::integer(d.rank()))
            .add("bits_per_value", Json::number(d.bits_per_value()))
            .add("compression_ratio", Json::number(ratio))
            .add("file_bytes", Json::integer(bytes));
        add_metrics(j, m);
        j.add("seconds", Json::number(clock.seconds()))
            .add("decompose_seconds", Json::number(decompose_seconds))
            .add("arch", Json::string(arch_name(active_arch())))
            .add("threads", Json::integer(threads))
            .add("seed", Json::integer(o.seed))
            .add("target_reached", Json::boolean(true));
        j = lplr_fields(j, d.bits_l(), d.bits_r(), d.matricization());
        j.add("power_iterations", Json::integer(options.power_iterations))
            .add("candidates", Json::integer(report.candidates.size()));
        print_json(j);
        return 0;
    }
    const double raw = static_cast<double>(d.size()) * double(dtype_size(input.original_dtype));
    terminal.summary(fmt::format(
        "signcut compress: {} -> {}\n"
        "  shape {} {}, method lplr, rank {} ({}x{} matricization {}), {}-bit L, {}-bit R, {:.4g} bits/value\n"
        "  {} -> {} on disk, ratio {:.3g}x\n"
        "  rel error {}, rmse {}, max abs error {}, PSNR {} dB (20 log10(range/rmse))\n"
        "  {:.3g} s (factor {:.3g} s{}), {} power iteration{}, seed {}\n",
        o.input, o.output, format_shape(shape), input.original_dtype, d.rank(), d.rows(), d.cols(),
        d.matricization().to_string(), d.bits_l(), d.bits_r(), d.bits_per_value(), human_bytes(raw),
        human_bytes(double(bytes)), raw / double(bytes), human_number(m.rel_fro_error), human_number(m.rmse),
        human_number(m.max_abs_error), human_number(m.psnr_db), clock.seconds(), decompose_seconds,
        report.candidates.empty() ? std::string() : fmt::format(", best of {} candidates", report.candidates.size()),
        options.power_iterations, options.power_iterations == 1 ? "" : "s", o.seed));
    return 0;
}

int run_decompress_lplr(const DecompressOptions& o)
{
    const Stopwatch clock;
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    if (o.width) no_prefixes("--width");
    const OutputRef out = parse_output(o.output);
    const std::string inputs[] = {o.input};
    check_output_path(out.file, inputs, o.common.force);

    LplrFileInfo info;
    const LplrDecomposition d = read_lplr(o.input, memory_limit(o.common), &info);
    const Tensor x = d.reconstruct(thread_count(o.common));
    const std::string dtype = o.dtype.value_or(info.provenance.original_dtype);
    const std::uint64_t bytes =
        write_reconstruction(out, x, dtype, info.provenance.original_dtype, o.common.force, terminal);
    if (o.common.json) {
        JsonObject j;
        j.add("shape", Json::integers(d.shape()))
            .add("width", Json::integer(d.rank()))
            .add("seconds", Json::number(clock.seconds()))
            .add("file_bytes", Json::integer(bytes));
        print_json(j);
    } else {
        terminal.summary(fmt::format("signcut decompress: {} -> {}\n  shape {} {}, lplr rank {}, {} written, {:.3g} s\n",
                                     o.input, o.output, format_shape(d.shape()), out.image ? "png" : dtype, d.rank(),
                                     human_bytes(double(bytes)), clock.seconds()));
    }
    return 0;
}

int run_info_lplr(const InfoOptions& o)
{
    const LplrFileInfo info = read_lplr_info(o.input);
    const std::uint64_t bytes = file_bytes(o.input);
    const double ratio = compression_ratio(element_count(info.shape), info.provenance.original_dtype, bytes);
    const Provenance& p = info.provenance;
    if (o.common.json) {
        const JsonObject prov = provenance_json(p);
        JsonObject j;
        j.add("method", Json::string("lplr"))
            .add("shape", Json::integers(info.shape))
            .add("original_dtype", Json::string(p.original_dtype))
            .add("width", Json::integer(info.rank))
            .add("bits_per_value", Json::number(info.bits_per_value()))
            .add("compression_ratio", Json::number(ratio))
            .add("file_bytes", Json::integer(bytes))
            .add("rel_fro_error", Json::number(p.rel_fro_error))
            .add("scales_refit", Json::boolean(false));
        j = lplr_fields(j, info.bits_l, info.bits_r, info.matricization);
        j.add("provenance", prov);
        print_json(j);
        return 0;
    }
    fmt::print("{}\n"
               "  method lplr, shape {} {}, rank {} ({}x{} matricization {}), {}-bit L, {}-bit R\n"
               "  {:.4g} bits/value, {} on disk, ratio {:.3g}x, stored rel error {}\n"
               "  source {}, seed {}, signcut {}, created {}\n",
               o.input, format_shape(info.shape), p.original_dtype, info.rank, info.matricization.rows(info.shape),
               info.matricization.cols(info.shape), info.matricization.to_string(), info.bits_l, info.bits_r,
               info.bits_per_value(), human_bytes(double(bytes)), ratio, human_number(p.rel_fro_error),
               p.source.empty() ? "-" : p.source, p.seed, p.signcut_version, p.created);
    return 0;
}

int run_eval_lplr(const EvalOptions& o)
{
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    if (o.width) no_prefixes("--width");
    const std::uint64_t max_bytes = memory_limit(o.common);
    const InputRef ref = resolve_input(o.original);  // a missing original is reported first
    const LplrDecomposition d = read_lplr(o.decomposition, max_bytes);
    const LoadedInput original = load_original(ref, o.decomposition, d.shape(), max_bytes, terminal);
    const Tensor y = d.reconstruct(thread_count(o.common));
    const ErrorMetrics m = compare(std::span<const float>(original.data.data(), original.data.size()),
                                   std::span<const float>(y.data(), y.size()));
    if (o.common.json) {
        JsonObject j;
        j.add("width", Json::integer(d.rank()));
        add_metrics(j, m);
        print_json(j);
    } else {
        fmt::print("{} vs {} (lplr rank {}): rel error {}, rmse {}, max abs error {}, PSNR {} dB\n", o.decomposition,
                   o.original, d.rank(), human_number(m.rel_fro_error), human_number(m.rmse),
                   human_number(m.max_abs_error), human_number(m.psnr_db));
    }
    return 0;
}

}  // namespace signcut::cli
