// Blocks and the allocation, measured on real data in one run:
//   1. the auto block shape against the whole tensor (--block whole, the same
//      defaults otherwise) at 0.5, 1 and 2 bits per value, with the bars;
//   2. against zfp at its best (fixed rate, precision or accuracy, the lowest
//      error whose stream fits) at 0.25–4 bits per value;
//   3. recut from the 2-bit decomposition to smaller budgets, against a fresh
//      decomposition at that budget with the same block shape;
//   4. what a version-2 file adds beyond its payload;
//   5. time per value at 1 bit per value, one thread, on the sample fields and
//      on the fields named with --fields (made by ../shared/tools/make_field.py).
// Errors are relative Frobenius errors; bits are payload bits per value for
// signcut, stream bits per value for zfp.
//
// Usage: signcut-bench-blocks [--shared DIR] [--fields F.h5 ...] [--whole-limit N]
//   --shared DIR     the shared sample data (default: SOURCE/../shared/data)
//   --whole-limit N  skip the whole-tensor runs of inputs larger than N values
//                    (default: none skipped; the MRI volume's take minutes)
//   --times-only     figure 5 alone
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "signcut/deflated_signs.hpp"
#include "signcut/baselines.hpp"
#include "signcut/decompose.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/image.hpp"
#include "signcut/metrics.hpp"

using namespace signcut;
namespace fs = std::filesystem;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Input {
    std::string name, kind;  // kind: "photo", "field" (the bars' classes) or "other"
    Tensor x;
    Shape shape;
};

Input load(const fs::path& p, const std::string& kind)
{
    Input in;
    in.name = p.filename().string();
    in.kind = kind;
    in.x = is_image_path(p.string()) ? read_image(p.string(), std::uint64_t{1} << 34)
                                     : read_dataset(p.string(), list_datasets(p.string()).front(), std::uint64_t{1} << 34);
    in.shape.assign(in.x.shape().begin(), in.x.shape().end());
    return in;
}

struct Result {
    double error = 0, bits = 0, seconds = 0;
    Shape block_shape;
    SignedCutDecomposition d;
    double norm2 = 0;
};

Result run(const Input& in, double bits, BlockChoice blocks, unsigned threads = 2)
{
    DecomposeOptions o;
    o.bits_per_value = bits;
    o.blocks = std::move(blocks);
    o.threads = threads;
    o.sign_storage = deflated_signs();  // stored as compress stores them
    DecomposeReport r;
    const auto t0 = std::chrono::steady_clock::now();
    Result out;
    out.d = decompose(TensorView<float>{in.x.data(), in.shape}, o, &r);
    out.seconds = seconds_since(t0);
    out.error = r.rel_error;
    out.bits = out.d.bits_per_value();
    out.block_shape = out.d.block_shape();
    out.norm2 = r.norm2;
    return out;
}

double error_of(const Input& in, const SignedCutDecomposition& d)
{
    return d.error_against(std::span<const float>(in.x.data(), in.x.size()), 2).rel_fro_error;
}

}  // namespace

