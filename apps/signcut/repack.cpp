// `signcut repack`: a copy of an HDF5 file whose float datasets go through
// the signcut HDF5 filter (signcut/hdf5_filter.hpp), chunk by chunk, so
// that any HDF5 program with the plugin reads them; everything else is
// copied as it is. The library registers the filter with this process's
// HDF5 when it opens a file, so no plugin path is needed here.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "common.hpp"
#include "signcut/datasets.hpp"
#include "signcut/decompose.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/hdf5_filter.hpp"
#include "signcut/whole_files.hpp"
#include "signcut/zfp_block_codec.hpp"
#include "terminal.hpp"
#include "whole_file_report.hpp"

namespace signcut::cli {
namespace {

/// Values per chunk the automatic chunk shape aims below: big enough for
/// the allocation across a chunk's blocks to pay, small enough to read a
/// region without decoding much else.
constexpr std::uint64_t auto_chunk_values = std::uint64_t{1} << 20;

/// "64x64x3" as extents, each at least 1.
Shape parse_extents(const std::string& text, const char* option)
{
    Shape out;
    std::size_t at = 0;
    while (at <= text.size()) {
        const std::size_t end = std::min(text.find('x', at), text.size());
        std::size_t v = 0;
        const auto [p, ec] = std::from_chars(text.data() + at, text.data() + end, v);
        if (ec != std::errc() || p != text.data() + end || v == 0)
            throw Error(errc::invalid_argument,
                        fmt::format("{}: '{}' is not a list of positive extents like 64x64x3", option, text));
        out.push_back(v);
        at = end + 1;
    }
    return out;
}

/// The chunk shape of a contiguous dataset: the whole dataset, its largest
/// mode halved until a chunk holds at most auto_chunk_values values.
Shape automatic_chunk(const Shape& dims)
{
    Shape chunk = dims;
    while (element_count(chunk) > auto_chunk_values) {
        const auto largest = std::max_element(chunk.begin(), chunk.end());
        *largest = (*largest + 1) / 2;
    }
    return chunk;
}

/// The block shape of the auto rule for a whole dataset, clamped to its
/// chunk: chosen once, on a crop sampled across the dataset as compress
/// chooses it, where a chunk left to itself runs the rule's trials on all
/// of its own values (on the MRI volume's 91x109x91 chunks that made writes
/// about 4x slower than compress). Nothing when the rule cannot run on the
/// data (NaN or infinities, which the filter stores raw): each chunk then
/// chooses for itself.
std::optional<Shape> dataset_block_shape(const std::string& file, const std::string& path, const ChunkEncoding& e,
                                         const Shape& chunk, unsigned threads)
{
    DecomposeOptions options;
    options.seed = e.seed;
    options.threads = threads;
    if (e.zfp) options.codecs = {zfp_block_codec()};
    switch (e.rule.kind) {
    case ChunkRule::Kind::bits_per_value: options.bits_per_value = e.rule.value; break;
    case ChunkRule::Kind::rel_error: options.rel_error = e.rule.value; break;
    // An absolute error is a different relative error in every chunk: the
    // trials rank the tiles at 1 bit per value, as for a --width run.
    case ChunkRule::Kind::rmse: options.bits_per_value = 1.0; break;
    }
    Shape b;
    try {
        const std::unique_ptr<RowSource> rows = open_dataset_rows(file, path);
        b = auto_block_shape(*rows, options);
    } catch (const Error& err) {
        if (err.code() == errc::cancelled) throw;
        return std::nullopt;
    }
    if (b.empty()) return chunk;  // no mode worth cutting: one block per chunk
    for (std::size_t a = 0; a < b.size(); ++a) b[a] = std::min(b[a], chunk[a]);
    return b;
}

bool is_filterable(const std::string& dtype) { return dtype == "float32" || dtype == "float64"; }

}  // namespace

int run_repack(const RepackOptions& o)
{
    const Stopwatch clock;
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    const int rules = int(o.bits_per_value.has_value()) + int(o.rel_error.has_value()) + int(o.rmse.has_value());
    if (rules > 1) throw Error(errc::invalid_argument, "repack takes one of --bits-per-value, --rel-error, --rmse");
    if (o.codecs != "sct,zfp" && o.codecs != "sct")
        throw Error(errc::invalid_argument, fmt::format("--codecs: 'sct,zfp' or 'sct', got '{}'", o.codecs));
    ChunkEncoding encoding;
    if (o.rel_error) encoding.rule = {ChunkRule::Kind::rel_error, *o.rel_error};
    else if (o.rmse) encoding.rule = {ChunkRule::Kind::rmse, *o.rmse};
    else encoding.rule = {ChunkRule::Kind::bits_per_value, o.bits_per_value.value_or(1.0)};
    encoding.seed = o.seed;
    encoding.zfp = o.codecs == "sct,zfp";
    const std::optional<Shape> chunk_option = o.chunk ? std::optional(parse_extents(*o.chunk, "--chunk")) : std::nullopt;
    const std::optional<Shape> block_option = o.block ? std::optional(parse_extents(*o.block, "--block")) : std::nullopt;
    const std::string output = whole_file_output(o.input, o.output, o.common.force, "repack");

    ObjectReport report;
    std::size_t filtered = 0;
    struct Filtered {
        std::string path;
        Shape chunk, block;  ///< block: empty when each chunk chooses its own
    };
    std::vector<Filtered> chunks;
    const ObjectTransform transform = [&](const std::string& path,
                                          bool is_decomposition) -> std::optional<ObjectReplacement> {
        if (is_decomposition) return report.copied(path, "a signcut decomposition");
        DatasetInfo info;
        try {
            info = inspect_dataset(o.input, path);
        } catch (const Error&) {
            return report.copied(path, "not a numeric array");
        }
        if (!is_filterable(info.dtype)) return report.copied(path, fmt::format("{} data (the filter stores float32 and float64)", info.dtype));
        Shape chunk;
        if (chunk_option && chunk_option->size() == info.shape.size()) {
            chunk = *chunk_option;
        } else if (const std::optional<Shape> own = dataset_chunk_shape(o.input, path)) {
            chunk = *own;
        } else {
            chunk = automatic_chunk(info.shape);
        }
        for (std::size_t a = 0; a < chunk.size(); ++a) chunk[a] = std::min(chunk[a], info.shape[a]);
        ChunkEncoding e = encoding;
        if (block_option && block_option->size() == info.shape.size()) {
            e.block_shape = *block_option;
        } else if (const std::optional<Shape> b = dataset_block_shape(o.input, path, e, chunk, thread_count(o.common))) {
            e.block_shape = *b;
        }
        ObjectReplacement r;
        r.filtered = FilteredCopy{hdf5_filter_parameters(e), chunk};
        ++filtered;
        chunks.push_back({path, chunk, e.block_shape});
        return r;
    };
    for (const std::string& note : rewrite_file(o.input, output, o.common.force, transform)) terminal.warn(note);

    // What each filtered dataset stores, read back from the new file.
    std::uint64_t filtered_values = 0, filtered_bytes = 0;
    for (const auto& [path, chunk, block] : chunks) {
        const DatasetStorage s = dataset_storage(output, path);
        filtered_values += s.values;
        filtered_bytes += s.stored_bytes;
        const double bpv = s.values > 0 ? 8.0 * double(s.stored_bytes) / double(s.values) : 0.0;
        JsonObject row;
        row.add("path", Json::string(path))
            .add("action", Json::string("filtered"))
            .add("shape", Json::integers(s.shape))
            .add("chunk", Json::integers(chunk))
            .add("block", Json::integers(block))
            .add("stored_bytes", Json::integer(s.stored_bytes))
            .add("bits_per_value", Json::number(bpv));
        report.transformed(fmt::format("  {:<32} {} {}, chunks {}, blocks {}, {:.3g} bits/value\n", path,
                                       format_shape(s.shape), s.dtype, format_shape(chunk),
                                       block.empty() ? std::string("chosen per chunk") : format_shape(block), bpv),
                           row.json());
    }
    const double bpv = filtered_values ? 8.0 * double(filtered_bytes) / double(filtered_values) : 0.0;
    report.print(terminal, o.common.json, fmt::format("signcut repack (filter {})", hdf5_filter_id), o.input, output,
                 {{"filtered", Json::integer(filtered)},
                  {"copied", Json::integer(report.copied_count())},
                  {"filter_id", Json::integer(hdf5_filter_id)},
                  {"bits_per_value", Json::number(bpv)}},
                 fmt::format("{} filtered, {} copied", filtered, report.copied_count()), clock.seconds());
    return 0;
}

}  // namespace signcut::cli
