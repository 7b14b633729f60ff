// Decomposition files of method "lplr" (docs/FORMAT.md): two quantized
// factors of a matricization, as packed codes and float32 scales.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "atomic_output.hpp"
#include "dtype.hpp"
#include "hdf5_handle.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/version.hpp"

namespace signcut {
namespace {

constexpr const char* format_name = "signcut-decomposition";
constexpr std::int32_t format_version = 1;
constexpr const char* group_path = "/decomposition";

/// The four arrays, in the order a reader meets them.
struct FactorArrays {
    const char* codes;
    const char* scales;
};
constexpr FactorArrays left_arrays{"l_codes", "l_scales"};
constexpr FactorArrays right_arrays{"r_codes", "r_scales"};

std::string item(const char* name) { return fmt::format("{}/{}", group_path, name); }

// --- writing ---------------------------------------------------------------

class Writer {
public:
    Writer(hid_t object, const std::string& shown) : object_(object), shown_(shown) {}

    void string(const char* name, const std::string& value)
    {
        h5::Datatype type(h5::check(H5Tcopy(H5T_C_S1), errc::io, "cannot create an HDF5 string type"));
        h5::check_status(H5Tset_size(type.get(), H5T_VARIABLE), errc::io, "cannot create an HDF5 string type");
        h5::check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), errc::io, "cannot create an HDF5 string type");
        const char* text = value.c_str();
        attribute(name, type.get(), type.get(), scalar().get(), &text);
    }
    void u64(const char* name, std::uint64_t v) { attribute(name, H5T_STD_U64LE, H5T_NATIVE_UINT64, scalar().get(), &v); }
    void u8(const char* name, std::uint8_t v) { attribute(name, H5T_STD_U8LE, H5T_NATIVE_UINT8, scalar().get(), &v); }
    void i32(const char* name, std::int32_t v) { attribute(name, H5T_STD_I32LE, H5T_NATIVE_INT32, scalar().get(), &v); }
    void f64(const char* name, double v) { attribute(name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, scalar().get(), &v); }
    void u64_array(const char* name, const std::vector<std::uint64_t>& values)
    {
        const hsize_t n = values.size();
        h5::Dataspace space(h5::check(H5Screate_simple(1, &n, nullptr), errc::io, "cannot create an HDF5 dataspace"));
        attribute(name, H5T_STD_U64LE, H5T_NATIVE_UINT64, space.get(), values.data());
    }
    void array(const char* name, hid_t file_type, hid_t memory_type, const std::vector<hsize_t>& dims, const void* data)
    {
        h5::Dataspace space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
        h5::PropList dcpl = h5::untimed_creation_properties(H5P_DATASET_CREATE);
        h5::Dataset dataset(H5Dcreate2(object_, name, file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
        if (!space || !dataset) h5::fail(errc::io, fmt::format("cannot create dataset {} in {}", name, shown_));
        const bool empty = std::find(dims.begin(), dims.end(), hsize_t{0}) != dims.end();
        if (!empty && H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
            h5::fail(errc::io, fmt::format("cannot write dataset {} in {}", name, shown_));
    }

private:
    static h5::Dataspace scalar()
    {
        return h5::Dataspace(h5::check(H5Screate(H5S_SCALAR), errc::io, "cannot create an HDF5 dataspace"));
    }
    void attribute(const char* name, hid_t file_type, hid_t memory_type, hid_t space, const void* data)
    {
        h5::Attribute a(H5Acreate2(object_, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT));
        if (!a || H5Awrite(a.get(), memory_type, data) < 0)
            h5::fail(errc::io, fmt::format("cannot write attribute {} of {}", name, shown_));
    }

    hid_t object_;
    const std::string& shown_;
};

void write_factor(Writer& w, const FactorArrays& names, const QuantizedMatrix& q)
{
    const hsize_t groups = q.groups();
    w.array(names.codes, H5T_STD_U64LE, H5T_NATIVE_UINT64, {groups, q.words_per_group()}, q.words().data());
    w.array(names.scales, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {groups}, q.scales().data());
}

// --- reading ---------------------------------------------------------------

/// The attributes of one object, with messages naming the file and the
/// attribute's path.
class Reader {
public:
    Reader(hid_t object, const std::string& file, std::string prefix)
        : object_(object), file_(file), prefix_(std::move(prefix))
    {
    }

    bool has(const char* name) const
    {
        const htri_t exists = H5Aexists(object_, name);
        if (exists < 0) h5::fail(errc::bad_input, fmt::format("{}: cannot read attribute {}{}", file_, prefix_, name));
        return exists > 0;
    }

    std::string string(const char* name) const
    {
        const h5::Attribute a = open(name);
        h5::Datatype type(H5Aget_type(a.get()));
        expect(type, name, H5T_STRING, "a string");
        expect_scalar(a, name);
        std::string value;
        if (H5Tis_variable_str(type.get()) > 0) {
            h5::Datatype memory(h5::check(H5Tcopy(H5T_C_S1), errc::io, "cannot create an HDF5 string type"));
            H5Tset_size(memory.get(), H5T_VARIABLE);
            H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
            char* text = nullptr;
            if (H5Aread(a.get(), memory.get(), &text) < 0) unreadable(name);
            if (text != nullptr) value = text;
            H5free_memory(text);
        } else {
            const std::size_t size = H5Tget_size(type.get());
            std::vector<char> bytes(size + 1, '\0');
            if (H5Aread(a.get(), type.get(), bytes.data()) < 0) unreadable(name);
            value.assign(bytes.data(), size);
            if (H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD)
                value.erase(value.find_last_not_of(' ') + 1);
            else
                value.resize(std::strlen(value.c_str()));
        }
        return value;
    }

    std::uint64_t unsigned_integer(const char* name) const
    {
        const h5::Attribute a = open(name);
        h5::Datatype type(H5Aget_type(a.get()));
        expect(type, name, H5T_INTEGER, "an integer");
        expect_scalar(a, name);
        return read_unsigned(a, type, name, 1).front();
    }

    double real(const char* name) const
    {
        const h5::Attribute a = open(name);
        h5::Datatype type(H5Aget_type(a.get()));
        const H5T_class_t c = H5Tget_class(type.get());
        if (c != H5T_FLOAT && c != H5T_INTEGER)
            throw Error(errc::bad_input, fmt::format("{}: attribute {}{} is {}, expected a number", file_, prefix_, name,
                                                     h5::class_name(c)));
        expect_scalar(a, name);
        double value = 0;
        if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, &value) < 0) unreadable(name);
        return value;
    }

    std::vector<std::uint64_t> unsigned_array(const char* name) const
    {
        const h5::Attribute a = open(name);
        h5::Datatype type(H5Aget_type(a.get()));
        expect(type, name, H5T_INTEGER, "an integer array");
        h5::Dataspace space(H5Aget_space(a.get()));
        if (H5Sget_simple_extent_type(space.get()) != H5S_SIMPLE || H5Sget_simple_extent_ndims(space.get()) != 1)
            throw Error(errc::bad_input, fmt::format("{}: attribute {}{} must be a 1-D array", file_, prefix_, name));
        const hssize_t n = H5Sget_simple_extent_npoints(space.get());
        return read_unsigned(a, type, name, static_cast<std::size_t>(std::max<hssize_t>(n, 0)));
    }

    std::string path(const char* name) const { return prefix_ + name; }

private:
    h5::Attribute open(const char* name) const
    {
        if (!has(name)) throw Error(errc::bad_input, fmt::format("{}: attribute {}{} is missing", file_, prefix_, name));
        h5::Attribute a(H5Aopen(object_, name, H5P_DEFAULT));
        if (!a) unreadable(name);
        return a;
    }
    void expect(const h5::Datatype& type, const char* name, H5T_class_t wanted, const char* wanted_text) const
    {
        if (!type) unreadable(name);
        const H5T_class_t c = H5Tget_class(type.get());
        if (c != wanted)
            throw Error(errc::bad_input, fmt::format("{}: attribute {}{} is {}, expected {}", file_, prefix_, name,
                                                     h5::class_name(c), wanted_text));
    }
    void expect_scalar(const h5::Attribute& a, const char* name) const
    {
        h5::Dataspace space(H5Aget_space(a.get()));
        const hssize_t n = H5Sget_simple_extent_npoints(space.get());
        if (n != 1)
            throw Error(errc::bad_input,
                        fmt::format("{}: attribute {}{} holds {} values, expected 1", file_, prefix_, name, n));
    }
    std::vector<std::uint64_t> read_unsigned(const h5::Attribute& a, const h5::Datatype& type, const char* name,
                                             std::size_t count) const
    {
        std::vector<std::uint64_t> values(count);
        if (count == 0) return values;
        if (H5Tget_sign(type.get()) == H5T_SGN_NONE) {
            if (H5Aread(a.get(), H5T_NATIVE_UINT64, values.data()) < 0) unreadable(name);
            return values;
        }
        std::vector<std::int64_t> signed_values(count);
        if (H5Aread(a.get(), H5T_NATIVE_INT64, signed_values.data()) < 0) unreadable(name);
        for (std::size_t i = 0; i < count; ++i) {
            if (signed_values[i] < 0)
                throw Error(errc::bad_input,
                            fmt::format("{}: attribute {}{} is negative ({})", file_, prefix_, name, signed_values[i]));
            values[i] = static_cast<std::uint64_t>(signed_values[i]);
        }
        return values;
    }
    [[noreturn]] void unreadable(const char* name) const
    {
        h5::fail(errc::bad_input, fmt::format("{}: cannot read attribute {}{}", file_, prefix_, name));
    }

    hid_t object_;
    const std::string& file_;
    std::string prefix_;
};

/// Checks the root attributes every decomposition file has and returns the
/// method named by /decomposition.
std::string read_method(hid_t file, const std::string& path)
{
    const Reader root(file, path, "/");
    if (!root.has("signcut_format"))
        throw Error(errc::bad_input,
                    fmt::format("{} is not a signcut decomposition (it has no signcut_format attribute)", path));
    const std::string format = root.string("signcut_format");
    if (format != format_name)
        throw Error(errc::bad_input, fmt::format("{} is not a signcut decomposition (signcut_format is '{}', expected '{}')",
                                                 path, format, format_name));
    const std::uint64_t version = root.unsigned_integer("format_version");
    if (version != format_version)
        throw Error(version > format_version ? errc::unsupported : errc::bad_input,
                    fmt::format("{} has format_version {}; this reader understands version {}", path, version,
                                format_version));
    if (!h5::link_exists(file, group_path))
        throw Error(errc::bad_input, fmt::format("{}: group {} is missing", path, group_path));
    {
        h5::Object object(H5Oopen(file, group_path, H5P_DEFAULT));
        if (!object) h5::fail(errc::bad_input, fmt::format("{}: cannot open {}", path, group_path));
        if (H5Iget_type(object.get()) != H5I_GROUP)
            throw Error(errc::bad_input, fmt::format("{}: {} is not a group", path, group_path));
    }
    h5::Group group(H5Gopen2(file, group_path, H5P_DEFAULT));
    if (!group) h5::fail(errc::bad_input, fmt::format("{}: cannot open {}", path, group_path));
    const std::string method = Reader(group.get(), path, std::string(group_path) + "/").string("method");
    if (method != "sct" && method != "lplr")
        throw Error(errc::bad_input, fmt::format("{}: unknown method '{}' in {}/method (expected 'sct' or 'lplr')", path,
                                                 method, group_path));
    return method;
}

/// The dimensions and element type of a dataset that must exist.
void check_array(hid_t file, const std::string& path, const char* name, H5T_class_t type_class, std::size_t type_size,
                 const std::vector<hsize_t>& expected)
{
    const std::string full = item(name);
    if (!h5::link_exists(file, full)) throw Error(errc::bad_input, fmt::format("{}: dataset {} is missing", path, full));
    {
        h5::Object object(H5Oopen(file, full.c_str(), H5P_DEFAULT));
        if (!object) h5::fail(errc::bad_input, fmt::format("{}: cannot open {}", path, full));
        if (H5Iget_type(object.get()) != H5I_DATASET)
            throw Error(errc::bad_input, fmt::format("{}: {} is not a dataset", path, full));
    }
    h5::Dataset d(H5Dopen2(file, full.c_str(), H5P_DEFAULT));
    if (!d) h5::fail(errc::bad_input, fmt::format("{}: cannot open {}", path, full));
    h5::Datatype type(H5Dget_type(d.get()));
    h5::Dataspace space(H5Dget_space(d.get()));
    if (!type || !space) h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, full));
    const H5T_class_t c = H5Tget_class(type.get());
    const bool unsigned_ok = c != H5T_INTEGER || H5Tget_sign(type.get()) == H5T_SGN_NONE;
    if (c != type_class || H5Tget_size(type.get()) != type_size || !unsigned_ok)
        throw Error(errc::bad_input, fmt::format("{}: {} holds {}-byte {} values, expected {}", path, full,
                                                 H5Tget_size(type.get()), h5::class_name(c),
                                                 type_class == H5T_FLOAT ? "float32" : "uint64 words"));
    const int rank = H5Sget_simple_extent_type(space.get()) == H5S_SIMPLE ? H5Sget_simple_extent_ndims(space.get()) : 0;
    std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    if (dims != expected)
        throw Error(errc::bad_input, fmt::format("{}: {} has shape {}, expected {}", path, full,
                                                 dims.empty() ? std::string("scalar") : fmt::format("{}", fmt::join(dims, "x")),
                                                 fmt::join(expected, "x")));
}

