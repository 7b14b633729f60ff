// `signcut compress` and `signcut image`: decompose an input, report what
// was achieved, write the result. `--method lplr` is a branch of compress
// only: every command that reads a file goes through one reader and one
// Decomposition, whatever the method.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "common.hpp"
#include "compress_options.hpp"
#include "input.hpp"
#include "output.hpp"
#include "signcut/arch.hpp"
#include "signcut/decompose.hpp"
#include "signcut/deflated_signs.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/image.hpp"
#include "signcut/lplr.hpp"
#include "signcut/version.hpp"
#include "signcut/zfp_block_codec.hpp"
#include "terminal.hpp"
#include "whole_file_report.hpp"

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

Outcome decompose_input(const InputRef& ref, const StopOptions& stop, std::uint64_t seed, const CommonOptions& common,
                        const Terminal& terminal)
{
    const std::uint64_t max_bytes = memory_limit(common);
    const unsigned threads = thread_count(common);
    Outcome out;
    // An HDF5 input is read a slab of block rows at a time, so its size is
    // bounded by the disk, not by memory; its block shape is checked from its
    // metadata before any data is read. An image (small) is decoded whole.
    std::unique_ptr<RowSource> rows;
    LoadedInput input;
    if (ref.image) {
        input = load_input(ref, max_bytes, terminal);
        out.shape.assign(input.data.shape().begin(), input.data.shape().end());
        out.original_dtype = input.original_dtype;
        out.image_bit_depth = input.image_bit_depth;
    } else {
        out.shape = inspect_dataset(ref.file, ref.dataset).shape;
        (void)block_choice(stop, out.shape);
        rows = open_dataset_rows(ref.file, ref.dataset, &out.original_dtype);
    }

    DecomposeOptions options = decompose_options(stop, seed, threads, out.original_dtype);
    options.blocks = block_choice(stop, out.shape);
    // What the decomposition may hold besides an image already in memory.
    const std::uint64_t held = ref.image ? std::uint64_t(input.data.size()) * sizeof(float) : 0;
    if (held >= max_bytes)
        throw Error(errc::limit, fmt::format("{} needs {} bytes in memory, more than the memory limit of {} bytes",
                                             ref.spec, held, max_bytes));
    options.max_memory = max_bytes - held;
    std::optional<std::size_t> total = stop.width;
    if (!stop.width && !stop.rel_error) total = sct_width_for_bits(out.shape, stop.bits_per_value.value_or(1.0));
    ProgressBar bar(terminal, total, stop.rel_error);
    options.progress = [&](const Progress& p) {
        if (p.trial) return true;  // the auto rule's trials: the bar shows the run itself
        // A blocked run reports blocks done (its error is known at the end).
        if (p.blocks <= 1) bar.update(p.terms, p.rel_error);
        else bar.update_fraction(p.fraction, p.terms);
        return true;
    };
    const Stopwatch clock;
    // The decomposer takes an image's buffer as its working remainder, so
    // only one more copy of it is ever made.
    out.decomposition = rows ? decompose(*rows, options, &out.report) : decompose(std::move(input.data), options, &out.report);
    out.decompose_seconds = clock.seconds();
    bar.finish();
    if (stop.rel_error && !out.report.target_reached)
        terminal.warn(fmt::format("relative error {} not reached: stopped at {:.4g} with {} terms ({:.3g} bits per "
                                  "value, the size of the original {} data)",
                                  *stop.rel_error, out.report.rel_error, out.decomposition.width(),
                                  out.decomposition.bits_per_value(), out.original_dtype));
    if (!ref.image) {
        // decompose() measured the result against the data as it streamed.
        out.metrics = *out.report.metrics;
        return out;
    }
    // Measure against the image, read again: the buffer became the remainder.
    LoadedInput original = load_input(ref, max_bytes, Terminal{true, true, false});
    const std::span<const float> x(original.data.data(), original.data.size());
    // The image command writes the reconstruction, so it is built whole.
    out.reconstruction = out.decomposition.reconstruct(threads);
    out.metrics = compare(x, std::span<const float>(out.reconstruction.data(), out.reconstruction.size()));
    out.original = std::move(original.data);
    return out;
}

