// SignedCutDecomposition: storage, evaluation and matrix products.
#include "signcut/decomposition.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "parallel.hpp"
#include "signcut/error.hpp"
#include "signcut/kernels.hpp"
#include "unfolding.hpp"

namespace signcut {
namespace {

void check_shape(const Shape& shape)
{
    if (shape.empty()) throw Error(errc::invalid_argument, "a decomposition needs a tensor of order 1 or more");
    for (std::size_t a = 0; a < shape.size(); ++a)
        if (shape[a] == 0)
            throw Error(errc::invalid_argument,
                        fmt::format("shape {} has a zero dimension (mode {})", format_shape(shape), a));
    (void)element_count(shape);
}

void require_order2(const SignedCutDecomposition& d, const char* what)
{
    if (d.order() != 2)
        throw Error(errc::invalid_argument, fmt::format("{} needs an order-2 decomposition; this one has order {}",
                                                        what, d.order()));
}

}  // namespace

SignedCutDecomposition::SignedCutDecomposition(Shape shape) : shape_(std::move(shape))
{
    check_shape(shape_);
    size_ = element_count(shape_);
    for (std::size_t d : shape_) signs_.emplace_back(d, 0);
}

SignedCutDecomposition::SignedCutDecomposition(Shape shape, std::vector<float> scales, std::vector<SignMatrix> signs,
                                               bool scales_refit)
    : shape_(std::move(shape)), scales_(std::move(scales)), signs_(std::move(signs)), scales_refit_(scales_refit)
{
    check_shape(shape_);
    size_ = element_count(shape_);
    if (signs_.size() != shape_.size())
        throw Error(errc::bad_input, fmt::format("a decomposition of order {} needs {} sign matrices, got {}",
                                                 shape_.size(), shape_.size(), signs_.size()));
    for (std::size_t a = 0; a < shape_.size(); ++a) {
        if (signs_[a].rows() != shape_[a] || signs_[a].cols() != scales_.size())
            throw Error(errc::bad_input,
                        fmt::format("signs of mode {} are {}x{}, expected {}x{} (dimension x width)", a,
                                    signs_[a].rows(), signs_[a].cols(), shape_[a], scales_.size()));
        if (!signs_[a].padding_is_zero())
            throw Error(errc::bad_input, fmt::format("signs of mode {} have padding bits set", a));
    }
}

void SignedCutDecomposition::append(float scale, std::span<const SignVector> factors)
{
    if (factors.size() != order())
        throw Error(errc::invalid_argument,
                    fmt::format("a term of an order-{} decomposition needs {} sign vectors, got {}", order(), order(),
                                factors.size()));
    for (std::size_t a = 0; a < order(); ++a)
        if (factors[a].size() != shape_[a])
            throw Error(errc::invalid_argument, fmt::format("sign vector of mode {} has {} entries, the mode {}", a,
                                                            factors[a].size(), shape_[a]));
    for (std::size_t a = 0; a < order(); ++a) signs_[a].push_back(factors[a]);
    scales_.push_back(scale);
}

void SignedCutDecomposition::reserve(std::size_t w)
{
    for (SignMatrix& m : signs_) m.reserve(w);
    scales_.reserve(w);
}

void SignedCutDecomposition::truncate(std::size_t w)
{
    if (w >= width()) return;
    scales_.resize(w);
    for (auto& s : signs_) s.truncate(w);
}

SignedCutDecomposition SignedCutDecomposition::prefix(std::size_t w) const
{
    SignedCutDecomposition d = *this;
    d.truncate(w);
    return d;
}

void SignedCutDecomposition::set_refit_scales(std::vector<float> scales)
{
    if (scales.size() != width())
        throw Error(errc::invalid_argument,
                    fmt::format("{} refit scales for a width-{} decomposition", scales.size(), width()));
    scales_ = std::move(scales);
    scales_refit_ = true;
}

std::uint64_t SignedCutDecomposition::bits_per_term(std::span<const std::size_t> shape)
{
    std::uint64_t bits = 32;
    for (std::size_t d : shape) bits += d;
    return bits;
}

double SignedCutDecomposition::bits_per_value() const noexcept
{
    if (size_ == 0) return 0;
    return static_cast<double>(bits_per_term(shape_)) * static_cast<double>(width()) / static_cast<double>(size_);
}

void SignedCutDecomposition::reconstruct_into(std::span<float> out, unsigned threads) const
{
    if (out.size() != size_)
        throw Error(errc::invalid_argument,
                    fmt::format("reconstruction needs {} floats, the output has {}", size_, out.size()));
    std::fill(out.begin(), out.end(), 0.0f);
    detail::add_terms(kernels::active(), shape_, signs_, scales_, 0, width(), out.data(), threads);
}

ErrorMetrics SignedCutDecomposition::error_against(std::span<const float> original, unsigned threads) const
{
    if (original.size() != size_)
        throw Error(errc::invalid_argument,
                    fmt::format("the original has {} floats, the decomposition {}", original.size(), size_));
    // Rows of the matrix the reconstruction is computed on, a few MiB at a
    // time, in whole 64-row groups; a short last group joins the block
    // before it so that each block computes its rows exactly as the full
    // reconstruction does.
    const std::size_t m = detail::unfolding_rows(shape_), n = size_ / m;
    constexpr std::size_t block_floats = std::size_t{1} << 20;
    const std::size_t rows = std::max<std::size_t>(64, block_floats / n / 64 * 64);
    std::vector<float> block;
    ErrorAccumulator acc;
    for (std::size_t r0 = 0; r0 < m;) {
        const std::size_t r1 = m - r0 < rows + 64 ? m : r0 + rows;
        block.assign((r1 - r0) * n, 0.0f);
        detail::add_terms_rows(kernels::active(), shape_, signs_, scales_, 0, width(), r0, r1, block.data(), threads);
        acc.add(original.subspan(r0 * n, (r1 - r0) * n), block);
        r0 = r1;
    }
    return acc.result();
}

Tensor SignedCutDecomposition::reconstruct(unsigned threads) const
{
    Tensor t = Tensor::from_shape(shape_);
    reconstruct_into(std::span<float>(t.data(), t.size()), threads);
    return t;
}

float SignedCutDecomposition::element(std::span<const std::size_t> index) const
{
    if (index.size() != order())
        throw Error(errc::invalid_argument,
                    fmt::format("an index into an order-{} tensor needs {} entries, got {}", order(), order(),
                                index.size()));
    for (std::size_t a = 0; a < order(); ++a)
        if (index[a] >= shape_[a])
            throw Error(errc::invalid_argument,
                        fmt::format("index {} is out of range for mode {} of size {}", index[a], a, shape_[a]));
    double acc = 0;
    for (std::size_t j = 0; j < width(); ++j) {
        bool negative = false;
        for (std::size_t a = 0; a < order(); ++a) negative ^= signs_[a].negative(index[a], j);
        acc += negative ? -static_cast<double>(scales_[j]) : static_cast<double>(scales_[j]);
    }
    return static_cast<float>(acc);
}

Tensor SignedCutDecomposition::slice(std::span<const std::ptrdiff_t> fixed) const
{
    if (fixed.size() != order())
        throw Error(errc::invalid_argument,
                    fmt::format("a slice of an order-{} tensor needs {} entries (-1 keeps a mode), got {}", order(),
                                order(), fixed.size()));
    Shape kept;
    std::vector<SignMatrix> kept_signs;
    std::vector<float> c = scales_;
    for (std::size_t a = 0; a < order(); ++a) {
        if (fixed[a] < 0) {
            if (fixed[a] != -1)
                throw Error(errc::invalid_argument, fmt::format("slice entry {} for mode {}: use -1 to keep a mode",
                                                                fixed[a], a));
            kept.push_back(shape_[a]);
            kept_signs.push_back(signs_[a]);
            continue;
        }
        const auto i = static_cast<std::size_t>(fixed[a]);
        if (i >= shape_[a])
            throw Error(errc::invalid_argument,
                        fmt::format("index {} is out of range for mode {} of size {}", i, a, shape_[a]));
        // A fixed index turns that mode's sign into a ±1 factor of each scale.
        for (std::size_t j = 0; j < width(); ++j)
            if (signs_[a].negative(i, j)) c[j] = -c[j];
    }
    if (kept.empty()) {
        double acc = 0;
        for (float v : c) acc += v;
        Tensor t = Tensor::from_shape(Shape{});
        t() = static_cast<float>(acc);
        return t;
    }
    Tensor t = Tensor::from_shape(kept);
    std::fill(t.begin(), t.end(), 0.0f);
    detail::add_terms(kernels::active(), kept, kept_signs, c, 0, width(), t.data(), 1);
    return t;
}

void SignedCutDecomposition::apply(std::span<const float> x, std::span<float> y) const
{
    require_order2(*this, "apply");
    if (x.size() != shape_[1] || y.size() != shape_[0])
        throw Error(errc::invalid_argument, fmt::format("apply: x has {} entries (needs {}), y {} (needs {})",
                                                        x.size(), shape_[1], y.size(), shape_[0]));
    const auto& k = kernels::active();
    std::vector<float> z(width(), 0.0f);
    k.sign_tmatvec(signs_[1].data(), shape_[1], width(), signs_[1].column_stride(), x.data(), z.data());
    for (std::size_t j = 0; j < width(); ++j) z[j] *= scales_[j];
    std::fill(y.begin(), y.end(), 0.0f);
    k.sign_matvec(signs_[0].data(), shape_[0], width(), signs_[0].column_stride(), z.data(), y.data());
}

void SignedCutDecomposition::apply_transpose(std::span<const float> x, std::span<float> y) const
{
    require_order2(*this, "apply_transpose");
    if (x.size() != shape_[0] || y.size() != shape_[1])
        throw Error(errc::invalid_argument, fmt::format("apply_transpose: x has {} entries (needs {}), y {} (needs {})",
                                                        x.size(), shape_[0], y.size(), shape_[1]));
    const auto& k = kernels::active();
    std::vector<float> z(width(), 0.0f);
    k.sign_tmatvec(signs_[0].data(), shape_[0], width(), signs_[0].column_stride(), x.data(), z.data());
    for (std::size_t j = 0; j < width(); ++j) z[j] *= scales_[j];
    std::fill(y.begin(), y.end(), 0.0f);
    k.sign_matvec(signs_[1].data(), shape_[1], width(), signs_[1].column_stride(), z.data(), y.data());
}

}  // namespace signcut
