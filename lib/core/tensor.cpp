// Shapes.
#include "signcut/tensor.hpp"

#include <fmt/format.h>

#include "signcut/error.hpp"

namespace signcut {

std::uint64_t element_count(std::span<const std::size_t> shape)
{
    std::uint64_t n = 1;
    for (std::size_t d : shape) {
        if (d != 0 && n > UINT64_MAX / d)
            throw Error(errc::limit, fmt::format("shape {} has more than 2^64 entries", format_shape(shape)));
        n *= d;
    }
    return n;
}

std::string format_shape(std::span<const std::size_t> shape)
{
    if (shape.empty()) return "scalar";
    return fmt::format("{}", fmt::join(shape, "x"));
}

void check_shape(std::span<const std::size_t> shape)
{
    if (shape.empty())
        throw Error(errc::bad_input, "an order-0 tensor (a scalar) has nothing to decompose: signcut needs order 1 or more");
    for (std::size_t a = 0; a < shape.size(); ++a)
        if (shape[a] == 0)
            throw Error(errc::bad_input,
                        fmt::format("shape {} has a zero dimension: mode {} is empty", format_shape(shape), a));
    (void)element_count(shape);
}

}  // namespace signcut
