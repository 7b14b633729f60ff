// What the CLI tells people: a summary and a progress bar on stderr.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "signcut/error.hpp"

namespace signcut::cli {

/// An error as one line: libraries' messages (HDF5's above all) may hold
/// line breaks, and a caller reads the first line of stderr.
std::string one_line(std::string_view text);
/// The exit status of a failure with this code: 2 for bad usage, 1 for the
/// rest (bad input, failed I/O).
int exit_status(errc code) noexcept;

/// "inf" / "-inf" for people where JSON says null.
std::string human_number(double v, int precision = 4);
/// "2.25 MiB".
std::string human_bytes(double bytes);
/// "<1s", "42s", "3m05s", "2h10m".
std::string human_duration(double seconds);

/// The `candidates` a mistyped `word` most likely meant, compared without
/// case or leading dashes: those nearest by Damerau-Levenshtein distance (at
/// most 2 edits, 1 for words of 3 to 5 letters, none for shorter ones), else
/// those the word begins (if it has 3 letters or more); empty when none is
/// close.
std::vector<std::string> close_matches(std::string_view word, const std::vector<std::string>& candidates);
/// "'a'", "'a' or 'b'", "'a', 'b' or 'c'".
std::string quoted_choices(const std::vector<std::string>& words);

/// The time a run towards an error target still needs, as the progress bar
/// shows it: "?" (no trend yet, or none), "0s" (reached), "<1s", "~40s", a
/// range "12s-40s" or "<30s", or ">12s" when the trend, slowing, may never
/// reach the target. `errors` holds the relative error after each term so far
/// (errors[0]: one term), which took `seconds`.
std::string time_left_to_error(std::span<const double> errors, double target, double seconds);
/// The same for a run whose share of work done (0..1) went from `from` to
/// `to` in `seconds`: "~12s", "?" until 5% more is done (too little to time)
/// and once the queued work is done (another round may follow), or ">12s"
/// when `more_rounds_likely` (the work queued may not be the last).
std::string time_left_of_fraction(double from, double to, double seconds, bool more_rounds_likely);

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
    std::vector<double> errors_;  ///< after each term, for the trend towards target_
    /// A blocked run's pace is timed from the first report of its round.
    double round_from_ = -1, last_fraction_ = -1;
    std::chrono::steady_clock::time_point round_since_;
    bool drawn_ = false;
};

}  // namespace signcut::cli