Provenance provenance_of(const Outcome& out, const std::string& source, std::uint64_t seed,
                         std::vector<CarriedAttribute> attributes = {})
{
    Provenance p;
    p.source_attributes = std::move(attributes);
    p.original_dtype = out.original_dtype;
    p.source = source;
    p.seed = seed;
    p.signcut_version = version;
    p.rel_fro_error = out.metrics.rel_fro_error;
    p.norm2 = out.report.norm2;
    return p;
}

JsonObject outcome_json(const Outcome& out, std::uint64_t bytes, double seconds, unsigned threads, std::uint64_t seed,
                        const std::optional<double>& rel_error_target)
{
    const SignedCutDecomposition& d = out.decomposition;
    JsonObject j;
    j.add("method", Json::string("sct"))
        .add("shape", Json::integers(out.shape))
        .add("width", Json::integer(d.width()))
        .add("bits_per_value", Json::number(d.bits_per_value()))
        .add("counted_bits_per_value", Json::number(d.counted_bits_per_value()))
        .add("compression_ratio", Json::number(compression_ratio(d.size(), out.original_dtype, bytes)))
        .add("file_bytes", Json::integer(bytes));
    add_metrics(j, out.metrics);
    j.add("seconds", Json::number(seconds))
        .add("decompose_seconds", Json::number(out.decompose_seconds))
        .add("arch", Json::string(arch_name(active_arch())))
        .add("threads", Json::integer(threads))
        .add("seed", Json::integer(seed))
        .add("target_reached", Json::boolean(!rel_error_target || out.report.target_reached))
        .add("block_shape", Json::integers(d.block_shape()))
        .add("blocks", Json::integer(d.block_count()))
        .add("codecs", d.coded_block_count() > 0 ? Json::array({Json::string("sct"), Json::string("zfp")})
                                                 : Json::array({Json::string("sct")}))
        .add("zfp_blocks", Json::integer(d.coded_block_count()))
        .add("format_version", Json::integer(d.format_version()))
        .add("scales_refit", Json::boolean(d.scales_refit()))
        .add("scale_bits", Json::integer(d.scale_bits()))
        .add("signs_deflated", Json::boolean(d.signs_deflated()))
        .add("greedy_rel_fro_error", Json::number(out.report.greedy_rel_error))
        .add("mode_updates", Json::integer(out.report.mode_updates));
    return j;
}

std::string summary_text(const std::string& command, const std::string& from, const std::string& to,
                         const Outcome& out, std::uint64_t bytes, double seconds, unsigned threads, std::uint64_t seed)
{
    const SignedCutDecomposition& d = out.decomposition;
    const double raw = static_cast<double>(d.size()) * double(dtype_size(out.original_dtype));
    return fmt::format(
        "signcut {}: {} -> {}\n"
        "  shape {} {}, method sct, blocks {}{}, width {}{}\n"
        "  {:.4g} bits/value stored ({:.4g} counted: a sign 1 bit, a scale {})\n"
        "  {} -> {} on disk, ratio {:.3g}x\n"
        "  rel error {}, rmse {}, max abs error {}, PSNR {} dB (20 log10(range/rmse))\n"
        "  {:.3g} s (decompose {:.3g} s), {} mode updates, {:.3g} passes/term, {}, {} thread{}, seed {}\n",
        command, from, to, format_shape(out.shape), out.original_dtype,
        blocks_text(d.shape(), d.block_shape(), d.block_count()),
        d.coded_block_count() > 0 ? fmt::format(" ({} zfp)", d.coded_block_count()) : std::string(), d.width(),
        d.scales_refit() ? fmt::format(" (scales refit; greedy rel error {})", human_number(out.report.greedy_rel_error))
                         : std::string(),
        d.bits_per_value(), d.counted_bits_per_value(), d.scale_bits(), human_bytes(raw), human_bytes(double(bytes)),
        raw / double(bytes),
        human_number(out.metrics.rel_fro_error), human_number(out.metrics.rmse),
        human_number(out.metrics.max_abs_error), human_number(out.metrics.psnr_db), seconds, out.decompose_seconds,
        out.report.mode_updates,
        out.decomposition.width() ? out.report.dense_passes / double(out.decomposition.width()) : 0.0,
        arch_name(active_arch()), threads, threads == 1 ? "" : "s", seed);
}

