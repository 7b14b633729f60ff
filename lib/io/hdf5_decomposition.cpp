// Decomposition files of method "sct" (docs/FORMAT.md): the writer of
// versions 2 and 3 (3 when some blocks are stored by zfp), the readers of
// versions 1 to 3, and the one reader that returns a decomposition of
// either method.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "atomic_output.hpp"
#include "decomposition_file.hpp"
#include "decomposition_reader.hpp"
#include "hdf5_output.hpp"
#include "object_writers.hpp"
#include "decomposition_methods.hpp"
#include "dtype.hpp"
#include "hdf5_handle.hpp"
#include "sign_stream.hpp"
#include "signcut/error.hpp"
#include "signcut/deflated_signs.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/scale_format.hpp"

namespace signcut {
namespace io {
namespace {

using u128 = unsigned __int128;

std::string v1_signs_group(hid_t root) { return fmt::format("{}/signs", group_path(root)); }
std::string v1_signs_path(hid_t root, std::size_t mode)
{
    return fmt::format("{}/signs/mode_{}", group_path(root), mode);
}

/// Blocks along mode a, ceil(d / b), without overflow for d near 2^64.
std::uint64_t blocks_along(std::uint64_t d, std::uint64_t b) { return (d - 1) / b + 1; }

/// Calls f(b, coordinates, extents, Σ_a extents) for every block of the
/// grid of `shape` cut by `block_shape`, in C order of the grid, updating
/// the extents as an odometer (no allocation per block).
template <class F>
void for_each_block(const Shape& shape, const Shape& block_shape, F&& f)
{
    const std::size_t k = shape.size();
    Shape grid(k), coords(k, 0), extents(k);
    std::uint64_t count = 1, sum = 0;
    for (std::size_t a = 0; a < k; ++a) {
        grid[a] = blocks_along(shape[a], block_shape[a]);
        count *= grid[a];
        extents[a] = std::min(block_shape[a], shape[a]);
        sum += extents[a];
    }
    for (std::uint64_t b = 0; b < count; ++b) {
        f(b, coords, extents, sum);
        for (std::size_t a = k; a-- > 0;) {
            sum -= extents[a];
            if (++coords[a] < grid[a]) {
                extents[a] = std::min(block_shape[a], shape[a] - coords[a] * block_shape[a]);
                sum += extents[a];
                break;
            }
            coords[a] = 0;
            extents[a] = std::min(block_shape[a], shape[a]);
            sum += extents[a];
        }
    }
}

// --- version 1 ---------------------------------------------------------------

void read_v1_info(hid_t file, const std::string& path, DecompositionInfo& info)
{
    // The arrays' shapes are metadata too: check them here, so that `info`
    // already refuses a file that could not be read.
    require_object(file, path, item_path(file, "scales"), H5I_DATASET);
    {
        const ArrayMeta meta = array_meta(file, path, item_path(file, "scales"));
        if (meta.type_class != H5T_FLOAT)
            throw Error(errc::bad_input, fmt::format("{}: {} holds {} values, expected float32", path,
                                                     item_path(file, "scales"), h5::class_name(meta.type_class)));
        if (meta.dims.size() != 1)
            throw Error(errc::bad_input, fmt::format("{}: {} has {}, expected a 1-D array of width {} entries", path,
                                                     item_path(file, "scales"), dims_text(meta.dims), info.width));
        if (meta.dims[0] != info.width)
            throw Error(errc::bad_input, fmt::format("{}: width is {} but {} has {} entries", path, info.width,
                                                     item_path(file, "scales"), meta.dims[0]));
        info.payload_bytes += meta.storage_bytes;
    }

    require_object(file, path, v1_signs_group(file), H5I_GROUP);
    for (std::size_t a = 0; a < info.shape.size(); ++a) {
        const std::string name = v1_signs_path(file, a);
        require_object(file, path, name, H5I_DATASET);
        const ArrayMeta meta = array_meta(file, path, name);
        if (meta.type_class != H5T_INTEGER || meta.type_size != 8 || meta.sign != H5T_SGN_NONE)
            throw Error(errc::bad_input, fmt::format("{}: {} must hold uint64 words, not {}-byte {} values", path, name,
                                                     meta.type_size, h5::class_name(meta.type_class)));
        const std::vector<hsize_t> expected{info.width, words_for(info.shape[a])};
        if (meta.dims != expected)
            throw Error(errc::bad_input,
                        fmt::format("{}: {} has {}, expected {}x{} (width x ceil({}/64))", path, name,
                                    dims_text(meta.dims), expected[0], expected[1], info.shape[a]));
        info.payload_bytes += meta.storage_bytes;
    }
    // A sign array beyond the last mode means the shape and the arrays
    // disagree about the order.
    h5::Group signs_group(H5Gopen2(file, v1_signs_group(file).c_str(), H5P_DEFAULT));
    H5G_info_t group_info{};
    if (!signs_group || H5Gget_info(signs_group.get(), &group_info) < 0)
        h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, v1_signs_group(file)));
    if (group_info.nlinks != info.shape.size())
        throw Error(errc::bad_input,
                    fmt::format("{}: {} has {} members, expected mode_0 ... mode_{} for a shape of order {}", path,
                                v1_signs_group(file), group_info.nlinks, info.shape.size() - 1, info.shape.size()));
    info.block_shape = info.shape;
    info.widths = {info.width};
}

/// Version 1 holds one block, the whole tensor, whose signs are stored as
/// the sign matrices themselves ([w][ceil(d_a/64)] words per mode).
SignedCutDecomposition read_v1_arrays(hid_t file, const std::string& path, const DecompositionInfo& info,
                                      std::uint64_t max_bytes, const Region* region)
{
    SaturatingCount needed(SaturatingCount::product(element_count(info.shape), sizeof(float)));
    if (region != nullptr) needed += u128{region_elements(*region)} * sizeof(float);
    needed += u128{info.width} * sizeof(float);
    for (const std::size_t d : info.shape)
        needed += SaturatingCount::product(u128{info.width} * words_for(d), sizeof(std::uint64_t));
    check_memory(path,
                 fmt::format("a {} decomposition of width {}", format_shape(info.shape), info.width),
                 needed.clamped(), max_bytes);

    const std::size_t width = static_cast<std::size_t>(info.width);
    std::vector<float> scales(width);
    if (width > 0) {
        h5::Dataset d(H5Dopen2(file, item_path(file, "scales").c_str(), H5P_DEFAULT));
        if (!d || H5Dread(d.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, scales.data()) < 0)
            h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, item_path(file, "scales")));
    }
    const auto non_finite = std::count_if(scales.begin(), scales.end(), [](float c) { return !std::isfinite(c); });
    if (non_finite > 0)
        throw Error(errc::bad_input,
                    fmt::format("{}: {} holds {} non-finite values", path, item_path(file, "scales"), non_finite));

    std::vector<SignMatrix> signs;
    signs.reserve(info.shape.size());
    for (std::size_t a = 0; a < info.shape.size(); ++a) {
        const std::size_t d = info.shape[a];
        const std::size_t stride = words_for(d);
        std::vector<std::uint64_t> words(width * stride);
        const std::string name = v1_signs_path(file, a);
        if (width > 0) {
            h5::Dataset ds(H5Dopen2(file, name.c_str(), H5P_DEFAULT));
            if (!ds || H5Dread(ds.get(), H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, words.data()) < 0)
                h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, name));
        }
        // Padding must be zero: the packed kernels XOR and popcount whole
        // words, so a stray bit would change every result silently.
        const std::uint64_t padding = ~tail_mask(d);
        for (std::size_t j = 0; j < width; ++j)
            if ((words[j * stride + stride - 1] & padding) != 0)
                throw Error(errc::bad_input,
                            fmt::format("{}: {} row {} has padding bits set past sign {}", path, name, j, d));
        signs.emplace_back(d, width, std::move(words));
    }
    return SignedCutDecomposition(SignedCutTerms(info.shape, std::move(scales), std::move(signs), info.scales_refit));
}

