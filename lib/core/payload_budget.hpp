// Budgets on the payload (design §6, §7): a budget of B bits per value
// bounds the stored bytes of the decomposition's datasets, not only the
// terms' own bits. decompose() and recut() share these, so that a recut
// file and a fresh compress at the same budget agree.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "signcut/allocation.hpp"
#include "signcut/blocks.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/scale_format.hpp"

namespace signcut::detail {

/// floor(B·N) bits (saturated far beyond any real size).
std::uint64_t budget_bits(double bits_per_value, std::uint64_t n);

/// How a run stores what the payload counts: the bits of a scale
/// (scale_format.hpp) and, where the signs may be deflated, the stored bytes
/// of the sign stream of any prefix widths (the smaller of plain and
/// deflated; unset: plain).
struct PayloadRule {
    unsigned scale_bits = float32_scale_bits;
    std::function<std::uint64_t(std::span<const std::size_t> widths)> stored_sign_bytes;
};

/// The exact payload in bits of a decomposition over `grid` with `widths`
/// (signed cuts only).
std::uint64_t payload_bits(const BlockGrid& grid, const PayloadRule& rule, std::span<const std::size_t> widths);

/// What the alternatives an allocation chose store, plus `kept` (coded
/// blocks a recut keeps as they are).
CodedStorage chosen_storage(std::span<const BlockCurve> curves, const Allocation& a, const CodedStorage& kept);

/// The total gain of an allocation's widths and choices over `curves`,
/// summed in block and term order (so two allocations over the same curves
/// compare without the rounding of the order they were taken in).
double allocated_gain(std::span<const BlockCurve> curves, const Allocation& a);

/// The exact payload in bits of an allocation over `curves`, with `kept`.
std::uint64_t payload_bits(const BlockGrid& grid, const PayloadRule& rule, std::span<const BlockCurve> curves,
                           const Allocation& a, const CodedStorage& kept = {});

/// Bits the blocks may share under a payload of `total` bits before the
/// terms' own count is known: the total less the widths dataset, `kept`'s
/// datasets and one checksum for each of the scales and signs. An upper
/// bound on what the allocation can use.
std::uint64_t term_bits_ceiling(const BlockGrid& grid, const PayloadRule& rule, std::uint64_t total,
                                const CodedStorage& kept = {});

/// allocate_bits with the payload as the budget: the bit budget is raised
/// or lowered until the exact payload of the allocation fits `total` with
/// as little left over as the iteration finds.
Allocation allocate_payload(const BlockGrid& grid, const PayloadRule& rule, std::span<const BlockCurve> curves,
                            std::uint64_t total, const CodedStorage& kept = {});

/// allocate_gain within a payload of `total` bits.
Allocation allocate_gain_payload(const BlockGrid& grid, const PayloadRule& rule, std::span<const BlockCurve> curves,
                                 double needed_gain, std::uint64_t total, const CodedStorage& kept = {});


}  // namespace signcut::detail