/// The error figures must be numbers; values near the float32 limit whose
/// float32 sums overflow are measured on the float64 reconstruction, and the
/// person is told how to get it.
void check_reconstruction(const ErrorMetrics& m, const std::string& input, const Terminal& terminal)
{
    check_metrics(m, fmt::format("the decomposition of {}", input));
    if (m.float32_overflows > 0)
        terminal.warn(fmt::format("{} values of the reconstruction overflow float32: decompress with --dtype float64 "
                                  "(the errors reported are those of the float64 reconstruction)",
                                  m.float32_overflows));
}

/// compress writes a decomposition file (HDF5); an image name would give an
/// HDF5 file that image viewers cannot open.
void refuse_image_name(const Hdf5Target& target)
{
    if (is_image_path(target.file) || is_foreign_image_path(target.file))
        throw Error(errc::invalid_argument,
                    fmt::format("compress writes a decomposition file (HDF5), not an image: name it e.g. {}.sct.h5 "
                                "(signcut image writes the reconstruction as an image)",
                                std::filesystem::path(target.file).stem().string()));
}

/// The source dataset's attributes that the file can carry; a warning names
/// those it cannot (object references such as dimension scales' lists,
/// compound values).
std::vector<CarriedAttribute> source_attributes(const InputRef& ref, const Terminal& terminal)
{
    if (ref.image) return {};
    std::vector<std::string> skipped;
    std::vector<CarriedAttribute> kept = read_dataset_attributes(ref.file, ref.dataset, &skipped);
    if (!skipped.empty()) {
        std::string reasons;
        for (const std::string& n : skipped) reasons += (reasons.empty() ? "" : "; ") + n;
        terminal.warn(fmt::format("{} attribute{} of {} {} not kept ({}): numbers and readable strings travel with "
                                  "a decomposition",
                                  skipped.size(), skipped.size() == 1 ? "" : "s", ref.spec,
                                  skipped.size() == 1 ? "is" : "are", reasons));
    }
    return kept;
}


// --- --method lplr ----------------------------------------------------------

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

/// The options that belong to --method sct, refused with --method lplr.
void refuse_sct_options(const StopOptions& stop)
{
    const std::string advice = "use --bits-per-value, or --rank with --bits-l and --bits-r";
    if (stop.width) no_prefixes("--width", advice);
    if (stop.rel_error) no_prefixes("--rel-error", advice);
    if (stop.refit) throw Error(errc::invalid_argument, "--refit applies to --method sct only");
    if (stop.restarts) throw Error(errc::invalid_argument, "--restarts applies to --method sct only");
    if (stop.screen_cycles) throw Error(errc::invalid_argument, "--screen-cycles applies to --method sct only");
    if (stop.max_updates) throw Error(errc::invalid_argument, "--max-updates applies to --method sct only");
    if (stop.block)
        throw Error(errc::invalid_argument,
                    "--block applies to --method sct only (an lplr factorization is one matrix; --matricize chooses "
                    "its split)");
}

