#include "terminal.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

#include <fmt/format.h>

namespace signcut::cli {

std::string one_line(std::string_view text)
{
    std::string line;
    line.reserve(text.size());
    for (const char ch : text) {
        const bool space = ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ';
        if (space && (line.empty() || line.back() == ' ')) continue;
        line += space ? ' ' : ch;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    return line;
}

int exit_status(errc code) noexcept { return code == errc::invalid_argument ? 2 : 1; }

std::string human_number(double v, int precision)
{
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return fmt::format("{:.{}g}", v, precision);
}

std::string human_bytes(double bytes)
{
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) bytes /= 1024, ++u;
    return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.2f} {}", bytes, units[u]);
}

std::string human_duration(double seconds)
{
    if (!(seconds >= 1)) return "<1s";
    const auto s = static_cast<long long>(std::llround(std::min(seconds, 1e9)));
    if (s < 60) return fmt::format("{}s", s);
    if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
    return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
}

namespace {

/// What a word is compared by: lower case, without the dashes of an option.
std::string stem(std::string_view word)
{
    word.remove_prefix(std::min(word.find_first_not_of('-'), word.size()));
    std::string s(word);
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
}

/// Edits (insert, delete, substitute, swap two neighbours) from a to b: the
/// swap is the commonest typo, and plain Levenshtein counts it twice.
std::size_t damerau_levenshtein(const std::string& a, const std::string& b)
{
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}

}  // namespace

std::vector<std::string> close_matches(std::string_view word, const std::vector<std::string>& candidates)
{
    const std::string w = stem(word);
    // Short words are one edit from too much: "-x" is one from every short option.
    const std::size_t limit = w.size() < 3 ? 0 : w.size() <= 5 ? 1 : 2;
    std::size_t best = limit;
    std::vector<std::string> nearest, begun;
    for (const std::string& c : candidates) {
        const std::string s = stem(c);
        const std::size_t d = damerau_levenshtein(w, s);
        if (d < best) best = d, nearest.clear();
        if (d == best) nearest.push_back(c);
        if (w.size() >= 3 && s.size() > w.size() && s.compare(0, w.size(), w) == 0) begun.push_back(c);
    }
    return nearest.empty() ? begun : nearest;
}

std::string quoted_choices(const std::vector<std::string>& words)
{
    std::string text;
    for (std::size_t i = 0; i < words.size(); ++i) {
        if (i > 0) text += i + 1 == words.size() ? " or " : ", ";
        text += fmt::format("'{}'", words[i]);
    }
    return text;
}

namespace {

/// Between `low` and `high` seconds (`high` infinite: unbounded), as the bar
/// says it: "?" when that says nothing, "<1s", "~40s", "<30s", "12s-40s",
/// ">12s".
std::string range_text(double low, double high)
{
    if (!std::isfinite(high)) return low < 1 ? "?" : fmt::format(">{}", human_duration(low));
    if (high < 1) return "<1s";
    if (high <= 1.5 * low || human_duration(low) == human_duration(high))
        return fmt::format("~{}", human_duration(high));
    if (low < 1) return fmt::format("<{}", human_duration(high));
    return fmt::format("{}-{}", human_duration(low), human_duration(high));
}

}  // namespace

std::string time_left_to_error(std::span<const double> errors, double target, double seconds)
{
    const std::size_t t = errors.size();
    if (t == 0 || !(target > 0) || !(seconds > 0)) return "?";
    const double now = errors.back();
    if (now <= target) return "0s";
    // The first terms take the structure and drop the error fastest, so a
    // slope measured from them promises far too little (the old estimate said
    // "~0s" with seconds to go). Only the recent terms say how the error falls
    // now: the slope of its logarithm over the last quarter of the terms, and
    // over the quarter before, to see whether the fall is slowing.
    if (t < 8) return "?";
    const std::size_t k = t / 4;
    const auto slope = [&](std::size_t end) {
        return (std::log(errors[end - 1]) - std::log(errors[end - 1 - k])) / double(k);
    };
    const double recent = slope(t), older = slope(t - k);
    if (!(recent < 0)) return "?";  // stalled: no trend to extrapolate
    const double needed = std::log(target / now);  // < 0
    const double per_term = seconds / double(t);
    // At least one more term: the error is above the target.
    const double low = std::max(1.0, needed / recent) * per_term;
    // If every quarter falls by r times the one before (r < 1: slowing), the
    // log error can still fall by at most k·recent/(1 − r); the target is
    // reached after n quarters with r^n = 1 − q, q the share of that bound
    // still needed. Beyond the bound, or with no valid r, only the lower end
    // is known.
    constexpr double unbounded = std::numeric_limits<double>::infinity();
    const double r = older < 0 ? recent / older : std::numeric_limits<double>::quiet_NaN();
    if (!(r > 0)) return range_text(low, unbounded);
    if (r >= 1) return range_text(low, low);
    const double q = needed * (1 - r) / (double(k) * recent);
    if (q >= 1) return range_text(low, unbounded);
    const double quarters = std::log(1 - q) / std::log(r);
    return range_text(low, std::max(low, quarters * double(k) * per_term));
}

