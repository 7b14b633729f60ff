// A dataset written in slabs of whole rows along mode 0, with write_dataset's
// conversions.
#include "streamed_dataset.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "carried_attributes.hpp"
#include "float16.hpp"
#include "signcut/error.hpp"

namespace signcut::io {
namespace {

/// Conversions applied when writing: see write_dataset's documentation.
template <class T, class S>
T to_integer(S value, std::uint64_t index, const std::string& name, std::string_view dtype)
{
    if (std::isnan(value))
        throw Error(errc::invalid_argument,
                    fmt::format("cannot store NaN (entry {}) in {}, a dataset of {}", index, name, dtype));
    const double rounded = std::round(static_cast<double>(value));  // half away from zero
    constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
    constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
    // For 64-bit types `hi` is 2^63 or 2^64 (rounded up), so ">=" clamps
    // exactly the values that do not fit.
    if (rounded <= lo) return std::numeric_limits<T>::min();
    if (rounded >= hi) return std::numeric_limits<T>::max();
    return static_cast<T>(rounded);
}

template <class S>
std::uint16_t to_half(S value)
{
    constexpr S max_half = 65504;
    if (std::isfinite(value)) value = std::clamp(value, -max_half, max_half);
    return io::float_to_half(static_cast<float>(value));
}

/// The most elements one converted write holds at once.
constexpr std::uint64_t block_elements = std::uint64_t{1} << 20;

/// Writes rows [first, first + rows) of mode 0, `count` converted elements
/// per block: blocks are hyperslabs that follow C order, so consecutive
/// blocks take consecutive runs of `data`. Keeps the conversion buffer near
/// `block_elements` whatever the shape. `convert` gets each value and its
/// entry in the whole dataset.
template <class T, class S, class Convert>
void write_converted(hid_t dataset, hid_t memory_type, std::span<const std::size_t> shape, std::size_t first,
                     std::size_t rows, const S* data, const std::string& name, Convert convert)
{
    const std::size_t k = shape.size();
    Shape slab(shape.begin(), shape.end());
    slab[0] = rows;
    std::vector<std::uint64_t> inner(k, 1);  // inner[a] = Π_{b > a} d_b
    for (std::size_t a = k - 1; a-- > 0;) inner[a] = inner[a + 1] * slab[a + 1];
    std::size_t split = 0;  // the first axis whose trailing block fits the budget
    while (inner[split] > block_elements) ++split;
    const std::uint64_t run = std::max<std::uint64_t>(
        1, std::min<std::uint64_t>(slab[split], block_elements / inner[split]));
    const std::uint64_t base = std::uint64_t{first} * inner[0];  // the slab's first entry

    h5::Dataspace file_space(H5Dget_space(dataset));
    if (!file_space) h5::fail(errc::io, fmt::format("cannot write {}", name));
    std::vector<T> buffer;
    std::vector<hsize_t> start(k, 0), count(k, 1);
    for (std::size_t a = split + 1; a < k; ++a) count[a] = slab[a];
    std::uint64_t offset = 0;
    std::vector<std::size_t> outer(split, 0);  // odometer over the axes before `split`
    for (;;) {
        for (std::size_t a = 0; a < split; ++a) start[a] = outer[a];
        for (std::uint64_t t = 0; t < slab[split]; t += run) {
            start[split] = t;
            count[split] = std::min<std::uint64_t>(run, slab[split] - t);
            const std::uint64_t n = count[split] * inner[split];
            buffer.resize(n);
            for (std::uint64_t i = 0; i < n; ++i) buffer[i] = convert(data[offset + i], base + offset + i);
            const hsize_t n_h = n;
            h5::Dataspace memory_space(H5Screate_simple(1, &n_h, nullptr));
            start[0] += first;  // from the slab's rows to the dataset's
            const bool selected = memory_space && H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(),
                                                                      nullptr, count.data(), nullptr) >= 0;
            start[0] -= first;
            if (!selected ||
                H5Dwrite(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, buffer.data()) < 0)
                h5::fail(errc::io, fmt::format("cannot write {}", name));
            offset += n;
        }
        std::size_t a = split;
        while (a > 0 && ++outer[a - 1] == slab[a - 1]) outer[--a] = 0;
        if (a == 0) break;
    }
}

/// Creates the groups on the way to `dataset` (time tracking off).
void create_parent_groups(hid_t file, const std::string& dataset, const std::string& name)
{
    h5::PropList gcpl = h5::untimed_creation_properties(H5P_GROUP_CREATE);
    for (std::size_t pos = dataset.find('/', 1); pos != std::string::npos; pos = dataset.find('/', pos + 1)) {
        const std::string group = dataset.substr(0, pos);
        if (h5::link_exists(file, group)) continue;
        h5::Group g(H5Gcreate2(file, group.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT));
        if (!g) h5::fail(errc::io, fmt::format("cannot create group {} in {}", group, name));
    }
}

}  // namespace

