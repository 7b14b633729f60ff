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
#include "slab_plan.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "streamed_dataset.hpp"
#include "streamed_reconstruction.hpp"

namespace signcut {
namespace {

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
    io::SlabInput in = io::open_slab_input(path, options.max_bytes);
    const DecompositionInfo& info = in.info;

    const io::DtypeSpec& spec = io::dtype_spec(options.dtype.empty() ? info.provenance.original_dtype : options.dtype);
    const std::string dataset_path = io::absolute_dataset_path(dataset);
    const std::string name = fmt::format("{}:{}", output, dataset_path);
    const bool wide = spec.kind == io::DtypeKind::float64;
    const std::size_t value_size = wide ? sizeof(double) : sizeof(float);

    try {
        // Optional only so that it can close before the commit (below).
        std::optional<io::SlabReader> reader(std::in_place, in.input.root.get(), path, info, options.region,
                                             options.width);
        const std::uint64_t largest =
            io::fit_slabs_to_memory(*reader, in, path, options.max_bytes, value_size, [&](const io::Slab& slab) {
                io::SaturatingCount bytes(reader->held_bytes(slab, value_size, options.threads));
                bytes += io::RowWriter::buffer_bytes(spec, wide, slab.values);
                return bytes.clamped();
            });

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
        in.input.root.reset();
        in.input.file.reset();
        writer.finish(info.provenance.source_attributes);
        out.commit();
        return shape;
    } catch (const std::bad_alloc&) {
        throw Error(errc::limit, fmt::format("{}: cannot allocate the memory its slabs need", path));
    }
}

}  // namespace signcut
