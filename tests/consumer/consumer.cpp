// A program outside the signcut tree, built only from the installed headers
// and library found through pkg-config. It packs signs, runs kernels and
// decomposes a small matrix, checking each answer.
#include <cmath>
#include <cstdio>
#include <vector>

#include <signcut/arch.hpp>
#include <signcut/decompose.hpp>
#include <signcut/kernels.hpp>
#include <signcut/signs.hpp>
#include <signcut/version.hpp>

int main()
{
    using namespace signcut;
    // Pack signs and take a dot product by popcount.
    std::vector<float> a_vals{1.5f, -2.0f, 0.0f, -0.0f, 3.0f}, b_vals{-1.0f, -1.0f, 1.0f, 1.0f, 1.0f};
    const SignVector a = SignVector::from_values(std::span<const float>(a_vals));
    const SignVector b = SignVector::from_values(std::span<const float>(b_vals));
    if (dot(a, b) != 3) {
        std::fprintf(stderr, "consumer: dot = %lld, expected 3\n", static_cast<long long>(dot(a, b)));
        return 1;
    }
    // Dense matrix x sign vector through the dispatched kernel.
    const auto& k = kernels::active();
    std::vector<float> A(3 * 5);
    for (std::size_t i = 0; i < A.size(); ++i) A[i] = static_cast<float>(i);
    std::vector<float> y(3, 0.0f);
    k.dense_matvec(A.data(), 3, 5, 5, a.data(), y.data());
    // Row r: 5r·(1 -1 1 1 1 sum) + (0 -1 2 3 4) = 3·5r + 8.
    for (int r = 0; r < 3; ++r)
        if (y[r] != 15.0f * r + 8.0f) {
            std::fprintf(stderr, "consumer: row %d gives %g\n", r, y[r]);
            return 1;
        }
    // A rank-one sign matrix is recovered in one term.
    std::vector<float> X(40 * 24);
    for (int i = 0; i < 40; ++i)
        for (int j = 0; j < 24; ++j) X[i * 24 + j] = ((i % 3 == 0) != (j % 5 == 0)) ? -0.5f : 0.5f;
    DecomposeOptions o;
    o.width = 1;
    o.blocks = BlockChoice::whole();
    const auto d = decompose(TensorView<float>{X.data(), Shape{40, 24}}, o);
    if (std::abs(std::abs(d.block(0).scales()[0]) - 0.5f) > 1e-7f) {
        std::fprintf(stderr, "consumer: scale %g, expected ±0.5\n", d.block(0).scales()[0]);
        return 1;
    }
    // ... exactly: the error, rebuilt block by block, is zero.
    if (d.error_against(X).rel_fro_error > 1e-7) {
        std::fprintf(stderr, "consumer: error %g after the exact term\n", d.error_against(X).rel_fro_error);
        return 1;
    }
    // The options beyond the plain greedy link and run.
    o.width = 3;
    o.refit_scales = true;
    o.restarts = 1;
    DecomposeReport report;
    (void)decompose(TensorView<float>{X.data(), Shape{40, 24}}, o, &report);
    if (!(report.rel_error <= report.greedy_rel_error)) {
        std::fprintf(stderr, "consumer: the refit raised the error\n");
        return 1;
    }
    // Blocks with a budget: the payload fits, and a region equals its slice.
    DecomposeOptions ob;
    ob.bits_per_value = 2.0;
    ob.blocks = BlockChoice::of({16, 8});
    const auto blocked = decompose(TensorView<float>{X.data(), Shape{40, 24}}, ob);
    const Tensor full = blocked.reconstruct();
    const Tensor part = blocked.reconstruct(parse_region("3:20,5", Shape{40, 24}));
    if (blocked.bits_per_value() > 2.0 || part.size() != 17 || part(0) != full(3, 5)) {
        std::fprintf(stderr, "consumer: blocked decomposition: %g bits per value\n", blocked.bits_per_value());
        return 1;
    }
    std::printf("consumer: signcut %s on %s: ok\n", version, std::string(arch_name(active_arch())).c_str());
    return 0;
}
