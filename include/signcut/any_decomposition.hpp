// signcut: a decomposition of either method, as a file holds it.
//
// Commands and bindings that read a file do not fork on the method: they
// hold a Decomposition and ask it for its shape, payload and reconstruction.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>

#include "signcut/blocks.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/lplr.hpp"
#include "signcut/metrics.hpp"
#include "signcut/tensor.hpp"

namespace signcut {

class Decomposition {
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
    ErrorMetrics error_against(std::span<const float> original, unsigned threads = 1) const;

    const SignedCutDecomposition* sct() const { return std::get_if<SignedCutDecomposition>(&d_); }
    const LplrDecomposition* lplr() const { return std::get_if<LplrDecomposition>(&d_); }

private:
    std::variant<SignedCutDecomposition, LplrDecomposition> d_;
};

}  // namespace signcut
