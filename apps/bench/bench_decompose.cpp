// The decomposer's speed, memory and quality, as ratios measured in one run
// (see BENCHMARKS.md for the definitions and the recorded figures):
//   1. single-threaded streaming read bandwidth (the unit of "passes");
//   2. passes per term on a 4096² N(0,1) float32 matrix, and with lower caps on mode updates;
//   3. speed-up and error ratio against the plain dense greedy, 2048²;
//   4. reconstruction (sign GEMM) against OpenBLAS sgemm on the same ±1 product;
//   5. two threads against one, 1024² at width 256 (and what the machine gives two threads on
//      the flip updates' access pattern and on streaming reads, in the same run);
//   6. peak RSS of a separate `signcut compress` on 4096², less `signcut --version`'s;
//   7. passes per term for order 3: an RGB photograph and a 256³ volume;
//   8. the width at which the error reaches bf16's rounding error, 1024², as a fraction of w_eq.
// Usage: signcut-bench-decompose [--quick] (quick: smaller widths, for a smoke test).
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "plain_greedy.hpp"
#include "row_read_scaling.hpp"
#include "signcut/arch.hpp"
#include "signcut/baselines.hpp"
#include "signcut/decompose.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/image.hpp"
#include "signcut/metrics.hpp"
#include "signcut/random.hpp"
#include "stream_read.hpp"

extern "C" char* openblas_get_corename(void);
extern "C" void openblas_set_num_threads(int);

using namespace signcut;
using namespace signcut::bench;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<float> gaussian(std::size_t n, std::uint64_t seed)
{
    std::vector<float> x(n);
    SplitMix64 g(seed);
    for (auto& v : x) v = static_cast<float>(g.normal());
    return x;
}

struct Timed {
    SignedCutDecomposition d;
    DecomposeReport report;
    double seconds = 0;
};

/// The median time of three runs. The first run in a process can also pay
/// for memory the virtual machine's host has not yet backed (up to a third
/// of a second for the 4096² copies here); that cost belongs to the machine,
/// not to the decomposer, and shows up in one run of three at most.
Timed timed_decompose(const std::vector<float>& x, const Shape& shape, DecomposeOptions o)
{
    o.blocks = BlockChoice::whole();  // this program measures the greedy itself, on one block
    Timed t;
    std::vector<double> runs;
    for (int r = 0; r < 3; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        t.d = decompose(TensorView<float>{x.data(), shape}, o, &t.report);
        runs.push_back(seconds_since(t0));
    }
    std::sort(runs.begin(), runs.end());
    t.seconds = runs[1];
    return t;
}

double rel_error(const std::vector<float>& x, const SignedCutDecomposition& d)
{
    const Tensor y = d.reconstruct(2);
    return compare(x, std::span<const float>(y.data(), y.size())).rel_fro_error;
}

/// The probe mode of this program (`--rss-probe COMMAND...`): run COMMAND
/// and print its peak resident set in KiB, from wait4's ru_maxrss. The probe
/// is a fresh, small process, so its child's ru_maxrss holds only the
/// child's own pages; a child forked straight from this large benchmark
/// would carry the benchmark's pages until its exec, and ru_maxrss would
/// count them.
int rss_probe(char** command)
{
    const pid_t pid = fork();
    if (pid == 0) {
        const int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
        execv(command[0], command);
        _exit(127);
    }
    int status = 0;
    rusage usage{};
    if (pid < 0 || wait4(pid, &status, 0, &usage) != pid) return 1;
    std::printf("%ld %d\n", usage.ru_maxrss, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

/// Peak RSS in bytes of `args` run through the probe mode.
std::size_t child_peak_rss(const std::vector<std::string>& args)
{
    int out[2];
    if (pipe(out) != 0) return 0;
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        std::vector<std::string> all{"/proc/self/exe", "--rss-probe"};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : all) argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(argv[0], argv.data());
        _exit(127);
    }
    close(out[1]);
    std::string text;
    char buf[128];
    for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
    close(out[0]);
    waitpid(pid, nullptr, 0);
    long kb = 0;
    int status = -1;
    if (std::sscanf(text.c_str(), "%ld %d", &kb, &status) != 2 || status != 0)
        fmt::print(stderr, "warning: {} exited with status {}\n", args[0], status);
    return static_cast<std::size_t>(kb) * 1024;
}

}  // namespace