int main(int argc, char** argv)
{
    fs::path shared = fs::path(SIGNCUT_SOURCE_DIR) / ".." / "shared" / "data";
    std::vector<std::string> fields;
    std::uint64_t whole_limit = UINT64_MAX;
    bool times_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--shared" && i + 1 < argc) shared = argv[++i];
        else if (a == "--whole-limit" && i + 1 < argc) whole_limit = std::stoull(argv[++i]);
        else if (a == "--times-only") times_only = true;
        else if (a == "--fields")
            while (i + 1 < argc && argv[i + 1][0] != '-') fields.push_back(argv[++i]);
        else {
            fmt::print(stderr, "usage: signcut-bench-blocks [--shared DIR] [--fields F.h5 ...] [--whole-limit N] "
                               "[--times-only]\n");
            return 2;
        }
    }
    std::vector<Input> inputs;
    const fs::path images = shared / "images", tensors = shared / "tensors";
    for (const char* f : {"skimage_camera.png", "skimage_chelsea.png", "skimage_coffee.png", "sklearn_china.jpg"})
        inputs.push_back(load(images / f, "photo"));
    for (const char* f : {"topo_etopo20.h5", "fmri_nibabel_example4d.h5"}) inputs.push_back(load(tensors / f, "field"));
    for (const char* f : {"mri_ch2bet_colin27.h5", "speech_sphinx_en_us_means.h5",
                          "weights_mobilefacenet_logits_conv.h5", "weights_faceres_deep_conv_pw_12.h5",
                          "weights_nanodet_split_24_3x3x256x256.h5", "features_sklearn_digits_1797x64.h5"})
        inputs.push_back(load(tensors / f, "other"));
    fmt::print("signcut-bench-blocks: {} sample inputs from {}\n", inputs.size(), shared.string());

    if (times_only) goto times;
    {
    // 1. Auto against whole.
    fmt::print("\n1. --block auto against --block whole (2 threads; bars: photographs <= 0.90 at 0.5-2 bits, "
               "topography and fMRI <= 0.92 at 0.5 and 1, every input <= 1.01)\n");
    fmt::print("{:<42} {:<14} {:>4} {:>9} {:>14} {:>9} {:>7} {:>5}  {:>8} {:>8}\n", "input", "shape", "bits", "whole",
               "auto blocks", "auto", "ratio", "bar", "whole s", "auto s");
    std::size_t misses = 0;
    std::vector<std::vector<Result>> autos(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Input& in = inputs[i];
        for (const double bits : {0.5, 1.0, 2.0}) {
            const Result a = run(in, bits, BlockChoice::automatic());
            autos[i].push_back(a);
            if (element_count(in.shape) > whole_limit) {
                fmt::print("{:<42} {:<14} {:>4} {:>9} {:>14} {:>9.5f} {:>7} {:>5}  {:>8} {:>8.2f}\n", in.name,
                           format_shape(in.shape), bits, "skipped", format_shape(a.block_shape), a.error, "", "",
                           "", a.seconds);
                continue;
            }
            const Result w = run(in, bits, BlockChoice::whole());
            const double ratio = a.error / w.error;
            double bar = 1.01;
            if (in.kind == "photo") bar = 0.90;
            if (in.kind == "field" && bits <= 1.0) bar = 0.92;
            const bool ok = ratio <= bar;
            misses += !ok;
            fmt::print("{:<42} {:<14} {:>4} {:>9.5f} {:>14} {:>9.5f} {:>7.3f} {:>5}  {:>8.2f} {:>8.2f}\n", in.name,
                       format_shape(in.shape), bits, w.error, format_shape(a.block_shape), a.error, ratio,
                       ok ? "ok" : fmt::format(">{}", bar), w.seconds, a.seconds);
        }
    }
    fmt::print("   bars missed: {}\n", misses);

    // 2. Against zfp at its best.
    fmt::print("\n2. signcut (auto blocks) against zfp at its best, equal bits (payload / stream)\n");
    fmt::print("{:<42} {:>4} {:>9} {:>9} {:>16} {:>8}\n", "input", "bits", "signcut", "zfp", "zfp mode", "winner");
    for (const Input& in : inputs) {
        for (const double bits : {0.25, 0.5, 1.0, 2.0, 4.0}) {
            std::optional<Result> s;
            try {
                s = run(in, bits, BlockChoice::automatic());
            } catch (const Error&) {
            }
            const auto z = zfp_best(TensorView<float>{in.x.data(), in.shape}, bits);
            double ze = NAN;
            if (z)
                ze = compare(std::span<const float>(in.x.data(), in.x.size()),
                             std::span<const float>(z->approximation.reconstruction.data(),
                                                    z->approximation.reconstruction.size()))
                         .rel_fro_error;
            const double se = s ? s->error : NAN;
            const char* winner = !z ? "signcut" : !s ? "zfp" : se <= ze ? "signcut" : "zfp";
            fmt::print("{:<42} {:>4} {:>9.5f} {:>9.5f} {:>16} {:>8}\n", in.name, bits, se, ze,
                       z ? fmt::format("{} {}", z->mode, z->parameter) : std::string("none fits"), winner);
        }
    }

    // 3. recut from 2 bits.
    fmt::print("\n3. recut of the 2-bit decomposition against a fresh decomposition with its block shape "
               "(bar: within 0.5 %)\n");
    fmt::print("{:<42} {:<14} {:>4} {:>9} {:>9} {:>9} {:>8}\n", "input", "blocks", "bits", "recut", "estimate",
               "fresh", "ratio");
    double worst = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Input& in = inputs[i];
        const Result& two = autos[i][2];
        for (const double bits : {1.0, 0.5, 0.25}) {
            RecutReport rr;
            SignedCutDecomposition cut;
            try {
                cut = recut(two.d, two.norm2, bits, std::nullopt, &rr);
            } catch (const Error& e) {
                fmt::print("{:<42} {:<14} {:>4} {}\n", in.name, format_shape(two.block_shape), bits, e.what());
                continue;
            }
            const Result fresh = run(in, bits, BlockChoice::of(two.block_shape));
            const double err = error_of(in, cut);
            worst = std::max(worst, err / fresh.error);
            fmt::print("{:<42} {:<14} {:>4} {:>9.5f} {:>9.5f} {:>9.5f} {:>8.5f}\n", in.name,
                       format_shape(two.block_shape), bits, err, rr.rel_fro_error_estimate, fresh.error,
                       err / fresh.error);
        }
    }
    fmt::print("   worst ratio: {:.5f}\n", worst);

    // 4. File bytes beyond the payload.
    fmt::print("\n4. version-2 files at 1 bit per value: bytes beyond the payload (bar: 24 KiB = 24576)\n");
    const fs::path tmp = fs::temp_directory_path() / fmt::format("signcut-bench-blocks-{}.h5", ::getpid());
    std::uint64_t most = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const SignedCutDecomposition& d = autos[i][1].d;
        Provenance p;
        p.source = inputs[i].name;
        p.norm2 = autos[i][1].norm2;
        write_decomposition(tmp.string(), d, p, true);
        const std::uint64_t bytes = fs::file_size(tmp), payload = d.payload().bits() / 8;
        most = std::max(most, bytes - payload);
        fmt::print("{:<42} {:>7} blocks  payload {:>10} B  file {:>10} B  beyond {:>6} B\n", inputs[i].name,
                   d.block_count(), payload, bytes, bytes - payload);
    }
    fs::remove(tmp);
    fmt::print("   most beyond the payload: {} B\n", most);

    }
times:
    // 5. Time per value.
    fmt::print("\n5. time per value at 1 bit per value, auto blocks, 1 thread (decomposition only)\n");
    std::vector<Input> timed;
    for (const Input& in : inputs)
        if (in.kind == "field" || in.name.starts_with("mri")) timed.push_back(in);
    for (const auto& f : fields) timed.push_back(load(f, "field"));
    for (const Input& in : timed) {
        const Result r = run(in, 1.0, BlockChoice::automatic(), 1);
        const double n = double(element_count(in.shape));
        fmt::print("{:<42} {:<16} {:>8.1f} MiB  blocks {:<12} {:>8.2f} s  {:>7.3f} us/value  {:>6.2f} MB/s  "
                   "error {:.5f}\n",
                   fs::path(in.name).filename().string(), format_shape(in.shape), n * 4 / 1048576.0,
                   format_shape(r.block_shape), r.seconds, r.seconds / n * 1e6, n * 4 / r.seconds / 1e6, r.error);
    }
    return 0;
}
