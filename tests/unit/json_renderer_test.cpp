// The JSON report: every key the README promises, with the right types,
// addresses as "0x…" strings, absent facts null, always valid JSON.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report/render.h"
#include "unit/sample_report.h"
#include "util/escape.h"

namespace usercrash::report {
namespace {

using nlohmann::json;
using test::kHostile;
using test::sample_report;

json parse(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "invalid JSON";
  return j;
}

// "0x" and lowercase hex digits.
bool is_address(const json& v) {
  if (!v.is_string()) return false;
  const std::string& s = v.get_ref<const std::string&>();
  if (s.size() < 3 || !s.starts_with("0x")) return false;
  return s.find_first_not_of("0123456789abcdef", 2) == std::string::npos;
}

TEST(JsonRenderer, EveryDocumentedKeyWithItsType) {
  engine::Report report = sample_report();
  json j = parse(render_json(report));
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["version"], engine::kReportVersion);
  EXPECT_EQ(j["id"], report.id);
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["tid"], 4243);
  EXPECT_EQ(j["uid"], 1000);
  EXPECT_EQ(j["gid"], 1001);
  EXPECT_TRUE(j["comm"].is_string());
  EXPECT_EQ(j["exe"], "/opt/demo/bin/demo");
  EXPECT_EQ(j["exe_build_id"], "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(j["signature"], "0f1e2d3c4b5a69788796a5b4c3d2e1f0");
  ASSERT_TRUE(j["cmdline"].is_array());
  EXPECT_EQ(j["cmdline"].size(), 3u);
  EXPECT_EQ(j["time"], "2026-11-18T11:06:40Z");

  const json& s = j["signal"];
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["number"], 11);
  EXPECT_EQ(s["name"], "SIGSEGV");
  EXPECT_EQ(s["code"], 1);
  EXPECT_EQ(s["code_name"], "SEGV_MAPERR");
  EXPECT_EQ(s["fault_address"], "0x7f0000001010");
  EXPECT_TRUE(j.contains("abort_message"));
  EXPECT_TRUE(j["abort_message"].is_null());

  ASSERT_TRUE(j["threads"].is_array());
  ASSERT_EQ(j["threads"].size(), 3u);
  const json& t = j["threads"][0];
  EXPECT_EQ(t["tid"], 4243);
  EXPECT_TRUE(t["name"].is_string());
  EXPECT_EQ(t["crashed"], true);
  EXPECT_EQ(j["threads"][1]["crashed"], false);
  ASSERT_TRUE(t["registers"].is_object());
  EXPECT_EQ(t["registers"].size(), 27u);
  EXPECT_EQ(t["registers"]["rip"], "0x55550000123a");
  EXPECT_EQ(t["registers"]["rsp"], "0x7ffc00001230");
  for (const auto& [name, value] : t["registers"].items()) EXPECT_TRUE(is_address(value)) << name;
  ASSERT_EQ(t["frames"].size(), 3u);
  for (const char* key : {"pc", "module", "build_id", "function", "function_offset", "file", "line"})
    for (const auto& f : t["frames"]) EXPECT_TRUE(f.contains(key)) << key;
  const json& f0 = t["frames"][0];
  EXPECT_EQ(f0["pc"], "0x55550000123a");
  EXPECT_EQ(f0["module"], "/opt/demo/bin/demo");
  EXPECT_EQ(f0["build_id"], "0123456789abcdef0123456789abcdef01234567");
  EXPECT_EQ(f0["function"], "write_through");
  EXPECT_EQ(f0["function_offset"], "0x1a");
  EXPECT_EQ(f0["file"], "/src/demo/crash\nfile.c");
  EXPECT_EQ(f0["line"], 42);

  ASSERT_TRUE(j["memory_near_registers"].is_array());
  ASSERT_EQ(j["memory_near_registers"].size(), 1u);
  EXPECT_EQ(j["memory_near_registers"][0]["register"], "rsp");
  EXPECT_TRUE(is_address(j["memory_near_registers"][0]["address"]));
  ASSERT_TRUE(j["disassembly"].is_array());
  ASSERT_EQ(j["disassembly"].size(), 2u);
  EXPECT_EQ(j["disassembly"][1]["faulting"], true);
  EXPECT_EQ(j["disassembly"][1]["instruction"], "movl $0x2a, (%rdi)");
  EXPECT_EQ(j["disassembly"][1]["bytes"], "c7072a000000");

