// `signcut compare`: every method at the same budgets on the same data, in
// one run. Every row shows two counts: bits_per_value, the real size (the
// stored payload of a decomposition file, zfp's stream; for the methods
// that write no file, their packed codes), and counted_bits_per_value, the
// logical count of the literature (a sign 1 bit, a B-bit code B, a float32
// 32, a short scale 13).
//
// sct and sct-whole (signed cuts only) are decomposed once, at the largest
// budget, and recut (the library's recut(), as `signcut recut` does) for
// every smaller one, so their rows share the decomposition's time. auto is
// what `compress` does by default: blocks of the auto shape, each stored by
// signed cuts or zfp as the allocation chooses; a recut keeps zfp blocks as
// they are, so auto is decomposed afresh at every budget.
// LPLR, DSVD and LSVD search their own (rank, bits) per budget; svd, dsvd
// and lsvd share one SVD, whose time each of their rows includes. bf16, f16
// and int8 have a fixed rate and appear once. zfp is zfp at its best.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "common.hpp"
#include "input.hpp"
#include "signcut/any_decomposition.hpp"
#include "signcut/baselines.hpp"
#include "signcut/blocks.hpp"
#include "signcut/deflated_signs.hpp"
#include "signcut/decompose.hpp"
#include "signcut/decomposition_files.hpp"
#include "signcut/error.hpp"
#include "signcut/files.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/lplr.hpp"
#include "signcut/unfinished_outputs.hpp"
#include "signcut/zfp_block_codec.hpp"
#include "svg_plot.hpp"
#include "terminal.hpp"

namespace signcut::cli {
namespace {

const std::vector<std::string> method_ids = {"auto", "sct",  "sct-whole", "lplr", "nq",   "svd",
                                             "dsvd", "lsvd", "bf16",      "f16",  "int8", "zfp"};

/// The signed cut methods: the ones the "beats" lines compare the others with.
bool is_signed_cut(const std::string& method) { return method == "auto" || method == "sct" || method == "sct-whole"; }

/// One line of the table. A budget the method cannot meet has no result.
struct Row {
    std::string method;
    std::optional<double> budget;  ///< nothing for fixed-rate methods
    std::optional<double> bits_per_value;          ///< real: payload or stream
    std::optional<ErrorMetrics> metrics;
    std::optional<double> seconds;
    std::string parameters;
    std::optional<double> counted_bits_per_value;  ///< the logical count
    std::optional<double> file_bits_per_value;     ///< the whole file (HDF5 metadata included), for file methods
};

/// The size in bits per value of the file `write(path)` writes: written to a
/// temporary file, measured and removed.
template <class Write>
double file_bits_per_value(std::uint64_t values, Write&& write)
{
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/signcut-compare-XXXXXX";
    int ticket = -1;
    const int fd = create_unfinished_output(path.data(), &ticket);
    if (fd < 0) throw Error(errc::io, fmt::format("cannot create a temporary file {}: {}", path, std::strerror(errno)));
    ::close(fd);
    struct stat st {};
    try {
        write(path);
        if (::stat(path.c_str(), &st) != 0)
            throw Error(errc::io, fmt::format("cannot stat {}: {}", path, std::strerror(errno)));
    } catch (...) {
        ::unlink(path.c_str());
        untrack_unfinished_output(ticket);
        throw;
    }
    ::unlink(path.c_str());
    untrack_unfinished_output(ticket);
    return 8.0 * static_cast<double>(st.st_size) / static_cast<double>(values);
}

/// What every method needs: the data, its shape and the shared SVD.
class Bench {
public:
    Bench(const Tensor& x, const CompareOptions& o, unsigned threads)
        : x_(x), shape_(x.shape().begin(), x.shape().end()), options_(o), threads_(threads)
    {
        split_ = o.matricize ? Matricization::parse(*o.matricize, shape_.size()) : Matricization::closest_to_square(shape_);
    }

    TensorView<float> view() const { return {x_.data(), shape_}; }
    const Shape& shape() const { return shape_; }
    std::size_t rows() const { return split_.rows(shape_); }
    std::size_t cols() const { return split_.cols(shape_); }
    std::uint64_t values() const { return x_.size(); }

