// A dataset read a slab of rows at a time: the RowSource decompose() streams
// from, with the checks and conversions of read_dataset.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "float16.hpp"
#include "hdf5_handle.hpp"
#include "signcut/datasets.hpp"
#include "signcut/error.hpp"

namespace signcut {
namespace {

/// Counts float64 values beyond the float32 range as HDF5 converts them (it
/// would store ±Inf); infinities themselves are refused later, as such.
H5T_conv_ret_t count_beyond_float32(H5T_conv_except_t kind, hid_t source_type, hid_t, void* source, void*, void* data)
{
    if (kind != H5T_CONV_EXCEPT_RANGE_HI && kind != H5T_CONV_EXCEPT_RANGE_LOW) return H5T_CONV_UNHANDLED;
    if (source != nullptr && H5Tget_class(source_type) == H5T_FLOAT && H5Tget_size(source_type) == sizeof(double)) {
        unsigned char bytes[sizeof(double)];
        std::memcpy(bytes, source, sizeof bytes);
        if (H5Tget_order(source_type) != H5Tget_order(H5T_NATIVE_DOUBLE)) std::reverse(bytes, bytes + sizeof bytes);
        double value;
        std::memcpy(&value, bytes, sizeof value);
        if (std::isinf(value)) return H5T_CONV_UNHANDLED;
    }
    ++*static_cast<std::uint64_t*>(data);
    return H5T_CONV_UNHANDLED;
}

class DatasetRows final : public RowSource {
public:
    DatasetRows(const std::string& file, const std::string& dataset)
    {
        const DatasetInfo info = inspect_dataset(file, dataset);  // the checks of read_dataset
        shape_ = info.shape;
        dtype_ = info.dtype;
        path_ = dataset.empty() || dataset[0] != '/' ? "/" + dataset : dataset;
        name_ = fmt::format("{}:{}", file, path_);
        h5::QuietErrors quiet;
        file_ = h5::open_read_only(file);
        dataset_ = h5::Dataset(H5Dopen2(file_.get(), path_.c_str(), H5P_DEFAULT));
        if (!dataset_) h5::fail(errc::bad_input, fmt::format("cannot open {}", name_));
        row_values_ = 1;
        for (std::size_t a = 1; a < shape_.size(); ++a) row_values_ *= shape_[a];
    }

    Shape shape() const override { return shape_; }
    const std::string& dtype() const noexcept { return dtype_; }

