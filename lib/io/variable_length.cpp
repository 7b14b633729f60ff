// Variable-length data in files signcut did not write.
#include "variable_length.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "hdf5_handle.hpp"

namespace signcut::io {
namespace {

// A trial of one attribute reads a few bytes of heap; ten seconds is
// generous on any storage, and a hang costs no more than that.
constexpr std::chrono::milliseconds attribute_limit{10'000};
// Elements read at once by a dataset trial.
constexpr hsize_t slab_elements = hsize_t{1} << 20;

}  // namespace

bool has_variable_length(hid_t type)
{
    return H5Tis_variable_str(type) > 0 || H5Tdetect_class(type, H5T_VLEN) > 0 ||
           (H5Tget_class(type) != H5T_STRING && H5Tdetect_class(type, H5T_STRING) > 0 &&
            [type] {
                // A variable-length string inside a compound or an array:
                // H5Tdetect_class cannot tell it from a fixed-length one.
                const H5T_class_t c = H5Tget_class(type);
                if (c == H5T_ARRAY) {
                    h5::Datatype base(H5Tget_super(type));
                    return base && has_variable_length(base.get());
                }
                if (c == H5T_COMPOUND) {
                    const int members = H5Tget_nmembers(type);
                    for (int i = 0; i < members; ++i) {
                        h5::Datatype member(H5Tget_member_type(type, static_cast<unsigned>(i)));
                        if (member && has_variable_length(member.get())) return true;
                    }
                }
                return false;
            }());
}

Trial trial_attribute_read(hid_t attribute, hid_t memory_type)
{
    return trial_in_child(
        [attribute, memory_type] {
            h5::Dataspace space(H5Aget_space(attribute));
            const hssize_t count = space ? H5Sget_simple_extent_npoints(space.get()) : -1;
            const std::size_t size = H5Tget_size(memory_type);
            if (count < 0 || size == 0) return false;
            std::vector<unsigned char> buffer(std::max<std::size_t>(1, static_cast<std::size_t>(count) * size));
            if (H5Aread(attribute, memory_type, buffer.data()) < 0) return false;
            H5Dvlen_reclaim(memory_type, space.get(), H5P_DEFAULT, buffer.data());
            return true;
        },
        attribute_limit);
}

Trial trial_dataset_read(hid_t dataset)
{
    // Ten seconds, and one more for every 10 MB stored.
    const std::chrono::milliseconds limit{10'000 + static_cast<std::int64_t>(H5Dget_storage_size(dataset) / 10'000)};
    return trial_in_child(
        [dataset] {
            h5::Datatype type(H5Dget_type(dataset));
            h5::Dataspace space(H5Dget_space(dataset));
            if (!type || !space) return false;
            const int rank = H5Sget_simple_extent_ndims(space.get());
            if (rank < 0) return false;
            const std::size_t size = H5Tget_size(type.get());
            if (rank == 0) {
                std::vector<unsigned char> one(std::max<std::size_t>(size, 1));
                if (H5Dread(dataset, type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, one.data()) < 0) return false;
                H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, one.data());
                return true;
            }
            std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
            H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
            hsize_t row = 1;
            for (std::size_t a = 1; a < dims.size(); ++a) row *= dims[a];
            if (row == 0 || dims[0] == 0) return true;
            // Slabs of whole rows along the first dimension.
            const hsize_t rows = std::max<hsize_t>(1, slab_elements / row);
            for (hsize_t first = 0; first < dims[0]; first += rows) {
                std::vector<hsize_t> start(dims.size(), 0), count = dims;
                start[0] = first;
                count[0] = std::min(rows, dims[0] - first);
                hsize_t elements = 1;
                for (const hsize_t c : count) elements *= c;
                h5::Dataspace file_space(H5Scopy(space.get()));
                h5::Dataspace memory_space(H5Screate_simple(1, &elements, nullptr));
                if (!file_space || !memory_space ||
                    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                                        nullptr) < 0)
                    return false;
                std::vector<unsigned char> buffer(static_cast<std::size_t>(elements) * size);
                if (H5Dread(dataset, type.get(), memory_space.get(), file_space.get(), H5P_DEFAULT,
                            buffer.data()) < 0)
                    return false;
                H5Dvlen_reclaim(type.get(), memory_space.get(), H5P_DEFAULT, buffer.data());
            }
            return true;
        },
        limit);
}

}  // namespace signcut::io
