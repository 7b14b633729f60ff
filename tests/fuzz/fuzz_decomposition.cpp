// Fuzz target: the decomposition-file reader, mutated through the file's
// structure rather than its bytes.
//
// The input is a small script. Its first bytes choose a valid decomposition
// (format version 2 with a block grid, or version 1; order, dimensions,
// block shape, widths, signs), which is written with the HDF5 C API as the
// format prescribes (fixed-length strings, chunked arrays with fletcher32;
// version 1: variable-length strings, contiguous arrays), or, with bit 0x40
// of its head byte, a file as signcut itself writes it: a small tensor the
// script describes, decomposed under a bit budget with zfp blocks, short
// scales and deflated signs allowed, and written by write_decomposition
// (format version 3 where a block chose zfp, HDF5's checksummed 1.10
// format); the rest is a
// sequence of edits applied through HDF5: set, retype or delete an
// attribute, replace an array with another type, rank or extent, overwrite
// values, claim a consistent but enormous shape, block grid or width,
// delete, replace or link objects. libFuzzer's byte mutations thus become
// mutations of the file's metadata and arrays, and the search explores
// signcut's checks instead of libhdf5's decoders of damaged bytes (those are
// reached through the bad-input corpus). The file is then read with
// read_decomposition_info, and with read_decomposition under a 1 MiB memory
// limit, whole and for a region the script chooses.
//
// What must hold, or the target aborts:
//  * only signcut::Error leaves the reader (anything else, a crash, a
//    sanitizer report or an allocation above -malloc_limit_mb is a bug);
//  * what is accepted is consistent: info and decomposition agree, the
//    reconstruction fits the memory limit the reader was given, and a
//    region read equals the same slice of the whole reconstruction.
#include <hdf5.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "signcut/blocks.hpp"
#include "signcut/decompose.hpp"
#include "signcut/decomposition.hpp"
#include "signcut/decomposition_files.hpp"
#include "signcut/deflated_signs.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/zfp_block_codec.hpp"

