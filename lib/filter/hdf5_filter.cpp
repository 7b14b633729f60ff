// The HDF5 filter (signcut/hdf5_filter.hpp).
//
// This code runs inside other people's processes, called from HDF5's C
// frames: every callback catches everything (std::bad_alloc included) and
// reports failure the HDF5 way, with a message pushed on HDF5's error
// stack; every size it allocates for comes from the dataset's own
// properties (recorded by set_local), never from a chunk's bytes; buffers
// handed to HDF5 come from H5allocate_memory; it starts no thread and makes
// no HDF5 call from one.
#include "signcut/hdf5_filter.hpp"

#include <hdf5.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "signcut/error.hpp"

namespace signcut {
namespace {

constexpr std::size_t max_parameters = 8 + 2 * 32 + 2;
constexpr std::size_t max_order = 32;

/// What the parameters say: the encoding, and once set_local has run, the
/// element type and chunk dims of the dataset.
struct Parameters {
    ChunkEncoding encoding;
    std::optional<ChunkDtype> dtype;
    Shape chunk;
    std::size_t user_count = 8;  ///< the values before the local part
};

void push_error(const std::string& message)
{
    H5Epush2(H5E_DEFAULT, __FILE__, "signcut filter", __LINE__, H5E_ERR_CLS, H5E_PLINE, H5E_CANTFILTER, "%s",
             message.c_str());
}

double double_of(unsigned low, unsigned high)
{
    return std::bit_cast<double>(std::uint64_t{low} | (std::uint64_t{high} << 32));
}

/// Reads the parameters; throws Error naming what is wrong.
Parameters parse(std::size_t n, const unsigned* v)
{
    Parameters p;
    const auto at = [&](std::size_t i, unsigned fallback) { return i < n ? v[i] : fallback; };
    if (n > 0 && v[0] != hdf5_filter_parameter_version)
        throw Error(errc::unsupported,
                    fmt::format("parameter version {}; this signcut reads version {}", v[0],
                                hdf5_filter_parameter_version));
    const unsigned rule = at(1, 1);
    if (rule < 1 || rule > 3)
        throw Error(errc::invalid_argument, fmt::format("rule {}: 1 (bits per value), 2 (relative error) or 3 (RMSE)", rule));
    p.encoding.rule.kind = static_cast<ChunkRule::Kind>(rule);
    p.encoding.rule.value = n > 3 ? double_of(v[2], v[3]) : 1.0;
    if (!(p.encoding.rule.value > 0 && std::isfinite(p.encoding.rule.value)))
        throw Error(errc::invalid_argument,
                    fmt::format("the rule's value must be positive and finite, got {}", p.encoding.rule.value));
    p.encoding.seed = std::uint64_t{at(4, 0)} | (std::uint64_t{at(5, 0)} << 32);
    const unsigned zfp = at(6, 1);
    if (zfp > 1) throw Error(errc::invalid_argument, fmt::format("value 6 (zfp allowed) is {}, not 0 or 1", zfp));
    p.encoding.zfp = zfp == 1;
    const std::size_t k = at(7, 0);
    if (k > max_order) throw Error(errc::invalid_argument, fmt::format("{} block extents: at most {}", k, max_order));
    if (n > 7 && n < 8 + k)
        throw Error(errc::invalid_argument, fmt::format("{} block extents announced, {} given", k, n - 8));
    for (std::size_t a = 0; a < k; ++a) {
        if (v[8 + a] == 0) throw Error(errc::invalid_argument, fmt::format("block extent {} is 0", a));
        p.encoding.block_shape.push_back(v[8 + a]);
    }
    p.user_count = std::max<std::size_t>(8, 8 + k);
    if (n <= p.user_count) return p;
    // The local part set_local appended.
    if (n < p.user_count + 2) throw Error(errc::bad_input, "the recorded chunk description is cut short");
    const unsigned dtype = v[p.user_count];
    if (dtype > 1) throw Error(errc::bad_input, fmt::format("recorded element type {}", dtype));
    p.dtype = static_cast<ChunkDtype>(dtype);
    const std::size_t order = v[p.user_count + 1];
    if (order < 1 || order > max_order || n != p.user_count + 2 + order)
        throw Error(errc::bad_input, fmt::format("a recorded chunk of order {} in {} parameters", order, n));
    for (std::size_t a = 0; a < order; ++a) {
        if (v[p.user_count + 2 + a] == 0) throw Error(errc::bad_input, "a recorded chunk dimension is 0");
        p.chunk.push_back(v[p.user_count + 2 + a]);
    }
    return p;
}

/// The user part of the parameters, normalized (every value present).
std::vector<unsigned> user_values(const ChunkEncoding& e)
{
    const std::uint64_t value = std::bit_cast<std::uint64_t>(e.rule.value);
    std::vector<unsigned> v{hdf5_filter_parameter_version,
                            static_cast<unsigned>(e.rule.kind),
                            static_cast<unsigned>(value & 0xffffffffu),
                            static_cast<unsigned>(value >> 32),
                            static_cast<unsigned>(e.seed & 0xffffffffu),
                            static_cast<unsigned>(e.seed >> 32),
                            e.zfp ? 1u : 0u,
                            static_cast<unsigned>(e.block_shape.size())};
    for (const std::size_t b : e.block_shape) v.push_back(static_cast<unsigned>(b));
    return v;
}

/// Why `type` cannot be stored, or nothing.
std::optional<std::string> refusal(hid_t type)
{
    const H5T_class_t c = H5Tget_class(type);
    const std::size_t size = H5Tget_size(type);
    if (c == H5T_INTEGER)
        return fmt::format("the dataset holds {}-bit integers; the signcut filter stores float32 and float64 only",
                           8 * size);
    if (c != H5T_FLOAT) return std::string("the dataset's values are not floating point; the signcut filter stores float32 and float64 only");
    if (size != 4 && size != 8)
        return fmt::format("the dataset holds {}-bit floats; the signcut filter stores float32 and float64 only",
                           8 * size);
    if (H5Tget_order(type) != H5T_ORDER_LE || H5Tget_precision(type) != 8 * size || H5Tget_offset(type) != 0)
        return std::string("the dataset's floats are not IEEE little-endian float32 or float64");
    return std::nullopt;
}

htri_t can_apply(hid_t /*dcpl*/, hid_t type, hid_t /*space*/) noexcept
{
    try {
        if (const auto why = refusal(type)) {
            push_error(*why);
            return 0;
        }
        return 1;
    } catch (...) {
        push_error("the signcut filter failed to inspect the dataset's type");
        return -1;
    }
}

herr_t set_local(hid_t dcpl, hid_t type, hid_t /*space*/) noexcept
{
    try {
        unsigned flags = 0;
        std::size_t n = max_parameters;
        std::array<unsigned, max_parameters> values{};
        if (H5Pget_filter_by_id2(dcpl, hdf5_filter_id, &flags, &n, values.data(), 0, nullptr, nullptr) < 0) {
            push_error("cannot read the signcut filter's parameters");
            return -1;
        }
        if (n > max_parameters) {
            push_error(fmt::format("{} signcut filter parameters: at most {}", n, max_parameters));
            return -1;
        }
        const Parameters p = parse(n, values.data());
        std::array<hsize_t, H5S_MAX_RANK> chunk{};
        const int rank = H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk.data());
        if (rank < 1) {
            push_error("the signcut filter needs a chunked dataset");
            return -1;
        }
        if (static_cast<std::size_t>(rank) > max_order) {
            push_error(fmt::format("chunks of rank {}: the signcut filter takes at most {}", rank, max_order));
            return -1;
        }
        // An optional filter (h5py's default) reaches set_local even when
        // can_apply said no, and HDF5 drops can_apply's message then: say
        // it again here.
        if (const auto why = refusal(type)) {
            push_error(*why);
            return -1;
        }
        std::vector<unsigned> out = user_values(p.encoding);
        out.push_back(H5Tget_size(type) == 8 ? 1u : 0u);
        out.push_back(static_cast<unsigned>(rank));
        for (int a = 0; a < rank; ++a) out.push_back(static_cast<unsigned>(chunk[a]));
        if (H5Pmodify_filter(dcpl, hdf5_filter_id, flags, out.size(), out.data()) < 0) {
            push_error("cannot record the chunk's shape in the signcut filter's parameters");
            return -1;
        }
        return 0;
    } catch (const std::exception& e) {
        push_error(std::string("signcut filter parameters: ") + e.what());
        return -1;
    } catch (...) {
        push_error("signcut filter parameters: unknown failure");
        return -1;
    }
}

std::size_t filter(unsigned flags, std::size_t cd_nelmts, const unsigned cd_values[], std::size_t nbytes,
                   std::size_t* buf_size, void** buf) noexcept
{
    void* out = nullptr;
    try {
        const Parameters p = parse(cd_nelmts, cd_values);
        if (!p.dtype) throw Error(errc::bad_input, "the parameters hold no chunk description (set_local did not run)");
        Shape block = p.encoding.block_shape;
        ChunkEncoding encoding = p.encoding;
        if (!block.empty()) {
            if (block.size() != p.chunk.size())
                throw Error(errc::invalid_argument, fmt::format("a block shape of order {} for chunks of order {}",
                                                                block.size(), p.chunk.size()));
            for (std::size_t a = 0; a < block.size(); ++a) block[a] = std::min(block[a], p.chunk[a]);
            encoding.block_shape = block;
        }
        const std::uint64_t values = element_count(p.chunk);
        const std::uint64_t chunk_bytes = values * chunk_value_bytes(*p.dtype);
        if (flags & H5Z_FLAG_REVERSE) {
            out = H5allocate_memory(static_cast<std::size_t>(chunk_bytes), false);
            if (out == nullptr) throw std::bad_alloc();
            decode_chunk({static_cast<const std::uint8_t*>(*buf), nbytes}, *p.dtype, p.chunk,
                         {static_cast<std::byte*>(out), static_cast<std::size_t>(chunk_bytes)});
            H5free_memory(*buf);
            *buf = out;
            *buf_size = static_cast<std::size_t>(chunk_bytes);
            return static_cast<std::size_t>(chunk_bytes);
        }
        if (nbytes != chunk_bytes)
            throw Error(errc::invalid_argument,
                        fmt::format("a chunk of {} bytes; the dataset's chunks hold {}", nbytes, chunk_bytes));
        const std::vector<std::uint8_t> stream =
            encode_chunk({static_cast<const std::byte*>(*buf), nbytes}, *p.dtype, p.chunk, encoding);
        out = H5allocate_memory(stream.size(), false);
        if (out == nullptr) throw std::bad_alloc();
        std::memcpy(out, stream.data(), stream.size());
        H5free_memory(*buf);
        *buf = out;
        *buf_size = stream.size();
        return stream.size();
    } catch (const std::exception& e) {
        push_error(std::string("signcut filter: ") + e.what());
    } catch (...) {
        push_error("signcut filter: unknown failure");
    }
    if (out != nullptr) H5free_memory(out);
    return 0;
}

const H5Z_class2_t filter_class = {
    H5Z_CLASS_T_VERS,
    static_cast<H5Z_filter_t>(hdf5_filter_id),
    1,  // encoder present
    1,  // decoder present
    "signcut (signed cut decomposition)",
    can_apply,
    set_local,
    filter,
};

}  // namespace

std::vector<unsigned> hdf5_filter_parameters(const ChunkEncoding& encoding)
{
    if (!(encoding.rule.value > 0 && std::isfinite(encoding.rule.value)))
        throw Error(errc::invalid_argument,
                    fmt::format("the rule's value must be positive and finite, got {}", encoding.rule.value));
    if (encoding.block_shape.size() > max_order)
        throw Error(errc::invalid_argument, fmt::format("a block shape of order {}: at most {}",
                                                        encoding.block_shape.size(), max_order));
    return user_values(encoding);
}

const void* hdf5_filter_class() noexcept { return &filter_class; }

void register_hdf5_filter()
{
    if (H5Zfilter_avail(static_cast<H5Z_filter_t>(hdf5_filter_id)) > 0) return;
    if (H5Zregister(&filter_class) < 0)
        throw Error(errc::io, "cannot register the signcut filter with HDF5");
}

}  // namespace signcut
