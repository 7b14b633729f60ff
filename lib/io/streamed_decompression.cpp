// decompress_in_slabs: an sct decomposition file rebuilt into an HDF5
// dataset one slab at a time, so that its size is bounded by one slab and
// not by the tensor.

#include <algorithm>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "decomposition_file.hpp"
#include "decomposition_reader.hpp"
#include "decomposition_methods.hpp"
#include "dtype.hpp"
#include "hdf5_handle.hpp"
#include "hdf5_output.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "streamed_dataset.hpp"
#include "streamed_reconstruction.hpp"

namespace signcut {
namespace {

/// What a run holds at its largest row of blocks, for the memory check.
struct Peak {
    std::uint64_t bytes = 0;  ///< the row's terms, values and buffers
    const io::Slab* slab = nullptr;
};

template <class T>
void rebuild_and_write(const io::SlabReader& reader, io::RowWriter& writer, std::uint64_t largest, unsigned threads,
                       const std::function<void(std::span<const T>, std::uint64_t)>& check)
{
    std::vector<T> values(static_cast<std::size_t>(largest));
    for (const io::Slab& slab : reader.slabs()) {
        const std::span<T> v(values.data(), static_cast<std::size_t>(slab.values));
        {
            const io::SlabTerms terms = reader.read(slab);
            reader.reconstruct(slab, terms, v, threads);
        }  // the terms are gone before the writer's conversion buffer is
        if (check) check(v, slab.first_value);
        writer.write(slab.first, slab.rows, v.data());
    }
}

}  // namespace

Shape decompress_in_slabs(const std::string& path, const std::string& output, const std::string& dataset,
                          const SlabDecompression& options)
{
    h5::QuietErrors quiet;
    io::OpenDecomposition input = io::open_decomposition(path);
    io::CommonAttributes common = io::read_common(input.root.get(), path);
    if (common.method != "sct")
        throw Error(errc::invalid_argument,
                    fmt::format("{} is an {} decomposition; only sct ones are rebuilt in slabs (read_decomposition "
                                "reads it whole)",
                                path, common.method));
    DecompositionInfo info = io::common_info(common);
    io::read_sct_info(input.root.get(), path, common, info, options.max_bytes);

    const io::DtypeSpec& spec = io::dtype_spec(options.dtype.empty() ? info.provenance.original_dtype : options.dtype);
    const std::string dataset_path = io::absolute_dataset_path(dataset);
    const std::string name = fmt::format("{}:{}", output, dataset_path);
    const bool wide = spec.kind == io::DtypeKind::float64;
    const std::size_t value_size = wide ? sizeof(double) : sizeof(float);

    try {
        const std::uint64_t blocks = info.widths.size();
        // The widths, read as uint32 and kept as uint64, and in version 3
        // the codecs and the stream sizes, which the reader reads first.
        const std::uint64_t widths_bytes = io::SlabReader::index_bytes(info);
        if (widths_bytes > options.max_bytes || widths_bytes == UINT64_MAX)
            throw Error(errc::limit,
                        fmt::format("{}: the widths{} of its {} blocks need {} bytes, more than the memory limit of {} "
                                    "bytes",
                                    path, info.codecs.empty() ? "" : ", codecs and stream sizes", blocks,
                                    io::bytes_text(widths_bytes), options.max_bytes));
        // Optional only so that it can close before the commit (below).
        std::optional<io::SlabReader> reader(std::in_place, input.root.get(), path, info, options.region,
                                             options.width);
        const auto held = [&](const io::Slab& slab) {
            io::SaturatingCount bytes(reader->held_bytes(slab, value_size, options.threads));
            bytes += io::RowWriter::buffer_bytes(spec, wide, slab.values);
            return bytes.clamped();
        };

        // Before any array is read or the output exists: what the largest
        // row of blocks holds, with the widths every slab needs.
        Peak peak;
        for (const io::Slab& slab : reader->slabs())
            if (peak.slab == nullptr || held(slab) > peak.bytes) peak = {held(slab), &slab};
        io::SaturatingCount needed(peak.bytes);
        needed += widths_bytes;
        if (needed.clamped() > options.max_bytes || needed.clamped() == UINT64_MAX) {
            const io::Slab& s = *peak.slab;
            throw Error(errc::limit,
                        fmt::format("{}: rebuilding it slab by slab needs {} bytes at once, more than the memory "
                                    "limit of {} bytes: its largest row of blocks (rows {}:{} of mode 0, {} values "
                                    "of {} bytes, the terms of {} blocks, buffers) needs {} and the widths{} of its {} "
                                    "blocks {}",
                                    path, io::bytes_text(needed.clamped()), options.max_bytes, s.data_first,
                                    s.data_first + s.data_rows, s.values, value_size, s.blocks,
                                    io::bytes_text(peak.bytes), info.codecs.empty() ? "" : ", codecs and stream sizes",
                                    blocks, widths_bytes));
        }
        // Thin rows join up to slabs of 2^20 values (4 MiB of float32), which
        // take milliseconds to rebuild and write against the microseconds
        // each slab's HDF5 calls cost, and only as far as the limit allows.
        reader->join(std::uint64_t{1} << 20, [&](const io::Slab& slab) {
            io::SaturatingCount bytes(held(slab));
            bytes += widths_bytes;
            return bytes.clamped() <= options.max_bytes && bytes.clamped() != UINT64_MAX;
        });
        std::uint64_t largest = 0;
        for (const io::Slab& slab : reader->slabs()) largest = std::max(largest, slab.values);

        const Shape shape = reader->shape();
        io::Hdf5Output out(output, options.into_existing ? dataset_path : std::string(), options.force);
        io::RowWriter writer(out.file(), dataset_path, name, shape, spec);
        if (wide)
            rebuild_and_write<double>(*reader, writer, largest, options.threads, options.check_float64);
        else
            rebuild_and_write<float>(*reader, writer, largest, options.threads, options.check_float32);
        // The input (the reader's open datasets, then the file) is closed
        // before the output replaces a file, which may be the input's own
        // (another object of it).
        reader.reset();
        input.root.reset();
        input.file.reset();
        writer.finish(info.provenance.source_attributes);
        out.commit();
        return shape;
    } catch (const std::bad_alloc&) {
        throw Error(errc::limit, fmt::format("{}: cannot allocate the memory its slabs need", path));
    }
}

}  // namespace signcut
