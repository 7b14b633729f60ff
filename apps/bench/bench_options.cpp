// The quality options against the plain greedy, at equal bits: the
// least-squares refit of the scales (DecomposeOptions::refit_scales) and two
// restarts per term (DecomposeOptions::restarts); the relative error and the
// time of each. On 1024² N(0,1) it also finds the width that reaches bf16's
// rounding error with the refit (the greedy's is figure 8 of
// signcut-bench-decompose). This measurement keeps both options off by default.
// Usage: signcut-bench-options [SHARED_DATA_DIR]  (default: the source tree's data/ only)
#include <chrono>
#include <cmath>
#include <cstdint>
#include <span>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "signcut/baselines.hpp"
#include "signcut/decompose.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/image.hpp"
#include "signcut/metrics.hpp"
#include "signcut/random.hpp"

using namespace signcut;

namespace {

struct Run {
    double error = 0, seconds = 0;
};

Run run(const Tensor& x, DecomposeOptions o)
{
    const auto t0 = std::chrono::steady_clock::now();
    DecomposeReport r;
    o.blocks = BlockChoice::whole();  // the options are compared on the greedy itself
    (void)decompose(TensorView<float>{x.data(), Shape(x.shape().begin(), x.shape().end())}, o, &r);
    return {r.rel_error, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

/// The plain greedy, the refit and two restarts, each on its own, with the
/// stopping rule and threads of `o`.
struct OptionRuns {
    Run greedy, refit, restarts;
};

OptionRuns run_options(const Tensor& x, DecomposeOptions o)
{
    OptionRuns r;
    o.restarts = 0;  // the plain greedy, whatever the order's default
    o.refit_scales = false;
    r.greedy = run(x, o);
    o.refit_scales = true;
    r.refit = run(x, o);
    o.refit_scales = false;
    o.restarts = 2;
    r.restarts = run(x, o);
    return r;
}

}  // namespace

int main(int argc, char** argv)
{
    std::vector<std::string> files = {SIGNCUT_SOURCE_DIR "/data/skimage_chelsea.png",
                                      SIGNCUT_SOURCE_DIR "/data/skimage_camera.png",
                                      SIGNCUT_SOURCE_DIR "/data/topo_etopo20.h5"};
    if (argc > 1)
        for (const char* sub : {"tensors", "images"})
            for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(argv[1]) / sub))
                files.push_back(e.path().string());
    fmt::print("{:<42} {:<14} {:>4}  {:>6}  {:>9} {:>9} {:>7} {:>9} {:>7}  {:>8} {:>8} {:>8}\n", "data", "shape",
               "bits", "width", "greedy", "refit", "ratio", "2 restr", "ratio", "greedy s", "refit s", "restr s");
    for (const auto& f : files) {
        const Tensor x = is_image_path(f) ? read_image(f, std::uint64_t{1} << 32)
                                          : read_dataset(f, list_datasets(f).front(), std::uint64_t{1} << 32);
        const Shape shape(x.shape().begin(), x.shape().end());
        for (double bits : {0.5, 1.0, 2.0}) {
            DecomposeOptions o;
            o.bits_per_value = bits;
            o.threads = 2;
            const auto [greedy, refit, restarts] = run_options(x, o);
            fmt::print("{:<42} {:<14} {:>4}  {:>6}  {:>9.5f} {:>9.5f} {:>7.4f} {:>9.5f} {:>7.4f}  {:>8.3f} {:>8.3f} {:>8.3f}\n",
                       std::filesystem::path(f).filename().string(), format_shape(shape), bits,
                       sct_width_for_bits(shape, bits), greedy.error, refit.error, refit.error / greedy.error,
                       restarts.error, restarts.error / greedy.error, greedy.seconds, refit.seconds, restarts.seconds);
        }
    }

    // 1024² N(0,1): errors at fractions of w_eq, and the width reaching bf16's
    // rounding error with the refit (bisection over widths; each probe is a
    // full run, as the refit has no prefix property).
    const std::size_t n = 1024;
    Tensor g = Tensor::from_shape({n, n});
    SplitMix64 rng(8);
    for (auto& v : g) v = static_cast<float>(rng.normal());
    const Approximation rounded = round_to_bfloat16(TensorView<float>{g.data(), Shape{n, n}});
    const double bf16 = compare(std::span<const float>(g.data(), g.size()),
                                std::span<const float>(rounded.reconstruction.data(), rounded.reconstruction.size()))
                            .rel_fro_error;
    const std::size_t w_eq = 16 * n * n / (n + n + 32);
    fmt::print("\n1024² N(0,1): w_eq {}, bf16 rounding error {:.5f}\n", w_eq, bf16);
    for (double frac : {0.25, 0.5, 0.75}) {
        DecomposeOptions o;
        o.width = static_cast<std::size_t>(frac * double(w_eq));
        o.threads = 2;
        const auto [greedy, refit, restarts] = run_options(g, o);
        fmt::print("  width {:>5} ({:.2f} w_eq): greedy {:.6f} ({:.2f} s), refit {:.6f} ({:.2f} s, ratio {:.4f}), "
                   "2 restarts {:.6f} ({:.2f} s, ratio {:.4f})\n",
                   *o.width, frac, greedy.error, greedy.seconds, refit.error, refit.seconds, refit.error / greedy.error,
                   restarts.error, restarts.seconds, restarts.error / greedy.error);
    }
    // The plain greedy and restarts keep the prefix property, so one run with
    // the error as its stopping rule finds their width on this same matrix.
    for (std::size_t restarts : {0, 2}) {
        DecomposeOptions o;
        o.threads = 2;
        o.restarts = restarts;
        o.rel_error = bf16;
        const auto t0 = std::chrono::steady_clock::now();
        o.blocks = BlockChoice::whole();
        const auto d = decompose(TensorView<float>{g.data(), Shape{n, n}}, o);
        fmt::print("  {}: bf16's error reached at width {} = {:.3f} w_eq ({:.1f} s)\n",
                   restarts == 0 ? "plain greedy" : "2 restarts", d.width(), double(d.width()) / double(w_eq),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::size_t lo = w_eq / 2, hi = w_eq;  // error(lo) > bf16 >= error(hi), checked below
    DecomposeOptions o;
    o.threads = 2;
    o.refit_scales = true;
    o.width = hi;
    if (run(g, o).error > bf16) {
        fmt::print("  refit: bf16's error not reached by w_eq\n");
        return 0;
    }
    while (hi - lo > 1) {
        const std::size_t mid = (lo + hi) / 2;
        o.width = mid;
        const Run r = run(g, o);
        (r.error <= bf16 ? hi : lo) = mid;
    }
    fmt::print("  refit: bf16's error reached at width {} = {:.3f} w_eq\n", hi, double(hi) / double(w_eq));
}