std::string absolute_dataset_path(std::string_view name)
{
    std::string path(name);
    if (path.empty() || path == "/") throw Error(errc::invalid_argument, "an empty dataset name");
    if (path[0] != '/') path.insert(path.begin(), '/');
    if (path.back() == '/' || path.find("//") != std::string::npos)
        throw Error(errc::invalid_argument, fmt::format("invalid dataset name '{}'", name));
    return path;
}

bool stored_as_given(const DtypeSpec& spec, bool from_double)
{
    return spec.kind == (from_double ? DtypeKind::float64 : DtypeKind::float32);
}

namespace {

template <class S>
void convert_values(const DtypeSpec& spec, std::span<const S> data, std::uint64_t first, const std::string& name,
                    void* out)
{
    const auto each = [&]<class T>(T* to, auto convert) {
        for (std::size_t i = 0; i < data.size(); ++i) to[i] = convert(data[i], first + i);
    };
    switch (spec.kind) {
    case DtypeKind::float32:
        each(static_cast<float*>(out), [&](S v, std::uint64_t i) {
            // As RowWriter::write refuses it, rather than store ±Inf.
            if (std::isfinite(v) && std::isinf(static_cast<float>(v)))
                throw Error(errc::bad_input, fmt::format("cannot store {} (entry {}) in {}, a dataset of float32: it "
                                                         "is beyond the float32 range",
                                                         v, i, name));
            return static_cast<float>(v);
        });
        break;
    case DtypeKind::float64: each(static_cast<double*>(out), [](S v, std::uint64_t) { return double(v); }); break;
    case DtypeKind::float16: each(static_cast<std::uint16_t*>(out), [](S v, std::uint64_t) { return to_half(v); }); break;
#define SIGNCUT_CONVERT_INT(KIND, TYPE)                                                                       \
    case DtypeKind::KIND:                                                                                     \
        each(static_cast<TYPE*>(out), [&](S v, std::uint64_t i) { return to_integer<TYPE>(v, i, name, spec.name); }); \
        break;
        SIGNCUT_CONVERT_INT(int8, std::int8_t)
        SIGNCUT_CONVERT_INT(int16, std::int16_t)
        SIGNCUT_CONVERT_INT(int32, std::int32_t)
        SIGNCUT_CONVERT_INT(int64, std::int64_t)
        SIGNCUT_CONVERT_INT(uint8, std::uint8_t)
        SIGNCUT_CONVERT_INT(uint16, std::uint16_t)
        SIGNCUT_CONVERT_INT(uint32, std::uint32_t)
        SIGNCUT_CONVERT_INT(uint64, std::uint64_t)
#undef SIGNCUT_CONVERT_INT
    }
}

}  // namespace

void convert_for_storage(const DtypeSpec& spec, std::span<const float> data, std::uint64_t first,
                         const std::string& shown, void* out)
{
    convert_values(spec, data, first, shown, out);
}

void convert_for_storage(const DtypeSpec& spec, std::span<const double> data, std::uint64_t first,
                         const std::string& shown, void* out)
{
    convert_values(spec, data, first, shown, out);
}

h5::Datatype memory_type_of(const DtypeSpec& spec)
{
    // The file's type in the machine's order: the converted values are
    // native integers, floats or binary16 bit patterns.
    h5::Datatype type = file_type_of(spec);
    h5::check_status(H5Tset_order(type.get(), H5Tget_order(H5T_NATIVE_INT)), errc::io,
                     fmt::format("cannot describe {} values in memory", spec.name));
    return type;
}

