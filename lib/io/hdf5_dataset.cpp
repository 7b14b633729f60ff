// Reading and writing plain HDF5 datasets.

#include <algorithm>
#include <array>
#include <cmath>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "atomic_output.hpp"
#include "carried_attributes.hpp"
#include "hdf5_output.hpp"
#include "object_writers.hpp"
#include "dtype.hpp"
#include "float32_conversion.hpp"
#include "hdf5_handle.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "streamed_dataset.hpp"

namespace signcut {
namespace {

std::string where(const std::string& file, const std::string& dataset) { return fmt::format("{}:{}", file, dataset); }

/// "(datasets: /a, /b, /c)" with at most ten names, for messages.
std::string dataset_list(const std::vector<std::string>& names)
{
    if (names.empty()) return "(it holds no datasets)";
    constexpr std::size_t shown = 10;
    std::vector<std::string> head(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(std::min(shown, names.size())));
    std::string list = fmt::format("{}", fmt::join(head, ", "));
    if (names.size() > shown) list += fmt::format(" and {} more", names.size() - shown);
    return fmt::format("(datasets: {})", list);
}

herr_t collect_dataset(hid_t group, const char* name, const H5L_info_t* info, void* data)
{
    // Only hard links lead to objects stored in this file; soft links point
    // at objects that are visited under their own name, external links
    // leave the file.
    if (info->type != H5L_TYPE_HARD) return 0;
    const hid_t object = H5Oopen(group, name, H5P_DEFAULT);
    if (object < 0) return -1;
    const bool is_dataset = H5Iget_type(object) == H5I_DATASET;
    H5Oclose(object);
    if (is_dataset) static_cast<std::vector<std::string>*>(data)->push_back(std::string("/") + name);
    return 0;
}

std::vector<std::string> datasets_of(hid_t file, const std::string& path)
{
    std::vector<std::string> names;
    if (H5Lvisit(file, H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &names) < 0)
        h5::fail(errc::bad_input, fmt::format("cannot list the datasets of {}", path));
    std::sort(names.begin(), names.end());
    return names;
}

/// Opens `dataset` in an open file, with messages that say what is there
/// instead when it is missing or not a dataset.
h5::Dataset open_dataset_in(hid_t file, const std::string& path, const std::string& dataset)
{
    if (!h5::link_exists(file, dataset))
        throw Error(errc::bad_input, fmt::format("{} has no dataset {} {}", path, dataset, dataset_list(datasets_of(file, path))));
    h5::Object object(H5Oopen(file, dataset.c_str(), H5P_DEFAULT));
    if (!object) h5::fail(errc::bad_input, fmt::format("cannot open {}", where(path, dataset)));
    if (H5Iget_type(object.get()) != H5I_DATASET)
        throw Error(errc::bad_input, fmt::format("{} is not a dataset {}", where(path, dataset), dataset_list(datasets_of(file, path))));
    object.reset();
    h5::Dataset d(H5Dopen2(file, dataset.c_str(), H5P_DEFAULT));
    if (!d) h5::fail(errc::bad_input, fmt::format("cannot open {}", where(path, dataset)));
    return d;
}

/// The checks every dataset read starts with: a supported class and a
/// non-empty simple dataspace of rank >= 1.
DatasetInfo describe(hid_t dataset, const std::string& name)
{
    h5::Datatype type(H5Dget_type(dataset));
    if (!type) h5::fail(errc::bad_input, fmt::format("cannot read the type of {}", name));
    DatasetInfo info;
    info.dtype = io::dtype_of(type.get(), name);

    h5::Dataspace space(H5Dget_space(dataset));
    if (!space) h5::fail(errc::bad_input, fmt::format("cannot read the shape of {}", name));
    const H5S_class_t space_class = H5Sget_simple_extent_type(space.get());
    if (space_class == H5S_SCALAR)
        throw Error(errc::bad_input, fmt::format("{} is a scalar (rank 0); signcut needs a tensor of rank >= 1", name));
    if (space_class != H5S_SIMPLE)
        throw Error(errc::bad_input, fmt::format("{} has no data (null dataspace)", name));
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) h5::fail(errc::bad_input, fmt::format("cannot read the shape of {}", name));
    if (rank == 0) throw Error(errc::bad_input, fmt::format("{} has rank 0; signcut needs a tensor of rank >= 1", name));
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
    H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    info.shape.assign(dims.begin(), dims.end());
    if (std::find(info.shape.begin(), info.shape.end(), std::size_t{0}) != info.shape.end())
        throw Error(errc::bad_input, fmt::format("{} has zero size (shape {})", name, format_shape(info.shape)));
    return info;
}

}  // namespace

