// signcut: compress, decompress, inspect and evaluate tensors as signed cut
// decompositions. Exit status: 0 success, 1 bad input or failed I/O, 2 bad
// usage; a failure prints one line "signcut: error: …" on stderr.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli_options.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "signals.hpp"
#include "signcut/arch.hpp"
#include "signcut/error.hpp"
#include "signcut/version.hpp"
#include "terminal.hpp"

namespace signcut::cli {

std::string version_line() { return fmt::format("signcut {} ({})", version, arch_name(active_arch())); }

namespace {

// Usage errors say what was meant. CLI11 lists the arguments it could not
// place ("The following arguments were not expected: 1 --thread"); these
// name the one that is wrong and the nearest command or option, on one line.

/// Every command, in the order of the help.
std::vector<const CLI::App*> commands(const CLI::App& app)
{
    return app.get_subcommands([](const CLI::App*) { return true; });
}

std::vector<std::string> command_names(const CLI::App& app)
{
    std::vector<std::string> names;
    for (const CLI::App* sub : commands(app)) names.push_back(sub->get_name());
    return names;
}

/// "a, b and c".
std::string listed(const std::vector<std::string>& words, const char* last = " and ")
{
    std::string text;
    for (std::size_t i = 0; i < words.size(); ++i) text += (i == 0 ? "" : i + 1 == words.size() ? last : ", ") + words[i];
    return text;
}

/// An app's options as they are typed: "--threads", "-w".
std::vector<std::string> option_names(const CLI::App& app)
{
    std::vector<std::string> names;
    for (const CLI::Option* o : app.get_options()) {
        for (const std::string& n : o->get_lnames()) names.push_back("--" + n);
        for (const std::string& n : o->get_snames()) names.push_back("-" + n);
    }
    return names;
}

/// Whether an argument CLI11 could not place was meant as an option; "-3"
/// and "-.5" are values.
bool looks_like_option(const std::string& arg)
{
    return arg.size() > 1 && arg[0] == '-' && !std::isdigit(static_cast<unsigned char>(arg[1])) && arg[1] != '.';
}

std::string unknown_command(const CLI::App& app, const std::string& word)
{
    const std::vector<std::string> near = close_matches(word, command_names(app));
    if (!near.empty()) return fmt::format("unknown command '{}'; did you mean {}?", word, quoted_choices(near));
    return fmt::format("unknown command '{}'; the commands are {}", word, listed(command_names(app)));
}

/// `arg` (maybe "--name=value") is no option of `sub`, or of signcut itself
/// when `sub` is null; then `next` is the command given after it, if any.
std::string unknown_option(const CLI::App& app, const CLI::App* sub, const std::string& arg,
                           const CLI::App* next = nullptr)
{
    const std::string name = arg.substr(0, arg.find('='));
    const CLI::App& scope = sub != nullptr ? *sub : app;
    const std::string where = sub != nullptr ? " for " + sub->get_name() : std::string();
    const std::vector<std::string> near = close_matches(name, option_names(scope));
    if (!near.empty()) return fmt::format("unknown option '{}'{}; did you mean {}?", name, where, quoted_choices(near));
    // A command's options go after it.
    if (next != nullptr) {
        const std::vector<std::string> theirs = close_matches(name, option_names(*next));
        if (!theirs.empty())
            return fmt::format("option '{}' comes before the command; the options of {} go after it: signcut {} ... {}",
                               name, next->get_name(), next->get_name(), theirs.front());
    }
    // Another command's option is the likelier slip: say whose it is.
    std::vector<std::string> owners;
    for (const CLI::App* other : commands(app)) {
        const std::vector<std::string> names = option_names(*other);
        if (other != sub && std::find(names.begin(), names.end(), name) != names.end())
            owners.push_back(other->get_name());
    }
    const std::string help = sub != nullptr ? "signcut help " + sub->get_name() : std::string("signcut help");
    if (owners.empty()) return fmt::format("unknown option '{}'{}; see '{}'", name, where, help);
    if (sub == nullptr)
        return fmt::format("unknown option '{}' before the command; it is an option of {} and goes after it", name,
                           listed(owners, " or "));
    return fmt::format("unknown option '{}'{} (an option of {}); see '{}'", name, where, listed(owners), help);
}

/// `arg` is one positional argument more than `sub` takes.
std::string unexpected_argument(const CLI::App& sub, const std::string& arg)
{
    std::vector<std::string> positionals;
    for (const CLI::Option* o : sub.get_options())
        if (o->get_positional()) positionals.push_back(o->get_name());
    const std::string takes = positionals.size() == 1   ? std::string("one argument")
                              : positionals.size() == 2 ? std::string("two arguments")
                                                        : fmt::format("{} arguments", positionals.size());
    return fmt::format("unexpected argument '{}': {} takes {} ({}) besides its options; see 'signcut help {}'", arg,
                       sub.get_name(), takes, listed(positionals), sub.get_name());
}

/// The one line for the arguments CLI11 could not place, or "" when it placed
/// them all. A mistyped command or option explains whatever else failed (a
/// mistyped -o leaves --output missing), so it comes first; a stray
/// positional only when `strays` (when nothing else failed: "compress a.h5
/// b.h5" is better told that -o is missing).
std::string misplaced_arguments(const CLI::App& app, bool strays)
{
    const std::vector<CLI::App*> parsed = app.get_subcommands();
    const CLI::App* sub = parsed.empty() ? nullptr : parsed.front();
    const std::vector<std::string> top = app.remaining();
    const std::vector<std::string> own = sub != nullptr ? sub->remaining() : std::vector<std::string>{};
    if (sub == nullptr)
        for (const std::string& arg : top)
            if (!looks_like_option(arg)) return unknown_command(app, arg);
    for (const std::string& arg : top)
        if (looks_like_option(arg)) return unknown_option(app, nullptr, arg, sub);
    for (const std::string& arg : own)
        if (looks_like_option(arg)) return unknown_option(app, sub, arg);
    if (!strays || sub == nullptr) return {};
    if (!own.empty()) return unexpected_argument(*sub, own.front());
    if (!top.empty()) return fmt::format("unexpected argument '{}' before the command {}", top.front(), sub->get_name());
    return {};
}

/// The line of a usage error CLI11 found.
std::string usage_error(const CLI::App& app, const CLI::ParseError& err)
{
    std::string line = misplaced_arguments(app, dynamic_cast<const CLI::ExtrasError*>(&err) != nullptr);
    if (line.empty()) line = err.what();
    // One line, whatever CLI11 says.
    for (char& ch : line)
        if (ch == '\n') ch = ' ';
    return line;
}

/// `signcut help [command]`: the help of signcut or of one command, on stdout.
int run_help(const CLI::App& app, const std::optional<std::string>& command)
{
    if (!command) {
        // app.help() would describe the command given: help.
        fmt::print("{}", app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal));
        return 0;
    }
    for (const CLI::App* sub : commands(app)) {
        if (sub->get_name() == *command) {
            fmt::print("{}", sub->help(app.get_name()));
            return 0;
        }
    }
    fmt::print(stderr, "signcut: error: {}\n", unknown_command(app, *command));
    return 2;
}

}  // namespace
}  // namespace signcut::cli

