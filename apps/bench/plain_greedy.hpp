// The plain dense greedy for matrices: the same loop as signcut's decomposer
// (same starts, same update order, same stopping rule, float32 scales and
// remainder), written the obvious way. Every mode update is a full dense
// matrix × sign vector product with the best ISA's kernel, and every term
// updates the dense remainder. No packed bits, no flipped-sign updates, no
// blocking. It is the yardstick of the benchmark, so it is written to be
// fast within its plan, not slowed.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "signcut/kernels.hpp"
#include "signcut/random.hpp"
#include "signcut/signs.hpp"

namespace signcut::bench {

struct PlainResult {
    std::size_t width = 0;
    std::size_t mode_updates = 0;
    double rel_error = 0;  // bookkept in double
};

inline PlainResult plain_greedy(std::vector<float> R, std::size_t m, std::size_t n, std::size_t width,
                                std::uint64_t seed, std::size_t cap = 200)
{
    const auto& k = kernels::active();
    double norm_x = 0;
    for (float v : R) norm_x += double(v) * v;
    double norm_r = norm_x;
    PlainResult out;
    std::vector<float> img_s(m), img_t(n), sf(m), tf(n);
    for (std::size_t term = 0; term < width; ++term) {
        SignVector s = starting_signs(seed, term, 0, m), t = starting_signs(seed, term, 1, n);
        double best = -std::numeric_limits<double>::infinity(), cut = 0;
        std::size_t quiet = 0;
        for (std::size_t updates = 0, a = 0;; a ^= 1) {
            if (a == 0) {
                std::fill(img_s.begin(), img_s.end(), 0.0f);
                k.dense_matvec(R.data(), m, n, n, t.data(), img_s.data());
                s = SignVector::from_values(std::span<const float>(img_s));
                cut = 0;
                for (float v : img_s) cut += std::abs(double(v));
            } else {
                std::fill(img_t.begin(), img_t.end(), 0.0f);
                k.dense_tmatvec(R.data(), m, n, n, s.data(), img_t.data());
                t = SignVector::from_values(std::span<const float>(img_t));
                cut = 0;
                for (float v : img_t) cut += std::abs(double(v));
            }
            ++updates;
            ++out.mode_updates;
            if (cut > best) best = cut, quiet = 0;
            else ++quiet;
            if (quiet >= 2 || updates >= cap) break;
        }
        const float c = static_cast<float>(cut / double(m * n));
        norm_r += -2.0 * c * cut + double(c) * c * double(m * n);
        s.to_floats(sf);
        t.to_floats(tf);
        for (std::size_t i = 0; i < m; ++i) {
            const float ci = c * sf[i];
            float* row = R.data() + i * n;
            for (std::size_t j = 0; j < n; ++j) row[j] -= ci * tf[j];
        }
        ++out.width;
    }
    out.rel_error = std::sqrt(std::max(0.0, norm_r) / norm_x);
    return out;
}

}  // namespace signcut::bench