// --- version 2 ---------------------------------------------------------------

/// Σ_b ceil(w_b · S_b / 8): the length `signs` must have (saturated when a
/// hostile file claims more than 2^128 - 1).
SaturatingCount sign_stream_bytes(const DecompositionInfo& info)
{
    SaturatingCount total;
    for_each_block(info.shape, info.block_shape, [&](std::uint64_t b, const Shape&, const Shape&, std::uint64_t s) {
        total += (u128{info.widths[b]} * s + 7) / 8;
    });
    return total;
}

/// The datasets version 3 adds to version 2.
constexpr const char* v3_datasets[] = {"codecs", "stream_sizes", "streams"};

/// "/format_version" or "/G/format_version": the root attribute that names
/// the version, for messages.
std::string version_attribute(hid_t root)
{
    const std::string name = object_name(root);
    return (name == "/" ? std::string() : name) + "/format_version";
}

/// Version 3: reads `codecs` and checks the codec record against the widths
/// and the block extents, and the metadata of `stream_sizes` and `streams`;
/// fills info.codecs, coded_streams and stream_bytes. Returns the three
/// datasets' stored bytes. `widths_limit` bounds the widths and codecs
/// held at once.
std::uint64_t read_v3_info(hid_t file, const std::string& path, DecompositionInfo& info, std::uint64_t blocks,
                           std::uint64_t widths_limit)
{
    const std::string codecs_name = item_path(file, "codecs"), sizes_name = item_path(file, "stream_sizes"),
                      streams_name = item_path(file, "streams"), widths_name = item_path(file, "widths");
    for (const std::string& name : {codecs_name, sizes_name, streams_name})
        if (!h5::link_exists(file, name))
            throw Error(errc::bad_input,
                        fmt::format("{}: dataset {} is missing; {} is 3, whose files record each block's codec in "
                                    "codecs, stream_sizes and streams",
                                    path, name, version_attribute(file)));
    const ArrayMeta codecs_meta = require_vector(file, path, codecs_name, H5T_INTEGER, 1, "uint8", blocks);
    // The widths (read as uint32, kept as uint64) and the codecs (read as
    // uint8, kept as CodecId) are held at once.
    const u128 held = u128{blocks} * (sizeof(std::uint32_t) + sizeof(std::uint64_t) + 1 + sizeof(CodecId));
    if (held > widths_limit)
        throw Error(errc::limit, fmt::format("{} holds {} blocks: reading their widths and codecs needs {} bytes, more "
                                             "than the memory limit of {} bytes",
                                             path, blocks, bytes_text(SaturatingCount(held).clamped()), widths_limit));
    std::vector<std::uint8_t> codecs(static_cast<std::size_t>(blocks));
    {
        h5::Dataset d(H5Dopen2(file, codecs_name.c_str(), H5P_DEFAULT));
        if (!d || H5Dread(d.get(), H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, codecs.data()) < 0)
            h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, codecs_name));
    }
    info.codecs.resize(codecs.size());
    SaturatingCount streams;
    for_each_block(info.shape, info.block_shape, [&](std::uint64_t b, const Shape&, const Shape& extents, std::uint64_t) {
        const auto id = static_cast<CodecId>(codecs[b]);
        info.codecs[b] = id;
        if (id == CodecId::sct) return;
        const BlockCodec* codec = stored_codec(id);
        if (codec == nullptr)
            throw Error(errc::bad_input,
                        fmt::format("{}: {} entry {} is {}, expected 0 (signed cuts) or 1 (zfp)", path, codecs_name, b,
                                    codecs[b]));
        if (info.widths[b] != 0)
            throw Error(errc::bad_input,
                        fmt::format("{}: block {} is stored by {} ({} entry {} is {}) but has {} terms in {}; a coded "
                                    "block has width 0",
                                    path, b, codec->name(), codecs_name, b, codecs[b], info.widths[b], widths_name));
        const std::size_t n = codec->stream_count(extents);
        if (n == 0)
            throw Error(errc::bad_input,
                        fmt::format("{}: block {} is stored by {} ({} entry {}), which cannot store a block of "
                                    "extents {}",
                                    path, b, codec->name(), codecs_name, b, format_shape(extents)));
        streams += n;
    });
    if (streams.value() > UINT64_MAX)
        throw Error(errc::bad_input, fmt::format("{}: the coded blocks claim more than 2^64 streams", path));
    info.coded_streams = streams.clamped();
    const ArrayMeta sizes_meta =
        require_vector(file, path, sizes_name, H5T_INTEGER, 4, "uint32", info.coded_streams);

    require_object(file, path, streams_name, H5I_DATASET);
    const ArrayMeta streams_shape = array_meta(file, path, streams_name);
    if (streams_shape.dims.size() != 1)
        throw Error(errc::bad_input, fmt::format("{}: {} has {}, expected a 1-D array (the streams' bytes)", path,
                                                 streams_name, dims_text(streams_shape.dims)));
    info.stream_bytes = streams_shape.dims[0];
    const ArrayMeta streams_meta =
        require_vector(file, path, streams_name, H5T_INTEGER, 1, "uint8", info.stream_bytes);
    return codecs_meta.storage_bytes + sizes_meta.storage_bytes + streams_meta.storage_bytes;
}

