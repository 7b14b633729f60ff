// What the whole and the streamed readers of decomposition files share.
#include "decomposition_reader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "hdf5_output.hpp"
#include "sign_stream.hpp"
#include "signcut/error.hpp"
#include "signcut/zfp_block_codec.hpp"

namespace signcut::io {
namespace {

/// A contiguous range of a 1-D dataset.
struct Run {
    std::uint64_t start = 0, count = 0;
};

void add_run(std::vector<Run>& runs, std::uint64_t start, std::uint64_t count)
{
    if (count == 0) return;
    if (!runs.empty() && runs.back().start + runs.back().count == start) {
        runs.back().count += count;
        return;
    }
    runs.push_back({start, count});
}

/// Reads the union of `runs` (increasing, disjoint) of the 1-D array `name`
/// into `out`, in order, through one hyperslab selection: from `dataset`
/// when it is open, else from the array opened for this read.
void read_runs(hid_t root, hid_t dataset, const std::string& path, const std::string& name, hid_t memory_type,
               const std::vector<Run>& runs, std::uint64_t total, void* out)
{
    if (total == 0) return;
    h5::Dataset opened;
    if (dataset < 0) {
        opened = open_array(root, path, name);
        dataset = opened.get();
    }
    h5::Dataspace file_space(H5Dget_space(dataset));
    const hsize_t n = total;
    h5::Dataspace memory_space(H5Screate_simple(1, &n, nullptr));
    if (!file_space || !memory_space) h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, name));
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const hsize_t start = runs[i].start, count = runs[i].count;
        if (H5Sselect_hyperslab(file_space.get(), i == 0 ? H5S_SELECT_SET : H5S_SELECT_OR, &start, nullptr, &count,
                                nullptr) < 0)
            h5::fail(errc::bad_input, fmt::format("{}: cannot select entries of {}", path, name));
    }
    if (H5Dread(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, out) < 0)
        h5::fail(errc::bad_input, fmt::format("{}: cannot read {}", path, name));
}

}  // namespace

OpenDecomposition open_decomposition(const std::string& spec)
{
    OpenDecomposition d;
    std::string group = "/";
    d.file_name = spec;
    struct stat st {};
    if (::stat(spec.c_str(), &st) != 0) {
        std::string file, object;
        split_object_spec(spec, file, object);
        if (!object.empty() && ::stat(file.c_str(), &st) == 0) {
            d.file_name = file;
            group = object;
        }
    }
    d.file = h5::open_read_only(d.file_name);
    if (group != "/") {
        if (!h5::link_exists(d.file.get(), group))
            throw Error(errc::bad_input, fmt::format("{} has no object {}", d.file_name, group));
        h5::Object o(H5Oopen(d.file.get(), group.c_str(), H5P_DEFAULT));
        if (!o) h5::fail(errc::bad_input, fmt::format("cannot open {}", spec));
        if (H5Iget_type(o.get()) != H5I_GROUP)
            throw Error(errc::bad_input,
                        fmt::format("{} is a dataset, not a decomposition (a decomposition is a group)", spec));
    }
    d.root = h5::Group(H5Gopen2(d.file.get(), group.c_str(), H5P_DEFAULT));
    if (!d.root) h5::fail(errc::bad_input, fmt::format("cannot open {}", spec));
    return d;
}

DecompositionInfo common_info(const CommonAttributes& common)
{
    DecompositionInfo info;
    info.method = common.method;
    info.format_version = common.version;
    info.shape = common.shape;
    info.width = common.width;
    info.norm2 = common.norm2;
    info.provenance = common.provenance;
    return info;
}

h5::Dataset open_array(hid_t root, const std::string& path, const std::string& name)
{
    h5::Dataset d(H5Dopen2(root, name.c_str(), H5P_DEFAULT));
    if (!d) h5::fail(errc::bad_input, fmt::format("{}: cannot open {}", path, name));
    return d;
}

