// Tensors as matrices: parsing the split and moving the data.
#include "signcut/matricization.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "signcut/error.hpp"

namespace signcut {
namespace {

std::vector<std::size_t> parse_modes(std::string_view text, std::string_view whole)
{
    std::vector<std::size_t> modes;
    if (text.empty()) return modes;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string_view item = text.substr(start, comma - start);
        std::size_t mode = 0;
        const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), mode);
        if (item.empty() || ec != std::errc() || end != item.data() + item.size())
            throw Error(errc::invalid_argument,
                        fmt::format("matricization '{}': '{}' is not a mode number (expected e.g. 0,1|2,3)", whole, item));
        modes.push_back(mode);
        start = comma + 1;
    }
    return modes;
}

/// The modes in matrix order: rows first, then columns.
std::vector<std::size_t> matrix_order(const Matricization& m)
{
    std::vector<std::size_t> order = m.row_modes;
    order.insert(order.end(), m.col_modes.begin(), m.col_modes.end());
    return order;
}

/// Calls visit(tensor_offset, matrix_offset) for every entry, the matrix
/// offset running in order: an odometer over the permuted modes.
template <class Visit>
void for_each_entry(std::span<const std::size_t> shape, const Matricization& split, Visit visit)
{
    const std::vector<std::size_t> order = matrix_order(split);
    const std::size_t k = shape.size();
    std::vector<std::size_t> stride(k, 1);  // C-order strides of the tensor
    for (std::size_t a = k; a-- > 1;) stride[a - 1] = stride[a] * shape[a];
    const std::uint64_t n = element_count(shape);
    if (n == 0) return;
    // The innermost matrix mode runs in a tight loop.
    const std::size_t inner = k ? order[k - 1] : 0;
    const std::size_t inner_len = k ? shape[inner] : 1;
    const std::size_t inner_stride = k ? stride[inner] : 1;
    std::vector<std::size_t> index(k, 0);
    std::size_t base = 0;
    for (std::uint64_t m = 0; m < n; m += inner_len) {
        for (std::size_t t = 0; t < inner_len; ++t) visit(base + t * inner_stride, m + t);
        // Advance the outer modes (all but the innermost), last first.
        for (std::size_t p = k - 1; p-- > 0;) {
            const std::size_t a = order[p];
            base += stride[a];
            if (++index[p] < shape[a]) break;
            base -= stride[a] * shape[a];
            index[p] = 0;
        }
    }
}

}  // namespace

Matricization Matricization::parse(std::string_view text, std::size_t order)
{
    const std::size_t bar = text.find('|');
    if (bar == std::string_view::npos || text.find('|', bar + 1) != std::string_view::npos)
        throw Error(errc::invalid_argument,
                    fmt::format("matricization '{}' needs exactly one '|' between row and column modes (e.g. 0,1|2,3)", text));
    Matricization m;
    m.row_modes = parse_modes(text.substr(0, bar), text);
    m.col_modes = parse_modes(text.substr(bar + 1), text);
    m.validate(order);
    return m;
}

void Matricization::validate(std::size_t order) const
{
    std::vector<int> seen(order, 0);
    for (const std::size_t a : matrix_order(*this)) {
        if (a >= order)
            throw Error(errc::invalid_argument,
                        fmt::format("matricization {} names mode {}, but the tensor has {} modes (0..{})", to_string(), a,
                                    order, order == 0 ? 0 : order - 1));
        if (seen[a]++)
            throw Error(errc::invalid_argument, fmt::format("matricization {} names mode {} twice", to_string(), a));
    }
    for (std::size_t a = 0; a < order; ++a)
        if (!seen[a])
            throw Error(errc::invalid_argument,
                        fmt::format("matricization {} leaves out mode {}; every mode must be a row or a column mode",
                                    to_string(), a));
}

Matricization Matricization::closest_to_square(std::span<const std::size_t> shape)
{
    Matricization m;
    const std::size_t k = shape.size();
    if (k == 0) return m;
    std::size_t best = 1;
    double best_gap = INFINITY;
    for (std::size_t split = 1; split < std::max<std::size_t>(k, 2); ++split) {
        double rows = 1, cols = 1;
        for (std::size_t a = 0; a < k; ++a) (a < split ? rows : cols) *= static_cast<double>(shape[a]);
        const double gap = std::fabs(std::log(rows) - std::log(cols));
        if (gap < best_gap) {
            best_gap = gap;
            best = split;
        }
    }
    for (std::size_t a = 0; a < k; ++a) (a < best ? m.row_modes : m.col_modes).push_back(a);
    return m;
}

std::string Matricization::to_string() const
{
    return fmt::format("{}|{}", fmt::join(row_modes, ","), fmt::join(col_modes, ","));
}

std::size_t Matricization::rows(std::span<const std::size_t> shape) const
{
    std::size_t r = 1;
    for (const std::size_t a : row_modes) r *= shape[a];
    return r;
}

std::size_t Matricization::cols(std::span<const std::size_t> shape) const
{
    std::size_t c = 1;
    for (const std::size_t a : col_modes) c *= shape[a];
    return c;
}

bool Matricization::is_contiguous() const noexcept
{
    const std::vector<std::size_t> order = matrix_order(*this);
    for (std::size_t p = 0; p < order.size(); ++p)
        if (order[p] != p) return false;
    return true;
}

std::vector<float> matricize(const float* data, std::span<const std::size_t> shape, const Matricization& split)
{
    split.validate(shape.size());
    std::vector<float> matrix(element_count(shape));
    if (split.is_contiguous()) {
        std::copy(data, data + matrix.size(), matrix.begin());
        return matrix;
    }
    for_each_entry(shape, split, [&](std::size_t t, std::size_t m) { matrix[m] = data[t]; });
    return matrix;
}

void unmatricize(const float* matrix, std::span<const std::size_t> shape, const Matricization& split, float* out)
{
    split.validate(shape.size());
    if (split.is_contiguous()) {
        std::copy(matrix, matrix + element_count(shape), out);
        return;
    }
    for_each_entry(shape, split, [&](std::size_t t, std::size_t m) { out[t] = matrix[m]; });
}

}  // namespace signcut
