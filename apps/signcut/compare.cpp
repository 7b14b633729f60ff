// `signcut compare`: every method at the same budgets on the same data, in
// one run, counted by one rule (bits_per_value = stored logical bits / N).
//
// sct is decomposed once, at the largest budget, and each budget takes the
// prefix that fits (the greedy's prefix property), so its rows share the
// decomposition's time. LPLR, DSVD and LSVD search their own (rank, bits)
// per budget; svd, dsvd and lsvd share one SVD, whose time each of their
// rows includes. bf16, f16 and int8 have a fixed rate and appear once.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "common.hpp"
#include "input.hpp"
#include "signcut/baselines.hpp"
#include "signcut/decompose.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/lplr.hpp"
#include "svg_plot.hpp"
#include "terminal.hpp"

namespace signcut::cli {
namespace {

const std::vector<std::string> method_ids = {"sct", "lplr", "nq", "svd", "dsvd", "lsvd", "bf16", "f16", "int8", "zfp"};

/// One line of the table. A budget the method cannot meet has no result.
struct Row {
    std::string method;
    std::optional<double> budget;  ///< nothing for fixed-rate methods
    std::optional<double> bits_per_value;
    std::optional<ErrorMetrics> metrics;
    std::optional<double> seconds;
    std::string parameters;
};

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
                 std::string parameters) const
    {
        Row r{method, budget, bits, std::nullopt, seconds, std::move(parameters)};
        r.metrics = compare(std::span<const float>(x_.data(), x_.size()), std::span<const float>(y.data(), y.size()));
        return r;
    }
    static Row infeasible(const std::string& method, double budget, double minimum)
    {
        return Row{method, budget, std::nullopt, std::nullopt, std::nullopt,
                   fmt::format("needs at least {:.6g} bits/value", minimum)};
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
    std::vector<Row> sct(const std::vector<double>& budgets);
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

std::vector<Row> Bench::sct(const std::vector<double>& budgets)
{
    const double largest = *std::max_element(budgets.begin(), budgets.end());
    const double minimum = sct_bits_per_value(shape_, 1);
    std::vector<Row> rows;
    if (sct_width_for_bits(shape_, largest) == 0) {
        for (const double b : budgets) rows.push_back(infeasible("sct", b, minimum));
        return rows;
    }
    DecomposeOptions o;
    o.bits_per_value = largest;
    o.seed = options_.seed;
    o.threads = threads_;
    const Stopwatch clock;
    const SignedCutDecomposition d = decompose(view(), o);
    const double decompose_seconds = clock.seconds();
    for (const double b : budgets) {
        const std::size_t w = sct_width_for_bits(shape_, b);
        if (w == 0) {
            rows.push_back(infeasible("sct", b, minimum));
            continue;
        }
        const Stopwatch own;
        const SignedCutDecomposition p = d.prefix(w);
        const Tensor y = p.reconstruct(threads_);
        rows.push_back(measured("sct", b, y, p.bits_per_value(), decompose_seconds + own.seconds(),
                                fmt::format("width={}", p.width())));
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
    const auto factorization_row = [&](double b, const LplrDecomposition& d, double seconds) {
        return measured(method, b, d.reconstruct(threads_), d.bits_per_value(), seconds,
                        fmt::format("rank={} bits={}/{}", d.rank(), d.bits_l(), d.bits_r()));
    };

    if (method == "sct") return sct(budgets);
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
        std::vector<Row> out;
        for (const double b : budgets) {
            const Stopwatch clock;
            std::optional<Approximation> a = zfp_fixed_rate(view(), b);
            if (a)
                out.push_back(measured(method, b, a->reconstruction, a->bits_per_value, clock.seconds(), a->parameters));
            else
                out.push_back(Row{method, b, std::nullopt, std::nullopt, std::nullopt, "below zfp's smallest rate"});
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
        .add("parameters", Json::string(r.parameters));
    return j;
}

std::string table(const std::vector<Row>& rows)
{
    const auto cell = [](const std::optional<double>& v, const char* spec) {
        return v ? fmt::format(fmt::runtime(spec), *v) : std::string("-");
    };
    std::string out = fmt::format("  {:<6} {:>7} {:>11} {:>10} {:>8} {:>8}  {}\n", "method", "budget", "bits/value",
                                  "rel error", "PSNR dB", "seconds", "parameters");
    for (const auto& r : rows) {
        std::string error = "-", psnr = "-";
        if (r.metrics) {
            error = r.metrics->rel_fro_error == 0 ? std::string("0 (exact)") : human_number(r.metrics->rel_fro_error);
            psnr = std::isfinite(r.metrics->psnr_db) ? fmt::format("{:.2f}", r.metrics->psnr_db)
                                                     : human_number(r.metrics->psnr_db);
        }
        out += fmt::format("  {:<6} {:>7} {:>11} {:>10} {:>8} {:>8}  {}\n", r.method, cell(r.budget, "{:g}"),
                           cell(r.bits_per_value, "{:.4f}"), error, psnr, cell(r.seconds, "{:.3f}"), r.parameters);
    }
    return out;
}

/// Writes `text` to `path` through a temporary file in the same folder and
/// a rename, so that the output appears whole or not at all.
void write_file_atomically(const std::string& path, const std::string& text, bool force)
{
    namespace fs = std::filesystem;
    const fs::path target(path);
    const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string name = (folder / fmt::format(".{}.signcut-tmp-XXXXXX", target.filename().string())).string();
    const int fd = ::mkstemp(name.data());
    if (fd < 0) throw Error(errc::io, fmt::format("cannot create a temporary file next to {}: {}", path, std::strerror(errno)));
    struct Cleanup {
        const std::string& name;
        bool armed = true;
        ~Cleanup()
        {
            if (armed) ::unlink(name.c_str());
        }
    } cleanup{name};
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int err = errno;
            ::close(fd);
            throw Error(errc::io, fmt::format("cannot write {}: {}", path, std::strerror(err)));
        }
        done += static_cast<std::size_t>(n);
    }
    const mode_t mask = ::umask(0);
    ::umask(mask);
    if (::fchmod(fd, 0666 & ~mask) != 0 || ::fsync(fd) != 0 || ::close(fd) != 0)
        throw Error(errc::io, fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    if (!force && fs::exists(target)) throw Error(errc::io, fmt::format("{} already exists (use --force to replace it)", path));
    if (::rename(name.c_str(), path.c_str()) != 0)
        throw Error(errc::io, fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    cleanup.armed = false;
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
    if (o.plot) {
        const std::string inputs[] = {ref.file};
        check_output_path(*o.plot, inputs, o.common.force);
    }
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

    if (o.common.json) {
        std::vector<Json> items;
        for (const auto& r : rows) items.push_back(row_json(r).json());
        fmt::print("{}\n", Json::array(items).text());
        std::fflush(stdout);
        return 0;
    }
    fmt::print("signcut compare: {}, shape {} {}, seed {}\n{}", o.input, format_shape(bench.shape()),
               input.original_dtype, o.seed, table(rows));
    std::fflush(stdout);
    terminal.summary(fmt::format("  {:.3g} s in all; bits/value = stored bits / N; PSNR = 20 log10(range/rmse){}\n",
                                 clock.seconds(), o.plot ? fmt::format("; plot written to {}", *o.plot) : ""));
    return 0;
}

}  // namespace signcut::cli