void read_v2_info(hid_t file, const std::string& path, CommonAttributes& common, DecompositionInfo& info,
                  std::uint64_t widths_limit)
{
    const int version = common.version;
    const AttributeReader attrs(common.group.get(), path, object_name(common.group.get()), version);
    if (version < coded_format_version) {
        // Version 3's datasets in a file that claims version 2: a writer
        // that forgot the version, or a damaged file.
        for (const char* name : v3_datasets)
            if (h5::link_exists(common.group.get(), name))
                throw Error(errc::bad_input, fmt::format("{}: {} is a format version 3 dataset, but {} is {}", path,
                                                         item_path(file, name), version_attribute(file), version));
        refuse_unknown_items(common.group.get(), path, "sct", {"scales_refit", "block_shape"},
                             {"widths", "scales", "signs"}, version);
    } else {
        refuse_unknown_items(common.group.get(), path, "sct", {"scales_refit", "block_shape"},
                             {"widths", "scales", "signs", "codecs", "stream_sizes", "streams"}, version);
    }

    const std::vector<std::uint64_t> block_shape = attrs.unsigned_array("block_shape");
    const std::size_t k = info.shape.size();
    if (block_shape.size() != k)
        throw Error(errc::bad_input, fmt::format("{}: {} has {} entries, expected {} (the order of shape {})", path,
                                                 attrs.path("block_shape"), block_shape.size(), k,
                                                 format_shape(info.shape)));
    for (std::size_t a = 0; a < k; ++a)
        if (block_shape[a] < 1 || block_shape[a] > info.shape[a])
            throw Error(errc::bad_input,
                        fmt::format("{}: {} is {}: entry {} is {}, expected 1..{}", path, attrs.path("block_shape"),
                                    fmt::join(block_shape, "x"), a, block_shape[a], info.shape[a]));
    info.block_shape.assign(block_shape.begin(), block_shape.end());
    std::uint64_t blocks = 1;  // at most N, so it fits
    for (std::size_t a = 0; a < k; ++a) blocks *= blocks_along(info.shape[a], info.block_shape[a]);

    const ArrayMeta widths_meta =
        require_vector(file, path, item_path(file, "widths"), H5T_INTEGER, 4, "uint32", blocks);
    // The widths are read as uint32 and kept as uint64 in the result.
    const u128 widths_bytes = u128{blocks} * (sizeof(std::uint32_t) + sizeof(std::uint64_t));
    if (widths_bytes > widths_limit)
        throw Error(errc::limit, fmt::format("{} holds {} blocks: reading their widths needs {} bytes, more than "
                                             "the memory limit of {} bytes",
                                             path, blocks, bytes_text(SaturatingCount(widths_bytes).clamped()),
                                             widths_limit));
    std::vector<std::uint32_t> widths(static_cast<std::size_t>(blocks));
    {
        h5::Dataset d(H5Dopen2(file, item_path(file, "widths").c_str(), H5P_DEFAULT));
        if (!d || H5Dread(d.get(), H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, widths.data()) < 0)
            h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, item_path(file, "widths")));
    }
    info.widths.assign(widths.begin(), widths.end());
    u128 sum = 0;
    for (const std::uint32_t w : widths) sum += w;
    if (sum != info.width)
        throw Error(errc::bad_input,
                    fmt::format("{}: {} is {} but {} sum to {}", path, attrs.path("width"), info.width,
                                item_path(file, "widths"), bytes_text(SaturatingCount(sum).clamped())));

    const ArrayMeta scales_meta =
        require_vector(file, path, item_path(file, "scales"), H5T_FLOAT, 4, "float32", info.width);

    const SaturatingCount sign_bytes = sign_stream_bytes(info);
    if (sign_bytes.value() > UINT64_MAX)
        throw Error(errc::bad_input, fmt::format("{}: the widths and block shape {} need more than 2^64 sign bytes",
                                                 path, format_shape(info.block_shape)));
    const ArrayMeta signs_meta =
        require_vector(file, path, item_path(file, "signs"), H5T_INTEGER, 1, "uint8", sign_bytes.clamped());

    const std::uint64_t refit = attrs.unsigned_integer("scales_refit");
    if (refit > 1)
        throw Error(errc::bad_input,
                    fmt::format("{}: {} is {}, expected 0 or 1", path, attrs.path("scales_refit"), refit));
    info.scales_refit = refit == 1;
    // HDF5 converts any float to float32 on reading; the precision says
    // what a scale costs.
    info.scale_bits = scales_meta.type_precision == short_scale_bits ? short_scale_bits : float32_scale_bits;
    info.signs_deflate_level = signs_meta.deflate_level;
    info.payload_bytes = widths_meta.storage_bytes + scales_meta.storage_bytes + signs_meta.storage_bytes;
    if (version >= coded_format_version) info.payload_bytes += read_v3_info(file, path, info, blocks, widths_limit);
}

