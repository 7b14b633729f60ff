// `signcut decompress`: rebuild the tensor, or a region of it, from a
// decomposition file of either method.
#include <cmath>
#include <filesystem>
#include <span>
#include <type_traits>
#include <fmt/format.h>

#include "common.hpp"
#include "input.hpp"
#include "output.hpp"
#include "signcut/blocks.hpp"
#include "signcut/error.hpp"
#include "signcut/hdf5.hpp"
#include "signcut/image.hpp"
#include "terminal.hpp"

namespace signcut::cli {

int run_decompress(const DecompressOptions& o)
{
    const Stopwatch clock;
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    const OutputRef out = parse_output(o.output);
    const ObjectRef inputs[] = {decomposition_object(o.input)};
    check_hdf5_target({o.output, out.file, out.into_existing ? out.dataset : std::string()}, inputs,
                      o.common.force, terminal);

    // The metadata first: the method decides which options apply, and the
    // shape checks the region before any array is read.
    DecompositionInfo info = read_decomposition_info(o.input);
    if (info.method == "lplr" && o.width)
        no_prefixes("--width", "decompress rebuilds the whole factorization (--region keeps part of it, --dtype "
                               "chooses the stored type)");
    const std::optional<Region> region = decompress_region(o.region, info.shape);

    const unsigned threads = thread_count(o.common);
    const std::string dtype = o.dtype.value_or(info.provenance.original_dtype);
    Shape shape;
    std::uint64_t bytes = 0;
    std::uint64_t width = 0;  // the terms used
    if (info.method == "sct" && !out.image) {
        // Streamed: one row of blocks along mode 0 at a time, so that the
        // memory limit bounds a slab and not the tensor. --width is checked
        // against the file's widths (apply_width's messages) before any
        // array is read; each slab's blocks are cut to it as they are read.
        Decomposition unread;
        apply_width(unread, o.width, info, o.input);
        SlabDecompression options;
        options.max_bytes = memory_limit(o.common);
        options.region = region ? &*region : nullptr;
        options.width = o.width.value_or(0);
        options.dtype = dtype;
        options.force = o.common.force;
        options.into_existing = out.into_existing;
        options.threads = threads;
        options.check_float32 = [&](std::span<const float> x, std::uint64_t first) {
            refuse_non_finite_slab(x, first, o.input);
        };
        options.check_float64 = [&](std::span<const double> x, std::uint64_t first) {
            refuse_non_finite_slab(x, first, o.input);
        };
        shape = decompress_in_slabs(o.input, out.file, out.dataset, options);
        bytes = file_bytes(out.file);
        // Every block's terms (a region's unread blocks count too, as they
        // always have).
        for (const std::uint64_t w : info.widths) width += o.width ? std::min<std::uint64_t>(*o.width, w) : w;
    } else {
        // Images and lplr decompositions are rebuilt whole, in memory.
        Decomposition d =
            read_decomposition(o.input, memory_limit(o.common), &info, region ? &*region : nullptr);
        apply_width(d, o.width, info, o.input);
        if (!out.image && dtype == "float64") {
            // Summed in double: values beyond float32's range or precision
            // come out as exactly as double allows.
            const std::vector<double> x =
                region ? d.reconstruct_float64(*region, threads) : d.reconstruct_float64(threads);
            shape = region ? region_shape(*region) : info.shape;
            refuse_non_finite(x, o.input);
            write_dataset(out.file, out.dataset, x.data(), shape, dtype, o.common.force, out.into_existing,
                          info.provenance.source_attributes);
            bytes = file_bytes(out.file);
        } else {
            const Tensor x = region ? d.reconstruct(*region, threads) : d.reconstruct(threads);
            shape.assign(x.shape().begin(), x.shape().end());
            refuse_non_finite(std::span<const float>(x.data(), x.size()), o.input, out.image);
            bytes = write_reconstruction(out, x, dtype, info.provenance.original_dtype, o.common.force, terminal,
                                         o.scale, info.provenance.source_attributes);
        }
        // The terms used: every block's (a region's unread blocks hold none).
        if (d.sct() != nullptr && region) {
            for (std::size_t b = 0; b < info.widths.size(); ++b)
                width += o.width ? std::min<std::uint64_t>(*o.width, info.widths[b]) : info.widths[b];
        } else {
            width = d.width();
        }
    }
    if (o.common.json) {
        JsonObject j;
        j.add("shape", Json::integers(shape))
            .add("width", Json::integer(width))
            .add("seconds", Json::number(clock.seconds()))
            .add("file_bytes", Json::integer(bytes));
        if (region) j.add("region", Json::string(format_region(*region, info.shape)));
        print_json(j);
    } else {
        terminal.summary(fmt::format(
            "signcut decompress: {} -> {}\n  shape {} {}{}, method {}, {} {} of {}, {} written, {:.3g} s\n", o.input,
            o.output, format_shape(shape), out.image ? image_format_name(image_output_format(out.file)) : dtype,
            region ? fmt::format(" (region {} of {})", format_region(*region, info.shape), format_shape(info.shape))
                   : std::string(),
            info.method, info.method == "lplr" ? "rank" : "width", width, info.width, human_bytes(double(bytes)),
            clock.seconds()));
    }
    return 0;
}

int run_decompress_all(const DecompressOptions& o)
{
    const Stopwatch clock;
    const Terminal terminal = Terminal::detect(o.common.quiet, o.common.json);
    if (o.region || o.width)
        throw Error(errc::invalid_argument, "--region and --width apply to one decomposition, not to --all");
    const Hdf5Target target = parse_hdf5_target(o.output);
    if (target.into_existing() || is_image_path(o.output))
        throw Error(errc::invalid_argument, fmt::format("--all writes a whole new HDF5 file; give -o OUT.h5"));
    const std::string inputs[] = {o.input};
    check_output_path(target.file, inputs, o.common.force);
    {
        // A file that is one decomposition has nothing else to copy.
        DecompositionInfo info;
        bool whole = true;
        try {
            info = read_decomposition_info(o.input);
        } catch (const Error&) {
            whole = false;
        }
        if (whole)
            throw Error(errc::invalid_argument,
                        fmt::format("{} is one decomposition; decompress it without --all", o.input));
    }
    const unsigned threads = thread_count(o.common);
    const std::uint64_t max_bytes = memory_limit(o.common);
    std::size_t rebuilt = 0;
    std::vector<Json> rows;
    std::string table;
    const ObjectTransform transform = [&](const std::string& path,
                                          bool is_decomposition) -> std::optional<ObjectReplacement> {
        if (!is_decomposition) return std::nullopt;
        const std::string spec = o.input + ":" + path;
        DecompositionInfo info;
        const Decomposition d = read_decomposition(spec, max_bytes, &info);
        ObjectReplacement r;
        r.data = d.reconstruct(threads);
        for (const float v : std::span<const float>(r.data->data(), r.data->size()))
            if (!std::isfinite(v))
                throw Error(errc::bad_input,
                            fmt::format("{}: the reconstruction holds values beyond the float32 range", spec));
        r.dtype = o.dtype.value_or(info.provenance.original_dtype);
        r.attributes = info.provenance.source_attributes;
        ++rebuilt;
        table += fmt::format("  {:<32} {} {} from {} {} terms\n", path, format_shape(info.shape), r.dtype,
                             info.method, info.width);
        JsonObject row;
        row.add("path", Json::string(path))
            .add("shape", Json::integers(info.shape))
            .add("method", Json::string(info.method))
            .add("width", Json::integer(info.width));
        rows.push_back(row.json());
        return r;
    };
    for (const std::string& note : rewrite_file(o.input, target.file, o.common.force, transform)) terminal.warn(note);
    const std::uint64_t bytes = std::filesystem::file_size(target.file);
    if (o.common.json) {
        JsonObject j;
        j.add("datasets", Json::array(rows))
            .add("rebuilt", Json::integer(rebuilt))
            .add("seconds", Json::number(clock.seconds()))
            .add("file_bytes", Json::integer(bytes));
        print_json(j);
    } else {
        terminal.summary(fmt::format("signcut decompress --all: {} -> {}\n{}  {} rebuilt, {} written, {:.3g} s\n",
                                     o.input, target.file, table, rebuilt, human_bytes(double(bytes)),
                                     clock.seconds()));
    }
    return 0;
}

}  // namespace signcut::cli