LplrFileInfo read_info(hid_t file, const std::string& path)
{
    const std::string method = read_method(file, path);
    if (method != "lplr")
        throw Error(errc::bad_input, fmt::format("{} holds a {} decomposition, not an lplr one", path, method));
    h5::Group group(H5Gopen2(file, group_path, H5P_DEFAULT));
    const Reader attrs(group.get(), path, std::string(group_path) + "/");

    LplrFileInfo info;
    const std::vector<std::uint64_t> shape = attrs.unsigned_array("shape");
    if (shape.empty()) throw Error(errc::bad_input, fmt::format("{}: {} is empty (rank 0)", path, attrs.path("shape")));
    info.shape.assign(shape.begin(), shape.end());
    if (std::find(shape.begin(), shape.end(), 0u) != shape.end())
        throw Error(errc::bad_input, fmt::format("{}: {} is {}, with a zero dimension", path, attrs.path("shape"),
                                                 format_shape(info.shape)));
    try {
        (void)element_count(info.shape);
    } catch (const Error& e) {
        throw Error(e.code(), fmt::format("{}: {}", path, e.what()));
    }
    info.provenance.original_dtype = attrs.string("original_dtype");
    try {
        (void)io::dtype_spec(info.provenance.original_dtype);
    } catch (const Error&) {
        throw Error(errc::bad_input, fmt::format("{}: {} is '{}', not a known dtype", path, attrs.path("original_dtype"),
                                                 info.provenance.original_dtype));
    }
    info.rank = attrs.unsigned_integer("width");
    if (info.rank == 0) throw Error(errc::bad_input, fmt::format("{}: {} is 0; an lplr file has rank >= 1", path, attrs.path("width")));
    const std::string split = attrs.string("matricize");
    try {
        info.matricization = Matricization::parse(split, info.shape.size());
    } catch (const Error& e) {
        throw Error(errc::bad_input, fmt::format("{}: {} is invalid: {}", path, attrs.path("matricize"), e.what()));
    }
    for (const auto& [name, bits] : {std::pair{"bits_l", &info.bits_l}, std::pair{"bits_r", &info.bits_r}}) {
        const std::uint64_t b = attrs.unsigned_integer(name);
        if (b < min_quantizer_bits || b > max_quantizer_bits)
            throw Error(errc::bad_input, fmt::format("{}: {} is {}, expected {}..{}", path, attrs.path(name), b,
                                                     min_quantizer_bits, max_quantizer_bits));
        *bits = static_cast<unsigned>(b);
    }
    info.provenance.source = attrs.string("source");
    info.provenance.seed = attrs.unsigned_integer("seed");
    info.provenance.signcut_version = attrs.string("signcut_version");
    info.provenance.rel_fro_error = attrs.real("rel_fro_error");
    info.provenance.created = attrs.string("created");

    const std::size_t n = info.matricization.rows(info.shape), d = info.matricization.cols(info.shape);
    // Bit offsets within a packed row must fit in 64 bits.
    if (n > (UINT64_MAX >> 5) || d > (UINT64_MAX >> 5))
        throw Error(errc::limit, fmt::format("{}: a {}x{} matricization is too large to hold packed codes", path, n, d));
    const hsize_t m = info.rank;
    check_array(file, path, left_arrays.codes, H5T_INTEGER, 8, {m, code_words(n, info.bits_l)});
    check_array(file, path, left_arrays.scales, H5T_FLOAT, 4, {m});
    check_array(file, path, right_arrays.codes, H5T_INTEGER, 8, {m, code_words(d, info.bits_r)});
    check_array(file, path, right_arrays.scales, H5T_FLOAT, 4, {m});
    return info;
}

