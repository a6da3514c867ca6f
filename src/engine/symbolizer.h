// Frames recorded elsewhere, symbolized here: a device with stripped
// binaries records on every frame its module, the module's build-id and the
// pc's offset in it; on a build host each module's separate debug file is
// found by build-id (engine/debug_files.h) and the frame gets its function,
// file:line and inlined calls as if the debug info had been on the device.
// Everything in the frames is hostile: a frame without a valid build-id or
// with an offset past its pc is left as it is.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/debug_files.h"
#include "engine/report.h"

namespace usercrash::engine {

class Symbolizer {
 public:
  explicit Symbolizer(DebugSearch search);
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // A thread's frames symbolized again: each physical frame with the
  // inlined frames before it is replaced by what its module's debug file
  // says; frames that changed get `resymbolized`. Frames whose module has
  // no debug file here stay as they were.
  std::vector<Frame> frames(const std::vector<Frame>& frames);

  // The frames `physical` stands for (its inlined calls first, then
  // itself), or nullopt when its module's debug file is not found.
  std::optional<std::vector<Frame>> symbolize(const Frame& physical);

  // Every module asked for, in the order first met.
  std::vector<SymbolizedModule> modules() const;

  // Frames of modules past the first limits::kMaxModules, left as they were.
  size_t modules_left_out() const { return modules_left_out_; }

  struct Module;  // opaque: a module's libdwfl session

 private:
  Module* module_for(const Frame& frame);

  DebugSearch search_;
  std::map<std::pair<std::string, uint64_t>, std::unique_ptr<Module>> modules_;  // by build-id and load address
  std::vector<Module*> order_;
  size_t modules_left_out_ = 0;
};

}  // namespace usercrash::engine
