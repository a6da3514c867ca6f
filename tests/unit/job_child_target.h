// A target for the isolated job's tests (collect/job.h) that misbehaves in
// the job's child only (crashes, hangs, takes memory), the report files it
// writes into, and the options the tests collect with.
#pragma once

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "collect/job.h"
#include "unit/fake_target.h"
#include "util/file_io.h"

namespace usercrash::collect::job_test {

using Clock = std::chrono::steady_clock;
using engine::Reg;
using nlohmann::json;

// What a target does in the job's child (never in the test's own process).
enum class InChild { behave, crash, hang, hog_memory, use_memory };

class ChildTarget : public test::FakeTarget {
 public:
  explicit ChildTarget(InChild mode) : mode_(mode), parent_(::getpid()) {
    facts_mut().pid = 4242;
    facts_mut().comm = "fake";
    map(0x400000, 0x1000, "r-xp");
    add_thread(4242).set(Reg::rip, 0x400010);
    set_signal({SIGSEGV, 0, SEGV_MAPERR, 0x10, 0, 0});
  }
  size_t read_memory(uint64_t address, std::span<std::byte> out) override {
    if (::getpid() != parent_) misbehave();
    return FakeTarget::read_memory(address, out);
  }

 private:
  void misbehave() {
    switch (mode_) {
      case InChild::behave: return;
      // The sandbox's filter refuses to send signals and to sleep: a trap
      // and a spin, as a parser gone wrong would do.
      case InChild::crash: __builtin_trap();
      case InChild::hang:
        for (volatile bool forever = true; forever;) {
        }
        return;
      case InChild::hog_memory: {
        hog_ = new char[512ULL << 20];
        std::memset(hog_, 1, 512ULL << 20);
        return;
      }
      case InChild::use_memory: {  // within a 256 MiB budget, past 64 MiB
        hog_ = new char[192ULL << 20];
        std::memset(hog_, 1, 192ULL << 20);
        return;
      }
    }
  }
  InChild mode_;
  pid_t parent_;
  char* volatile hog_ = nullptr;
};

struct Files {
  util::UniqueFd text{::memfd_create("text", MFD_CLOEXEC)};
  util::UniqueFd json{::memfd_create("json", MFD_CLOEXEC)};
  ReportFiles get() const { return {text.get(), json.get()}; }
  static std::string read(int fd) {
    ::lseek(fd, 0, SEEK_SET);
    return util::read_all(fd, 1 << 24).value_or("");
  }
  std::string read_text() const { return read(text.get()); }
  nlohmann::json read_json() const { return json::parse(read(json.get())); }
};

inline engine::CollectOptions options() {
  engine::CollectOptions o;
  o.source_lines = limits::SourceLines::none;
  o.deadline = Clock::now() + std::chrono::seconds(10);
  return o;
}

// The sandbox the collection step enters (the defaults of sandbox_options).
inline Sandbox sandbox() { return Sandbox::prepare({}); }

inline bool has_problem(const json& report, const std::string& needle) {
  for (const auto& p : report["problems"])
    if (p.get<std::string>().find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace usercrash::collect::job_test