int main(int argc, char** argv)
{
    if (argc > 2 && std::strcmp(argv[1], "--rss-probe") == 0) return rss_probe(argv + 2);
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    fmt::print("signcut-bench-decompose: ISA {}, {} hardware threads{}\n", arch_name(active_arch()),
               std::thread::hardware_concurrency(), quick ? " (quick)" : "");

    // 1. The unit: one streaming read of the 4096² float32 matrix.
    const std::size_t big = 4096;
    const Shape big_shape{big, big};
    const auto x4096 = gaussian(big * big, 1);
    const double t_read = stream_read_seconds(x4096.data(), x4096.size());
    const double bytes = double(x4096.size()) * 4;
    fmt::print("\n1. streaming read, 4096² float32 (64 MiB), 1 thread: {:.2f} ms = {:.1f} GB/s\n", t_read * 1e3,
               bytes / t_read / 1e9);

    // 2. Passes per term on 4096².
    {
        DecomposeOptions o;
        o.width = quick ? 32 : 128;
        o.threads = 1;
        const Timed t = timed_decompose(x4096, big_shape, o);
        fmt::print("2. 4096² N(0,1), width {}, 1 thread: {:.2f} s = {:.3f} passes/term (time / (width x read)); "
                   "counted {:.2f} dense-pass equivalents/term, {:.1f} mode updates/term, rel error {:.4f}\n",
                   *o.width, t.seconds, t.seconds / (double(*o.width) * t_read),
                   t.report.dense_passes / double(*o.width), double(t.report.mode_updates) / double(*o.width),
                   t.report.rel_error);
        // Where a cap on mode updates per term (--max-updates) pays: the
        // same run with lower caps, at the same width.
        for (std::size_t cap : {4, 8, 16, 32, 64}) {
            DecomposeOptions oc = o;
            oc.max_mode_updates = cap;
            const Timed tc = timed_decompose(x4096, big_shape, oc);
            fmt::print("   with --max-updates {:>2}: {:.2f} s = {:.3f} passes/term ({:.2f}x the time); counted {:.2f}/term; "
                       "rel error {:.4f} ({:+.2f} %)\n",
                       cap, tc.seconds, tc.seconds / (double(*o.width) * t_read), tc.seconds / t.seconds,
                       tc.report.dense_passes / double(*o.width), tc.report.rel_error,
                       100.0 * (tc.report.rel_error / t.report.rel_error - 1.0));
        }
    }

    // 3. Against the plain dense greedy on 2048², same width, seed, stopping rule.
    {
        const std::size_t n = 2048, w = quick ? 8 : 48;
        const auto x = gaussian(n * n, 2);
        DecomposeOptions o;
        o.width = w;
        o.threads = 1;
        const Timed t = timed_decompose(x, Shape{n, n}, o);
        const auto t0 = std::chrono::steady_clock::now();
        const PlainResult plain = plain_greedy(x, n, n, w, o.seed);
        const double t_plain = seconds_since(t0);
        const double err = rel_error(x, t.d);
        fmt::print("3. 2048² N(0,1), width {}, 1 thread: signcut {:.3f} s, plain dense greedy {:.3f} s -> {:.1f}x "
                   "faster; rel error {:.5f} vs {:.5f} (ratio {:.4f}); mode updates {} vs {}\n",
                   w, t.seconds, t_plain, t_plain / t.seconds, err, plain.rel_error, err / plain.rel_error,
                   t.report.mode_updates, plain.mode_updates);
    }

    // 4. Reconstruction against OpenBLAS sgemm on the same ±1 product.
    {
        const std::size_t n = 2048, w = quick ? 512 : 4096;
        SplitMix64 g(3);
        SignedCutTerms d(Shape{n, n});
        std::vector<float> S(n * w), T(w * n);  // the same product as floats: S·diag(c) (n x w), Tᵀ (w x n)
        for (std::size_t j = 0; j < w; ++j) {
            SignVector s(n), t(n);
            for (std::size_t q = 0; q < s.word_count(); ++q) s.data()[q] = g.next(), t.data()[q] = g.next();
            const float c = static_cast<float>(g.normal());
            d.append(c, std::vector<SignVector>{s, t});
            for (std::size_t i = 0; i < n; ++i) S[i * w + j] = c * float(s[i]), T[j * n + i] = float(t[i]);
        }
        std::vector<float> C(n * n);
        const char* core = openblas_get_corename();
        for (int threads : {1, 2}) {
            openblas_set_num_threads(threads);
            const double t_blas = median_seconds(
                [&] {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(n), int(n), int(w), 1.0f, S.data(),
                                int(w), T.data(), int(n), 0.0f, C.data(), int(n));
                },
                3);
            std::vector<float> out(n * n);
            const double t_sign = median_seconds([&] { d.reconstruct_into(out, unsigned(threads)); }, 3);
            double max_diff = 0;
            for (std::size_t i = 0; i < out.size(); ++i) max_diff = std::max(max_diff, double(std::abs(out[i] - C[i])));
            fmt::print("4. reconstruction 2048² at width {}, {} thread{}: sign GEMM {:.3f} s, OpenBLAS sgemm ({}) "
                       "{:.3f} s -> {:.2f}x sgemm's time (max |diff| {:.2g})\n",
                       w, threads, threads == 1 ? "" : "s", t_sign, core ? core : "?", t_blas, t_sign / t_blas,
                       max_diff);
        }
    }

    // 5. Two threads against one, cache-resident work.
    {
        const std::size_t n = 1024;
        const auto x = gaussian(n * n, 4);
        DecomposeOptions o;
        o.width = quick ? 64 : 256;
        o.threads = 1;
        const Timed one = timed_decompose(x, Shape{n, n}, o);
        o.threads = 2;
        const Timed two = timed_decompose(x, Shape{n, n}, o);
        const bool same = one.d.block(0).scales() == two.d.block(0).scales();
        fmt::print("5. 1024², width {}: 1 thread {:.3f} s, 2 threads {:.3f} s -> {:.2f}x; results identical: {}\n",
                   *o.width, one.seconds, two.seconds, one.seconds / two.seconds, same ? "yes" : "NO");
        // The same on the large matrix, where each update has work to split.
        DecomposeOptions ob;
        ob.width = quick ? 16 : 128;
        ob.threads = 1;
        const Timed big_one = timed_decompose(x4096, big_shape, ob);
        ob.threads = 2;
        const Timed big_two = timed_decompose(x4096, big_shape, ob);
        fmt::print("   4096², width {}: 1 thread {:.3f} s, 2 threads {:.3f} s -> {:.2f}x; results identical: {}\n",
                   *ob.width, big_one.seconds, big_two.seconds, big_one.seconds / big_two.seconds,
                   big_one.d.block(0).scales() == big_two.d.block(0).scales() ? "yes" : "NO");
        // What two cores of this machine give on the flip updates' access
        // pattern alone (32 random rows of a 1024² matrix per round).
        const RowReadScaling rs = measure_row_read_scaling(n, 32, quick ? 2000 : 20000);
        fmt::print("   this machine, 2 threads vs 1 on 32 random rows of 1024² per round: half of every row each {:.2f}x, "
                   "half of the rows each {:.2f}x; private streaming reads of 4 MiB {:.2f}x\n",
                   rs.columns, rs.rows, rs.stream);
    }

    // 6. Peak memory of a separate `signcut compress` on 4096².
    {
        const auto dir = std::filesystem::temp_directory_path() / fmt::format("signcut-bench-{}", getpid());
        std::filesystem::create_directories(dir);
        const std::string in = (dir / "x.h5").string(), out = (dir / "x.sct.h5").string();
        write_dataset(in, "/data", x4096.data(), big_shape, "float32", true);
        const std::string w = quick ? "16" : "128";
        const std::size_t base = child_peak_rss({SIGNCUT_CLI_PATH, "--version"});
        const std::size_t peak =
            child_peak_rss({SIGNCUT_CLI_PATH, "compress", in, "-o", out, "--width", w, "--quiet", "--threads", "1"});
        const double out_bytes = double(std::filesystem::file_size(out));
        const double bits_bytes = double(std::stoul(w)) * (2.0 * big + 32) / 8;
        const double bound = 2 * bytes + out_bytes + bits_bytes;
        fmt::print("6. signcut compress 4096² float32 --width {}: peak RSS {:.1f} MiB - {:.1f} MiB (signcut --version) = "
                   "{:.1f} MiB = {:.3f} x input; bound 2·N·4 + output + bits = {:.1f} MiB: {}\n",
                   w, peak / 1048576.0, base / 1048576.0, (peak - base) / 1048576.0, (peak - base) / bytes,
                   bound / 1048576.0, double(peak - base) <= bound ? "met" : "NOT met");
        // What any compress run costs beyond --version whatever the input's
        // size (HDF5's initialisation, the code it runs, the allocator): a
        // 64×64 input, whose own data is 16 KiB.
        const std::string tiny = (dir / "tiny.h5").string(), tiny_out = (dir / "tiny.sct.h5").string();
        write_dataset(tiny, "/data", x4096.data(), Shape{64, 64}, "float32", true);
        const std::size_t fixed =
            child_peak_rss({SIGNCUT_CLI_PATH, "compress", tiny, "-o", tiny_out, "--width", "4", "--quiet", "--threads", "1"});
        fmt::print("   the same on a 64×64 input: {:.1f} MiB above --version, so the 4096² run holds {:.1f} MiB = {:.4f} x "
                   "input beyond that fixed cost\n",
                   (double(fixed) - double(base)) / 1048576.0, (double(peak) - double(fixed)) / 1048576.0,
                   (double(peak) - double(fixed)) / bytes);
        std::filesystem::remove_all(dir);
    }

    // 7. Order 3: a photograph and a volume.
    {
        const Tensor cat = read_image(SIGNCUT_SOURCE_DIR "/data/skimage_chelsea.png", std::uint64_t{1} << 30);
        std::vector<float> xc(cat.begin(), cat.end());
        const Shape cs(cat.shape().begin(), cat.shape().end());
        DecomposeOptions o;
        o.bits_per_value = 1.0;
        o.threads = 1;
        const Timed t = timed_decompose(xc, cs, o);
        const double tr = stream_read_seconds(xc.data(), xc.size());
        fmt::print("7. cat {} at 1 bit/value, width {}: {:.3f} s = {:.2f} passes/term; counted {:.2f}/term, rel "
                   "error {:.4f}\n",
                   format_shape(cs), t.d.width(), t.seconds, t.seconds / (double(t.d.width()) * tr),
                   t.report.dense_passes / double(t.d.width()), t.report.rel_error);
        const std::size_t v = 256;
        const auto xv = gaussian(v * v * v, 5);
        DecomposeOptions ov;
        ov.width = quick ? 16 : 64;
        ov.threads = 1;
        const Timed tv = timed_decompose(xv, Shape{v, v, v}, ov);
        const double trv = stream_read_seconds(xv.data(), xv.size());
        fmt::print("   256³ N(0,1), width {}: {:.3f} s = {:.2f} passes/term; counted {:.2f}/term, {:.1f} mode "
                   "updates/term\n",
                   *ov.width, tv.seconds, tv.seconds / (double(*ov.width) * trv),
                   tv.report.dense_passes / double(*ov.width), double(tv.report.mode_updates) / double(*ov.width));
    }

    // 8. The width at which the error reaches bf16's rounding error.
    if (!quick) {
        const std::size_t n = 1024;
        const auto x = gaussian(n * n, 6);
        const Approximation bf = round_to_bfloat16(TensorView<float>{x.data(), Shape{n, n}});
        const double target =
            compare(x, std::span<const float>(bf.reconstruction.data(), bf.reconstruction.size())).rel_fro_error;
        const double w_eq = std::floor(16.0 * double(n * n) / double(n + n + 32));
        DecomposeOptions o;
        o.rel_error = target;
        o.threads = 2;
        const Timed t = timed_decompose(x, Shape{n, n}, o);
        fmt::print("8. 1024² N(0,1): bf16 rounding error {:.5f} reached at width {} = {:.3f} w_eq (w_eq = {}), "
                   "{:.1f} s\n",
                   target, t.d.width(), double(t.d.width()) / w_eq, w_eq, t.seconds);
    }
    return 0;
}
