#include "terminal.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace signcut::cli {

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
    if (terms == 1) first_error_ = rel_error;
    if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? terms / secs : 0;
    std::string left = "?";
    double fraction = -1;
    if (total_ && *total_ > 0) {
        fraction = double(terms) / double(*total_);
        if (rate > 0) left = fmt::format("{:.0f}s", double(*total_ - std::min(terms, *total_)) / rate);
    } else if (target_ && terms > 1 && rel_error < first_error_ && rel_error > 0 && *target_ > 0) {
        // The error decays about geometrically: extrapolate the terms still needed.
        const double per_term = std::log(rel_error / first_error_) / double(terms - 1);
        const double more = std::log(*target_ / rel_error) / per_term;
        if (more > 0 && rate > 0) left = fmt::format("~{:.0f}s", more / rate);
        fraction = double(terms) / (double(terms) + std::max(0.0, more));
    }
    std::string bar;
    if (fraction >= 0) {
        const int width = 24, filled = static_cast<int>(std::min(1.0, fraction) * width);
        bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    }
    fmt::print(stderr, "\r{}{} terms  error {:.4g}  {:.1f} terms/s  left {}   ", bar, terms, rel_error, rate, left);
    std::fflush(stderr);
    drawn_ = true;
}

void ProgressBar::update_fraction(double fraction, std::size_t terms)
{
    if (!terminal_.progress) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100) && fraction < 1) return;
    last_draw_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    fraction = std::clamp(fraction, 0.0, 1.0);
    std::string left = "?";
    if (fraction > 0 && secs > 0) left = fmt::format("{:.0f}s", secs * (1 - fraction) / fraction);
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
