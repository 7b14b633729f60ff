// A dense, plain implementation of the greedy loop of DESIGN §3, written
// for clarity, not speed: every mode update contracts the whole remainder
// element by element in double. The tests hold the library to it.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "signcut/random.hpp"
#include "signcut/scale_format.hpp"
#include "signcut/signs.hpp"
#include "signcut/tensor.hpp"

namespace signcut::testing {

struct DenseTerm {
    float scale = 0;
    std::vector<std::vector<int>> signs;  // signs[a][i] = ±1
};

/// Multi-index odometer over a C-ordered shape.
struct Odometer {
    const Shape& shape;
    std::vector<std::size_t> idx;
    explicit Odometer(const Shape& s) : shape(s), idx(s.size(), 0) {}
    bool next()
    {
        for (std::size_t a = shape.size(); a-- > 0;) {
            if (++idx[a] < shape[a]) return true;
            idx[a] = 0;
        }
        return false;
    }
};

/// <R, ⊗ s> contracted over every mode but `mode`, in double.
inline std::vector<double> dense_contraction(const std::vector<double>& R, const Shape& shape,
                                             const std::vector<std::vector<int>>& s, std::size_t mode)
{
    std::vector<double> img(shape[mode], 0.0);
    Odometer it(shape);
    std::size_t flat = 0;
    do {
        double w = R[flat++];
        for (std::size_t b = 0; b < shape.size(); ++b)
            if (b != mode) w *= s[b][it.idx[b]];
        img[it.idx[mode]] += w;
    } while (it.next());
    return img;
}

/// ⊗ s as a dense tensor, times c.
inline void add_term(std::vector<double>& out, const Shape& shape, double c, const std::vector<std::vector<int>>& s)
{
    Odometer it(shape);
    std::size_t flat = 0;
    do {
        double v = c;
        for (std::size_t b = 0; b < shape.size(); ++b) v *= s[b][it.idx[b]];
        out[flat++] += v;
    } while (it.next());
}

inline std::vector<int> to_ints(const SignVector& v)
{
    std::vector<int> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = v[i];
    return out;
}

/// The greedy loop: same starts (starting_signs), same update order, same
/// stopping rule, float32 (or short) scale and float32 remainder, double
/// bookkeeping. Returns the terms and fills `rel_errors` with the exact error
/// after each.
inline std::vector<DenseTerm> dense_greedy(const std::vector<float>& x, const Shape& shape, std::size_t width,
                                           std::uint64_t seed, std::vector<double>* rel_errors = nullptr,
                                           std::size_t cap = 200, bool short_scales = false)
{
    const std::size_t k = shape.size();
    std::size_t N = 1;
    for (auto d : shape) N *= d;
    std::vector<float> R = x;
    double norm_x = 0;
    for (float v : x) norm_x += double(v) * v;
    std::vector<DenseTerm> terms;
    for (std::size_t t = 0; t < width; ++t) {
        std::vector<std::vector<int>> s(k);
        for (std::size_t a = 0; a < k; ++a) s[a] = to_ints(starting_signs(seed, t, a, shape[a]));
        std::vector<double> Rd(R.begin(), R.end());
        double best = -std::numeric_limits<double>::infinity(), cut = 0;
        std::size_t quiet = 0, updates = 0;
        for (std::size_t a = 0;; a = (a + 1) % k) {
            const auto img = dense_contraction(Rd, shape, s, a);
            cut = 0;
            for (std::size_t i = 0; i < img.size(); ++i) {
                s[a][i] = img[i] < 0 ? -1 : 1;
                cut += std::abs(img[i]);
            }
            ++updates;
            if (cut > best) best = cut, quiet = 0;
            else ++quiet;
            if (quiet >= k || updates >= cap) break;
        }
        const float c = short_scales ? round_to_short_scale(cut / double(N)) : static_cast<float>(cut / double(N));
        Odometer it(shape);
        std::size_t flat = 0;
        double err = 0;
        do {
            int sign = 1;
            for (std::size_t b = 0; b < k; ++b) sign *= s[b][it.idx[b]];
            R[flat] -= sign < 0 ? -c : c;
            err += double(R[flat]) * R[flat];
            ++flat;
        } while (it.next());
        terms.push_back({c, s});
        if (rel_errors) rel_errors->push_back(norm_x > 0 ? std::sqrt(err / norm_x) : 0.0);
    }
    return terms;
}

}  // namespace signcut::testing
