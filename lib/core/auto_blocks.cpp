// The auto block shape (decompose.hpp; the measurements behind it are in
// BENCHMARKS.md, "Blocks: the auto rule").
//
// Two findings on the sample data shape the rule:
//  * blocks pay on data with local structure (photographs, fields, volumes:
//    neighbours correlate at 0.94–0.995 along their spatial modes) and lose
//    badly where there is none (network weights: 1.1–2× the whole matrix's
//    error), so a mode is cut only where neighbours along it correlate;
//  * the best tile differs from input to input (32 on the camera image and
//    the topography, 64–128 on the RGB photographs, 16 on the MRI volume,
//    32×32×24 on the fMRI volume), so the rule tries the candidate tiles on
//    the data, or on a crop sampled across it, at the run's own budget and
//    keeps the best.
#include <algorithm>
#include <cmath>
#include <limits>

#include "auto_blocks.hpp"
#include "signcut/error.hpp"

namespace signcut {
namespace {

/// Modes whose neighbours correlate at least this much are cut into tiles.
constexpr double spatial_correlation = 0.8;
/// Shorter modes stay whole (a colour axis, a few time steps).
constexpr std::size_t shortest_spatial_mode = 16;
/// The crop the candidates are tried on holds at most this many values.
constexpr std::uint64_t crop_values = std::uint64_t{1} << 21;

/// Lag-1 correlation along mode a, after removing the mean.
template <class T>
double neighbour_correlation(const T* x, const Shape& shape, std::size_t a)
{
    const std::uint64_t n = element_count(shape);
    double mean = 0;
    for (std::uint64_t i = 0; i < n; ++i) mean += double(x[i]);
    mean /= double(n);
    std::uint64_t stride = 1;
    for (std::size_t b = a + 1; b < shape.size(); ++b) stride *= shape[b];
    const std::uint64_t span = stride * shape[a];
    double num = 0, den = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        const double v = double(x[i]) - mean;
        den += v * v;
        if ((i % span) + stride < span) num += v * (double(x[i + stride]) - mean);
    }
    return den > 0 ? num / den : 0.0;
}

/// The indices of a C-ordered tensor of `shape` that the trials see, one
/// ascending list per mode.
using Picks = std::vector<std::vector<std::size_t>>;

/// Copies the values at `picks` (every combination of one index per mode)
/// out of a C-ordered tensor of `shape` whose rows along mode 0 come from
/// `row(i)` (a pointer to row i's Π_{a>0} d_a values), in C order.
template <class Row>
std::vector<float> crop_of(const Shape& shape, const Picks& picks, Row&& row)
{
    const std::size_t k = shape.size();
    Shape crop(k);
    for (std::size_t a = 0; a < k; ++a) crop[a] = picks[a].size();
    std::vector<float> data(element_count(crop));
    Shape idx(k, 0);
    std::uint64_t out = 0;
    const std::vector<std::size_t>& last = picks[k - 1];
    std::size_t loaded = std::size_t(-1);
    const float* r = nullptr;
    for (;;) {
        if (idx[0] != loaded) r = row(picks[0][idx[0]]), loaded = idx[0];
        std::uint64_t src = 0;
        for (std::size_t a = 1; a + 1 < k; ++a) src = (src + picks[a][idx[a]]) * shape[a + 1];
        if (k == 1) src = 0;
        for (std::size_t i : last) data[out++] = r[src + i];
        std::size_t a = k - 1;
        while (a-- > 0) {
            if (++idx[a] < crop[a]) break;
            idx[a] = 0;
        }
        if (a == std::size_t(-1)) break;
    }
    return data;
}

/// Along a mode the crop shortens, the trials see two runs of `h` indices
/// centred on the quarter and three-quarter points instead of one central
/// run: a volume's empty corners then count as much as its busy centre (on a
/// head scan a central crop is all head, and ranks 32³ tiles ahead of 16³
/// while the whole volume, three quarters background, wants 16³). `h` is a
/// multiple of 32, so that the tiles tried (16 and 32; 64 needs h = 64) never
/// straddle the seam between the runs.
std::vector<std::size_t> sampled_indices(std::size_t extent, std::size_t crop)
{
    std::vector<std::size_t> picks;
    if (crop >= extent) {
        for (std::size_t i = 0; i < extent; ++i) picks.push_back(i);
        return picks;
    }
    const std::size_t h = std::max<std::size_t>(32, crop / 2 / 32 * 32);
    if (2 * h > extent) {  // too short for two runs: the central one
        for (std::size_t i = 0; i < crop; ++i) picks.push_back((extent - crop) / 2 + i);
        return picks;
    }
    const std::size_t first = extent / 4 > h / 2 ? extent / 4 - h / 2 : 0;
    const std::size_t second = std::max(first + h, std::min(extent - h, 3 * extent / 4 - h / 2));
    for (std::size_t i = 0; i < h; ++i) picks.push_back(first + i);
    for (std::size_t i = 0; i < h; ++i) picks.push_back(second + i);
    return picks;
}

/// The rule over a tensor of `shape` whose sampled crops `read_crop(picks)`
/// returns as float32 in C order.
template <class ReadCrop>
detail::AutoChoice choose(const Shape& shape, const DecomposeOptions& options, ReadCrop&& read_crop)
{
    detail::AutoChoice choice;
    choice.shape = shape;
    const std::size_t k = shape.size();
    // The crop: spatial modes shrink (together) until it is small enough,
    // then take two runs each (sampled_indices); the other modes stay whole.
    Shape crop = shape;
    std::vector<bool> spatial(k, false);
    for (std::size_t a = 0; a < k; ++a) spatial[a] = shape[a] >= shortest_spatial_mode;
    while (element_count(crop) > crop_values) {
        std::size_t longest = k;
        for (std::size_t a = 0; a < k; ++a)
            if (spatial[a] && crop[a] > 64 && (longest == k || crop[a] > crop[longest])) longest = a;
        if (longest == k) break;
        crop[longest] = std::max<std::size_t>(64, crop[longest] * 3 / 4);
    }
    Picks picks(k);
    for (std::size_t a = 0; a < k; ++a) {
        picks[a] = sampled_indices(shape[a], crop[a]);
        crop[a] = picks[a].size();
    }
    std::vector<float> data = read_crop(picks);
    std::size_t cut = 0;
    for (std::size_t a = 0; a < k; ++a) {
        spatial[a] = spatial[a] && neighbour_correlation(data.data(), crop, a) >= spatial_correlation;
        cut += spatial[a];
    }
    if (cut == 0) return choice;

    // The candidates, on the crop, at the run's own budget (a width rule
    // has none: 1 bit per value stands in).
    DecomposeOptions trial = options;
    // The trials report as trials: a display skips them, but a caller that
    // wants to stop (Ctrl-C in Python) must be heard during them too, as
    // on data of up to 2^21 values they are all of the run's work.
    if (options.progress)
        trial.progress = [&options](const Progress& p) {
            Progress t = p;
            t.trial = true;
            return options.progress(t);
        };
    trial.refit_scales = false;
    if (!trial.bits_per_value && !trial.rel_error) {
        trial.width.reset();
        trial.bits_per_value = 1.0;
    }
    const bool whole_data = crop == shape;
    // On a crop the trials only rank the tiles, and one start per term ranks
    // them as three do (BENCHMARKS.md) for a third of the time.
    if (!whole_data) trial.restarts = 0;
    Shape best;
    double best_score = std::numeric_limits<double>::infinity();
    for (const std::size_t tile : {16u, 32u, 64u, 128u}) {
        Shape b(k), on_crop(k);
        bool fits = false;
        for (std::size_t a = 0; a < k; ++a) {
            b[a] = spatial[a] ? std::min(tile, shape[a]) : shape[a];
            on_crop[a] = std::min(b[a], crop[a]);
            fits = fits || (spatial[a] && tile < crop[a]);
            // Along a mode the crop shortened, a tile must fit in it at least
            // twice, or the crop says little about the whole.
            if (spatial[a] && crop[a] < shape[a] && 2 * tile > crop[a]) fits = false, on_crop[a] = 0;
        }
        if (std::find(on_crop.begin(), on_crop.end(), 0u) != on_crop.end()) break;
        if (!fits && !best.empty()) break;  // one tile covers the crop: larger ones repeat it
        trial.blocks = BlockChoice::of(on_crop);
        DecomposeReport r;
        double score = 0;
        try {
            auto d = decompose(TensorView<float>{data.data(), crop}, trial, &r);
            if (r.cancelled) throw Error(errc::cancelled, "cancelled while the auto rule tried block shapes");
            score = trial.rel_error ? d.bits_per_value() : r.rel_error;
            // Tried on all of the data with the run's own options, the best
            // candidate's decomposition is the run's result.
            if (whole_data && (options.bits_per_value || options.rel_error) && score <= best_score) {
                choice.result = std::move(d);
                choice.report = r;
            }
        } catch (const Error& e) {
            // Bad options and the caller's cancel fail every tile alike: they
            // are the run's error, not a reason to fall back to one block
            // (threads = 0 once made every trial fail and the rule pick the
            // whole tensor in silence). A budget below one term of this tile
            // on the crop rules out this tile only.
            if (e.code() == errc::invalid_argument || e.code() == errc::cancelled) throw;
            continue;
        }
        // Ties go to the larger tile (fewer blocks, less overhead).
        if (score <= best_score) {
            best_score = score, best = b;
        } else if (score > 1.02 * best_score) {
            break;  // past the best tile: larger ones only get worse on the samples
        }
    }
    if (best.empty()) {
        choice.result.reset();
        return choice;
    }
    choice.shape = best;
    if (choice.result && choice.result->block_shape() != best) choice.result.reset();
    return choice;
}


template <class T>
detail::AutoChoice choose_in_memory(const TensorView<T>& x, const DecomposeOptions& options)
{
    std::uint64_t row_values = 1;
    for (std::size_t a = 1; a < x.shape.size(); ++a) row_values *= x.shape[a];
    return choose(x.shape, options, [&](const Picks& picks) {
        std::vector<float> row(x.shape.size() == 1 ? x.shape[0] : row_values);
        return crop_of(x.shape, picks, [&](std::size_t i) {
            // One row converted to float32 at a time (the data may be float64).
            const T* src = x.data + (x.shape.size() == 1 ? 0 : i * row_values);
            for (std::size_t j = 0; j < row.size(); ++j) row[j] = static_cast<float>(src[j]);
            return row.data();
        });
    });
}

}  // namespace

