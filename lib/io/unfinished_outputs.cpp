// The table of temporaries an interruption must remove. A fixed array of
// slots whose state is a lock-free atomic, so that a signal handler can walk
// it at any moment: a slot is claimed, its path written, and only then
// marked live. A temporary made here is made by mkstemp inside its slot,
// which is marked as being created meanwhile; a handler unlinks both kinds
// (a name mkstemp has not finished is a name no file has).
#include "signcut/unfinished_outputs.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>

namespace signcut {
namespace {

constexpr int slot_count = 64;
constexpr std::size_t path_capacity = 4096;

enum State : int { free_slot = 0, being_written = 1, live = 2, being_created = 3 };

struct Slot {
    std::atomic<int> state{free_slot};
    char path[path_capacity] = {};
};

static_assert(std::atomic<int>::is_always_lock_free, "a signal handler reads the slots' state");

std::array<Slot, slot_count> slots;

}  // namespace

int create_unfinished_output(char* path_template, int* ticket) noexcept
{
    *ticket = -1;
    const std::size_t n = std::strlen(path_template);
    if (n < path_capacity) {
        for (int i = 0; i < slot_count; ++i) {
            int expected = free_slot;
            if (!slots[i].state.compare_exchange_strong(expected, being_written, std::memory_order_acq_rel))
                continue;
            std::memcpy(slots[i].path, path_template, n + 1);
            slots[i].state.store(being_created, std::memory_order_release);
            const int fd = ::mkstemp(slots[i].path);
            if (fd < 0) {
                slots[i].state.store(free_slot, std::memory_order_release);
                return -1;
            }
            std::memcpy(path_template, slots[i].path, n + 1);
            slots[i].state.store(live, std::memory_order_release);
            *ticket = i;
            return fd;
        }
    }
    return ::mkstemp(path_template);
}

void untrack_unfinished_output(int ticket) noexcept
{
    if (ticket >= 0 && ticket < slot_count) slots[ticket].state.store(free_slot, std::memory_order_release);
}

void remove_unfinished_outputs() noexcept
{
    for (Slot& s : slots) {
        const int state = s.state.load(std::memory_order_acquire);
        if (state == live || state == being_created) ::unlink(s.path);
    }
}

}  // namespace signcut