std::string time_left_of_fraction(double from, double to, double seconds, bool more_rounds_likely)
{
    // Once the queued work is done the allocation decides whether another
    // round follows, so "0s" would be a guess.
    if (!(to - from >= 0.05) || to >= 1 || !(seconds > 0)) return "?";
    const double left = seconds * (1 - to) / (to - from);
    return range_text(left, more_rounds_likely ? std::numeric_limits<double>::infinity() : left);
}

Terminal Terminal::detect(bool quiet, bool json)
{
    Terminal t;
    t.quiet = quiet;
    t.json = json;
    t.progress = !quiet && isatty(STDERR_FILENO) == 1;
    return t;
}

void Terminal::warn(const std::string& message) const { fmt::print(stderr, "signcut: warning: {}\n", message); }

void Terminal::summary(const std::string& text) const
{
    if (!quiet) fmt::print(stderr, "{}", text);
}

ProgressBar::ProgressBar(const Terminal& t, std::optional<std::size_t> total_terms, std::optional<double> target_error)
    : terminal_(t), total_(total_terms), target_(target_error), start_(std::chrono::steady_clock::now()), last_draw_(start_)
{
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::size_t terms, double rel_error)
{
    if (!terminal_.progress) return;
    const auto now = std::chrono::steady_clock::now();
    // Every term counts for the trend, drawn or not.
    if (target_) errors_.push_back(rel_error);
    if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? terms / secs : 0;
    std::string left = "?";
    double fraction = -1;
    if (total_ && *total_ > 0) {
        fraction = double(terms) / double(*total_);
        if (rate > 0) left = human_duration(double(*total_ - std::min(terms, *total_)) / rate);
    } else if (target_) {
        left = time_left_to_error(errors_, *target_, secs);
        // The bar shows how far the error has come towards the target on a
        // log scale (what it measures, not time: the time is "left").
        if (rel_error > 0 && *target_ > 0 && *target_ < 1)
            fraction = std::clamp(std::log(std::min(rel_error, 1.0)) / std::log(*target_), 0.0, 1.0);
    }
    std::string bar;
    if (fraction >= 0) {
        const int width = 24, filled = static_cast<int>(std::min(1.0, fraction) * width);
        bar = fmt::format("[{}{}] ", std::string(filled, '#'), std::string(width - filled, '.'));
    }
    fmt::print(stderr, "\r{}{} terms  error {:.4g}  {:.1f} terms/s  left {}   ", bar, terms, rel_error, rate, left);
    std::fflush(stderr);
    drawn_ = true;
}

void ProgressBar::update_fraction(double fraction, std::size_t terms)
{
    if (!terminal_.progress) return;
    const auto now = std::chrono::steady_clock::now();
    fraction = std::clamp(fraction, 0.0, 1.0);
    // The pace is timed from the first report of a round, not from the start:
    // the block shape is chosen before any block is done, and a new round
    // (the share drops as more work is queued) has blocks of more terms.
    if (fraction < last_fraction_ || round_from_ < 0) round_from_ = fraction, round_since_ = now;
    last_fraction_ = fraction;
    if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100) && fraction < 1) return;
    last_draw_ = now;
    const double secs = std::chrono::duration<double>(now - round_since_).count();
    // An error target's first round assumes one bit per value; a target that
    // needs more takes further rounds, so the time of this one is a floor.
    const std::string left = time_left_of_fraction(round_from_, fraction, secs, target_.has_value());
    const int width = 24, filled = static_cast<int>(fraction * width);
    fmt::print(stderr, "\r[{}{}] {:.0f}% of the blocks  {} terms  left {}   ", std::string(filled, '#'),
               std::string(width - filled, '.'), 100 * fraction, terms, left);
    std::fflush(stderr);
    drawn_ = true;
}

void ProgressBar::finish()
{
    if (drawn_) {
        fmt::print(stderr, "\r\033[K");
        std::fflush(stderr);
        drawn_ = false;
    }
}

}  // namespace signcut::cli