    Row measured(const std::string& method, std::optional<double> budget, const Tensor& y, double bits, double seconds,
                 std::string parameters, std::optional<double> counted = std::nullopt) const
    {
        Row r{method, budget, bits, std::nullopt, seconds, std::move(parameters), counted.value_or(bits), std::nullopt};
        r.metrics = compare(std::span<const float>(x_.data(), x_.size()), std::span<const float>(y.data(), y.size()));
        return r;
    }
    static Row infeasible(const std::string& method, double budget, double minimum)
    {
        return Row{method, budget, std::nullopt, std::nullopt, std::nullopt,
                   fmt::format("needs at least {:.6g} bits/value", minimum), std::nullopt, std::nullopt};
    }

    /// The SVD of the matricization, computed on first use.
    const MatrixSvd& svd()
    {
        if (!svd_) {
            const Stopwatch clock;
            svd_.emplace(view(), split_);
            svd_seconds_ = clock.seconds();
        }
        return *svd_;
    }
    double svd_seconds() const { return svd_seconds_; }

    LplrOptions low_rank_options(double budget) const
    {
        LplrOptions o;
        o.bits_per_value = budget;
        o.matricization = split_;
        o.seed = options_.seed;
        o.threads = threads_;
        return o;
    }

    std::vector<Row> run(const std::string& method, const std::vector<double>& budgets);

private:
    std::vector<Row> signed_cuts(const std::string& method, const BlockChoice& blocks, const std::vector<double>& budgets,
                                 const BlockCodecs& codecs = {});
    std::vector<Row> per_budget(const std::string& method, const std::vector<double>& budgets,
                                const std::function<std::optional<double>(double)>& minimum_if_infeasible,
                                const std::function<Row(double)>& compute);