  ASSERT_EQ(j["maps"].size(), 4u);
  for (const auto& m : j["maps"]) {
    for (const char* key : {"start", "end", "offset"}) EXPECT_TRUE(is_address(m[key])) << key;
    EXPECT_TRUE(m["perms"].is_string());
    EXPECT_TRUE(m["path"].is_string());
  }
  EXPECT_EQ(j["maps"][2]["offset"], "0x26000");
  EXPECT_EQ(j["maps"][3]["path"], "[stack]");
  ASSERT_EQ(j["open_files"].size(), 3u);
  EXPECT_EQ(j["open_files"][1]["fd"], 1);
  EXPECT_EQ(j["open_files"][1]["path"], "pipe:[123]");
  EXPECT_EQ(j["kernel_stack"], json({"pipe_write+0x4a6/0x6a0", "elf_core_dump+0x9c4/0xd10"}));
  EXPECT_EQ(j["truncated"], json({"maps: kept the first 4", "thread 4243: frames cut at 3"}));
}

TEST(JsonRenderer, AddressCheckerSelfTest) {
  EXPECT_TRUE(is_address("0x0"));
  EXPECT_TRUE(is_address("0x7ffc00001230"));
  EXPECT_FALSE(is_address("0x"));
  EXPECT_FALSE(is_address("0X10"));
  EXPECT_FALSE(is_address("0x7FFC"));
  EXPECT_FALSE(is_address("12"));
  EXPECT_FALSE(is_address(12));
}

TEST(JsonRenderer, AbsentFactsAreNull) {
  json j = parse(render_json(sample_report()));
  const json& unknown = j["threads"][0]["frames"][2];
  EXPECT_EQ(unknown["pc"], "0x4141414141414141");
  for (const char* key : {"module", "build_id", "function", "function_offset", "file", "line"})
    EXPECT_TRUE(unknown[key].is_null()) << key;
  EXPECT_TRUE(j["threads"][2]["registers"].is_null()) << "a thread without registers";
  EXPECT_TRUE(j["threads"][2]["name"].is_null());

  engine::Report bare;
  bare.pid = 5;
  json b = parse(render_json(bare));
  for (const char* key : {"uid", "gid", "exe", "signal", "abort_message", "tgid", "kernel", "hostname"})
    EXPECT_TRUE(b[key].is_null()) << key;
  for (const char* key : {"cmdline", "threads", "memory_near_registers", "disassembly", "maps", "open_files",
                          "kernel_stack", "truncated"}) {
    EXPECT_TRUE(b[key].is_array()) << key;
    EXPECT_TRUE(b[key].empty()) << key;
  }
  auto r = sample_report();
  r.signal->fault_address.reset();
  EXPECT_TRUE(parse(render_json(r))["signal"]["fault_address"].is_null());
}