void read_block_terms(hid_t root, hid_t scales, hid_t signs, const std::string& path, const BlockGrid& grid,
                      bool scales_refit, std::span<const BlockToRead> blocks,
                      const std::function<void(const BlockToRead&, SignedCutTerms)>& add)
{
    std::vector<Run> scale_runs, byte_runs;
    std::uint64_t terms = 0, stream_bytes = 0;
    for (const BlockToRead& r : blocks) {
        add_run(scale_runs, r.scales_at, r.width);
        add_run(byte_runs, r.bytes_at, r.bytes);
        terms += r.width;
        stream_bytes += r.bytes;
    }
    const std::string scales_name = item_path(root, "scales"), signs_name = item_path(root, "signs");

    std::vector<float> all_scales(static_cast<std::size_t>(terms));
    read_runs(root, scales, path, scales_name, H5T_NATIVE_FLOAT, scale_runs, all_scales.size(), all_scales.data());
    const auto non_finite =
        std::count_if(all_scales.begin(), all_scales.end(), [](float c) { return !std::isfinite(c); });
    if (non_finite > 0)
        throw Error(errc::bad_input, fmt::format("{}: {} holds {} non-finite values", path, scales_name, non_finite));
    std::vector<std::uint8_t> stream(static_cast<std::size_t>(stream_bytes));
    read_runs(root, signs, path, signs_name, H5T_NATIVE_UINT8, byte_runs, stream.size(), stream.data());

    std::uint64_t scale_pos = 0, byte_pos = 0;
    for (const BlockToRead& r : blocks) {
        Shape extents = grid.extents(static_cast<std::size_t>(r.block));
        std::uint64_t per_term = 0;
        for (const std::size_t e : extents) per_term += e;
        const std::span<const std::uint8_t> segment(stream.data() + byte_pos, static_cast<std::size_t>(r.bytes));
        if (!segment_tail_is_clear(segment, r.width * per_term))
            throw Error(errc::bad_input,
                        fmt::format("{}: {} has unused bits set in the last byte of block {}'s segment (byte {})",
                                    path, signs_name, r.block, r.bytes_at + r.bytes - 1));
        std::vector<SignMatrix> block_signs = unpack_segment(segment, extents, static_cast<std::size_t>(r.width));
        std::vector<float> block_scales(all_scales.begin() + static_cast<std::ptrdiff_t>(scale_pos),
                                        all_scales.begin() + static_cast<std::ptrdiff_t>(scale_pos + r.width));
        add(r, SignedCutTerms(std::move(extents), std::move(block_scales), std::move(block_signs), scales_refit));
        scale_pos += r.width;
        byte_pos += r.bytes;
    }
}

const BlockCodec* stored_codec(CodecId id)
{
    if (id == CodecId::zfp) return zfp_block_codec().get();
    return nullptr;
}

BlockCodecs file_codecs() { return {zfp_block_codec()}; }

std::string codec_name(CodecId id)
{
    if (id == CodecId::sct) return "signed cuts";
    if (const BlockCodec* c = stored_codec(id)) return std::string(c->name());
    return fmt::format("codec {}", static_cast<unsigned>(id));
}

std::vector<std::uint32_t> read_stream_sizes(hid_t root, hid_t dataset, const std::string& path, std::uint64_t count,
                                             std::uint64_t stream_bytes)
{
    const std::string name = item_path(root, "stream_sizes");
    std::vector<std::uint32_t> sizes(static_cast<std::size_t>(count));
    read_runs(root, dataset, path, name, H5T_NATIVE_UINT32, {{0, count}}, count, sizes.data());
    unsigned __int128 sum = 0;
    for (const std::uint32_t s : sizes) sum += s;
    if (sum != stream_bytes)
        throw Error(errc::bad_input,
                    fmt::format("{}: {} sum to {} bytes, but {} holds {}", path, name,
                                static_cast<std::uint64_t>(sum), item_path(root, "streams"), stream_bytes));
    return sizes;
}

void read_coded_blocks(hid_t root, hid_t dataset, const std::string& path, std::span<const std::uint32_t> sizes,
                       std::span<const CodedToRead> blocks,
                       const std::function<void(const CodedToRead&, CodedBlock)>& add)
{
    std::vector<Run> runs;
    std::uint64_t total = 0;
    for (const CodedToRead& r : blocks) {
        add_run(runs, r.bytes_at, r.bytes);
        total += r.bytes;
    }
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(total));
    read_runs(root, dataset, path, item_path(root, "streams"), H5T_NATIVE_UINT8, runs, bytes.size(), bytes.data());
    std::uint64_t at = 0;
    for (const CodedToRead& r : blocks) {
        CodedBlock block;
        block.codec = r.codec;
        block.streams.reserve(static_cast<std::size_t>(r.streams));
        for (std::uint64_t i = 0; i < r.streams; ++i) {
            const std::size_t n = sizes[static_cast<std::size_t>(r.first_stream + i)];
            const auto first = bytes.begin() + static_cast<std::ptrdiff_t>(at);
            block.streams.emplace_back(first, first + static_cast<std::ptrdiff_t>(n));
            at += n;
        }
        add(r, std::move(block));
    }
}

void decode_coded_block(const std::string& path, const std::string& streams_name, std::uint64_t b,
                        const CodedBlock& block, const Shape& extents, std::span<float> out)
{
    const BlockCodec* codec = stored_codec(block.codec);
    if (codec == nullptr)
        throw Error(errc::bad_input, fmt::format("{}: block {} is stored by {}, which this build cannot decode", path,
                                                 b, codec_name(block.codec)));
    try {
        codec->decode(block, extents, out);
    } catch (const Error& e) {
        throw Error(errc::bad_input, fmt::format("{}: block {} ({}, extents {}) in {}: {}", path, b, codec->name(),
                                                 format_shape(extents), streams_name, e.what()));
    }
}

}  // namespace signcut::io
