#include "cli_options.hpp"

#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <string>

#include <fmt/format.h>

namespace signcut::cli {
namespace {

// CLI11's own range validators print the whole double range; these say what
// is wrong in a few words.
//
// Integers are parsed here in full, as decimal digits that fit in 64 bits:
// CLI11 itself wraps "-1" around to 2^64 - 1 and saturates values beyond
// 2^64 when it converts to an unsigned option.
bool whole_number_at_least(const std::string& v, std::uint64_t min)
{
    std::uint64_t n = 0;
    const char* end = v.data() + v.size();
    const auto [ptr, ec] = std::from_chars(v.data(), end, n);
    return !v.empty() && ec == std::errc() && ptr == end && n >= min;
}
}  // namespace

const CLI::Validator at_least_one(
    [](std::string& v) {
        if (whole_number_at_least(v, 1)) return std::string();
        return "must be an integer >= 1, got '" + v + "'";
    },
    "INT>=1");
// More threads than any machine has cores only costs memory, and past some
// thousands the system refuses them; a number beyond this is a typo.
constexpr unsigned max_threads = 1024;
const CLI::Validator thread_number(
    [](std::string& v) {
        if (whole_number_at_least(v, 1) && std::stoull(v) <= max_threads) return std::string();
        return fmt::format("must be an integer from 1 to {}, got '{}'", max_threads, v);
    },
    "1.." + std::to_string(max_threads));
const CLI::Validator whole_number(
    [](std::string& v) {
        if (whole_number_at_least(v, 0)) return std::string();
        return "must be an integer from 0 to 2^64-1, got '" + v + "'";
    },
    "INT>=0");
const CLI::Validator positive(
    [](std::string& v) {
        try {
            if (std::stod(v) > 0) return std::string();
        } catch (...) {
        }
        return "must be a number > 0, got '" + v + "'";
    },
    "NUMBER>0");
const CLI::Validator non_negative(
    [](std::string& v) {
        try {
            if (std::stod(v) >= 0) return std::string();
        } catch (...) {
        }
        return "must be a number >= 0, got '" + v + "'";
    },
    "NUMBER>=0");

void add_common(CLI::App* cmd, CommonOptions& c, bool outputs, bool threads, bool memory)
{
    cmd->add_flag("--json", c.json, "Print one JSON object on stdout (everything else goes to stderr)");
    cmd->add_flag("--quiet,-q", c.quiet, "No summary and no progress bar on stderr");
    if (outputs) cmd->add_flag("--force", c.force, "Replace an existing output (atomically)");
    if (threads)
        cmd->add_option("--threads", c.threads, "Threads (default: every core). sct results do not depend on it; lplr results may differ in the last bits (OpenBLAS splits its sums by thread); at most 1024, and fewer if the system has no more to give")
            ->check(thread_number);
    if (memory)
        cmd->add_option("--max-memory", c.max_memory,
                        "Refuse inputs needing more memory than this, e.g. 2G (default: 80% of physical memory)");
}

void mutually_exclusive(std::initializer_list<CLI::Option*> options)
{
    for (CLI::Option* a : options)
        for (CLI::Option* b : options)
            if (a != b) a->excludes(b);
}

void add_stop(CLI::App* cmd, StopOptions& s)
{
    auto* w = cmd->add_option("--width,-w", s.width, "Number of terms in every block (no allocation)")
                  ->check(at_least_one);
    auto* b = cmd->add_option("--bits-per-value,-b", s.bits_per_value,
                              "The lowest error whose stored payload fits B bits per value (default 1)")
                  ->check(positive);
    auto* e = cmd->add_option("--rel-error,-e", s.rel_error,
                              "The fewest bits whose relative Frobenius error is at most E")
                  ->check(non_negative);
    mutually_exclusive({w, b, e});
    cmd->add_flag("--refit", s.refit,
                  "Refit all scales by least squares after the greedy: lower error at the same size (the width is "
                  "still chosen by the greedy's error). One block only: give --block whole; a refit file cannot be "
                  "recut");
    cmd->add_option("--restarts", s.restarts,
                    "Extra random starts per term, keeping the largest cut (default: 2 for tensors of order 3 and "
                    "more, 0 for matrices; each costs about one more run)")
        ->check(CLI::Range(std::size_t{0}, std::size_t{1000}));
    cmd->add_option("--screen-cycles", s.screen_cycles,
                    "With restarts, every start first runs only this many cycles of mode updates and the best one "
                    "runs on alone: faster, for a slightly higher error (BENCHMARKS.md). Default 0: every start runs "
                    "to the end")
        ->check(CLI::Range(std::size_t{0}, std::size_t{1000}));
    cmd->add_option("--block", s.block,
                    "sct: how the tensor is cut into blocks, each decomposed on its own with the budget shared by "
                    "the rate-distortion allocation: auto (default; whole with --refit), whole (one block: the "
                    "whole-tensor greedy) or extents such as 64x64x3 (one per mode, 1..d; edge blocks are cut short). "
                    "With blocks, --width W means W terms in every block");
    cmd->add_option("--codecs", s.codecs,
                    "sct: what each block may be stored with, chosen block by block by the same allocation: sct,zfp "
                    "(default: signed cuts or zfp, whichever lowers the error more per bit; a file with zfp blocks is "
                    "format version 3) or sct (signed cuts only, format version 2)")
        ->capture_default_str();
    cmd->add_option("--scales", s.scales,
                    "sct: how each term's scale is stored: short (default: 13 bits, float32 rounded to 4 mantissa "
                    "bits before the term is subtracted, so errors stay exact; any HDF5 reader converts them) or "
                    "float32 (32 bits, for readers that expect IEEE float32)")
        ->check(CLI::IsMember({"short", "float32"}))
        ->capture_default_str();
    cmd->add_option("--signs", s.signs,
                    "sct: how the sign stream is stored: deflate (default: HDF5's built-in deflate at level 1 "
                    "wherever it stores fewer bytes, with the allocation counting the exact stored size so the "
                    "bytes saved buy terms; one-block runs stay plain) or plain")
        ->check(CLI::IsMember({"deflate", "plain"}))
        ->capture_default_str();
    cmd->add_option("--max-updates", s.max_updates,
                    "Cap on mode updates per term (default 200). A low cap is faster on large inputs for a slightly "
                    "higher error at the same size (BENCHMARKS.md)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
}

void add_lplr(CLI::App* cmd, LplrCliOptions& l)
{
    auto* r = cmd->add_option("--rank", l.rank, "lplr: the rank m (with --bits-l and --bits-r; default: chosen "
                                                "from --bits-per-value)")
                  ->check(at_least_one);
    auto* bl = cmd->add_option("--bits-l", l.bits_l, "lplr: bits per code of the left factor L (2..16)")
                   ->check(CLI::Range(2u, 16u));
    auto* br = cmd->add_option("--bits-r", l.bits_r, "lplr: bits per code of the right factor R (2..16)")
                   ->check(CLI::Range(2u, 16u));
    r->needs(bl)->needs(br);
    bl->needs(r)->needs(br);
    br->needs(r)->needs(bl);
    cmd->add_option("--matricize", l.matricize,
                    "lplr: row and column modes, e.g. 0,1|2,3 (default: the contiguous split closest to square)");
    cmd->add_option("--power-iterations", l.power_iterations, "lplr: power iterations on the sketch (default 1)")
        ->check(CLI::Range(0u, 16u));
}

}  // namespace signcut::cli