SignedCutDecomposition read_v2_arrays(hid_t file, const std::string& path, const DecompositionInfo& info,
                                      std::uint64_t max_bytes, const Region* region)
{
    const Shape& shape = info.shape;
    const std::size_t k = shape.size();
    const bool coded_file = !info.codecs.empty();  // version 3
    // The grid coordinates the region touches along each mode.
    Shape first(k, 0), last(k);
    for (std::size_t a = 0; a < k; ++a) last[a] = blocks_along(shape[a], info.block_shape[a]) - 1;
    if (region != nullptr) {
        check_region(*region, shape);
        for (std::size_t a = 0; a < k; ++a) {
            first[a] = (*region)[a].start / info.block_shape[a];
            last[a] = ((*region)[a].stop - 1) / info.block_shape[a];
        }
    }

    // One pass over the grid: every block's offsets, and the memory the
    // touched ones need. A coded block's streams are found from the
    // stream_sizes, read below.
    const std::uint64_t blocks = info.widths.size();
    std::vector<BlockToRead> to_read;
    std::vector<CodedToRead> coded_to_read;
    std::uint64_t scales_at = 0, bytes_at = 0, largest_block = 0, largest_coded = 0, stream_at = 0;
    SaturatingCount terms, stream_bytes, sign_words, coded_streams;
    for_each_block(shape, info.block_shape,
                   [&](std::uint64_t b, const Shape& coords, const Shape& extents, std::uint64_t s) {
                       const std::uint64_t w = info.widths[b];
                       const std::uint64_t bytes = segment_bytes(w, s);
                       bool touched = true;
                       for (std::size_t a = 0; a < k && touched; ++a)
                           touched = coords[a] >= first[a] && coords[a] <= last[a];
                       const CodecId codec = coded_file ? info.codecs[b] : CodecId::sct;
                       // Checked by the info: a known codec that can store the block.
                       const std::uint64_t n = codec == CodecId::sct ? 0 : stored_codec(codec)->stream_count(extents);
                       if (touched) {
                           if (codec == CodecId::sct) {
                               to_read.push_back({b, w, scales_at, bytes_at, bytes});
                               terms += w;
                               stream_bytes += bytes;
                               std::uint64_t words = 0;
                               for (const std::size_t e : extents) words += words_for(e);
                               sign_words += SaturatingCount::product(w, words);
                           } else {
                               coded_to_read.push_back({b, codec, stream_at, n, 0, 0});
                               coded_streams += n;
                               largest_coded = std::max(largest_coded, element_count(extents));
                           }
                           largest_block = std::max(largest_block, element_count(extents));
                       }
                       scales_at += w;  // Σ widths = width, checked by the info
                       bytes_at += bytes;  // Σ = the length of `signs`, checked too
                       stream_at += n;     // Σ = the length of `stream_sizes`, checked too
                   });

    // What reading and reconstructing holds at once: the reconstruction (a
    // region's, plus one block's buffer to cut it from), the widths (read as
    // uint32, kept as uint64), every block's terms object, the touched
    // blocks' scales (read, then kept) and sign segments (read) and their
    // sign matrices; in version 3 also the codecs (kept as CodecId), every
    // block's codec record, the stream sizes, the touched coded blocks'
    // streams (read, then kept) and one coded block decoded to check it.
    const u128 per_block = sizeof(SignedCutTerms) + sizeof(BlockToRead) +
                           u128{k} * (sizeof(std::size_t) + sizeof(SignMatrix)) +
                           (coded_file ? u128{sizeof(CodecId) + sizeof(CodedBlock)} : u128{0});
    const auto needed = [&](std::uint64_t touched_stream_bytes) {
        SaturatingCount n;
        if (region != nullptr)
            n += (u128{region_elements(*region)} + largest_block) * sizeof(float);
        else
            n += u128{element_count(shape)} * sizeof(float);
        n += u128{blocks} * (sizeof(std::uint32_t) + sizeof(std::uint64_t));
        n += SaturatingCount::product(blocks, per_block);
        n += SaturatingCount::product(terms.value(), 2 * sizeof(float));
        n += stream_bytes.value();
        n += SaturatingCount::product(sign_words.value(), sizeof(std::uint64_t));
        if (coded_file) {
            n += SaturatingCount::product(info.coded_streams, sizeof(std::uint32_t));
            n += SaturatingCount::product(touched_stream_bytes, 2);
            n += SaturatingCount::product(coded_streams.value(), sizeof(std::vector<std::uint8_t>));
            n += SaturatingCount::product(coded_to_read.size(), sizeof(CodedToRead));
            n += u128{largest_coded} * sizeof(float);
        }
        return n.clamped();
    };
    const std::string what =
        fmt::format("a {} decomposition of width {} in {} blocks", format_shape(shape), info.width, blocks);
    // The touched streams' bytes are known once the sizes are read: a whole
    // read touches all of them; a region's are checked again below.
    check_memory(path, what, needed(region == nullptr ? info.stream_bytes : 0), max_bytes);

    std::vector<std::uint32_t> sizes;
    if (coded_file) {
        sizes = read_stream_sizes(file, H5I_INVALID_HID, path, info.coded_streams, info.stream_bytes);
        // Where each touched coded block's streams start: the prefix sums of
        // the sizes of every stream before it.
        std::uint64_t at = 0, next = 0;
        SaturatingCount touched;
        for (CodedToRead& r : coded_to_read) {
            for (; next < r.first_stream; ++next) at += sizes[static_cast<std::size_t>(next)];
            r.bytes_at = at;
            for (std::uint64_t i = 0; i < r.streams; ++i) r.bytes += sizes[static_cast<std::size_t>(r.first_stream + i)];
            touched += r.bytes;
        }
        if (region != nullptr) check_memory(path, what, needed(touched.clamped()), max_bytes);
    }

    const BlockGrid grid(shape, info.block_shape);
    std::vector<SignedCutTerms> terms_of(static_cast<std::size_t>(blocks));
    read_block_terms(file, H5I_INVALID_HID, H5I_INVALID_HID, path, grid, info.scales_refit, to_read,
                     [&](const BlockToRead& r, SignedCutTerms t) { terms_of[r.block] = std::move(t); });
    // The blocks the region does not touch, and the coded blocks, hold no
    // terms.
    std::size_t next = 0;
    for (std::uint64_t b = 0; b < blocks; ++b) {
        if (next < to_read.size() && to_read[next].block == b)
            ++next;
        else
            terms_of[b] = SignedCutTerms(grid.extents(static_cast<std::size_t>(b)));
    }
    // Deflated signs: the decomposition counts its payload, and a recut's,
    // as the file stores them.
    const auto with_storage = [&](SignedCutDecomposition d) {
        if (info.signs_deflate_level > 0 && region == nullptr)
            d.set_sign_storage(deflated_signs(info.signs_deflate_level));
        return d;
    };
    if (!coded_file) return with_storage(SignedCutDecomposition(grid, std::move(terms_of)));

    // The coded blocks' streams, each block decoded once here so that a
    // stream its codec refuses is refused now, naming the file, and not
    // later by whoever rebuilds the tensor. The blocks the region does not
    // touch stay empty blocks of signed cuts.
    std::vector<CodedBlock> coded(static_cast<std::size_t>(blocks));
    const std::string streams_name = item_path(file, "streams");
    std::vector<float> check(static_cast<std::size_t>(largest_coded));
    read_coded_blocks(file, H5I_INVALID_HID, path, sizes, coded_to_read, [&](const CodedToRead& r, CodedBlock c) {
        const Shape extents = grid.extents(static_cast<std::size_t>(r.block));
        decode_coded_block(path, streams_name, r.block, c, extents,
                           std::span<float>(check.data(), static_cast<std::size_t>(element_count(extents))));
        coded[static_cast<std::size_t>(r.block)] = std::move(c);
    });
    return with_storage(SignedCutDecomposition(grid, std::move(terms_of), std::move(coded), file_codecs()));
}

}  // namespace