int compress_lplr(const CompressOptions& o, const Stopwatch& clock, const Terminal& terminal)
{
    refuse_sct_options(o.stop);
    const InputRef ref = resolve_input(o.input);
    const Hdf5Target target = parse_hdf5_target(o.output);
    refuse_image_name(target);
    const ObjectRef inputs[] = {{ref.file, ref.dataset}};
    check_hdf5_target(target, inputs, o.common.force, terminal);

    const std::uint64_t max_bytes = memory_limit(o.common);
    const unsigned threads = thread_count(o.common);
    const LoadedInput input = load_input(ref, max_bytes, terminal);
    const Shape shape(input.data.shape().begin(), input.data.shape().end());
    const LplrOptions options = lplr_options(o, shape, threads);

    const Stopwatch decompose_clock;
    LplrReport report;
    LplrDecomposition factors = lplr(TensorView<float>{input.data.data(), shape}, options, &report);
    const double decompose_seconds = decompose_clock.seconds();
    const Decomposition d(std::move(factors));
    const LplrDecomposition& f = *d.lplr();
    const std::span<const float> x(input.data.data(), input.data.size());
    const ErrorMetrics m = d.error_against(x, threads);
    check_reconstruction(m, o.input, terminal);
    double norm2 = 0;
    for (const float v : x) norm2 += double(v) * double(v);

    Provenance p;
    p.original_dtype = input.original_dtype;
    p.source = o.input;
    p.seed = o.seed;
    p.signcut_version = version;
    p.rel_fro_error = m.rel_fro_error;
    p.norm2 = norm2;
    p.source_attributes = source_attributes(ref, terminal);
    // Inside a larger file, the decomposition's own size is what it costs;
    // measured first, so that a failure to measure leaves no output.
    const std::uint64_t own = target.into_existing() ? own_file_bytes(f, p) : 0;
    write_lplr(target.file, f, p, o.common.force, target.object);
    const std::uint64_t bytes = target.into_existing() ? own : file_bytes(target.file);
    const double ratio = compression_ratio(d.size(), input.original_dtype, bytes);
    if (o.common.json) {
        JsonObject j;
        j.add("method", Json::string("lplr"))
            .add("shape", Json::integers(shape))
            .add("width", Json::integer(f.rank()))
            .add("bits_per_value", Json::number(d.bits_per_value()))
            .add("counted_bits_per_value", Json::number(d.counted_bits_per_value()))
            .add("compression_ratio", Json::number(ratio))
            .add("file_bytes", Json::integer(bytes));
        add_metrics(j, m);
        j.add("seconds", Json::number(clock.seconds()))
            .add("decompose_seconds", Json::number(decompose_seconds))
            .add("arch", Json::string(arch_name(active_arch())))
            .add("threads", Json::integer(threads))
            .add("seed", Json::integer(o.seed))
            .add("target_reached", Json::boolean(true))
            .add("block_shape", Json::null())  // an lplr factorization has no blocks
            .add("blocks", Json::null())
            .add("codecs", Json::array({Json::string("lplr")}))
            .add("bits_l", Json::integer(f.bits_l()))
            .add("bits_r", Json::integer(f.bits_r()))
            .add("matricize", Json::string(f.matricization().to_string()))
            .add("power_iterations", Json::integer(options.power_iterations))
            .add("candidates", Json::integer(report.candidates.size()));
        print_json(j);
        return 0;
    }
    const double raw = static_cast<double>(d.size()) * double(dtype_size(input.original_dtype));
    terminal.summary(fmt::format(
        "signcut compress: {} -> {}\n"
        "  shape {} {}, method lplr, rank {} ({}x{} matricization {}), {}-bit L, {}-bit R\n"
        "  {:.4g} bits/value stored ({:.4g} counted: a B-bit code B bits, a scale 32)\n"
        "  {} -> {} on disk, ratio {:.3g}x\n"
        "  rel error {}, rmse {}, max abs error {}, PSNR {} dB (20 log10(range/rmse))\n"
        "  {:.3g} s (factor {:.3g} s{}), {} power iteration{}, seed {}\n",
        o.input, o.output, format_shape(shape), input.original_dtype, f.rank(), f.rows(), f.cols(),
        f.matricization().to_string(), f.bits_l(), f.bits_r(), d.bits_per_value(), d.counted_bits_per_value(),
        human_bytes(raw), human_bytes(double(bytes)), raw / double(bytes), human_number(m.rel_fro_error),
        human_number(m.rmse), human_number(m.max_abs_error), human_number(m.psnr_db), clock.seconds(),
        decompose_seconds,
        report.candidates.empty() ? std::string() : fmt::format(", best of {} candidates", report.candidates.size()),
        options.power_iterations, options.power_iterations == 1 ? "" : "s", o.seed));
    return 0;
}

}  // namespace

