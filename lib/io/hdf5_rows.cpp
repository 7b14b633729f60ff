// A dataset read a slab of rows at a time: the RowSource decompose() streams
// from, with the checks and conversions of read_dataset.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "float32_conversion.hpp"
#include "hdf5_handle.hpp"
#include "hdf5_rows.hpp"
#include "signcut/datasets.hpp"
#include "signcut/error.hpp"

namespace signcut {
namespace {

class DatasetRows final : public RowSource {
public:
    DatasetRows(const std::string& file, const std::string& dataset, hid_t access)
    {
        const DatasetInfo info = inspect_dataset(file, dataset);  // the checks of read_dataset
        shape_ = info.shape;
        dtype_ = info.dtype;
        path_ = dataset.empty() || dataset[0] != '/' ? "/" + dataset : dataset;
        name_ = fmt::format("{}:{}", file, path_);
        h5::QuietErrors quiet;
        file_ = h5::open_read_only(file, access);
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
        if (beyond > 0) io::refuse_beyond_float32(name_, beyond, dtype_);
        io::refuse_non_finite(name_, nans, infs);
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
        return io::read_as_float32(dataset_.get(), dtype_, memory_space.get(), file_space.get(), out, n, what);
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
    return io::open_dataset_rows_with(file, dataset, original_dtype, H5I_INVALID_HID);
}

std::unique_ptr<RowSource> io::open_dataset_rows_with(const std::string& file, const std::string& dataset,
                                                      std::string* original_dtype, hid_t access)
{
    auto rows = std::make_unique<DatasetRows>(file, dataset, access);
    if (original_dtype != nullptr) *original_dtype = rows->dtype();
    return rows;
}

}  // namespace signcut
