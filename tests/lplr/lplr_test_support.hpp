// Helpers for the LPLR tests: sample data, low-rank test matrices and
// error figures computed in double.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "signcut/error.hpp"
#include "signcut/image.hpp"
#include "signcut/random.hpp"
#include "signcut/tensor.hpp"

namespace signcut::testing {

inline Tensor sample_image(const std::string& name)
{
    return read_image(std::string(SIGNCUT_SOURCE_DIR) + "/data/" + name, std::uint64_t{1} << 30);
}

inline TensorView<float> view_of(const Tensor& x) { return {x.data(), Shape(x.shape().begin(), x.shape().end())}; }

/// ‖x − y‖ / ‖x‖ in double.
inline double relative_error(const float* x, const float* y, std::size_t n)
{
    double e = 0, s = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double d = static_cast<double>(x[i]) - y[i];
        e += d * d;
        s += static_cast<double>(x[i]) * x[i];
    }
    return s > 0 ? std::sqrt(e / s) : (e > 0 ? INFINITY : 0.0);
}

inline double relative_error(const Tensor& x, const Tensor& y)
{
    BOOST_TEST_REQUIRE(x.size() == y.size());
    return relative_error(x.data(), y.data(), x.size());
}

/// An n × d matrix of exact rank r: a product of Gaussian factors whose
/// k-th inner dimension is scaled by decay^k (by default 1, 1/2, 1/4, …, so
/// the spectrum decays).
inline Tensor low_rank_matrix(std::size_t n, std::size_t d, std::size_t r, std::uint64_t seed, double decay = 0.5)
{
    SplitMix64 g(seed);
    std::vector<double> u(n * r), v(r * d);
    for (auto& a : u) a = g.normal();
    for (auto& a : v) a = g.normal();
    Tensor x = Tensor::from_shape({n, d});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) {
            double s = 0;
            for (std::size_t k = 0; k < r; ++k) s += u[i * r + k] * v[k * d + j] * std::pow(decay, static_cast<double>(k));
            x(i, j) = static_cast<float>(s);
        }
    return x;
}

/// Runs `f` and checks that it throws signcut::Error with `code` and a
/// message containing `fragment`.
template <class F>
void expect_error(F&& f, errc code, const std::string& fragment = "")
{
    try {
        f();
        BOOST_ERROR("no error was thrown (expected one containing '" << fragment << "')");
    } catch (const Error& e) {
        BOOST_TEST(static_cast<int>(e.code()) == static_cast<int>(code), e.what());
        BOOST_TEST(std::string(e.what()).find(fragment) != std::string::npos, e.what());
    }
}

}  // namespace signcut::testing
