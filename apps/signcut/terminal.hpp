// What the CLI tells people: a summary and a progress bar on stderr.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace signcut::cli {

/// "inf" / "-inf" for people where JSON says null.
std::string human_number(double v, int precision = 4);
/// "2.25 MiB".
std::string human_bytes(double bytes);

/// Where human output goes, and whether to show a progress bar.
struct Terminal {
    bool quiet = false;
    bool json = false;
    bool progress = false;  ///< stderr is a terminal and not quiet

    static Terminal detect(bool quiet, bool json);
    void warn(const std::string& message) const;     ///< "signcut: warning: …", always shown
    void summary(const std::string& text) const;     ///< shown unless --quiet
};

/// One line redrawn in place: terms done, current error, rate, time left.
class ProgressBar {
public:
    ProgressBar(const Terminal& t, std::optional<std::size_t> total_terms, std::optional<double> target_error);
    ~ProgressBar();
    void update(std::size_t terms, double rel_error);
    /// A blocked run: the share of blocks done (0..1) and the terms so far.
    void update_fraction(double fraction, std::size_t terms);
    void finish();

private:
    const Terminal& terminal_;
    std::optional<std::size_t> total_;
    std::optional<double> target_;
    std::chrono::steady_clock::time_point start_, last_draw_;
    double first_error_ = 1.0;
    bool drawn_ = false;
};

}  // namespace signcut::cli