namespace {

/// Ends the process without the libraries' exit-time teardown, once every
/// file is closed and every output committed or removed: after a failed
/// write HDF5's teardown closes the file a second time and reads freed
/// memory, and OpenBLAS's can wait forever on a worker it could not start
/// (under ulimit -v). Nothing else is left to do at exit but flush stdio.
[[noreturn]] void finish(int status)
{
    if (std::fflush(nullptr) != 0 && status == 0) status = 1;
#if defined(__SANITIZE_ADDRESS__)
    // LeakSanitizer checks at exit, which _Exit skips: check here.
    __lsan_do_leak_check();
#endif
    std::_Exit(status);
}

int run(int argc, char** argv);

}  // namespace

int main(int argc, char** argv)
{
    signcut::cli::handle_stop_signals();
    finish(run(argc, argv));
}

namespace {

int run(int argc, char** argv)
{
    using namespace signcut;
    using namespace signcut::cli;
    // The name is set, not taken from argv[0]: usage lines say "signcut", not
    // the path the binary was run by.
    CLI::App app{"signcut: N-dimensional tensors at about one bit per value, as sums of signed cuts.\n"
                 "PSNR is 20 log10(range / rmse), range = max - min of the original.",
                 "signcut"};
    app.require_subcommand(0, 1);
    bool show_version = false;
    app.add_flag("--version", show_version, "Print the version and the instruction set in use");

    CompressOptions compress;
    auto* c = app.add_subcommand("compress", "Decompose an HDF5 dataset or an image into a decomposition file");
    c->add_option("input", compress.input, "FILE.h5:/dataset, FILE.h5 (one dataset) or an image")->required();
    c->add_option("-o,--output", compress.output, "The decomposition file to write")->required();
    c->add_option("--method", compress.method, "sct (signed cuts, default) or lplr (low-rank, low-precision factors)")
        ->check(CLI::IsMember({"sct", "lplr"}));
    c->add_option("--seed", compress.seed, "Seed of the starting signs (default 0)")->check(whole_number);
    c->add_flag("--all", compress.all,
                "INPUT is an HDF5 file: decompose every float dataset of order 2 or more into a group of the same "
                "path in OUT.h5 (a new file); groups, attributes and every other dataset (integers, dimension "
                "scales, vectors, datasets too small for one term) are copied as they are");
    add_stop(c, compress.stop);
    add_lplr(c, compress.lplr);
    add_common(c, compress.common, true, true, true);

    DecompressOptions decompress;
    auto* d = app.add_subcommand("decompress", "Rebuild the tensor from a decomposition file");
    d->add_option("input", decompress.input, "A decomposition file")->required();
    d->add_option("-o,--output", decompress.output, "FILE.h5[:/dataset] (default /data) or an image file")->required();
    d->add_option("--width,-w", decompress.width, "sct: use only the first W terms of every block")
        ->check(at_least_one);
    d->add_option("--region", decompress.region,
                  "Rebuild only this region, numpy style, one entry per mode: start:stop (either may be empty, "
                  "negative counts from the end) or an index, which drops that mode; e.g. 0:10,:,5. Only the blocks "
                  "it touches are read, and the values equal those of a full decompress bit for bit");
    d->add_flag("--all", decompress.all,
                "INPUT is an HDF5 file: rebuild every decomposition in it as a dataset of the same path in OUTPUT "
                "(a new HDF5 file), copying everything else: the inverse of compress --all");
    d->add_option("--dtype", decompress.dtype, "Stored type (default: the original's)")
        ->check(CLI::IsMember({"float32", "float64"}));
    d->add_flag("--scale", decompress.scale,
                "Image output: map the data's min..max linearly onto the image's whole sample range (0..255, or "
                "0..65535 for a 16-bit PPM/PGM). Without it, data outside the range is refused, except a "
                "reconstruction's small overshoot, which is clamped with a warning");
    add_common(d, decompress.common, true, true, true);

    InfoOptions info;
    auto* i = app.add_subcommand("info", "Describe a decomposition file (reads no arrays)");
    i->add_option("input", info.input, "A decomposition file")->required();
    add_common(i, info.common, false, false, false);

    EvalOptions eval;
    auto* e = app.add_subcommand("eval", "Compare a decomposition with its original");
    e->add_option("original", eval.original, "The original: FILE.h5:/dataset, FILE.h5 or an image")->required();
    e->add_option("decomposition", eval.decomposition, "A decomposition file")->required();
    e->add_option("--width,-w", eval.width, "sct: use only the first W terms of every block")->check(at_least_one);
    add_common(e, eval.common, false, true, true);

    RecutOptions recut;
    auto* r = app.add_subcommand("recut", "Cut a smaller budget from an sct file, without the original: the "
                                          "allocation a fresh compress with the file's block shape would make, over "
                                          "the stored terms (zfp blocks are kept as they are); the error reported is "
                                          "an estimate from the stored scales");
    r->add_option("input", recut.input, "An sct decomposition file, version 2 or 3 (not refit)")->required();
    r->add_option("-o,--output", recut.output, "The decomposition file to write")->required();
    auto* rb = r->add_option("--bits-per-value,-b", recut.bits_per_value,
                             "The lowest error whose stored payload fits B bits per value (at most the file's own)")
                   ->check(positive);
    auto* re = r->add_option("--rel-error,-e", recut.rel_error,
                             "The fewest bits whose estimated relative Frobenius error is at most E")
                   ->check(non_negative);
    mutually_exclusive({rb, re});
    add_common(r, recut.common, true, false, true);

    RepackOptions repack;
    auto* p = app.add_subcommand("repack", "Copy an HDF5 file with every float32 and float64 dataset stored "
                                           "through the signcut HDF5 filter, chunk by chunk, so that any HDF5 "
                                           "program with the plugin reads it; everything else is copied as it is");
    p->add_option("input", repack.input, "An HDF5 file")->required();
    p->add_option("output", repack.output, "The new HDF5 file")->required();
    auto* pb = p->add_option("--bits-per-value,-b", repack.bits_per_value,
                             "Each chunk stored in at most B bits per value (default 1)")
                   ->check(positive);
    auto* pe = p->add_option("--rel-error,-e", repack.rel_error,
                             "Each chunk in the fewest bits whose relative Frobenius error is at most E")
                   ->check(positive);
    auto* pr = p->add_option("--rmse", repack.rmse, "Each chunk in the fewest bits whose RMSE is at most R")
                   ->check(positive);
    mutually_exclusive({pb, pe, pr});
    p->add_option("--chunk", repack.chunk,
                  "Chunk shape, e.g. 256x256, for datasets of that rank (default: a chunked input keeps its "
                  "chunks; a contiguous one gets the whole dataset, its longest mode halved until a chunk holds "
                  "at most 2^20 values)");
    p->add_option("--block", repack.block, "Block shape within each chunk (default: the auto rule, run once on the whole dataset and cut to the chunk)");
    p->add_option("--codecs", repack.codecs, "sct,zfp (default: zfp may store a block) or sct");
    p->add_option("--seed", repack.seed, "Seed of the starting signs");
    add_common(p, repack.common, true, false, false);

    CompareOptions comparison;
    auto* k = app.add_subcommand("compare", "Run every method at the same bits per value on one input and tabulate "
                                            "bits, error, PSNR and time");
    k->add_option("input", comparison.input, "FILE.h5:/dataset, FILE.h5 (one dataset) or an image")->required();
    k->add_option("--bits-per-value,-b", comparison.budgets, "Budgets in bits per value, comma-separated (e.g. 0.5,1,2)")
        ->delimiter(',')
        ->required()
        ->check(positive);
    k->add_option("--methods", comparison.methods,
                  "Comma-separated subset of auto,sct,sct-whole,lplr,nq,svd,dsvd,lsvd,bf16,f16,int8,zfp (default: "
                  "all). auto: the default compress pipeline (blocks of the auto shape; the per-block codec choice "
                  "joins it when it exists; each budget decomposed afresh, its block shape chosen at that budget, as "
                  "compress does); sct: blocks of the auto shape, signed cuts only; sct-whole: one block, the "
                  "whole-tensor greedy; zfp: zfp at its best, the lowest error of its fixed-rate, fixed-precision "
                  "and fixed-accuracy modes whose stream fits. sct and sct-whole are decomposed once at the "
                  "largest budget and recut for the smaller ones (the block shape of the largest budget)")
        ->delimiter(',')
        ->check(CLI::IsMember(
            {"auto", "sct", "sct-whole", "lplr", "nq", "svd", "dsvd", "lsvd", "bf16", "f16", "int8", "zfp"}));
    k->add_option("--plot", comparison.plot, "Also write the rate-distortion curves as an SVG");
    k->add_option("--csv", comparison.csv,
                  "Also write the table as CSV: method, budget, bits_per_value (stored payload or stream), "
                  "counted_bits_per_value, rel_fro_error, psnr_db, seconds, parameters");
    k->add_option("--matricize", comparison.matricize,
                  "Row and column modes of the low-rank methods, e.g. 0,1|2 (default: the split closest to square)");
    k->add_option("--seed", comparison.seed, "Seed of sct's starting signs and LPLR's sketch (default 0)")
        ->check(whole_number);
    add_common(k, comparison.common, true, true, true);

    ImageOptions image;
    auto* m = app.add_subcommand("image", "Decompose an image (H x W x 3 or H x W) and write the result as an image");
    m->add_option("input", image.input, "A .png .jpg .jpeg .ppm or .pgm image")->required();
    m->add_option("-o,--output", image.output,
                  "The image to write, in the format its extension names: .png (8-bit), .jpg/.jpeg (JPEG quality 95, "
                  "4:4:4), .ppm (RGB) or .pgm (gray) (8-bit, 16-bit for a 16-bit source). Samples the reconstruction "
                  "overshoots the range by are clamped, with a warning")
        ->required();
    m->add_flag("--scale", image.scale,
                "Map the reconstruction's min..max linearly onto the output's whole sample range (0..255; "
                "0..65535 for a PPM/PGM of a 16-bit source)");
    m->add_option("--seed", image.seed, "Seed of the starting signs (default 0)")->check(whole_number);
    m->add_option("--save", image.save, "Also write the decomposition file");
    add_stop(m, image.stop);
    add_common(m, image.common, true, true, true);

    std::optional<std::string> help_topic;
    auto* h = app.add_subcommand("help", "Print this help, or a command's: signcut help compress");
    h->add_option("command", help_topic, "The command to describe");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& h) {
        return app.exit(h);
    } catch (const CLI::CallForAllHelp& h) {
        return app.exit(h);
    } catch (const CLI::ParseError& err) {
        fmt::print(stderr, "signcut: error: {}\n", usage_error(app, err));
        return 2;
    }

    try {
        if (show_version) {
            write_stdout(version_line() + "\n");
            return 0;
        }
        if (*c) return compress.all ? run_compress_all(compress) : run_compress(compress);
        if (*d) return decompress.all ? run_decompress_all(decompress) : run_decompress(decompress);
        if (*i) return run_info(info);
        if (*e) return run_eval(eval);
        if (*m) return run_image(image);
        if (*k) return run_compare(comparison);
        if (*r) return run_recut(recut);
        if (*p) return run_repack(repack);
        if (*h) return run_help(app, help_topic);
        fmt::print(stderr, "signcut: error: a subcommand is required ({}); see 'signcut help'\n",
                   listed(command_names(app), " or "));
        return 2;
    } catch (const Error& err) {
        fmt::print(stderr, "signcut: error: {}\n", one_line(err.what()));
        return exit_status(err.code());
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "signcut: error: out of memory (lower the input size or raise --max-memory)\n");
        return 1;
    } catch (const std::exception& err) {
        fmt::print(stderr, "signcut: error: {}\n", one_line(err.what()));
        return 1;
    }
}

}  // namespace