    const Tensor& x_;
    Shape shape_;
    const CompareOptions& options_;
    unsigned threads_;
    Matricization split_;
    std::optional<MatrixSvd> svd_;
    double svd_seconds_ = 0;
};

std::vector<Row> Bench::per_budget(const std::string& method, const std::vector<double>& budgets,
                                   const std::function<std::optional<double>(double)>& minimum_if_infeasible,
                                   const std::function<Row(double)>& compute)
{
    std::vector<Row> rows;
    for (const double b : budgets) {
        if (const auto minimum = minimum_if_infeasible(b))
            rows.push_back(infeasible(method, b, *minimum));
        else
            rows.push_back(compute(b));
    }
    return rows;
}

std::vector<Row> Bench::signed_cuts(const std::string& method, const BlockChoice& blocks,
                                    const std::vector<double>& budgets, const BlockCodecs& codecs)
{
    const double largest = *std::max_element(budgets.begin(), budgets.end());
    DecomposeOptions o;
    o.bits_per_value = largest;
    o.seed = options_.seed;
    o.threads = threads_;
    o.codecs = codecs;
    o.sign_storage = deflated_signs();  // as compress stores them by default
    // The block shape is chosen at the largest budget and kept for every
    // smaller one that is cut from it (recut keeps a file's block shape);
    // a budget decomposed afresh chooses its own, as compress would.
    const BlockGrid grid(shape_, resolve_block_shape(blocks, view(), o));
    o.blocks = BlockChoice::of(grid.block_shape());
    const std::uint64_t one_term = one_term_payload_bits(grid, o.short_scales ? short_scale_bits : float32_scale_bits);
    const double minimum = double(one_term) / double(values());
    const auto fits = [&](double b) { return std::floor(b * double(values())) >= double(one_term); };
    std::vector<Row> rows;
    if (!fits(largest)) {
        for (const double b : budgets) rows.push_back(infeasible(method, b, minimum));
        return rows;
    }
    DecomposeReport report;
    const Stopwatch clock;
    const SignedCutDecomposition d = decompose(view(), o, &report);
    const double decompose_seconds = clock.seconds();
    const std::span<const float> x(x_.data(), x_.size());
    for (const double b : budgets) {
        if (!fits(b)) {
            rows.push_back(infeasible(method, b, minimum));
            continue;
        }
        const Stopwatch own;
        // The largest budget is the decomposition itself; the others are cut
        // from it as `signcut recut` cuts a file, or, with other codecs,
        // decomposed afresh as `compress --bits-per-value b` decomposes
        // (block shape included: the best tile at 4 bits per value is not
        // the best at 0.5).
        const bool whole = std::floor(b * double(values())) >= double(d.payload().bits());
        SignedCutDecomposition p;
        double seconds = decompose_seconds;
        if (whole) {
            p = d;
        } else if (codecs.empty()) {
            p = recut(d, report.norm2, b, std::nullopt);
        } else {
            DecomposeOptions at = o;
            at.bits_per_value = b;
            at.blocks = blocks;
            p = decompose(view(), at);
            seconds = 0;
        }
        Provenance provenance;
        provenance.norm2 = report.norm2;
        const double file = file_bits_per_value(
            values(), [&](const std::string& path) { write_decomposition(path, p, provenance, true); });
        Row r{method, b, p.bits_per_value(), p.error_against(x, threads_), seconds + own.seconds(),
              fmt::format("blocks={} width={}{}",
                          p.grid().is_whole() ? std::string("whole") : format_shape(p.grid().block_shape()),
                          p.width(), p.coded_block_count() > 0 ? fmt::format(" zfp_blocks={}", p.coded_block_count()) : ""),
              p.counted_bits_per_value(), file};
        rows.push_back(std::move(r));
    }
    return rows;
}

std::vector<Row> Bench::run(const std::string& method, const std::vector<double>& budgets)
{
    const auto rounding = [&](Approximation (*f)(const TensorView<float>&)) {
        const Stopwatch clock;
        Approximation a = f(view());
        return std::vector<Row>{measured(method, std::nullopt, a.reconstruction, a.bits_per_value, clock.seconds(),
                                         a.parameters)};
    };
    const auto low_rank_minimum = [&](double b) -> std::optional<double> {
        if (lplr_rank_for_bits(rows(), cols(), min_quantizer_bits, min_quantizer_bits, b) > 0) return std::nullopt;
        return lplr_bits_per_value(rows(), cols(), 1, min_quantizer_bits, min_quantizer_bits);
    };
    // A factorization's real bits are its payload as an lplr file stores it.
    const auto factorization_row = [&](double b, const LplrDecomposition& d, double seconds) {
        Row r = measured(method, b, d.reconstruct(threads_), Decomposition(d).bits_per_value(), seconds,
                         fmt::format("rank={} bits={}/{}", d.rank(), d.bits_l(), d.bits_r()), d.bits_per_value());
        r.file_bits_per_value = file_bits_per_value(
            values(), [&](const std::string& path) { write_lplr(path, d, Provenance{}, true); });
        return r;
    };

    if (method == "auto") return signed_cuts(method, BlockChoice::automatic(), budgets, {zfp_block_codec()});
    if (method == "sct") return signed_cuts(method, BlockChoice::automatic(), budgets);
    if (method == "sct-whole") return signed_cuts(method, BlockChoice::whole(), budgets);
    if (method == "bf16") return rounding(&round_to_bfloat16);
    if (method == "f16") return rounding(&round_to_float16);
    if (method == "int8") return rounding(&quantize_int8);
    if (method == "lplr")
        return per_budget(method, budgets, low_rank_minimum, [&](double b) {
            const Stopwatch clock;
            const LplrDecomposition d = lplr(view(), low_rank_options(b));
            return factorization_row(b, d, clock.seconds());
        });
    if (method == "dsvd" || method == "lsvd")
        return per_budget(method, budgets, low_rank_minimum, [&](double b) {
            const MatrixSvd& s = svd();
            const Stopwatch clock;
            const LplrDecomposition d = method == "dsvd" ? s.direct_quantized(low_rank_options(b))
                                                         : s.least_squares_quantized(low_rank_options(b));
            return factorization_row(b, d, svd_seconds() + clock.seconds());
        });
    if (method == "svd")
        return per_budget(
            method, budgets,
            [&](double b) -> std::optional<double> {
                if (32.0 * double(rows() + cols()) <= b * double(values())) return std::nullopt;
                return 32.0 * double(rows() + cols()) / double(values());
            },
            [&](double b) {
                const MatrixSvd& s = svd();
                const Stopwatch clock;
                const Approximation a = s.truncated(s.truncated_rank_for_bits(b));
                return measured(method, b, a.reconstruction, a.bits_per_value, svd_seconds() + clock.seconds(),
                                a.parameters);
            });
    if (method == "nq")
        return per_budget(
            method, budgets,
            [&](double b) -> std::optional<double> {
                if (min_max_bits_for_budget(values(), b) > 0) return std::nullopt;
                return (double(values()) + 64) / double(values());
            },
            [&](double b) {
                const Stopwatch clock;
                const Approximation a = min_max_quantize(view(), min_max_bits_for_budget(values(), b));
                return measured(method, b, a.reconstruction, a.bits_per_value, clock.seconds(), a.parameters);
            });
    if (method == "zfp") {
        // zfp at its best: the lowest error of its three modes whose real
        // stream (zfp's header included) fits.
        std::vector<Row> out;
        for (const double b : budgets) {
            const Stopwatch clock;
            std::optional<ZfpResult> z = zfp_best(view(), b);
            if (z) {
                out.push_back(measured(method, b, z->approximation.reconstruction, z->approximation.bits_per_value,
                                       clock.seconds(), z->approximation.parameters));
                out.back().file_bits_per_value = out.back().bits_per_value;  // the stream is the file
            }
            else
                out.push_back(Row{method, b, std::nullopt, std::nullopt, std::nullopt,
                                  "no zfp mode fits the budget", std::nullopt, std::nullopt});
        }
        return out;
    }
    throw Error(errc::invalid_argument, fmt::format("unknown method '{}'", method));
}

JsonObject row_json(const Row& r)
{
    JsonObject j;
    j.add("method", Json::string(r.method))
        .add("budget", Json::optional_number(r.budget))
        .add("bits_per_value", Json::optional_number(r.bits_per_value))
        .add("rel_fro_error", r.metrics ? Json::number(r.metrics->rel_fro_error) : Json::null())
        .add("psnr_db", r.metrics ? Json::number(r.metrics->psnr_db) : Json::null())
        .add("seconds", Json::optional_number(r.seconds))
        .add("counted_bits_per_value", Json::optional_number(r.counted_bits_per_value))
        .add("parameters", Json::string(r.parameters))
        .add("file_bits_per_value", Json::optional_number(r.file_bits_per_value));
    return j;
}

std::string table(const std::vector<Row>& rows)
{
    const auto cell = [](const std::optional<double>& v, const char* spec) {
        return v ? fmt::format(fmt::runtime(spec), *v) : std::string("-");
    };
    std::string out = fmt::format("  {:<9} {:>7} {:>11} {:>9} {:>9} {:>10} {:>8} {:>8}  {}\n", "method", "budget",
                                  "bits/value", "counted", "file", "rel error", "PSNR dB", "seconds", "parameters");
    for (const auto& r : rows) {
        std::string error = "-", psnr = "-";
        if (r.metrics) {
            error = r.metrics->rel_fro_error == 0 ? std::string("0 (exact)") : human_number(r.metrics->rel_fro_error);
            psnr = std::isfinite(r.metrics->psnr_db) ? fmt::format("{:.2f}", r.metrics->psnr_db)
                                                     : human_number(r.metrics->psnr_db);
        }
        out += fmt::format("  {:<9} {:>7} {:>11} {:>9} {:>9} {:>10} {:>8} {:>8}  {}\n", r.method, cell(r.budget, "{:g}"),
                           cell(r.bits_per_value, "{:.4f}"), cell(r.counted_bits_per_value, "{:.4f}"),
                           cell(r.file_bits_per_value, "{:.4f}"), error, psnr,
                           cell(r.seconds, "{:.3f}"), r.parameters);
    }
    return out;
}

/// The method's name in a sentence.
std::string spoken(const std::string& method) { return method == "zfp" ? "zfp at its best" : method; }

/// Plain lines under the table: at each budget where another method has a
/// lower error than the best signed cut row, which one and by how much. A
/// fixed-rate method competes at every budget its rate fits.
std::string verdicts(const std::vector<Row>& rows, const std::vector<double>& budgets)
{
    std::string out;
    bool compared = false;
    for (const double b : budgets) {
        const Row* ours = nullptr;
        const Row* best = nullptr;
        for (const auto& r : rows) {
            if (!r.metrics || !r.bits_per_value) continue;
            const bool here = r.budget ? *r.budget == b : *r.bits_per_value <= b;
            if (!here) continue;
            const Row*& slot = is_signed_cut(r.method) ? ours : best;
            if (slot == nullptr || r.metrics->rel_fro_error < slot->metrics->rel_fro_error) slot = &r;
        }
        if (ours == nullptr || best == nullptr) continue;
        compared = true;
        if (best->metrics->rel_fro_error < ours->metrics->rel_fro_error)
            out += fmt::format("  {} beats {} at {:g} bits per value: {:.3g} against {:.3g}\n", spoken(best->method),
                               ours->method, b, best->metrics->rel_fro_error, ours->metrics->rel_fro_error);
    }
    if (compared && out.empty()) out = "  signed cuts have the lowest error at every budget\n";
    return out;
}

std::string csv_field(const std::optional<double>& v) { return v ? fmt::format("{}", *v) : std::string(); }

/// The table as CSV (RFC 4180: text fields quoted, quotes doubled).
std::string csv(const std::vector<Row>& rows)
{
    const auto quoted = [](const std::string& t) {
        std::string q = "\"";
        for (const char ch : t) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        return q + "\"";
    };
    std::string out =
        "method,budget,bits_per_value,counted_bits_per_value,rel_fro_error,psnr_db,seconds,parameters,"
        "file_bits_per_value\n";
    for (const auto& r : rows) {
        std::optional<double> error, psnr;
        if (r.metrics) {
            error = r.metrics->rel_fro_error;
            if (std::isfinite(r.metrics->psnr_db)) psnr = r.metrics->psnr_db;
        }
        out += fmt::format("{},{},{},{},{},{},{},{},{}\n", r.method, csv_field(r.budget), csv_field(r.bits_per_value),
                           csv_field(r.counted_bits_per_value), csv_field(error), csv_field(psnr), csv_field(r.seconds),
                           quoted(r.parameters), csv_field(r.file_bits_per_value));
    }
    return out;
}

}  // namespace

int run_compare(const CompareOptions& o)
{
    const Stopwatch clock;
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    std::vector<double> budgets = o.budgets;
    for (const double b : budgets)
        if (!(b > 0)) throw Error(errc::invalid_argument, fmt::format("--bits-per-value must be > 0, got {}", b));
    std::sort(budgets.begin(), budgets.end());
    budgets.erase(std::unique(budgets.begin(), budgets.end()), budgets.end());
    if (budgets.empty()) throw Error(errc::invalid_argument, "--bits-per-value needs at least one budget");
    std::vector<std::string> methods;
    for (const auto& m : o.methods.empty() ? method_ids : o.methods) {
        if (std::find(method_ids.begin(), method_ids.end(), m) == method_ids.end())
            throw Error(errc::invalid_argument,
                        fmt::format("unknown method '{}' (expected some of {})", m, fmt::join(method_ids, ",")));
        if (std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
    }

    const InputRef ref = resolve_input(o.input);
    const std::string inputs[] = {ref.file};
    if (o.plot) check_output_path(*o.plot, inputs, o.common.force);
    if (o.csv) check_output_path(*o.csv, inputs, o.common.force);
    if (o.plot && o.csv && std::filesystem::absolute(*o.plot) == std::filesystem::absolute(*o.csv))
        throw Error(errc::invalid_argument, "--plot and --csv name the same file");
    const unsigned threads = thread_count(o.common);
    const LoadedInput input = load_input(ref, memory_limit(o.common), terminal);
    Bench bench(input.data, o, threads);

    std::vector<Row> rows;
    for (const auto& method : methods) {
        if (terminal.progress) fmt::print(stderr, "\rsigncut compare: {}...      ", method);
        std::vector<Row> own = bench.run(method, budgets);
        rows.insert(rows.end(), own.begin(), own.end());
    }
    if (terminal.progress) fmt::print(stderr, "\r{:40}\r", "");

    if (o.plot) {
        std::vector<RateCurve> curves;
        for (const auto& method : methods) {
            RateCurve c{method, {}};
            for (const auto& r : rows)
                if (r.method == method && r.metrics) c.points.push_back({*r.bits_per_value, r.metrics->rel_fro_error});
            curves.push_back(std::move(c));
        }
        const std::string title = fmt::format("{} ({} {})", std::filesystem::path(ref.file).filename().string(),
                                              format_shape(bench.shape()), input.original_dtype);
        write_file_atomically(*o.plot, rate_distortion_svg(curves, title), o.common.force);
    }
    if (o.csv) write_file_atomically(*o.csv, csv(rows), o.common.force);

    if (o.common.json) {
        std::vector<Json> items;
        for (const auto& r : rows) items.push_back(row_json(r).json());
        write_stdout(Json::array(items).text() + "\n");
        return 0;
    }
    write_stdout(fmt::format("signcut compare: {}, shape {} {}, seed {}\n{}{}", o.input, format_shape(bench.shape()),
                             input.original_dtype, o.seed, table(rows), verdicts(rows, budgets)));
    std::string written;
    if (o.plot) written += fmt::format("; plot written to {}", *o.plot);
    if (o.csv) written += fmt::format("; CSV written to {}", *o.csv);
    terminal.summary(fmt::format("  {:.3g} s in all; bits/value = real bits (stored payload or stream) / N, counted = "
                                 "a sign 1 bit, a B-bit code B, a float32 32, a short scale 13; PSNR = 20 log10(range/rmse), range = max "
                                 "- min of the original{}\n",
                                 clock.seconds(), written));
    return 0;
}

}  // namespace signcut::cli
