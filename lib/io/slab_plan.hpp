// Internal: the plan of a slab-by-slab rebuild of an sct decomposition —
// the file opened and checked, and the slabs fitted to the memory limit —
// shared by every writer of a streamed decompress (the serial HDF5 output,
// and signcut-mpi's ranks writing together).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "decomposition_reader.hpp"
#include "signcut/decomposition.hpp"
#include "streamed_reconstruction.hpp"

namespace signcut::io {

/// An sct decomposition file opened for a slab-by-slab rebuild.
struct SlabInput {
    OpenDecomposition input;
    DecompositionInfo info;
    /// What the reader holds for the whole run (SlabReader::index_bytes).
    std::uint64_t index_bytes = 0;
};

/// Opens `path` ("FILE.h5" or "FILE.h5:/G") and reads its metadata with
/// read_decomposition_info's checks; refuses (errc::invalid_argument) an
/// lplr decomposition and (errc::limit) widths, codecs and stream sizes that
/// alone need more than `max_bytes`.
SlabInput open_slab_input(const std::string& path, std::uint64_t max_bytes);

/// What one slab holds at once while it is rebuilt and written, as the
/// writer counts it (the reader's terms and values plus its buffers).
using SlabBytes = std::function<std::uint64_t(const Slab&)>;

/// Before any array is read: refuses (errc::limit, one line naming the
/// numbers and the rows) a run whose index bytes plus largest slab (as
/// `held` counts it) exceed `max_bytes`, then joins thin slabs up to 2^20
/// values as far as the limit allows. Returns the values of the largest
/// slab (0 when the reader has none).
std::uint64_t fit_slabs_to_memory(SlabReader& reader, const SlabInput& in, const std::string& path,
                                  std::uint64_t max_bytes, std::size_t value_size, const SlabBytes& held);

}  // namespace signcut::io