std::uint64_t region_elements(const Region& region)
{
    std::uint64_t n = 1;
    for (const RegionRange& r : region) n *= r.keep ? r.stop - r.start : 1;
    return n;
}

void read_sct_info(hid_t file, const std::string& path, CommonAttributes& common, DecompositionInfo& info,
                   std::uint64_t widths_limit)
{
    if (common.version == 1) {
        const AttributeReader attrs(common.group.get(), path, object_name(common.group.get()), 1);
        const std::uint64_t refit = attrs.unsigned_integer("scales_refit");
        if (refit > 1)
            throw Error(errc::bad_input,
                        fmt::format("{}: {} is {}, expected 0 or 1", path, attrs.path("scales_refit"), refit));
        info.scales_refit = refit == 1;
        read_v1_info(file, path, info);
    } else {
        read_v2_info(file, path, common, info, widths_limit);
    }
}

SignedCutDecomposition read_sct_arrays(hid_t file, const std::string& path, const DecompositionInfo& info,
                                       std::uint64_t max_bytes, const Region* region)
{
    if (region != nullptr) check_region(*region, info.shape);
    return info.format_version == 1 ? read_v1_arrays(file, path, info, max_bytes, region)
                                    : read_v2_arrays(file, path, info, max_bytes, region);
}

}  // namespace io

