// signcut: several processes that decompose one tensor together.
//
// Blocks are decomposed on their own (design §3b), so a tensor's blocks can
// be shared out between processes (MPI ranks). Only the allocation needs
// every block: after each round of decompositions the members exchange
// what the allocation reads of the blocks they decomposed (a few numbers
// per term, and with deflated signs the blocks' packed signs), and each
// member then computes the same allocation from the same numbers. The
// result is the decomposition one process gives, bit for bit: each member
// keeps its own blocks' terms, and all hold where every block lies in the
// file (stored_layout.hpp), which they write together.
//
// The core knows a team only through this interface; the MPI one lives in
// lib/mpi/ (libsigncut-core links no MPI).
#pragma once

#include "signcut/export.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "signcut/blocks.hpp"
#include "signcut/error.hpp"

namespace signcut {

/// What went wrong on a member, as it travels to the others.
struct SIGNCUT_API TeamFailure {
    bool failed = false;
    errc code = errc::io;
    std::string message;
};

class SIGNCUT_API BlockTeam {
public:
    virtual ~BlockTeam() = default;
    /// This member's index, 0 ≤ member() < members().
    virtual std::size_t member() const = 0;
    virtual std::size_t members() const = 0;

    /// Every member's bytes, in member order. Every member calls it at the
    /// same point of a run. If any member passes a failure, every member
    /// throws Error with the failure of the lowest such member (so a bad
    /// slab on one member ends all of them alike, never a hang).
    virtual std::vector<std::vector<std::uint8_t>> all_gather(std::span<const std::uint8_t> mine,
                                                              const TeamFailure& failure) = 0;
};

/// The member that decomposes block b when `members` share `grid`: the
/// block rows (blocks sharing their rows along mode 0, which a slab read
/// brings in together) are split into `members` contiguous runs whose
/// lengths differ by at most one, the first runs the longer.
SIGNCUT_API std::size_t block_owner(const BlockGrid& grid, std::size_t members, std::size_t b);

/// The block rows [first, last) that member `member` owns.
SIGNCUT_API std::pair<std::size_t, std::size_t> owned_block_rows(const BlockGrid& grid, std::size_t members,
                                                                 std::size_t member);

}  // namespace signcut
