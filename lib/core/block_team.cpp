// Which member of a team owns which blocks: whole block rows, so that each
// member reads only the slabs of its own blocks.
#include "signcut/block_team.hpp"

namespace signcut {

std::pair<std::size_t, std::size_t> owned_block_rows(const BlockGrid& grid, std::size_t members, std::size_t member)
{
    const std::size_t rows = grid.grid_shape().empty() ? 1 : grid.grid_shape()[0];
    const std::size_t base = rows / members, extra = rows % members;
    const std::size_t first = member * base + std::min(member, extra);
    return {first, first + base + (member < extra ? 1 : 0)};
}

std::size_t block_owner(const BlockGrid& grid, std::size_t members, std::size_t b)
{
    const std::size_t rows = grid.grid_shape()[0];
    const std::size_t row = b / (grid.count() / rows);
    const std::size_t base = rows / members, extra = rows % members;
    // The first `extra` members own base + 1 rows each.
    const std::size_t long_rows = extra * (base + 1);
    if (row < long_rows) return row / (base + 1);
    return extra + (row - long_rows) / base;
}

}  // namespace signcut