int run_compress(const CompressOptions& o)
{
    const Stopwatch clock;
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    if (o.method == "lplr") return compress_lplr(o, clock, terminal);
    if (o.lplr.rank || o.lplr.bits_l || o.lplr.bits_r || o.lplr.matricize || o.lplr.power_iterations)
        throw Error(errc::invalid_argument,
                    "--rank, --bits-l, --bits-r, --matricize and --power-iterations apply to --method lplr only");
    const InputRef ref = resolve_input(o.input);
    const Hdf5Target target = parse_hdf5_target(o.output);
    refuse_image_name(target);
    const ObjectRef inputs[] = {{ref.file, ref.dataset}};
    check_hdf5_target(target, inputs, o.common.force, terminal);

    // Read before the long part, so that its warning comes first.
    std::vector<CarriedAttribute> attributes = source_attributes(ref, terminal);
    const Outcome out = decompose_input(ref, o.stop, o.seed, o.common, terminal);
    check_reconstruction(out.metrics, o.input, terminal);
    const Provenance prov = provenance_of(out, o.input, o.seed, std::move(attributes));
    // Inside a larger file, the decomposition's own size is what it costs;
    // measured first, so that a failure to measure leaves no output.
    const std::uint64_t own = target.into_existing() ? own_file_bytes(out.decomposition, prov) : 0;
    write_decomposition(target.file, out.decomposition, prov, o.common.force, target.object);
    const std::uint64_t bytes = target.into_existing() ? own : file_bytes(target.file);
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
    check_image_output_for(o.output, ref.file);
    const std::string inputs[] = {ref.file};
    check_output_path(o.output, inputs, o.common.force);
    if (o.save) {
        check_output_path(*o.save, inputs, o.common.force);
        if (std::filesystem::absolute(*o.save) == std::filesystem::absolute(o.output))
            throw Error(errc::invalid_argument, "--save and -o name the same file");
    }

    const Outcome out = decompose_input(ref, o.stop, o.seed, o.common, terminal);
    write_image_output(o.output, out.reconstruction, image_write_options(out.original_dtype, o.common.force, o.scale),
                       terminal);
    const double png_psnr = written_image_psnr_db(o.output, out.original, out.image_bit_depth);
    // file_bytes and the ratio are those of the decomposition file, saved
    // or not: without --save it is written to a temporary file and measured.
    std::uint64_t bytes = 0;
    const Provenance prov = provenance_of(out, o.input, o.seed);
    if (o.save) {
        write_decomposition(*o.save, out.decomposition, prov, o.common.force);
        bytes = file_bytes(*o.save);
    } else {
        bytes = own_file_bytes(out.decomposition, prov);
    }
    const unsigned threads = thread_count(o.common);
    if (o.common.json) {
        JsonObject j = outcome_json(out, bytes, clock.seconds(), threads, o.seed, o.stop.rel_error);
        j.add("png_psnr_db", Json::number(png_psnr));
        print_json(j);
    } else {
        terminal.summary(summary_text("image", o.input, o.output, out, bytes, clock.seconds(), threads, o.seed));
        terminal.summary(fmt::format("  {} output PSNR {} dB{}\n", image_format_name(image_output_format(o.output)),
                                     human_number(png_psnr),
                                     o.save ? fmt::format(", decomposition saved to {}", *o.save) : ""));
    }
    return 0;
}

