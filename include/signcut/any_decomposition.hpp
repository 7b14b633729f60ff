// signcut: a decomposition of either method, as a file holds it.
//
// Commands and bindings that read a file do not fork on the method: they
// hold a Decomposition and ask it for its shape, payload and reconstruction.
#pragma once

#include "signcut/export.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "signcut/blocks.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/lplr.hpp"
#include "signcut/metrics.hpp"
#include "signcut/tensor.hpp"

namespace signcut {

class SIGNCUT_API Decomposition {
public:
    Decomposition() = default;
    Decomposition(SignedCutDecomposition d) : d_(std::move(d)) {}
    Decomposition(LplrDecomposition d) : d_(std::move(d)) {}

    /// "sct" or "lplr".
    std::string method() const { return sct() != nullptr ? "sct" : "lplr"; }
    const Shape& shape() const;
    std::uint64_t size() const;
    /// sct: Σ_b w_b; lplr: the rank.
    std::uint64_t width() const;
    /// The stored datasets' bits per value (format version 2).
    double bits_per_value() const;
    /// The logical count (a sign 1 bit, a B-bit code B, a scale 32).
    double counted_bits_per_value() const;

    Tensor reconstruct(unsigned threads = 1) const;
    /// sct rebuilds only the blocks the region touches; lplr rebuilds the
    /// rows of its matricization the region touches.
    Tensor reconstruct(const Region& region, unsigned threads = 1) const;
    /// The reconstruction in double (what `decompress --dtype float64`
    /// writes): sct sums every value term after term in double, block by
    /// block (a region equals the same slice of the whole bit for bit); lplr
    /// multiplies its dequantized factors in double. Values beyond float32's
    /// range or precision come out as exactly as double allows.
    std::vector<double> reconstruct_float64(unsigned threads = 1) const;
    std::vector<double> reconstruct_float64(const Region& region, unsigned threads = 1) const;
    /// The error against the float32 reconstruction; where that overflows
    /// float32 (finite terms near the float32 limit), against the float64
    /// one, with ErrorMetrics::float32_overflows counting the values.
    ErrorMetrics error_against(std::span<const float> original, unsigned threads = 1) const;

    const SignedCutDecomposition* sct() const { return std::get_if<SignedCutDecomposition>(&d_); }
    const LplrDecomposition* lplr() const { return std::get_if<LplrDecomposition>(&d_); }

private:
    std::variant<SignedCutDecomposition, LplrDecomposition> d_;
};

}  // namespace signcut