std::size_t dtype_size(std::string_view dtype) { return io::dtype_spec(dtype).size; }

DatasetInfo inspect_dataset(const std::string& file, const std::string& dataset)
{
    h5::QuietErrors quiet;
    const std::string path = io::absolute_dataset_path(dataset);
    h5::File f = h5::open_read_only(file);
    h5::Dataset d = open_dataset_in(f.get(), file, path);
    return describe(d.get(), where(file, path));
}

std::vector<CarriedAttribute> read_dataset_attributes(const std::string& file, const std::string& dataset,
                                                      std::vector<std::string>* skipped)
{
    h5::QuietErrors quiet;
    const std::string path = io::absolute_dataset_path(dataset);
    h5::File f = h5::open_read_only(file);
    h5::Dataset d = open_dataset_in(f.get(), file, path);
    return io::read_carried_attributes(d.get(), where(file, path), skipped, false);
}

DatasetStorage dataset_storage(const std::string& file, const std::string& dataset)
{
    h5::QuietErrors quiet;
    const std::string path = io::absolute_dataset_path(dataset);
    h5::File f = h5::open_read_only(file);
    h5::Dataset d = open_dataset_in(f.get(), file, path);
    const DatasetInfo info = describe(d.get(), where(file, path));
    DatasetStorage s;
    s.shape = info.shape;
    s.dtype = info.dtype;
    s.values = element_count(info.shape);
    s.stored_bytes = H5Dget_storage_size(d.get());
    return s;
}

std::optional<Shape> dataset_chunk_shape(const std::string& file, const std::string& dataset)
{
    h5::QuietErrors quiet;
    const std::string path = io::absolute_dataset_path(dataset);
    h5::File f = h5::open_read_only(file);
    h5::Dataset d = open_dataset_in(f.get(), file, path);
    h5::PropList dcpl(H5Dget_create_plist(d.get()));
    if (!dcpl) h5::fail(errc::bad_input, fmt::format("cannot read the layout of {}", where(file, path)));
    if (H5Pget_layout(dcpl.get()) != H5D_CHUNKED) return std::nullopt;
    std::array<hsize_t, H5S_MAX_RANK> chunk{};
    const int rank = H5Pget_chunk(dcpl.get(), H5S_MAX_RANK, chunk.data());
    if (rank < 1) h5::fail(errc::bad_input, fmt::format("cannot read the chunks of {}", where(file, path)));
    return Shape(chunk.begin(), chunk.begin() + rank);
}

std::vector<std::string> list_datasets(const std::string& file)
{
    h5::QuietErrors quiet;
    h5::File f = h5::open_read_only(file);
    return datasets_of(f.get(), file);
}

