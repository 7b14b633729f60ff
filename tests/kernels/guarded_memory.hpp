// Buffers that catch a kernel reading past its input or writing past its
// output.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <vector>

namespace signcut::testing {

/// Page-aligned regions, each followed by an inaccessible page, kept for
/// reuse: the tests create thousands of buffers, and mapping a fresh region
/// for each would cost more than the kernels.
class GuardedRegions {
public:
    struct Region {
        unsigned char* base;
        std::size_t body;  // accessible bytes, a multiple of the page size
    };

    static Region take(std::size_t bytes)
    {
        auto& pool = instance().free_;
        auto best = pool.end();
        for (auto it = pool.begin(); it != pool.end(); ++it)
            if (it->body >= bytes && (best == pool.end() || it->body < best->body)) best = it;
        if (best != pool.end()) {
            const Region r = *best;
            pool.erase(best);
            return r;
        }
        const std::size_t page = page_size();
        const std::size_t body = std::max<std::size_t>((bytes + page - 1) / page, 1) * page;
        void* p = mmap(nullptr, body + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        auto* base = static_cast<unsigned char*>(p);
        if (mprotect(base + body, page, PROT_NONE) != 0) {
            munmap(base, body + page);
            throw std::bad_alloc();
        }
        return {base, body};
    }
    static void give_back(Region r) { instance().free_.push_back(r); }

private:
    static std::size_t page_size() { return static_cast<std::size_t>(sysconf(_SC_PAGESIZE)); }
    static GuardedRegions& instance()
    {
        static GuardedRegions g;
        return g;
    }
    ~GuardedRegions()
    {
        for (const Region& r : free_) munmap(r.base, r.body + page_size());
    }
    std::vector<Region> free_;
};

/// n elements placed so that the last one ends exactly where an
/// inaccessible page begins: a read past the end faults at once. The start
/// is deliberately not 64-byte aligned unless n * sizeof(T) makes it so.
/// The contents start undefined.
template <class T>
class EndOfPage {
public:
    explicit EndOfPage(std::size_t n) : n_(n), region_(GuardedRegions::take(n * sizeof(T)))
    {
        data_ = reinterpret_cast<T*>(region_.base + region_.body - n * sizeof(T));
    }
    EndOfPage(const EndOfPage&) = delete;
    EndOfPage& operator=(const EndOfPage&) = delete;
    ~EndOfPage() { GuardedRegions::give_back(region_); }

    T* data() noexcept { return data_; }
    const T* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return n_; }
    T& operator[](std::size_t i) noexcept { return data_[i]; }
    const T& operator[](std::size_t i) const noexcept { return data_[i]; }
    std::span<T> span() noexcept { return {data_, n_}; }

private:
    std::size_t n_;
    GuardedRegions::Region region_;
    T* data_ = nullptr;
};

/// An output of n elements with `pad` sentinel elements on each side.
template <class T>
class Fenced {
public:
    static constexpr std::size_t pad = 19;  // odd, so the output is not vector-aligned

    Fenced(std::size_t n, T sentinel) : n_(n), sentinel_(sentinel), buf_(n + 2 * pad, sentinel) {}

    T* data() noexcept { return buf_.data() + pad; }
    const T* data() const noexcept { return buf_.data() + pad; }
    std::size_t size() const noexcept { return n_; }
    T& operator[](std::size_t i) noexcept { return buf_[pad + i]; }
    const T& operator[](std::size_t i) const noexcept { return buf_[pad + i]; }

    /// True when no sentinel was touched (compared bit for bit, so NaN
    /// sentinels work).
    bool fences_intact() const noexcept
    {
        for (std::size_t i = 0; i < pad; ++i)
            if (std::memcmp(&buf_[i], &sentinel_, sizeof(T)) != 0 ||
                std::memcmp(&buf_[pad + n_ + i], &sentinel_, sizeof(T)) != 0)
                return false;
        return true;
    }

private:
    std::size_t n_;
    T sentinel_;
    std::vector<T> buf_;
};

}  // namespace signcut::testing
