// The ring of report slots: usercrash_00 … usercrash_NN. Which slot the next
// report takes is a pure function of what the directory holds.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace usercrash::store {

// "usercrash_07"; three digits once count exceeds 100, as the seed's %02d does.
std::string slot_name(unsigned index);

// Index of a slot name ("usercrash_07" → 7); nullopt for anything else,
// including companion files ("usercrash_07.json").
std::optional<unsigned> slot_index(const std::string& name, unsigned count);

// The modification time of each slot's report, nullopt where the slot is empty.
using SlotTimes = std::vector<std::optional<timespec>>;

// The first empty slot; when all are used, the one with the oldest report
// (lowest index on ties). `busy` slots (being written) are skipped unless
// every slot is busy.
unsigned choose_slot(const SlotTimes& times, const std::vector<bool>& busy = {});

}  // namespace usercrash::store