namespace {

/// The common part, then the method's own: everything read_decomposition_info
/// promises, from an open file.
DecompositionInfo read_info(hid_t file, const std::string& path, const std::string& file_name,
                            std::uint64_t widths_limit)
{
    io::CommonAttributes common = io::read_common(file, path);
    DecompositionInfo info = io::common_info(common);
    if (common.method == "sct")
        io::read_sct_info(file, path, common, info, widths_limit);
    else
        io::read_lplr_info(file, path, common, info);
    struct stat st {};
    if (::stat(file_name.c_str(), &st) == 0) info.file_bytes = static_cast<std::uint64_t>(st.st_size);
    return info;
}

}  // namespace

double DecompositionInfo::bits_per_value() const
{
    if (shape.empty()) return 0.0;
    return 8.0 * static_cast<double>(payload_bytes) / static_cast<double>(element_count(shape));
}

double DecompositionInfo::counted_bits_per_value() const
{
    if (shape.empty()) return 0.0;
    const double n = static_cast<double>(element_count(shape));
    if (method == "lplr") {
        if (matricization.row_modes.size() + matricization.col_modes.size() != shape.size()) return 0.0;
        return lplr_bits_per_value(matricization.rows(shape), matricization.cols(shape), width, bits_l, bits_r);
    }
    if (block_shape.size() != shape.size()) return 0.0;
    std::uint64_t blocks = 1;
    for (std::size_t a = 0; a < shape.size(); ++a) blocks *= io::blocks_along(shape[a], block_shape[a]);
    if (widths.size() != blocks) return 0.0;
    double bits = 0;
    io::for_each_block(shape, block_shape, [&](std::uint64_t b, const Shape&, const Shape&, std::uint64_t s) {
        bits += static_cast<double>(widths[b]) * static_cast<double>(s + scale_bits);
    });
    // A coded block's streams: 8 bits a byte, 32 a stream (CodedBlock::bits).
    bits += 8.0 * static_cast<double>(stream_bytes) + 32.0 * static_cast<double>(coded_streams);
    return bits / n;
}

std::uint64_t DecompositionInfo::blocks_of(CodecId codec) const
{
    if (method != "sct") return 0;
    if (codecs.empty()) return codec == CodecId::sct ? widths.size() : 0;
    return static_cast<std::uint64_t>(std::count(codecs.begin(), codecs.end(), codec));
}

