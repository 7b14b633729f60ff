// The plan of a slab-by-slab rebuild: what decompress_in_slabs checks
// before it reads any array, for any writer.
#include "slab_plan.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "decomposition_file.hpp"
#include "decomposition_methods.hpp"
#include "signcut/error.hpp"

namespace signcut::io {

SlabInput open_slab_input(const std::string& path, std::uint64_t max_bytes)
{
    SlabInput in{open_decomposition(path), {}, 0};
    CommonAttributes common = read_common(in.input.root.get(), path);
    if (common.method != "sct")
        throw Error(errc::invalid_argument,
                    fmt::format("{} is an {} decomposition; only sct ones are rebuilt in slabs (read_decomposition "
                                "reads it whole)",
                                path, common.method));
    in.info = common_info(common);
    read_sct_info(in.input.root.get(), path, common, in.info, max_bytes);
    // The widths, read as uint32 and kept as uint64, and in version 3 the
    // codecs and the stream sizes, which the reader reads first.
    in.index_bytes = SlabReader::index_bytes(in.info);
    if (in.index_bytes > max_bytes || in.index_bytes == UINT64_MAX)
        throw Error(errc::limit,
                    fmt::format("{}: the widths{} of its {} blocks need {} bytes, more than the memory limit of {} "
                                "bytes",
                                path, in.info.codecs.empty() ? "" : ", codecs and stream sizes",
                                in.info.widths.size(), bytes_text(in.index_bytes), max_bytes));
    return in;
}

std::uint64_t fit_slabs_to_memory(SlabReader& reader, const SlabInput& in, const std::string& path,
                                  std::uint64_t max_bytes, std::size_t value_size, const SlabBytes& held)
{
    // What the largest row of blocks holds, with the widths every slab needs.
    std::uint64_t peak_bytes = 0;
    const Slab* peak = nullptr;
    for (const Slab& slab : reader.slabs())
        if (peak == nullptr || held(slab) > peak_bytes) peak_bytes = held(slab), peak = &slab;
    if (peak != nullptr) {
        SaturatingCount needed(peak_bytes);
        needed += in.index_bytes;
        if (needed.clamped() > max_bytes || needed.clamped() == UINT64_MAX) {
            const Slab& s = *peak;
            throw Error(errc::limit,
                        fmt::format("{}: rebuilding it slab by slab needs {} bytes at once, more than the memory "
                                    "limit of {} bytes: its largest row of blocks (rows {}:{} of mode 0, {} values "
                                    "of {} bytes, the terms of {} blocks, buffers) needs {} and the widths{} of its {} "
                                    "blocks {}",
                                    path, bytes_text(needed.clamped()), max_bytes, s.data_first,
                                    s.data_first + s.data_rows, s.values, value_size, s.blocks, bytes_text(peak_bytes),
                                    in.info.codecs.empty() ? "" : ", codecs and stream sizes", in.info.widths.size(),
                                    in.index_bytes));
        }
    }
    // Thin rows join up to slabs of 2^20 values (4 MiB of float32), which
    // take milliseconds to rebuild and write against the microseconds each
    // slab's HDF5 calls cost, and only as far as the limit allows.
    reader.join(std::uint64_t{1} << 20, [&](const Slab& slab) {
        SaturatingCount bytes(held(slab));
        bytes += in.index_bytes;
        return bytes.clamped() <= max_bytes && bytes.clamped() != UINT64_MAX;
    });
    std::uint64_t largest = 0;
    for (const Slab& slab : reader.slabs()) largest = std::max(largest, slab.values);
    return largest;
}

}  // namespace signcut::io
