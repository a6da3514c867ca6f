// The ring of report slots: usercrash_00 … usercrash_NN. Which slot the next
// report takes is the ring index's choice (store/ring_index.h).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace usercrash::store {

// "usercrash_07"; three digits once count exceeds 100, as the seed's %02d does.
std::string slot_name(unsigned index);

// Index of a slot name ("usercrash_07" → 7); nullopt for anything else,
// including companion files ("usercrash_07.json").
std::optional<unsigned> slot_index(const std::string& name, unsigned count);

}  // namespace usercrash::store