Shape auto_block_shape(const TensorView<float>& x, const DecomposeOptions& options)
{
    return choose_in_memory(x, options).shape;
}
Shape auto_block_shape(const TensorView<double>& x, const DecomposeOptions& options)
{
    return choose_in_memory(x, options).shape;
}

Shape auto_block_shape(RowSource& source, const DecomposeOptions& options)
{
    return detail::auto_blocks(source, options).shape;
}

detail::AutoChoice detail::auto_blocks(const TensorView<float>& x, const DecomposeOptions& options)
{
    return choose_in_memory(x, options);
}
detail::AutoChoice detail::auto_blocks(const TensorView<double>& x, const DecomposeOptions& options)
{
    return choose_in_memory(x, options);
}

detail::AutoChoice detail::auto_blocks(RowSource& source, const DecomposeOptions& options)
{
    const Shape shape = source.shape();
    std::uint64_t row_values = 1;
    for (std::size_t a = 1; a < shape.size(); ++a) row_values *= shape[a];
    return choose(shape, options, [&](const Picks& picks) {
        if (shape.size() == 1) {
            std::vector<float> all(shape[0]);
            source.read_rows(0, shape[0], all.data());
            return crop_of(shape, picks, [&](std::size_t) { return all.data(); });
        }
        // One row of the source at a time: the crop, not its rows, is what
        // stays in memory.
        std::vector<float> row(row_values);
        return crop_of(shape, picks, [&](std::size_t i) {
            source.read_rows(i, 1, row.data());
            return row.data();
        });
    });
}

}  // namespace signcut