// --- compress --all ----------------------------------------------------------

namespace {

/// Why a dataset of a whole file is copied rather than decomposed, or
/// nothing if it is decomposed.
std::optional<std::string> reason_to_copy(const std::string& file, const std::string& path)
{
    DatasetInfo info;
    try {
        info = inspect_dataset(file, path);
    } catch (const Error& e) {
        return std::string("not a numeric array");
    }
    if (info.dtype.rfind("float", 0) != 0) return fmt::format("{} data", info.dtype);
    if (info.shape.size() < 2) return std::string("order 1 (signed cuts need two or more modes)");
    for (const CarriedAttribute& a : read_dataset_attributes(file, path))
        if (a.name == "CLASS" && a.kind == CarriedAttribute::Kind::string &&
            std::string(reinterpret_cast<const char*>(a.bytes.data())) == "DIMENSION_SCALE")
            return std::string("a dimension scale (coordinates are kept exact)");
    return std::nullopt;
}

}  // namespace

int run_compress_all(const CompressOptions& o)
{
    const Stopwatch clock;
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    if (o.method != "sct") throw Error(errc::invalid_argument, "--all decomposes with --method sct only");
    if (o.stop.width) throw Error(errc::invalid_argument, "--all takes --bits-per-value or --rel-error, not --width");
    if (is_image_path(o.input)) throw Error(errc::invalid_argument, "--all takes an HDF5 file, not an image");
    const std::string output = whole_file_output(o.input, o.output, o.common.force, "--all");

    ObjectReport report;
    std::size_t decomposed = 0;
    const ObjectTransform transform = [&](const std::string& path,
                                          bool is_decomposition) -> std::optional<ObjectReplacement> {
        const std::string spec = o.input + ":" + path;
        if (is_decomposition) return report.copied(path, "already a signcut decomposition");
        if (const std::optional<std::string> why = reason_to_copy(o.input, path)) return report.copied(path, *why);
        InputRef ref;
        ref.spec = spec;
        ref.file = o.input;
        ref.dataset = path;
        std::vector<CarriedAttribute> attributes = source_attributes(ref, terminal);
        Outcome out;
        try {
            out = decompose_input(ref, o.stop, o.seed, o.common, terminal);
        } catch (const Error& e) {
            // A budget below one term of this dataset (a bias vector, a
            // small table) keeps it exact; anything else is an error.
            if (std::string_view(e.what()).find("one term") == std::string_view::npos) throw;
            return report.copied(path, "the budget is below one term");
        }
        ++decomposed;
        ObjectReplacement r;
        r.provenance = provenance_of(out, spec, o.seed, std::move(attributes));
        JsonObject row;
        row.add("path", Json::string(path))
            .add("action", Json::string("decomposed"))
            .add("shape", Json::integers(out.shape))
            .add("width", Json::integer(out.decomposition.width()))
            .add("bits_per_value", Json::number(out.decomposition.bits_per_value()))
            .add("rel_fro_error", Json::number(out.metrics.rel_fro_error));
        report.transformed(fmt::format("  {:<32} {} {}, {:.3g} bits/value, rel error {:.4g}\n", path,
                                       format_shape(out.shape), out.original_dtype,
                                       out.decomposition.bits_per_value(), out.metrics.rel_fro_error),
                           row.json());
        r.decomposition = Decomposition(std::move(out.decomposition));
        return r;
    };
    for (const std::string& note : rewrite_file(o.input, output, o.common.force, transform)) terminal.warn(note);
    report.print(terminal, o.common.json, "signcut compress --all", o.input, output,
                 {{"decomposed", Json::integer(decomposed)}, {"copied", Json::integer(report.copied_count())}},
                 fmt::format("{} decomposed, {} copied", decomposed, report.copied_count()), clock.seconds());
    return 0;
}

}  // namespace signcut::cli