/// Bytes the arrays and the reconstruction take (UINT64_MAX if beyond).
std::uint64_t bytes_needed(const LplrFileInfo& info)
{
    const std::size_t n = info.matricization.rows(info.shape), d = info.matricization.cols(info.shape);
    unsigned __int128 bytes = static_cast<unsigned __int128>(element_count(info.shape)) * sizeof(float);
    // Codes and scales, then the dequantized factors the product needs.
    bytes += static_cast<unsigned __int128>(info.rank) * (code_words(n, info.bits_l) + code_words(d, info.bits_r)) * 8;
    bytes += static_cast<unsigned __int128>(info.rank) * (n + d + 2) * sizeof(float);
    // A split other than rows-then-columns needs the product before it is
    // put back in the tensor's order.
    if (!info.matricization.is_contiguous())
        bytes += static_cast<unsigned __int128>(element_count(info.shape)) * sizeof(float);
    return bytes > UINT64_MAX ? UINT64_MAX : static_cast<std::uint64_t>(bytes);
}

QuantizedMatrix read_factor(hid_t file, const std::string& path, const FactorArrays& names, std::size_t rows,
                            std::size_t cols, unsigned bits, ScaleAxis axis)
{
    const std::size_t groups = axis == ScaleAxis::column ? cols : rows;
    const std::size_t length = axis == ScaleAxis::column ? rows : cols;
    std::vector<std::uint64_t> words(groups * code_words(length, bits));
    std::vector<float> scales(groups);
    const auto read = [&](const char* name, hid_t memory_type, void* data) {
        h5::Dataset d(H5Dopen2(file, item(name).c_str(), H5P_DEFAULT));
        if (!d || H5Dread(d.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
            h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, item(name)));
    };
    read(names.codes, H5T_NATIVE_UINT64, words.data());
    read(names.scales, H5T_NATIVE_FLOAT, scales.data());
    try {
        return QuantizedMatrix(rows, cols, bits, axis, std::move(scales), std::move(words));
    } catch (const Error& e) {
        throw Error(errc::bad_input, fmt::format("{}: {} and {}: {}", path, item(names.codes), item(names.scales), e.what()));
    }
}

}  // namespace

