// How a decomposition file stores its sign stream (docs/FORMAT.md, "Signs").
//
// The signs of smooth data are far from random: a term's sign vector along a
// smooth mode is a few runs, and HDF5's built-in deflate leaves 66-95 % of
// the bytes (less at low budgets, whose terms are the smoothest). The budget
// bounds the stored bytes, so whatever deflate saves buys terms; for that
// the allocation must know the stored size of every candidate exactly,
// which a SignStorage computes as HDF5 will store it. The core holds only
// this interface; libsigncut implements it with zlib (deflated_signs.hpp).
#pragma once

#include "signcut/export.hpp"

#include <cstdint>
#include <span>

namespace signcut {

class SIGNCUT_API SignStorage {
public:
    virtual ~SignStorage() = default;
    /// The level of HDF5's deflate filter the `signs` dataset is written with.
    virtual int deflate_level() const noexcept = 0;
    /// The bytes HDF5 stores for `stream` written with that filter: chunked
    /// as stored_dataset_bytes() chunks bytes, each chunk (the last one
    /// padded with zeros to the chunk length) deflated, then its 4-byte
    /// fletcher32 checksum. 0 for an empty stream.
    virtual std::uint64_t stored_bytes(std::span<const std::uint8_t> stream) const = 0;
};

}  // namespace signcut
