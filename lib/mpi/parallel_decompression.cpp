#include "parallel_decompression.hpp"

#include <cstdint>
#include <new>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "collective.hpp"
#include "decomposition_file.hpp"
#include "dtype.hpp"
#include "hdf5_output.hpp"
#include "parallel_dataset_writer.hpp"
#include "signcut/block_team.hpp"
#include "signcut/error.hpp"
#include "slab_plan.hpp"
#include "streamed_dataset.hpp"
#include "streamed_reconstruction.hpp"

namespace signcut::mpi {
namespace {

/// The rounds: in each, this rank rebuilds its next slab (if it has one
/// left), and then every rank takes part in the collective write.
template <class T>
void rebuild_and_write(MPI_Comm comm, const io::SlabReader& reader, ParallelDatasetWriter& writer,
                       std::uint64_t rounds, std::uint64_t largest, const io::DtypeSpec& spec, bool convert,
                       const std::string& shown, const SlabDecompression& options,
                       const std::function<void(std::span<const T>, std::uint64_t)>& check)
{
    std::vector<T> values;
    std::vector<unsigned char> stored;
    agree(comm, [&] {
        values.resize(static_cast<std::size_t>(largest));
        if (convert) stored.resize(static_cast<std::size_t>(largest * spec.size));
    });
    const std::vector<io::Slab>& slabs = reader.slabs();
    for (std::uint64_t round = 0; round < rounds; ++round) {
        const io::Slab* slab = round < slabs.size() ? &slabs[round] : nullptr;
        agree(comm, [&] {
            if (slab == nullptr) return;
            const std::span<T> v(values.data(), static_cast<std::size_t>(slab->values));
            {
                const io::SlabTerms terms = reader.read(*slab);
                reader.reconstruct(*slab, terms, v, options.threads);
            }
            if (check) check(v, slab->first_value);
            if (convert) io::convert_for_storage(spec, std::span<const T>(v), slab->first_value, shown, stored.data());
        });
        const void* data = convert ? static_cast<const void*>(stored.data()) : values.data();
        agree(comm, [&] { writer.write(slab ? slab->first : 0, slab ? slab->rows : 0, data); });
    }
}

}  // namespace

Shape decompress_in_slabs_together(MPI_Comm comm, const std::string& path, const std::string& output,
                                   const std::string& dataset, const SlabDecompression& options,
                                   std::uint64_t* rounds_made)
{
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const bool first = rank == 0;
    h5::QuietErrors quiet;

    // Every rank plans its own share, with decompress_in_slabs's checks.
    std::optional<io::SlabInput> in;
    std::optional<io::SlabReader> reader;
    const io::DtypeSpec* spec = nullptr;
    std::string dataset_path, shown;
    bool wide = false, convert = false;
    std::uint64_t largest = 0;
    Shape shape;
    std::vector<CarriedAttribute> attributes;
    agree(comm, [&] {
        in.emplace(io::open_slab_input(path, options.max_bytes));
        const DecompositionInfo& info = in->info;
        spec = &io::dtype_spec(options.dtype.empty() ? info.provenance.original_dtype : options.dtype);
        dataset_path = io::absolute_dataset_path(dataset);
        shown = fmt::format("{}:{}", output, dataset_path);
        wide = spec->kind == io::DtypeKind::float64;
        convert = !io::stored_as_given(*spec, wide);
        const std::size_t value_size = wide ? sizeof(double) : sizeof(float);
        attributes = info.provenance.source_attributes;
        reader.emplace(in->input.root.get(), path, info, options.region, options.width);
        const auto [r0, r1] = owned_block_rows(BlockGrid(info.shape, info.block_shape),
                                               static_cast<std::size_t>(size), static_cast<std::size_t>(rank));
        reader->keep_grid_rows(r0, r1);
        largest = io::fit_slabs_to_memory(*reader, *in, path, options.max_bytes, value_size, [&](const io::Slab& s) {
            io::SaturatingCount bytes(reader->held_bytes(s, value_size, options.threads));
            if (convert) bytes += io::SaturatingCount::u128(s.values) * spec->size;
            return bytes.clamped();
        });
        shape = reader->shape();
    });
    // Collective writes: every rank makes as many as the rank with most
    // slabs.
    std::uint64_t mine = reader->slabs().size(), rounds = 0;
    MPI_Allreduce(&mine, &rounds, 1, MPI_UINT64_T, MPI_MAX, comm);

    // Rank 0's temporary, registered with the unfinished outputs (a signal
    // removes it), removed if this function throws, renamed at the end.
    std::optional<io::Hdf5Output> out;
    std::string temporary;
    agree(comm, [&] {
        if (!first) return;
        out.emplace(output, options.into_existing ? dataset_path : std::string(), options.force);
        out->close_file();
        temporary = out->temporary_path();
    });
    broadcast_text(comm, temporary);

    std::optional<ParallelDatasetWriter> writer;
    agree(comm, [&] { writer.emplace(comm, temporary, dataset_path, shown, shape, *spec); });
    try {
        if (wide)
            rebuild_and_write<double>(comm, *reader, *writer, rounds, largest, *spec, convert, shown, options,
                                      options.check_float64);
        else
            rebuild_and_write<float>(comm, *reader, *writer, rounds, largest, *spec, convert, shown, options,
                                     options.check_float32);
    } catch (const std::bad_alloc&) {
        throw Error(errc::limit, fmt::format("{}: cannot allocate the memory its slabs need", path));
    }
    // The input is closed before the output replaces a file, which may be
    // the input's own (another object of it).
    reader.reset();
    in.reset();
    agree(comm, [&] { writer->finish(attributes); });
    writer.reset();
    agree(comm, [&] {
        if (first) out->commit();
    });
    if (rounds_made != nullptr) *rounds_made = rounds;
    return shape;
}

}  // namespace signcut::mpi