namespace {

constexpr std::uint64_t max_bytes = std::uint64_t{1} << 20;
// Arrays up to this many elements are written for real; larger ones are
// chunked and left unwritten, so a file can claim any extent cheaply.
constexpr std::uint64_t written_elements = 1 << 14;

std::string scratch_path;

/// Reads the script front to back; past its end every value is zero.
class Script {
public:
    Script(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
    bool done() const { return p_ >= end_; }
    std::uint8_t peek() const { return p_ < end_ ? *p_ : 0; }
    std::uint8_t byte() { return p_ < end_ ? *p_++ : 0; }
    std::uint16_t u16()
    {
        const std::uint16_t low = byte();
        return static_cast<std::uint16_t>(low | (byte() << 8));
    }
    std::uint64_t u64()
    {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v |= std::uint64_t{byte()} << (8 * i);
        return v;
    }
    /// A count, size or attribute value: mostly small, often one of the
    /// values integer checks get wrong.
    std::uint64_t number()
    {
        static constexpr std::array<std::uint64_t, 16> edges{
            0, 1, 63, 64, 65, 127, 128, 255, (1ull << 31) - 1, 1ull << 31, 1ull << 32, (1ull << 61) + 1,
            1ull << 62, 1ull << 63, std::numeric_limits<std::uint64_t>::max() - 1,
            std::numeric_limits<std::uint64_t>::max()};
        const std::uint8_t kind = byte();
        switch (kind >> 5) {
        case 0:
        case 1:
        case 2: return kind & 31u;
        case 3: return byte();
        case 4: return u16();
        case 5: return edges[byte() % edges.size()];
        case 6: return u64();
        default: return (std::uint64_t{1} << (byte() % 64)) + (kind & 1u) - (kind & 2u ? 1 : 0);
        }
    }

private:
    const std::uint8_t* p_;
    const std::uint8_t* end_;
};

/// A deterministic stream of bits for the arrays' contents.
struct Bits {
    std::uint64_t state;
    std::uint64_t next()
    {
        state += 0x9e3779b97f4a7c15ull;
        std::uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
};

/// The objects the edits aim at (index into this table). "signs" is a
/// dataset in version 2 and a group of mode_a datasets in version 1. The
/// last three, version 3's datasets, are aimed at in files signcut wrote
/// (head bit 0x40) only: the inputs of the other bases keep the targets
/// they were found with.
const std::array<const char*, 16> object_paths{
    "/",
    "/decomposition",
    "/decomposition/scales",
    "/decomposition/signs",
    "/decomposition/signs/mode_0",
    "/decomposition/signs/mode_1",
    "/decomposition/signs/mode_2",
    "/decomposition/signs/mode_3",
    "/decomposition/widths",
    "/decomposition/source_attributes",
    "/decomposition/extra",
    "/elsewhere",
    "/decomposition/signs/extra",
    "/decomposition/codecs",
    "/decomposition/stream_sizes",
    "/decomposition/streams",
};
constexpr std::size_t hand_written_paths = 13;

const std::array<const char*, 15> attribute_names{
    "signcut_format", "format_version", "method",        "shape",   "original_dtype",
    "width",          "scales_refit",   "source",        "seed",    "signcut_version",
    "rel_fro_error",  "created",        "unrelated",     "norm2",   "block_shape",
};

const std::array<const char*, 12> strings{
    "signcut-decomposition", "sct", "lplr", "float32", "uint8", "float16", "", "signcut-decomposition ",
    "SCT", "2024-01-01T00:00:00Z", "complex64", "int128",
};

/// An HDF5 type chosen by the script (caller closes it).
hid_t numeric_type(std::uint8_t choice)
{
    switch (choice % 14) {
    case 0: return H5Tcopy(H5T_STD_U8LE);
    case 1: return H5Tcopy(H5T_STD_I8LE);
    case 2: return H5Tcopy(H5T_STD_U16LE);
    case 3: return H5Tcopy(H5T_STD_I16LE);
    case 4: return H5Tcopy(H5T_STD_U32LE);
    case 5: return H5Tcopy(H5T_STD_I32LE);
    case 6: return H5Tcopy(H5T_STD_U64LE);
    case 7: return H5Tcopy(H5T_STD_I64LE);
    case 8: return H5Tcopy(H5T_STD_U64BE);
    case 9: return H5Tcopy(H5T_IEEE_F32LE);
    case 10: return H5Tcopy(H5T_IEEE_F64BE);
    case 11: {
        const hid_t t = H5Tcopy(H5T_STD_U64LE);
        H5Tset_size(t, 16);  // a 128-bit integer
        return t;
    }
    case 12: {
        const hid_t t = H5Tcreate(H5T_COMPOUND, 8);
        H5Tinsert(t, "value", 0, H5T_STD_U64LE);
        return t;
    }
    default: return H5Tcopy(H5T_NATIVE_B64);  // bitfield
    }
}

/// Fills `count` elements of `type` (size bytes each) from the script: the
/// low bytes of script numbers, so integers get their edge values.
std::vector<unsigned char> numeric_values(Script& s, hid_t type, std::uint64_t count)
{
    const std::size_t size = H5Tget_size(type);
    std::vector<unsigned char> bytes(count * size, 0);
    const bool is_float = H5Tget_class(type) == H5T_FLOAT;
    for (std::uint64_t i = 0; i < count; ++i) {
        if (is_float) {
            static constexpr std::array<double, 8> specials{0.0, 1.0, -1.0, 1e300, NAN, INFINITY, 6.0, 1e-310};
            const std::uint8_t pick = s.byte();
            const double v = pick < 128 ? static_cast<double>(s.number()) : specials[pick % specials.size()];
            if (size == 4) {
                const float f = static_cast<float>(v);
                std::memcpy(&bytes[i * size], &f, 4);
            } else {
                std::memcpy(&bytes[i * size], &v, 8);
            }
        } else {
            const std::uint64_t v = s.number();
            std::memcpy(&bytes[i * size], &v, std::min<std::size_t>(size, 8));
        }
    }
    return bytes;
}

/// A dataspace: scalar, null, or simple with the given dimensions.
hid_t make_space(int rank, const hsize_t* dims)
{
    if (rank < 0) return H5Screate(H5S_NULL);
    if (rank == 0) return H5Screate(H5S_SCALAR);
    return H5Screate_simple(rank, dims, nullptr);
}

void delete_link(hid_t file, const char* path)
{
    if (std::strcmp(path, "/") != 0 && H5Lexists(file, path, H5P_DEFAULT) > 0) H5Ldelete(file, path, H5P_DEFAULT);
}

/// Creates an attribute `name` on `object` (replacing one of that name).
void set_attribute(hid_t object, const char* name, Script& s)
{
    if (H5Aexists(object, name) > 0) H5Adelete(object, name);
    const std::uint8_t shape_kind = s.byte() % 8;
    int rank = 0;
    hsize_t dims[2] = {1, 1};
    if (shape_kind == 1) {
        rank = -1;  // null dataspace
    } else if (shape_kind == 7) {
        rank = 2;
        dims[0] = 1 + s.byte() % 3;
        dims[1] = 1 + s.byte() % 3;
    } else if (shape_kind >= 5) {
        rank = 1;
        dims[0] = s.byte() % 9;
    }
    const std::uint64_t count = rank <= 0 ? (rank == 0 ? 1 : 0) : dims[0] * dims[1];
    const hid_t space = make_space(rank, dims);
    const std::uint8_t type_kind = s.byte();
    if (type_kind % 4 == 0) {
        // Strings: variable-length UTF-8 or fixed-length ASCII.
        const bool variable = type_kind & 4;
        const hid_t type = H5Tcopy(H5T_C_S1);
        std::vector<std::string> texts(count);
        for (auto& t : texts) {
            const std::uint8_t pick = s.byte();
            if (pick < 200) {
                t = strings[pick % strings.size()];
            } else {
                t.resize(s.byte() % 40);
                for (char& c : t) c = static_cast<char>(s.byte());
            }
        }
        if (variable) {
            H5Tset_size(type, H5T_VARIABLE);
            H5Tset_cset(type, H5T_CSET_UTF8);
            std::vector<const char*> pointers;
            for (const auto& t : texts) pointers.push_back(t.c_str());
            const hid_t a = H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
            if (a >= 0) {
                if (count > 0) H5Awrite(a, type, pointers.data());
                H5Aclose(a);
            }
        } else {
            const std::size_t size = 1 + s.byte() % 32;
            H5Tset_size(type, size);
            H5Tset_strpad(type, (type_kind & 8) ? H5T_STR_SPACEPAD : H5T_STR_NULLPAD);
            std::vector<char> bytes(count * size, 0);
            for (std::uint64_t i = 0; i < count; ++i)
                std::memcpy(&bytes[i * size], texts[i].data(), std::min(size, texts[i].size()));
            const hid_t a = H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
            if (a >= 0) {
                if (count > 0) H5Awrite(a, type, bytes.data());
                H5Aclose(a);
            }
        }
        H5Tclose(type);
    } else {
        const hid_t type = numeric_type(s.byte());
        const std::vector<unsigned char> bytes = numeric_values(s, type, count);
        const hid_t a = H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
        if (a >= 0) {
            if (count > 0) H5Awrite(a, type, bytes.data());
            H5Aclose(a);
        }
        H5Tclose(type);
    }
    H5Sclose(space);
}

/// Creates a dataset at `path` (replacing what is there): written for real
/// when small, chunked and unwritten when large. `checksummed`: chunked as
/// version 2 chunks (stored_dataset_bytes) with fletcher32 when written.
/// `fill` (if given) replaces the random contents of a written array.
void create_array(hid_t file, const char* path, hid_t type, int rank, const hsize_t* dims, Bits& bits,
                  bool clear_padding_of, std::uint64_t padding_d, bool checksummed = false,
                  const std::vector<unsigned char>* fill = nullptr)
{
    delete_link(file, path);
    std::uint64_t total = 1;
    bool overflow = false;
    for (int a = 0; a < rank; ++a) {
        if (dims[a] != 0 && total > std::numeric_limits<std::uint64_t>::max() / dims[a]) overflow = true;
        total *= dims[a];
    }
    const hid_t space = make_space(rank, dims);
    if (space < 0) return;
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, false);
    const bool written = !overflow && total <= written_elements;
    if (!written && rank > 0) {
        std::vector<hsize_t> chunk(static_cast<std::size_t>(rank));
        for (int a = 0; a < rank; ++a) chunk[a] = std::max<hsize_t>(1, std::min<hsize_t>(dims[a], 16));
        H5Pset_chunk(dcpl, rank, chunk.data());
    } else if (written && checksummed && rank == 1 && total > 0) {
        const hsize_t chunk = signcut::dataset_chunk_elements(total, H5Tget_size(type));
        H5Pset_chunk(dcpl, 1, &chunk);
        H5Pset_fletcher32(dcpl);
    }
    const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    const hid_t d = H5Dcreate2(file, path, type, space, lcpl, dcpl, H5P_DEFAULT);
    if (d >= 0 && written && total > 0) {
        const std::size_t size = H5Tget_size(type);
        std::vector<unsigned char> data(total * size);
        for (std::size_t i = 0; i < data.size(); i += 8) {
            const std::uint64_t r = bits.next();
            std::memcpy(&data[i], &r, std::min<std::size_t>(8, data.size() - i));
        }
        if (H5Tget_class(type) == H5T_FLOAT && size == 4) {
            for (std::size_t i = 0; i < total; ++i) {
                const float v = static_cast<float>(static_cast<std::int32_t>(bits.next() >> 40)) / 65536.0f;
                std::memcpy(&data[4 * i], &v, 4);
            }
        }
        if (fill != nullptr && fill->size() == data.size()) data = *fill;
        if (clear_padding_of && rank == 2 && size == 8 && padding_d % 64 != 0) {
            // Keep the sign words valid unless an edit breaks them on purpose.
            const std::uint64_t mask = (std::uint64_t{1} << (padding_d % 64)) - 1;
            for (hsize_t row = 0; row < dims[0]; ++row) {
                std::uint64_t w;
                std::memcpy(&w, &data[(row * dims[1] + dims[1] - 1) * 8], 8);
                w &= mask;
                std::memcpy(&data[(row * dims[1] + dims[1] - 1) * 8], &w, 8);
            }
        }
        H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data());
    }
    if (d >= 0) H5Dclose(d);
    H5Pclose(lcpl);
    H5Pclose(dcpl);
    H5Sclose(space);
}

std::uint64_t words_for(std::uint64_t d) { return d / 64 + (d % 64 != 0); }

/// The valid starting file, described by the script's first bytes.
struct Base {
    int version = 2;
    std::vector<std::uint64_t> shape, block;
    std::uint64_t width = 0;  ///< version 1: the width; version 2: block 0's (the others follow from it)
    bool written = false;     ///< written by signcut (write_with_signcut)
};

/// The object an edit aims at, from the table of the file's base.
const char* pick_path(Script& s, const Base& b)
{
    const std::size_t n = b.written ? object_paths.size() : hand_written_paths;
    return object_paths[s.byte() % n];
}

/// Version 2's width of block b: block 0 has `w`, the others a mix with
/// zero-width blocks.
std::uint64_t block_width(std::uint64_t w, std::uint64_t b) { return b == 0 ? w : (w + 3 * b) % 5; }

/// Writes the version-2 arrays of a grid: `widths`, `scales` and a valid
/// sign stream (random signs, the unused bits of each segment cleared), or,
/// beyond what is written for real, arrays of the right lengths that are
/// never written.
void write_v2_arrays(hid_t file, const Base& b, Bits& bits)
{
    using u128 = unsigned __int128;
    const std::size_t k = b.shape.size();
    std::vector<std::uint64_t> grid(k);
    u128 blocks = 1;
    for (std::size_t a = 0; a < k; ++a) {
        grid[a] = (b.shape[a] - 1) / b.block[a] + 1;
        blocks *= grid[a];
        if (blocks > (u128{1} << 64) - 1) blocks = (u128{1} << 64) - 1;
    }
    const auto clamp = [](u128 v) { return static_cast<hsize_t>(v > UINT64_MAX ? UINT64_MAX : v); };
    if (blocks > written_elements) {
        // Too many blocks to list: lengths only, unwritten.
        const hsize_t g = clamp(blocks);
        create_array(file, "/decomposition/widths", H5T_STD_U32LE, 1, &g, bits, false, 0);
        const hsize_t w = b.width;
        create_array(file, "/decomposition/scales", H5T_IEEE_F32LE, 1, &w, bits, false, 0);
        create_array(file, "/decomposition/signs", H5T_STD_U8LE, 1, &w, bits, false, 0);
        return;
    }
    std::vector<std::uint32_t> widths(static_cast<std::size_t>(blocks));
    std::vector<std::uint64_t> segment_bits(widths.size());
    u128 terms = 0, bytes = 0;
    std::vector<std::uint64_t> coords(k, 0);
    for (std::size_t g = 0; g < widths.size(); ++g) {
        u128 per_term = 0;
        for (std::size_t a = 0; a < k; ++a)
            per_term += std::min<std::uint64_t>(b.block[a], b.shape[a] - coords[a] * b.block[a]);
        widths[g] = static_cast<std::uint32_t>(block_width(b.width, g));
        terms += widths[g];
        const u128 n = per_term * widths[g];
        segment_bits[g] = clamp(n);
        bytes += (n + 7) / 8;
        for (std::size_t a = k; a-- > 0;) {
            if (++coords[a] < grid[a]) break;
            coords[a] = 0;
        }
    }
    const hsize_t g = widths.size(), t = clamp(terms), n = clamp(bytes);
    std::vector<unsigned char> widths_bytes(widths.size() * 4);
    std::memcpy(widths_bytes.data(), widths.data(), widths_bytes.size());
    create_array(file, "/decomposition/widths", H5T_STD_U32LE, 1, &g, bits, false, 0, true, &widths_bytes);
    create_array(file, "/decomposition/scales", H5T_IEEE_F32LE, 1, &t, bits, false, 0, true);
    if (n > written_elements) {
        create_array(file, "/decomposition/signs", H5T_STD_U8LE, 1, &n, bits, false, 0);
        return;
    }
    std::vector<unsigned char> stream(n);
    for (auto& c : stream) c = static_cast<unsigned char>(bits.next());
    std::uint64_t at = 0;
    for (const std::uint64_t sb : segment_bits) {
        const std::uint64_t seg = (sb + 7) / 8;
        if (sb % 8 != 0) stream[at + seg - 1] &= static_cast<unsigned char>((1u << (sb % 8)) - 1);
        at += seg;
    }
    create_array(file, "/decomposition/signs", H5T_STD_U8LE, 1, &n, bits, false, 0, true, &stream);
}

void write_v1_arrays(hid_t file, const Base& b, Bits& bits)
{
    const hsize_t w = b.width;
    create_array(file, "/decomposition/scales", H5T_IEEE_F32LE, 1, &w, bits, false, 0);
    for (std::size_t a = 0; a < b.shape.size(); ++a) {
        const hsize_t dims[2] = {b.width, words_for(b.shape[a])};
        const std::string path = "/decomposition/signs/mode_" + std::to_string(a);
        create_array(file, path.c_str(), H5T_STD_U64LE, 2, dims, bits, true, b.shape[a]);
    }
}

Base write_base(hid_t file, Script& s, Bits& bits)
{
    Base b;
    const std::uint8_t head = s.byte();
    b.version = (head & 0x80) ? 1 : 2;
    const int order = 1 + (head & 0x7f) % 4;
    for (int a = 0; a < order; ++a) b.shape.push_back(1 + s.byte() % 130);
    if (b.version == 2)
        for (int a = 0; a < order; ++a) b.block.push_back(1 + s.byte() % b.shape[a]);
    else
        b.block = b.shape;
    b.width = s.byte() % 33;

    // Version 2: fixed-length, null-terminated UTF-8; version 1:
    // variable-length UTF-8.
    const hid_t scalar = H5Screate(H5S_SCALAR);
    const auto put_string = [&](hid_t object, const char* name, const char* value) {
        const hid_t type = H5Tcopy(H5T_C_S1);
        H5Tset_cset(type, H5T_CSET_UTF8);
        if (b.version == 1) {
            H5Tset_size(type, H5T_VARIABLE);
            const hid_t a = H5Acreate2(object, name, type, scalar, H5P_DEFAULT, H5P_DEFAULT);
            H5Awrite(a, type, &value);
            H5Aclose(a);
        } else {
            H5Tset_size(type, std::strlen(value) + 1);
            H5Tset_strpad(type, H5T_STR_NULLTERM);
            const hid_t a = H5Acreate2(object, name, type, scalar, H5P_DEFAULT, H5P_DEFAULT);
            H5Awrite(a, type, value);
            H5Aclose(a);
        }
        H5Tclose(type);
    };
    const auto put_number = [&](hid_t object, const char* name, hid_t file_type, hid_t memory_type, const void* v) {
        const hid_t a = H5Acreate2(object, name, file_type, scalar, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, memory_type, v);
        H5Aclose(a);
    };
    const auto put_array = [&](hid_t object, const char* name, const std::vector<std::uint64_t>& values) {
        const hsize_t k = values.size();
        const hid_t space = H5Screate_simple(1, &k, nullptr);
        const hid_t a = H5Acreate2(object, name, H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_UINT64, values.data());
        H5Aclose(a);
        H5Sclose(space);
    };
    put_string(file, "signcut_format", "signcut-decomposition");
    const std::int32_t version = b.version;
    put_number(file, "format_version", H5T_STD_I32LE, H5T_NATIVE_INT32, &version);

    const hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    H5Pset_obj_track_times(gcpl, false);
    const hid_t g = H5Gcreate2(file, "decomposition", H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    put_string(g, "method", "sct");
    put_array(g, "shape", b.shape);
    put_string(g, "original_dtype", "float32");
    std::uint64_t width = b.width;
    if (b.version == 2) {
        // The sum of the blocks' widths, as write_v2_arrays lays them out
        // (or block 0's alone when the grid is too large to list).
        std::uint64_t blocks = 1;
        for (std::size_t a = 0; a < b.shape.size(); ++a) blocks *= (b.shape[a] - 1) / b.block[a] + 1;
        if (blocks <= written_elements) {
            width = 0;
            for (std::uint64_t k = 0; k < blocks; ++k) width += block_width(b.width, k);
        }
        put_array(g, "block_shape", b.block);
        const double norm2 = 100.0;
        put_number(g, "norm2", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &norm2);
    }
    put_number(g, "width", H5T_STD_U64LE, H5T_NATIVE_UINT64, &width);
    const std::uint8_t refit = 0;
    put_number(g, "scales_refit", H5T_STD_U8LE, H5T_NATIVE_UINT8, &refit);
    put_string(g, "source", "fuzz");
    const std::uint64_t seed = 0;
    put_number(g, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed);
    put_string(g, "signcut_version", "0.1.0");
    const double error = 0.5;
    put_number(g, "rel_fro_error", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &error);
    put_string(g, "created", "2024-01-01T00:00:00Z");
    H5Gclose(g);
    H5Sclose(scalar);

    if (b.version == 2)
        write_v2_arrays(file, b, bits);
    else
        write_v1_arrays(file, b, bits);
    b.width = width;
    return b;
}

/// SIGNCUT_FUZZ_VERBOSE=1 prints what the reader said about each input, to
/// see what a seed or a crash input exercises.
bool verbose = false;

void say(const char* step, const std::string& what)
{
    if (verbose) std::fprintf(stderr, "%s: %s\n", step, what.c_str());
}

/// The base of a script whose head byte has bit 0x40: a file written by
/// signcut. The script gives the order (the head's low bits), each
/// dimension (at most 4096 values in all), the block shape and a style
/// byte: the budget (0.25 to 4 bits per value), whether zfp, deflated signs
/// and float32 scales are allowed, and whether the middle third of the
/// values is a noiseless ramp (where zfp wins). The other values are a
/// sine plus noise from `bits`. Returns
/// false when signcut refuses the combination (too small a budget).
bool write_with_signcut(const std::string& path, std::uint8_t head, Script& s, Bits& bits, Base& b)
{
    b.version = 2;  // the edits treat it as the blocked layout
    b.written = true;
    const int order = 1 + (head & 0x3f) % 4;
    std::uint64_t n = 1;
    b.shape.clear();
    for (int a = 0; a < order; ++a) {
        std::uint64_t d = 1 + s.byte() % 64;
        while (d > 1 && n * d > 4096) d /= 2;
        b.shape.push_back(d);
        n *= d;
    }
    b.block.clear();
    for (int a = 0; a < order; ++a) b.block.push_back(1 + s.byte() % b.shape[a]);
    const std::uint8_t style = s.byte();

    std::vector<float> x(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < x.size(); ++i) {
        // The middle third smooth and without noise: zfp's blocks win there.
        const bool smooth = (style & 0x80) && (i * 3 / x.size()) == 1;
        const double t = static_cast<double>(i) / static_cast<double>(x.size());
        const double noise = static_cast<double>(bits.next() % 2001) / 1000.0 - 1.0;
        x[i] = static_cast<float>(smooth ? 3.0 + t : std::sin(0.05 * static_cast<double>(i)) + 0.5 * noise);
    }
    signcut::DecomposeOptions options;
    options.blocks = signcut::BlockChoice::of(signcut::Shape(b.block.begin(), b.block.end()));
    options.bits_per_value = 0.25 * (1 + (style & 0x0f));
    if (style & 0x10) options.codecs = {signcut::zfp_block_codec()};
    if (style & 0x20) options.sign_storage = signcut::deflated_signs();
    options.short_scales = (style & 0x40) == 0;
    options.threads = 1;
    double norm2 = 0;
    for (const float v : x) norm2 += static_cast<double>(v) * v;
    try {
        const signcut::SignedCutDecomposition d = signcut::decompose(
            signcut::TensorView<float>{x.data(), signcut::Shape(b.shape.begin(), b.shape.end())}, options);
        signcut::Provenance p;
        p.source = "fuzz";
        p.signcut_version = "0.1.0";
        p.created = "2024-01-01T00:00:00Z";
        p.norm2 = norm2;
        signcut::write_decomposition(path, d, p, true);
        b.width = d.width();
        if (verbose) {
            const signcut::DecompositionInfo info = signcut::read_decomposition_info(path);
            say("write", "format version " + std::to_string(info.format_version) + ", " +
                             std::to_string(info.widths.size()) + " blocks, " + std::to_string(d.width()) + " terms");
        }
    } catch (const signcut::Error& e) {
        say("write", e.what());
        return false;
    }
    return true;
}

/// Applies one edit. Failures of HDF5 calls are ignored: an edit that HDF5
/// refuses leaves the file as it was.
void edit(hid_t file, Script& s, Base& b, Bits& bits)
{
    const char* target = pick_path(s, b);
    switch (s.byte() % 11) {
    case 0: {  // set an attribute of the root or the group
        const hid_t object = H5Oopen(file, (s.byte() & 1) ? "/decomposition" : "/", H5P_DEFAULT);
        if (object >= 0) {
            set_attribute(object, attribute_names[s.byte() % attribute_names.size()], s);
            H5Oclose(object);
        }
        break;
    }
    case 1: {  // delete an attribute
        const hid_t object = H5Oopen(file, (s.byte() & 1) ? "/decomposition" : "/", H5P_DEFAULT);
        if (object >= 0) {
            const char* name = attribute_names[s.byte() % attribute_names.size()];
            if (H5Aexists(object, name) > 0) H5Adelete(object, name);
            H5Oclose(object);
        }
        break;
    }
    case 2: {  // replace an array with one of another type, rank or extent
        const hid_t type = numeric_type(s.byte());
        const int rank = s.byte() % 4;
        hsize_t dims[3];
        for (int a = 0; a < rank; ++a) dims[a] = s.number();
        const bool keep_padding_clear = s.byte() & 1;
        const std::uint64_t padding_d = s.byte();
        create_array(file, target, type, rank, dims, bits, keep_padding_clear, padding_d);
        H5Tclose(type);
        break;
    }
    case 3: {  // claim a new shape, block shape and width, with arrays that agree with it
        b.shape.assign(1 + s.byte() % 4, 0);
        for (auto& d : b.shape) d = std::max<std::uint64_t>(1, s.number());
        b.block = b.shape;
        if (b.version == 2)
            for (std::size_t a = 0; a < b.shape.size(); ++a) b.block[a] = 1 + s.number() % b.shape[a];
        b.width = s.number();
        const hid_t g = H5Gopen2(file, "/decomposition", H5P_DEFAULT);
        if (g < 0) break;
        for (const char* name : {"shape", "width", "block_shape"})
            if (H5Aexists(g, name) > 0) H5Adelete(g, name);
        const hsize_t k = b.shape.size();
        const hid_t space = H5Screate_simple(1, &k, nullptr);
        const hid_t scalar = H5Screate(H5S_SCALAR);
        hid_t a = H5Acreate2(g, "shape", H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_UINT64, b.shape.data());
        H5Aclose(a);
        if (b.version == 2) {
            a = H5Acreate2(g, "block_shape", H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT);
            H5Awrite(a, H5T_NATIVE_UINT64, b.block.data());
            H5Aclose(a);
        }
        H5Sclose(space);
        H5Gclose(g);
        delete_link(file, "/decomposition/signs");
        std::uint64_t width = b.width;
        if (b.version == 2) {
            // Every block gets block_width(width, b) terms; the attribute
            // is their sum when the grid is listed, else block 0's width.
            write_v2_arrays(file, b, bits);
            unsigned __int128 blocks = 1;
            for (std::size_t m = 0; m < b.shape.size(); ++m) {
                blocks *= (b.shape[m] - 1) / b.block[m] + 1;
                if (blocks > written_elements) break;
            }
            if (blocks <= written_elements) {
                width = 0;
                for (std::uint64_t m = 0; m < static_cast<std::uint64_t>(blocks); ++m) width += block_width(b.width, m);
            }
        } else {
            write_v1_arrays(file, b, bits);
        }
        const hid_t g2 = H5Gopen2(file, "/decomposition", H5P_DEFAULT);
        a = H5Acreate2(g2, "width", H5T_STD_U64LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a, H5T_NATIVE_UINT64, &width);
        H5Aclose(a);
        H5Gclose(g2);
        H5Sclose(scalar);
        b.width = width;
        break;
    }
    case 4: {  // overwrite one element of an array (NaN scales, padding bits)
        const hid_t d = H5Dopen2(file, target, H5P_DEFAULT);
        if (d < 0) break;
        const hid_t space = H5Dget_space(d);
        const hssize_t n = H5Sget_simple_extent_npoints(space);
        const int rank = H5Sget_simple_extent_ndims(space);
        if (n > 0 && rank >= 1 && rank <= 3) {
            std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), start(dims.size()), one(dims.size(), 1);
            H5Sget_simple_extent_dims(space, dims.data(), nullptr);
            for (std::size_t a = 0; a < dims.size(); ++a) start[a] = s.number() % dims[a];
            H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, one.data(), nullptr);
            const hsize_t single = 1;
            const hid_t memory = H5Screate_simple(1, &single, nullptr);
            const hid_t type = H5Dget_type(d);
            const hid_t native = H5Tget_class(type) == H5T_FLOAT ? H5Tcopy(H5T_NATIVE_DOUBLE) : H5Tcopy(H5T_NATIVE_UINT64);
            const std::vector<unsigned char> value = numeric_values(s, native, 1);
            H5Dwrite(d, native, memory, space, H5P_DEFAULT, value.data());
            H5Tclose(native);
            H5Tclose(type);
            H5Sclose(memory);
        }
        H5Sclose(space);
        H5Dclose(d);
        break;
    }
    case 5:  // delete an object
        delete_link(file, target);
        break;
    case 6: {  // a group where a dataset belongs, or the other way round
        delete_link(file, target);
        const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
        H5Pset_create_intermediate_group(lcpl, 1);
        const hid_t g = H5Gcreate2(file, target, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        if (g >= 0) H5Gclose(g);
        H5Pclose(lcpl);
        break;
    }
    case 7: {  // a soft link, possibly dangling or circular
        delete_link(file, target);
        H5Lcreate_soft(pick_path(s, b), file, target, H5P_DEFAULT, H5P_DEFAULT);
        break;
    }
    case 8: {  // a hard link to another object (shared arrays, cycles)
        const char* source = pick_path(s, b);
        if (std::strcmp(target, "/") == 0 || H5Lexists(file, source, H5P_DEFAULT) <= 0) break;
        delete_link(file, target);
        H5Lcreate_hard(file, source, file, target, H5P_DEFAULT, H5P_DEFAULT);
        break;
    }
    case 9:  // an external link into a file that does not exist
        delete_link(file, target);
        H5Lcreate_external("no-such-file.h5", "/data", file, target, H5P_DEFAULT, H5P_DEFAULT);
        break;
    default: {  // an attribute on an array or a sign group (ignored, but parsed by HDF5)
        const hid_t object = H5Oopen(file, target, H5P_DEFAULT);
        if (object >= 0) {
            set_attribute(object, attribute_names[s.byte() % attribute_names.size()], s);
            H5Oclose(object);
        }
        break;
    }
    }
}

[[noreturn]] void violated(const char* what)
{
    std::fprintf(stderr, "contract violated: %s\n", what);
    std::abort();
}


/// The region a script byte chooses: along each mode, a third of the
/// range, or one index (the mode dropped), starting where `pick` says.
signcut::Region choose_region(const signcut::Shape& shape, std::uint8_t pick)
{
    signcut::Region region;
    for (std::size_t a = 0; a < shape.size(); ++a) {
        const std::size_t d = shape[a];
        const std::size_t start = (pick * (a + 1) * 37u) % d;
        const bool keep = ((pick >> a) & 1u) == 0;
        const std::size_t stop = keep ? std::min(d, start + std::max<std::size_t>(1, d / 3)) : start + 1;
        region.push_back({start, stop, keep});
    }
    return region;
}

void read_back(const std::string& path, std::uint8_t region_pick)
{
    try {
        const signcut::DecompositionInfo info = signcut::read_decomposition_info(path);
        if (info.shape.empty() || (info.method != "sct" && info.method != "lplr"))
            violated("read_decomposition_info accepted an empty shape or an unknown method");
        if (info.method == "sct" && (info.block_shape.size() != info.shape.size() || info.widths.empty()))
            violated("read_decomposition_info accepted sct without a block grid");
        say("info", "accepted");
    } catch (const signcut::Error& e) {
        say("info", e.what());
    }
    signcut::Tensor whole;
    signcut::Shape shape;
    try {
        signcut::DecompositionInfo info;
        const signcut::Decomposition d = signcut::read_decomposition(path, max_bytes, &info);
        if (d.width() != info.width || d.shape() != info.shape) violated("info and decomposition disagree");
        if (d.size() * sizeof(float) > max_bytes) violated("accepted a reconstruction beyond the memory limit");
        if (const signcut::SignedCutDecomposition* sct = d.sct()) {
            if (sct->block_shape() != info.block_shape || sct->block_count() != info.widths.size())
                violated("info and decomposition disagree about the grid");
            for (std::size_t b = 0; b < sct->block_count(); ++b)
                if (sct->block(b).width() != info.widths[b]) violated("a block's width is not the one in widths");
        }
        whole = d.reconstruct(1);
        if (whole.size() != d.size()) violated("reconstruction has the wrong size");
        if (const signcut::SignedCutDecomposition* sct = d.sct()) {
            std::vector<std::size_t> last(d.shape().size());
            for (std::size_t a = 0; a < last.size(); ++a) last[a] = d.shape()[a] - 1;
            const float e = sct->element(last);
            const float tail = whole.data()[whole.size() - 1];
            if (std::isfinite(e) && std::isfinite(tail) &&
                std::fabs(e - tail) > 1e-3f * (1.0f + std::fabs(e)) * static_cast<float>(d.width() + 1))
                violated("element() disagrees with reconstruct()");
        }
        shape = d.shape();
        say("read", "accepted");
    } catch (const signcut::Error& e) {
        say("read", e.what());
    }
    if (shape.empty()) return;
    // A region of an accepted file: only the blocks it touches are read, and
    // the result is the same slice of the whole, bit for bit.
    try {
        const signcut::Region region = choose_region(shape, region_pick);
        const signcut::Decomposition part = signcut::read_decomposition(path, max_bytes, nullptr, &region);
        const signcut::Tensor r = part.reconstruct(region, 1);
        std::vector<std::size_t> index(shape.size()), lengths(shape.size());
        for (std::size_t a = 0; a < shape.size(); ++a) lengths[a] = region[a].stop - region[a].start;
        std::size_t out = 0;
        for (;;) {
            std::size_t flat = 0;
            for (std::size_t a = 0; a < shape.size(); ++a) flat = flat * shape[a] + region[a].start + index[a];
            const float x = whole.data()[flat], y = r.data()[out++];
            if (!(x == y || (std::isnan(x) && std::isnan(y)))) violated("a region read differs from the whole");
            std::size_t a = shape.size();
            while (a-- > 0) {
                if (++index[a] < lengths[a]) break;
                index[a] = 0;
            }
            if (a == std::size_t(-1)) break;
        }
        if (out != r.size()) violated("a region read has the wrong size");
        say("region", "accepted");
    } catch (const signcut::Error& e) {
        say("region", e.what());
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    // signcut switches HDF5's printing off around its own calls; the edits
    // here fail on purpose, so switch it off for them too.
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    verbose = std::getenv("SIGNCUT_FUZZ_VERBOSE") != nullptr;
    const char* shm = "/dev/shm";
    const char* folder = ::access(shm, W_OK) == 0 ? shm : (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    // The pid keeps parallel runs apart; padded to a fixed width, so that
    // messages naming the file have the same length in every run and the
    // search follows the same path for the same seed.
    char pid[16];
    std::snprintf(pid, sizeof pid, "%010d", static_cast<int>(::getpid()));
    scratch_path = std::string(folder) + "/signcut-fuzz-decomposition-" + pid + ".h5";
    std::atexit([] { std::remove(scratch_path.c_str()); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    Script s(data, size);
    Bits bits{s.u64()};
    const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    Base base;
    hid_t file = H5I_INVALID_HID;
    if (s.peek() & 0x40) {
        // A file signcut wrote, then opened for the edits.
        if (!write_with_signcut(scratch_path, s.byte(), s, bits, base)) {
            H5Pclose(fapl);
            return 0;
        }
        file = H5Fopen(scratch_path.c_str(), H5F_ACC_RDWR, fapl);
    } else {
        const hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
        H5Pset_obj_track_times(fcpl, false);
        file = H5Fcreate(scratch_path.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
        H5Pclose(fcpl);
        if (file >= 0) base = write_base(file, s, bits);
    }
    H5Pclose(fapl);
    if (file < 0) violated("cannot create the scratch file");
    const std::uint8_t region_pick = s.byte();
    for (int edits = 0; !s.done() && edits < 64; ++edits) edit(file, s, base, bits);
    H5Fclose(file);
    read_back(scratch_path, region_pick);
    return 0;
}