namespace io {

std::string iso8601_utc_now()
{
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

namespace {

void check_sct_layout(const StoredLayout& layout, const std::string& path)
{
    const std::size_t blocks = layout.widths.size();
    for (std::size_t b = 0; b < blocks; ++b) {
        if (layout.widths[b] > UINT32_MAX)
            throw Error(errc::invalid_argument, fmt::format("cannot write {}: block {} has {} terms, more than 2^32 - 1",
                                                            path, b, layout.widths[b]));
        if (layout.codecs[b] == CodecId::sct) continue;
        const BlockCodec* known = io::stored_codec(layout.codecs[b]);
        if (known == nullptr)
            throw Error(errc::invalid_argument, fmt::format("cannot write {}: block {} is stored by {}, which "
                                                            "format version 3 does not know",
                                                            path, b, io::codec_name(layout.codecs[b])));
        // The decomposition's constructor checked the count against the
        // codec it holds; the file's readers count with this one.
        const Shape extents = layout.grid.extents(b);
        if (layout.stream_sizes[b].size() != known->stream_count(extents))
            throw Error(errc::invalid_argument,
                        fmt::format("cannot write {}: block {} has {} {} streams, its extents {} need {}", path, b,
                                    layout.stream_sizes[b].size(), known->name(), format_shape(extents),
                                    known->stream_count(extents)));
        for (std::uint64_t size : layout.stream_sizes[b])
            if (size > UINT32_MAX)
                throw Error(errc::invalid_argument,
                            fmt::format("cannot write {}: a stream of block {} has {} bytes, more than 2^32 - 1", path,
                                        b, size));
    }
}

}  // namespace

h5::Group create_sct_objects(hid_t root, const std::string& path, const StoredLayout& layout,
                             const Provenance& provenance)
{
    if (layout.grid.order() == 0)
        throw Error(errc::invalid_argument, fmt::format("cannot write {}: the decomposition is empty (order 0)", path));
    (void)io::dtype_spec(provenance.original_dtype);
    check_sct_layout(layout, path);
    const int version = layout.format_version();
    h5::Group group = io::write_common(root, path, "sct", layout.grid.shape(), layout.width(), provenance, version);
    io::AttributeWriter attrs(group.get(), path);
    attrs.u8("scales_refit", layout.scales_refit ? 1 : 0);
    const Shape& block_shape = layout.grid.block_shape();
    attrs.u64_array("block_shape", std::vector<std::uint64_t>(block_shape.begin(), block_shape.end()));
    // In file order: the widths, every block's scales, every block's sign
    // segment (a coded block has none of either), and in version 3 the
    // codec of every block, the sizes of the coded blocks' streams and the
    // streams themselves, in block order. Chunked alike, so that the
    // payload is blocks_payload()'s; the signs deflated where that stores
    // fewer bytes (SignedCutDecomposition::payload() counts the same bytes).
    (void)io::create_widths(group.get(), layout.widths.size(), layout.max_width(), path);
    (void)io::create_scales(group.get(), layout.width(), layout.scale_bits, path);
    (void)io::create_signs(group.get(), layout.sign_stream_bytes(), layout.deflate_level, path);
    if (version >= io::coded_format_version) {
        const CodedStorage coded = layout.coded_storage();
        (void)io::create_vector(group.get(), "codecs", H5T_STD_U8LE, layout.codecs.size(), 1, path);
        (void)io::create_vector(group.get(), "stream_sizes", H5T_STD_U32LE, coded.streams, 4, path);
        (void)io::create_vector(group.get(), "streams", H5T_STD_U8LE, coded.stream_bytes, 1, path);
    }
    return group;
}

void check_sct_blocks(const StoredLayout& layout, const SignedCutDecomposition& d, std::size_t first,
                      std::size_t last, const std::string& path)
{
    if (d.block_count() != layout.widths.size() || last > d.block_count() || first > last)
        throw Error(errc::invalid_argument, fmt::format("cannot write blocks {}:{} of {}: the decomposition has {} "
                                                        "blocks, the file {}",
                                                        first, last, path, d.block_count(), layout.widths.size()));
    for (std::size_t b = first; b < last; ++b) {
        const SignedCutTerms& terms = d.block(b);
        if (terms.width() != layout.widths[b] || d.codec(b) != layout.codecs[b] ||
            d.coded(b).streams.size() != layout.stream_sizes[b].size())
            throw Error(errc::invalid_argument,
                        fmt::format("cannot write block {} of {}: it is not the block the file was laid out for", b,
                                    path));
        for (std::size_t s = 0; s < layout.stream_sizes[b].size(); ++s)
            if (d.coded(b).streams[s].size() != layout.stream_sizes[b][s])
                throw Error(errc::invalid_argument,
                            fmt::format("cannot write block {} of {}: it is not the block the file was laid out for",
                                        b, path));
        if (layout.scale_bits == short_scale_bits && terms.scale_bits() != short_scale_bits)
            throw Error(errc::invalid_argument,
                        fmt::format("cannot write {}: block {} has scales that are not short", path, b));
        for (std::size_t j = 0; j < terms.width(); ++j)
            if (!std::isfinite(terms.scales()[j]))
                throw Error(errc::invalid_argument,
                            fmt::format("cannot write {}: scale {} of block {} is {}", path, j, b, terms.scales()[j]));
    }
}

SctBlockValues sct_block_values(const StoredLayout& layout, const SignedCutDecomposition& d, std::size_t first,
                                std::size_t last)
{
    SctBlockValues v;
    v.first_block = first;
    v.at = layout.placement(first);
    const BlockPlacement to = layout.placement(last);
    const BlockGrid& grid = layout.grid;
    v.widths.assign(layout.widths.begin() + static_cast<std::ptrdiff_t>(first),
                    layout.widths.begin() + static_cast<std::ptrdiff_t>(last));
    v.scales.reserve(static_cast<std::size_t>(to.scale - v.at.scale));
    v.signs.resize(static_cast<std::size_t>(to.sign_byte - v.at.sign_byte));
    std::uint64_t at = 0;
    for (std::size_t b = first; b < last; ++b) {
        const SignedCutTerms& terms = d.block(b);
        v.scales.insert(v.scales.end(), terms.scales().begin(), terms.scales().end());
        const std::uint64_t bytes = io::segment_bytes(terms.width(), grid.signs_per_term(b));
        io::pack_segment(terms, std::span<std::uint8_t>(v.signs.data() + at, static_cast<std::size_t>(bytes)));
        at += bytes;
    }
    if (layout.format_version() < io::coded_format_version) return v;
    v.streams.reserve(static_cast<std::size_t>(to.stream_byte - v.at.stream_byte));
    for (std::size_t b = first; b < last; ++b) {
        v.codecs.push_back(static_cast<std::uint8_t>(layout.codecs[b]));
        for (const std::vector<std::uint8_t>& s : d.coded(b).streams) {
            v.stream_sizes.push_back(static_cast<std::uint32_t>(s.size()));
            v.streams.insert(v.streams.end(), s.begin(), s.end());
        }
    }
    return v;
}

void write_sct_values(hid_t group, const std::string& path, const StoredLayout& layout, const SctBlockValues& v,
                      hid_t transfer)
{
    const auto open = [&](const char* name) {
        h5::Dataset dataset(H5Dopen2(group, name, H5P_DEFAULT));
        if (!dataset) h5::fail(errc::io, fmt::format("cannot open dataset {} of {}", name, path));
        return dataset;
    };
    io::write_vector_part(open("widths").get(), v.first_block, v.widths.size(), v.widths.data(), transfer, path);
    io::write_vector_part(open("scales").get(), v.at.scale, v.scales.size(), v.scales.data(), transfer, path);
    io::write_vector_part(open("signs").get(), v.at.sign_byte, v.signs.size(), v.signs.data(), transfer, path);
    if (layout.format_version() < io::coded_format_version) return;
    io::write_vector_part(open("codecs").get(), v.first_block, v.codecs.size(), v.codecs.data(), transfer, path);
    io::write_vector_part(open("stream_sizes").get(), v.at.stream, v.stream_sizes.size(), v.stream_sizes.data(),
                          transfer, path);
    io::write_vector_part(open("streams").get(), v.at.stream_byte, v.streams.size(), v.streams.data(), transfer,
                          path);
}

void write_sct_into(hid_t root, const std::string& path, const SignedCutDecomposition& decomposition,
                    const Provenance& provenance)
{
    const StoredLayout layout = stored_layout(decomposition);
    const std::size_t blocks = decomposition.block_count();
    check_sct_blocks(layout, decomposition, 0, blocks, path);
    h5::Group group = create_sct_objects(root, path, layout, provenance);
    write_sct_values(group.get(), path, layout, sct_block_values(layout, decomposition, 0, blocks), H5P_DEFAULT);
}

}  // namespace io

void write_decomposition(const std::string& path, const SignedCutDecomposition& decomposition,
                         const Provenance& provenance, bool force, const std::string& target_group)
{
    h5::QuietErrors quiet;
    io::Hdf5Output output(path, target_group, force);
    {
        h5::Group root = output.open_root_group();
        io::write_sct_into(root.get(), output.shown(), decomposition, provenance);
    }
    output.commit();
}

DecompositionInfo read_decomposition_info(const std::string& path)
{
    h5::QuietErrors quiet;
    io::OpenDecomposition d = io::open_decomposition(path);
    return read_info(d.root.get(), path, d.file_name, default_memory_limit());
}

Decomposition read_decomposition(const std::string& path, std::uint64_t max_bytes, DecompositionInfo* info_out,
                                 const Region* region)
{
    h5::QuietErrors quiet;
    io::OpenDecomposition d = io::open_decomposition(path);
    const hid_t file = d.root.get();
    DecompositionInfo info = read_info(file, path, d.file_name, max_bytes);
    Decomposition decomposition;
    try {
        if (info.method == "sct")
            decomposition = io::read_sct_arrays(file, path, info, max_bytes, region);
        else
            decomposition = io::read_lplr_arrays(file, path, info, max_bytes, region);
    } catch (const std::bad_alloc&) {
        throw Error(errc::limit, fmt::format("{}: cannot allocate the memory its arrays need", path));
    }
    if (info_out != nullptr) *info_out = std::move(info);
    return decomposition;
}

}  // namespace signcut
