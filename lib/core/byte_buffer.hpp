// Bytes that carry numbers between the members of a team (block_team.hpp).
// Both ends are the same program on the same kind of machine (one build,
// one ISA), so values travel as their object bytes.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "signcut/error.hpp"

namespace signcut::detail {

class ByteWriter {
public:
    template <class T>
    void put(const T& value)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
        bytes_.insert(bytes_.end(), p, p + sizeof(T));
    }
    template <class T>
    void put_span(std::span<const T> values)
    {
        static_assert(std::is_trivially_copyable_v<T>);
        put<std::uint64_t>(values.size());
        const auto* p = reinterpret_cast<const std::uint8_t*>(values.data());
        bytes_.insert(bytes_.end(), p, p + values.size_bytes());
    }
    std::vector<std::uint8_t>& bytes() noexcept { return bytes_; }

private:
    std::vector<std::uint8_t> bytes_;
};

class ByteReader {
public:
    explicit ByteReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
    template <class T>
    T get()
    {
        static_assert(std::is_trivially_copyable_v<T>);
        T value;
        std::memcpy(&value, take(sizeof(T)), sizeof(T));
        return value;
    }
    template <class T>
    std::vector<T> get_vector()
    {
        const auto n = get<std::uint64_t>();
        if (n > bytes_.size() / sizeof(T)) short_message();
        std::vector<T> values(n);
        if (n > 0) std::memcpy(values.data(), take(n * sizeof(T)), n * sizeof(T));
        return values;
    }
    bool done() const noexcept { return at_ == bytes_.size(); }

private:
    const std::uint8_t* take(std::size_t n)
    {
        if (n > bytes_.size() - at_) short_message();
        const std::uint8_t* p = bytes_.data() + at_;
        at_ += n;
        return p;
    }
    [[noreturn]] static void short_message()
    {
        throw Error(errc::io, "a message between the processes of a run ended early");
    }
    std::span<const std::uint8_t> bytes_;
    std::size_t at_ = 0;
};

}  // namespace signcut::detail