TEST(JsonRenderer, HostileStringsStayValid) {
  std::string text = render_json(sample_report());
  json j = parse(text);
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << "the serializer escapes control characters";
  EXPECT_EQ(j["comm"], util::to_valid_utf8(kHostile));
  EXPECT_NE(j["comm"].get<std::string>().find("$(rm -rf /)"), std::string::npos) << "data, kept as data";
  EXPECT_NE(j["comm"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos) << "invalid UTF-8 replaced";
  EXPECT_EQ(j["cmdline"][1], util::to_valid_utf8("--arg=" + kHostile));
  EXPECT_EQ(j["maps"][2]["path"], util::to_valid_utf8("/lib/" + kHostile));
  EXPECT_EQ(j["open_files"][2]["path"], util::to_valid_utf8("/tmp/" + kHostile));
  EXPECT_EQ(j["threads"][0]["name"], "worker\x1b]0;title\x07");
}

TEST(JsonRenderer, InvalidUtf8InFieldsNotMeantToHoldItStillGivesValidJson) {
  auto r = sample_report();
  r.maps[0].perms = "\xff\xfe\xfd\xfc";
  r.maps[0].device = "\xc3";
  r.memory_near_registers[0].label = "r\xffsp";
  r.disassembly[0].text = "\xed\xa0\x80";
  json j = parse(render_json(r));
  EXPECT_TRUE(j["maps"][0]["perms"].is_string());
}

TEST(JsonRenderer, CompactAndPretty) {
  RenderOptions o;
  o.pretty_json = false;
  engine::Report report = sample_report();
  std::string compact = render_json(report, o);
  EXPECT_EQ(std::count(compact.begin(), compact.end(), '\n'), 1) << "one line";
  std::string pretty = render_json(report);
  EXPECT_GT(std::count(pretty.begin(), pretty.end(), '\n'), 50);
  EXPECT_EQ(parse(compact), parse(pretty));
}

// Maps and open files are serialized entry by entry and spliced in: the
// text is exactly what the serializer makes of the whole document, compact
// and pretty, also with a path that spells the splice's own marker.
TEST(JsonRenderer, ListsSerializedEntryByEntryReadAsTheSerializerWritesThem) {
  auto r = sample_report();
  r.maps[1].path = "\"maps\": \"@usercrash:maps@\"";
  r.open_files[1].path = "@usercrash:open_files@";
  for (bool pretty : {true, false}) {
    RenderOptions o;
    o.pretty_json = pretty;
    std::string text = render_json(r, o);
    json j = parse(text);
    EXPECT_EQ(text, j.dump(pretty ? 1 : -1) + "\n");
    ASSERT_EQ(j["maps"].size(), r.maps.size());
    EXPECT_EQ(j["maps"][1]["path"], r.maps[1].path);
    ASSERT_EQ(j["open_files"].size(), r.open_files.size());
    EXPECT_EQ(j["open_files"][1]["path"], r.open_files[1].path);
  }
  r.maps.clear();
  r.open_files.clear();
  json j = parse(render_json(r));
  EXPECT_EQ(j["maps"], json::array());
  EXPECT_EQ(j["open_files"], json::array());
}

TEST(JsonRenderer, SizeCapKeepsTheJsonValidAndSaysWhatWasLeftOut) {
  auto r = sample_report();
  for (int i = 0; i < 3000; ++i)
    r.maps.push_back({0x100000000ULL + i * 0x1000ULL, 0x100001000ULL + i * 0x1000ULL, "r--p", 0, "fe:00", 1,
                      "/usr/lib/lib" + std::to_string(i) + ".so"});
  for (int i = 0; i < 50; ++i) r.memory_near_registers.push_back(r.memory_near_registers[0]);
  std::string full = render_json(r);
  RenderOptions o;

  o.max_bytes = full.size() - 100;  // just too large: memory and code go first
  json less = parse(render_json(r, o));
  EXPECT_TRUE(less["memory_near_registers"].empty());
  EXPECT_TRUE(less["disassembly"].empty());
  EXPECT_EQ(less["maps"].size(), r.maps.size());
  EXPECT_EQ(less["truncated"].back(), "json: memory dumps and code left out to fit max_report_size");
  EXPECT_EQ(less["truncated"][0], "maps: kept the first 4");

  o.max_bytes = 4096;  // far too large: the crashing thread alone
  std::string small = render_json(r, o);
  json least = parse(small);
  EXPECT_EQ(least["threads"].size(), 1u);
  EXPECT_EQ(least["threads"][0]["crashed"], true);
  EXPECT_TRUE(least["maps"].empty());
  EXPECT_TRUE(least["open_files"].empty());
  EXPECT_EQ(least["truncated"].back(),
            "json: only the crashing thread kept, maps and files left out, to fit max_report_size");
  EXPECT_EQ(least["signal"]["name"], "SIGSEGV") << "the essentials stay";
}

TEST(JsonRenderer, EvenAHugeCrashingThreadFitsTheSmallestCap) {
  auto r = sample_report();
  std::string huge_name(5000, 'T');
  for (int i = 0; i < 256; ++i) {
    engine::Frame f = r.threads[0].frames[0];
    f.function = huge_name;
    f.file = "/src/" + huge_name + ".cpp";
    r.threads[0].frames.insert(r.threads[0].frames.begin(), f);
  }
  r.cmdline.assign(100, std::string(2000, 'a'));
  r.environment = std::vector<std::string>(500, "VAR=" + std::string(1000, 'v'));
  r.exe = "/opt/" + std::string(4000, 'e');
  for (int i = 0; i < 100; ++i) r.problems.push_back("problem " + std::to_string(i) + std::string(300, '!'));
  RenderOptions o;
  o.max_bytes = 4096;  // the smallest max_report_size allows
  std::string text = render_json(r, o);
  EXPECT_LE(text.size(), 4096u);
  json j = parse(text);
  EXPECT_EQ(j["pid"], r.pid);
  EXPECT_EQ(j["signal"]["name"], "SIGSEGV");
  EXPECT_EQ(j["signal"]["code_name"], "SEGV_MAPERR");
  ASSERT_EQ(j["threads"].size(), 1u);
  EXPECT_TRUE(j["threads"][0]["crashed"].get<bool>());
  EXPECT_FALSE(j.contains("environment"));
  EXPECT_NE(j["truncated"].back().get<std::string>().find("to fit max_report_size"), std::string::npos);

  o.max_bytes = 16384;  // room for the top frames, their names cut
  j = parse(render_json(r, o));
  ASSERT_EQ(j["threads"][0]["frames"].size(), 8u);
  std::string function = j["threads"][0]["frames"][1]["function"];
  EXPECT_EQ(function, std::string(200, 'T') + "...");
  EXPECT_FALSE(j["threads"][0]["registers"].is_null());
}

}  // namespace
}  // namespace usercrash::report
