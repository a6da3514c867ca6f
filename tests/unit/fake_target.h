// A Target made of plain values for the engine tests: mappings and memory
// regions built by hand, registers set per thread, nothing read from a process.
#pragma once

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "engine/target.h"

namespace usercrash::test {

class FakeTarget : public engine::Target {
 public:
  std::string kind() const override { return "fake"; }
  const engine::ProcessFacts& facts() const override { return facts_; }
  const std::vector<engine::ThreadRegisters>& threads() const override { return threads_; }
  std::optional<engine::CoreSiginfo> signal() const override { return signal_; }
  const std::vector<proc::MapEntry>& mappings() const override { return maps_; }

  size_t read_memory(uint64_t address, std::span<std::byte> out) override {
    ++reads_;
    auto it = memory_.upper_bound(address);
    if (it == memory_.begin()) return 0;
    --it;
    uint64_t start = it->first;
    const auto& bytes = it->second;
    if (address - start >= bytes.size()) return 0;
    size_t n = std::min<size_t>(out.size(), bytes.size() - static_cast<size_t>(address - start));
    std::memcpy(out.data(), bytes.data() + (address - start), n);
    return n;
  }

  util::Result<util::UniqueFd> open_mapped_file(const proc::MapEntry& mapping) override {
    return util::fail(mapping.path + ": the fake target has no files");
  }

  // A mapping with `size` readable bytes (zeroed) unless perms say otherwise.
  void map(uint64_t start, uint64_t size, const std::string& perms, const std::string& path = "") {
    proc::MapEntry m;
    m.start = start;
    m.end = start + size;
    m.perms = perms;
    m.path = path;
    m.inode = path.starts_with("/") ? 1 : 0;
    maps_.push_back(m);
    std::sort(maps_.begin(), maps_.end(), [](const auto& a, const auto& b) { return a.start < b.start; });
    if (!perms.empty() && perms[0] == 'r') memory_[start] = std::vector<std::byte>(size);
  }

  void write_word(uint64_t address, uint64_t value) {
    auto it = memory_.upper_bound(address);
    if (it == memory_.begin()) throw std::runtime_error("write outside the fake's memory");
    --it;
    std::memcpy(it->second.data() + (address - it->first), &value, sizeof value);
  }

  void write_bytes(uint64_t address, const std::vector<uint8_t>& bytes) {
    auto it = memory_.upper_bound(address);
    if (it == memory_.begin()) throw std::runtime_error("write outside the fake's memory");
    --it;
    std::memcpy(it->second.data() + (address - it->first), bytes.data(), bytes.size());
  }

  engine::Registers& add_thread(pid_t tid) {
    threads_.push_back({tid, {}});
    return threads_.back().regs;
  }

  engine::ProcessFacts& facts_mut() { return facts_; }
  void set_signal(engine::CoreSiginfo s) { signal_ = s; }
  size_t reads() const { return reads_; }

 private:
  engine::ProcessFacts facts_;
  std::vector<engine::ThreadRegisters> threads_;
  std::optional<engine::CoreSiginfo> signal_;
  std::vector<proc::MapEntry> maps_;
  std::map<uint64_t, std::vector<std::byte>> memory_;
  size_t reads_ = 0;
};

}  // namespace usercrash::test