double LplrFileInfo::bits_per_value() const
{
    if (shape.empty()) return 0.0;
    return lplr_bits_per_value(matricization.rows(shape), matricization.cols(shape), rank, bits_l, bits_r);
}

std::string read_decomposition_method(const std::string& path)
{
    h5::QuietErrors quiet;
    h5::File file = h5::open_read_only(path);
    return read_method(file.get(), path);
}

void write_lplr(const std::string& path, const LplrDecomposition& decomposition, const Provenance& provenance,
                bool force)
{
    if (decomposition.shape().empty())
        throw Error(errc::invalid_argument, fmt::format("cannot write {}: the decomposition is empty (order 0)", path));
    (void)io::dtype_spec(provenance.original_dtype);
    const std::string created = provenance.created.empty() ? iso8601_utc_now() : provenance.created;
    const std::string library_version = provenance.signcut_version.empty() ? version : provenance.signcut_version;
    const Shape& shape = decomposition.shape();

    h5::QuietErrors quiet;
    io::AtomicOutput output(path, force);
    {
        h5::File file = h5::create_file(output.temporary_path(), path);
        {
            Writer root(file.get(), path);
            root.string("signcut_format", format_name);
            root.i32("format_version", format_version);
        }
        h5::PropList gcpl = h5::untimed_creation_properties(H5P_GROUP_CREATE);
        h5::Group group(H5Gcreate2(file.get(), "decomposition", H5P_DEFAULT, gcpl.get(), H5P_DEFAULT));
        if (!group) h5::fail(errc::io, fmt::format("cannot create group decomposition in {}", path));
        Writer w(group.get(), path);
        w.string("method", "lplr");
        w.u64_array("shape", std::vector<std::uint64_t>(shape.begin(), shape.end()));
        w.string("original_dtype", provenance.original_dtype);
        w.u64("width", decomposition.rank());
        w.string("matricize", decomposition.matricization().to_string());
        w.u8("bits_l", static_cast<std::uint8_t>(decomposition.bits_l()));
        w.u8("bits_r", static_cast<std::uint8_t>(decomposition.bits_r()));
        w.string("source", provenance.source);
        w.u64("seed", provenance.seed);
        w.string("signcut_version", library_version);
        w.f64("rel_fro_error", provenance.rel_fro_error);
        w.string("created", created);
        write_factor(w, left_arrays, decomposition.left());
        write_factor(w, right_arrays, decomposition.right());
        group.reset();
        if (!file.close()) h5::fail(errc::io, fmt::format("cannot write {}", path));
    }
    output.commit();
}