Tensor read_dataset(const std::string& file, const std::string& dataset, std::uint64_t max_bytes,
                    std::string* original_dtype)
{
    h5::QuietErrors quiet;
    const std::string path = io::absolute_dataset_path(dataset);
    const std::string name = where(file, path);
    h5::File f = h5::open_read_only(file);
    h5::Dataset d = open_dataset_in(f.get(), file, path);
    const DatasetInfo info = describe(d.get(), name);

    const std::uint64_t count = element_count(info.shape);
    if (count > UINT64_MAX / sizeof(float) || count * sizeof(float) > max_bytes)
        throw Error(errc::limit,
                    fmt::format("{} has shape {}: {} entries as float32 need {} bytes, more than the memory limit of {} bytes",
                                name, format_shape(info.shape), count,
                                count > UINT64_MAX / sizeof(float) ? std::string("over 2^64")
                                                                   : std::to_string(count * sizeof(float)),
                                max_bytes));

    Tensor out;
    try {
        out = Tensor::from_shape(info.shape);
    } catch (const std::bad_alloc&) {
        throw Error(errc::limit, fmt::format("{} has shape {}: cannot allocate {} bytes for it", name,
                                             format_shape(info.shape), count * sizeof(float)));
    }
    const std::uint64_t out_of_range =
        io::read_as_float32(d.get(), info.dtype, H5S_ALL, H5S_ALL, out.data(), count, name);
    if (out_of_range > 0) io::refuse_beyond_float32(name, out_of_range, info.dtype);

    if (info.dtype.starts_with("float")) {
        std::uint64_t nans = 0, infs = 0;
        for (const float v : out) {
            nans += std::isnan(v) ? 1 : 0;
            infs += std::isinf(v) ? 1 : 0;
        }
        if (nans + infs > 0) io::refuse_non_finite(name, nans, infs);
    }
    if (original_dtype != nullptr) *original_dtype = info.dtype;
    return out;
}

/// write_dataset for float32 or float64 data (S).
/// Creates dataset `dataset_path` (and the groups above it) in the open
/// file `file` and writes the values and attributes: the part of
/// write_dataset that a whole-file run shares.
template <class S>
void write_values_into(hid_t file, const std::string& dataset_path, const std::string& name, const S* data,
                       std::span<const std::size_t> shape, const io::DtypeSpec& spec,
                       std::span<const CarriedAttribute> attributes)
{
    io::RowWriter writer(file, dataset_path, name, shape, spec);
    writer.write(0, shape[0], data);
    writer.finish(attributes);
}

template <class S>
void write_dataset_values(const std::string& path, const std::string& dataset, const S* data,
                          std::span<const std::size_t> shape, std::string_view dtype, bool force, bool into_existing,
                          std::span<const CarriedAttribute> attributes)
{
    const io::DtypeSpec& spec = io::dtype_spec(dtype);
    const std::string dataset_path = io::absolute_dataset_path(dataset);
    const std::string name = where(path, dataset_path);
    if (shape.empty()) throw Error(errc::invalid_argument, fmt::format("cannot write {}: rank 0", name));
    if (std::find(shape.begin(), shape.end(), std::size_t{0}) != shape.end())
        throw Error(errc::invalid_argument, fmt::format("cannot write {}: zero size (shape {})", name, format_shape(shape)));
    (void)element_count(shape);  // refuses shapes whose product overflows
    if (data == nullptr) throw Error(errc::invalid_argument, fmt::format("cannot write {}: no data", name));

    h5::QuietErrors quiet;
    io::Hdf5Output output(path, into_existing ? dataset_path : std::string(), force);
    write_values_into(output.file(), dataset_path, name, data, shape, spec, attributes);
    output.commit();
}

namespace io {

void write_dataset_into(hid_t file, const std::string& dataset_path, const std::string& shown, const float* data,
                        std::span<const std::size_t> shape, std::string_view dtype,
                        std::span<const CarriedAttribute> attributes)
{
    write_values_into(file, dataset_path, shown, data, shape, io::dtype_spec(dtype), attributes);
}

}  // namespace io

void write_dataset(const std::string& path, const std::string& dataset, const float* data,
                   std::span<const std::size_t> shape, std::string_view dtype, bool force, bool into_existing,
                   std::span<const CarriedAttribute> attributes)
{
    write_dataset_values(path, dataset, data, shape, dtype, force, into_existing, attributes);
}

void write_dataset(const std::string& path, const std::string& dataset, const double* data,
                   std::span<const std::size_t> shape, std::string_view dtype, bool force, bool into_existing,
                   std::span<const CarriedAttribute> attributes)
{
    write_dataset_values(path, dataset, data, shape, dtype, force, into_existing, attributes);
}

}  // namespace signcut
