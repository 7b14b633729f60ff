// Signs deflated as HDF5's deflate filter deflates them (deflated_signs.hpp).
//
// HDF5's filter compresses each chunk with zlib's compress2() at the
// dataset's level into a buffer of compressBound() bytes, so the stored
// chunk is exactly what compress2() returns here (the same zlib), followed
// by fletcher32's 4 bytes; the io tests hold this against
// H5Dget_storage_size().
#include "signcut/deflated_signs.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>
#include <zlib.h>

#include "signcut/decomposition.hpp"
#include "signcut/error.hpp"

namespace signcut {

namespace {

class DeflatedSigns final : public SignStorage {
public:
    explicit DeflatedSigns(int level) : level_(level) {}

    int deflate_level() const noexcept override { return level_; }

    std::uint64_t stored_bytes(std::span<const std::uint8_t> stream) const override
    {
        if (stream.empty()) return 0;
        const std::uint64_t per_chunk = dataset_chunk_elements(stream.size(), 1);
        std::vector<Bytef> chunk(static_cast<std::size_t>(per_chunk));
        std::vector<Bytef> out(compressBound(static_cast<uLong>(per_chunk)));
        std::uint64_t total = 0;
        for (std::uint64_t at = 0; at < stream.size(); at += per_chunk) {
            // The last chunk is padded with zeros (HDF5's fill value).
            const std::uint64_t n = std::min<std::uint64_t>(per_chunk, stream.size() - at);
            std::copy_n(stream.begin() + static_cast<std::ptrdiff_t>(at), n, chunk.begin());
            std::fill(chunk.begin() + static_cast<std::ptrdiff_t>(n), chunk.end(), Bytef{0});
            uLongf size = static_cast<uLongf>(out.size());
            if (compress2(out.data(), &size, chunk.data(), static_cast<uLong>(chunk.size()), level_) != Z_OK)
                throw Error(errc::io, "zlib failed to deflate a chunk of signs");
            total += size + 4;  // fletcher32
        }
        return total;
    }

private:
    int level_;
};

}  // namespace

std::shared_ptr<const SignStorage> deflated_signs(int level)
{
    if (level < 1 || level > 9)
        throw Error(errc::invalid_argument, fmt::format("the deflate level must be 1 to 9, got {}", level));
    return std::make_shared<DeflatedSigns>(level);
}

}  // namespace signcut