LplrFileInfo read_lplr_info(const std::string& path)
{
    h5::QuietErrors quiet;
    h5::File file = h5::open_read_only(path);
    return read_info(file.get(), path);
}

LplrDecomposition read_lplr(const std::string& path, std::uint64_t max_bytes, LplrFileInfo* info_out)
{
    h5::QuietErrors quiet;
    h5::File file = h5::open_read_only(path);
    LplrFileInfo info = read_info(file.get(), path);
    const std::uint64_t needed = bytes_needed(info);
    // A saturated count stands for sizes that cannot even be allocated.
    if (needed > max_bytes || needed == UINT64_MAX)
        throw Error(errc::limit,
                    fmt::format("{} holds a {} lplr decomposition of rank {}: reading and reconstructing it needs {} "
                                "bytes, more than the memory limit of {} bytes",
                                path, format_shape(info.shape), info.rank,
                                needed == UINT64_MAX ? std::string("over 2^64") : std::to_string(needed), max_bytes));
    const std::size_t n = info.matricization.rows(info.shape), d = info.matricization.cols(info.shape);
    const std::size_t m = static_cast<std::size_t>(info.rank);
    try {
        QuantizedMatrix left = read_factor(file.get(), path, left_arrays, n, m, info.bits_l, ScaleAxis::column);
        QuantizedMatrix right = read_factor(file.get(), path, right_arrays, m, d, info.bits_r, ScaleAxis::row);
        LplrDecomposition decomposition(info.shape, info.matricization, std::move(left), std::move(right));
        if (info_out != nullptr) *info_out = std::move(info);
        return decomposition;
    } catch (const std::bad_alloc&) {
        throw Error(errc::limit, fmt::format("{}: cannot allocate the {} bytes its arrays need", path, needed));
    }
}

}  // namespace signcut