    void read_rows(std::size_t first, std::size_t count, float* out) override
    {
        if (count == 0) return;
        if (first > shape_[0] || count > shape_[0] - first)
            throw Error(errc::invalid_argument, fmt::format("rows {}..{} are beyond {}'s {} rows", first,
                                                            first + count, name_, shape_[0]));
        std::uint64_t beyond = read_raw(first, count, out);
        const std::uint64_t n = std::uint64_t(count) * row_values_;
        if (beyond == 0 && (!dtype_.starts_with("float") || all_finite(out, n))) return;
        // The message counts them over the whole dataset, as a reader of all
        // of it would: a slab at a time, once, on the way out.
        std::uint64_t nans = 0, infs = 0;
        beyond = 0;
        const std::size_t step = std::max<std::size_t>(1, (std::size_t{16} << 20) / (row_values_ * sizeof(float)));
        std::vector<float> slab(std::min<std::size_t>(step, shape_[0]) * row_values_);
        for (std::size_t r = 0; r < shape_[0]; r += step) {
            const std::size_t rows = std::min(step, shape_[0] - r);
            beyond += read_raw(r, rows, slab.data());
            for (std::size_t i = 0; i < rows * row_values_; ++i) {
                nans += std::isnan(slab[i]) ? 1 : 0;
                infs += std::isinf(slab[i]) ? 1 : 0;
            }
        }
        if (beyond > 0)
            throw Error(errc::bad_input,
                        fmt::format("{} holds {} {} values beyond the float32 range (|x| > {:.8g}); signcut works in "
                                    "float32",
                                    name_, beyond, dtype_, std::numeric_limits<float>::max()));
        throw Error(errc::bad_input,
                    fmt::format("{} contains {} NaN and {} Inf values; signcut needs finite data", name_, nans, infs));
    }

private:
    /// Rows converted to float32; returns how many float64 values were
    /// beyond the float32 range (HDF5 made them ±Inf).
    std::uint64_t read_raw(std::size_t first, std::size_t count, float* out)
    {
        h5::QuietErrors quiet;
        const int k = static_cast<int>(shape_.size());
        std::vector<hsize_t> start(shape_.size(), 0), extent(shape_.begin(), shape_.end());
        start[0] = first;
        extent[0] = count;
        h5::Dataspace file_space(H5Dget_space(dataset_.get()));
        if (!file_space) h5::fail(errc::io, fmt::format("cannot read the shape of {}", name_));
        h5::check_status(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(),
                                             nullptr),
                         errc::io, fmt::format("cannot select rows {}..{} of {}", first, first + count, name_));
        h5::Dataspace memory_space(H5Screate_simple(k, extent.data(), nullptr));
        if (!memory_space) h5::fail(errc::io, fmt::format("cannot read {}", name_));
        const std::uint64_t n = std::uint64_t(count) * row_values_;
        const std::string what = fmt::format("rows {}..{} of {}", first, first + count, name_);
        if (dtype_ == "float16") {
            // Halves are read into the front of the float buffer and widened
            // in place from the back (element i's float overwrites halves
            // at or after i, already converted).
            h5::Datatype file_type(H5Dget_type(dataset_.get()));
            h5::Datatype memory_type(H5Tcopy(file_type.get()));
            if (!memory_type) h5::fail(errc::io, fmt::format("cannot read {}", what));
            h5::check_status(H5Tset_order(memory_type.get(), H5Tget_order(H5T_NATIVE_USHORT)), errc::io,
                             fmt::format("cannot read {}", what));
            if (H5Dread(dataset_.get(), memory_type.get(), memory_space.get(), file_space.get(), H5P_DEFAULT, out) < 0)
                h5::fail(errc::bad_input, fmt::format("cannot read {}", what));
            auto* bytes = reinterpret_cast<unsigned char*>(out);
            for (std::uint64_t i = n; i-- > 0;) {
                std::uint16_t half;
                std::memcpy(&half, bytes + 2 * i, sizeof half);
                const float value = io::half_to_float(half);
                std::memcpy(bytes + 4 * i, &value, sizeof value);
            }
        } else {
            h5::PropList dxpl(h5::check(H5Pcreate(H5P_DATASET_XFER), errc::io, "cannot create HDF5 transfer properties"));
            std::uint64_t beyond = 0;
            h5::check_status(H5Pset_type_conv_cb(dxpl.get(), count_beyond_float32, &beyond), errc::io,
                             "cannot set an HDF5 conversion callback");
            if (H5Dread(dataset_.get(), H5T_NATIVE_FLOAT, memory_space.get(), file_space.get(), dxpl.get(), out) < 0)
                h5::fail(errc::bad_input, fmt::format("cannot read {}", what));
            return beyond;
        }
        return 0;
    }

    static bool all_finite(const float* x, std::uint64_t n)
    {
        bool ok = true;
        for (std::uint64_t i = 0; i < n; ++i) ok = ok && std::isfinite(x[i]);
        return ok;
    }

    Shape shape_;
    std::string dtype_, path_, name_;
    std::uint64_t row_values_ = 1;
    h5::File file_;
    h5::Dataset dataset_;
};

}  // namespace

std::unique_ptr<RowSource> open_dataset_rows(const std::string& file, const std::string& dataset,
                                             std::string* original_dtype)
{
    auto rows = std::make_unique<DatasetRows>(file, dataset);
    if (original_dtype != nullptr) *original_dtype = rows->dtype();
    return rows;
}

}  // namespace signcut