RowWriter::RowWriter(hid_t file, const std::string& dataset_path, std::string shown,
                     std::span<const std::size_t> shape, const DtypeSpec& spec)
    : shown_(std::move(shown)), shape_(shape.begin(), shape.end()), spec_(&spec)
{
    create_parent_groups(file, dataset_path, shown_);
    const std::vector<hsize_t> dims(shape.begin(), shape.end());
    h5::Dataspace space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    if (!space) h5::fail(errc::io, fmt::format("cannot create the dataspace of {}", shown_));
    h5::Datatype file_type = file_type_of(spec);
    h5::PropList dcpl = h5::untimed_creation_properties(H5P_DATASET_CREATE);
    dataset_ = h5::Dataset(
        H5Dcreate2(file, dataset_path.c_str(), file_type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
    if (!dataset_) h5::fail(errc::io, fmt::format("cannot create {}", shown_));
}

void RowWriter::write(std::size_t first, std::size_t rows, const float* data) { write_values(first, rows, data); }
void RowWriter::write(std::size_t first, std::size_t rows, const double* data) { write_values(first, rows, data); }

template <class S>
void RowWriter::write_values(std::size_t first, std::size_t rows, const S* data)
{
    if (rows == 0 || first > shape_[0] || rows > shape_[0] - first)
        throw Error(errc::invalid_argument, fmt::format("cannot write rows {}:{} of {}, whose mode 0 has {}", first,
                                                        first + rows, shown_, shape_[0]));
    const hid_t d = dataset_.get();
    const std::string& name = shown_;
    switch (spec_->kind) {
    case DtypeKind::float32:
    case DtypeKind::float64: {
        // float -> float64 is exact, float -> float32 is a copy; double
        // -> float32 rounds to nearest, and values beyond float32's range
        // (which HDF5 would store as ±Inf) are refused.
        std::uint64_t inner = 1;
        for (std::size_t a = 1; a < shape_.size(); ++a) inner *= shape_[a];
        const std::uint64_t n = std::uint64_t{rows} * inner, base = std::uint64_t{first} * inner;
        if constexpr (std::is_same_v<S, double>)
            if (spec_->kind == DtypeKind::float32)
                for (std::uint64_t i = 0; i < n; ++i)
                    if (std::isfinite(data[i]) && std::isinf(static_cast<float>(data[i])))
                        throw Error(errc::bad_input,
                                    fmt::format("cannot store {} (entry {}) in {}, a dataset of float32: it is "
                                                "beyond the float32 range",
                                                data[i], base + i, name));
        const hid_t memory_type = std::is_same_v<S, double> ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT;
        if (rows == shape_[0]) {
            if (H5Dwrite(d, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
                h5::fail(errc::io, fmt::format("cannot write {}", name));
            break;
        }
        // The rows are one run of the C-ordered dataset: one hyperslab.
        std::vector<hsize_t> start(shape_.size(), 0), count(shape_.begin(), shape_.end());
        start[0] = first;
        count[0] = rows;
        const hsize_t n_h = n;
        h5::Dataspace file_space(H5Dget_space(d));
        h5::Dataspace memory_space(H5Screate_simple(1, &n_h, nullptr));
        if (!file_space || !memory_space ||
            H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0 ||
            H5Dwrite(d, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, data) < 0)
            h5::fail(errc::io, fmt::format("cannot write {}", name));
        break;
    }
    case DtypeKind::float16: {
        h5::Datatype memory_type = file_type_of(*spec_);
        h5::check_status(H5Tset_order(memory_type.get(), H5Tget_order(H5T_NATIVE_USHORT)), errc::io,
                         fmt::format("cannot write {}", name));
        write_converted<std::uint16_t>(d, memory_type.get(), shape_, first, rows, data, name,
                                       [](S v, std::uint64_t) { return to_half(v); });
        break;
    }
#define SIGNCUT_WRITE_INT(KIND, TYPE, NATIVE)                                                                    \
case DtypeKind::KIND:                                                                                       \
    write_converted<TYPE>(d, NATIVE, shape_, first, rows, data, name,                                      \
                          [&](S v, std::uint64_t i) { return to_integer<TYPE>(v, i, name, spec_->name); }); \
    break;
        SIGNCUT_WRITE_INT(int8, std::int8_t, H5T_NATIVE_INT8)
        SIGNCUT_WRITE_INT(int16, std::int16_t, H5T_NATIVE_INT16)
        SIGNCUT_WRITE_INT(int32, std::int32_t, H5T_NATIVE_INT32)
        SIGNCUT_WRITE_INT(int64, std::int64_t, H5T_NATIVE_INT64)
        SIGNCUT_WRITE_INT(uint8, std::uint8_t, H5T_NATIVE_UINT8)
        SIGNCUT_WRITE_INT(uint16, std::uint16_t, H5T_NATIVE_UINT16)
        SIGNCUT_WRITE_INT(uint32, std::uint32_t, H5T_NATIVE_UINT32)
        SIGNCUT_WRITE_INT(uint64, std::uint64_t, H5T_NATIVE_UINT64)
#undef SIGNCUT_WRITE_INT
    }
}

void RowWriter::finish(std::span<const CarriedAttribute> attributes)
{
    write_carried_attributes(dataset_.get(), attributes, shown_);
    dataset_.reset();
}

std::uint64_t RowWriter::buffer_bytes(const DtypeSpec& spec, bool from_double, std::uint64_t values)
{
    switch (spec.kind) {
    case DtypeKind::float32: return from_double ? block_elements : 0;
    case DtypeKind::float64: return from_double ? 0 : block_elements;
    default: return std::min(values, block_elements) * spec.size;
    }
}

}  // namespace signcut::io
