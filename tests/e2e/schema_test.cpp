// schema/report.schema.json, the contract of the report's JSON: every
// server-backed e2e test validates its reports against it when its server
// goes (harness.cpp); here, that the validator does reject what breaks it,
// and accepts what version 3 allows and what usercrashctl symbolize adds
// (version 4).
#include <gtest/gtest.h>

#include "e2e/harness.h"
#include "e2e/report_schema.h"
#include "engine/report.h"

namespace usercrash::test {
namespace {

using nlohmann::json;

json minimal_report() {
  json r = json::parse(R"({
    "version": 3, "id": "0f8fad5b-d9cb-469f-a165-70867728950e", "pid": 42, "tgid": 42, "namespace_pid": null,
    "tid": 42, "uid": 0, "gid": 0, "comm": "x", "exe": "/usr/bin/x", "exe_build_id": "abcd",
    "signature": "0123456789abcdef0123456789abcdef", "cmdline": ["x"], "time": "2026-01-01T00:00:00Z",
    "kernel": null, "hostname": "h", "source": "core_pattern", "secure": false, "arch": "x86_64",
    "signal": {"number": 11, "name": "SIGSEGV", "code": 1, "code_name": "SEGV_MAPERR", "fault_address": "0x0",
               "sender_pid": null, "sender_uid": null, "cause": null},
    "abort_message": null, "uncaught_exception": null,
    "threads": [{"tid": 42, "name": "x", "state": "R", "crashed": true, "registers": {"rip": "0x1"},
                 "frames": [{"pc": "0x1", "module": "/usr/bin/x", "module_offset": "0x1", "build_id": "abcd",
                             "function": null, "function_offset": null, "file": null, "line": null,
                             "method": "context", "inlined": false, "resymbolized": false}],
                 "unwind_stopped": null}],
    "memory_near_registers": [], "disassembly": [], "maps": [], "open_files": [], "kernel_stack": [],
    "core": null, "truncated": [], "problems": [], "collection_ms": 1.5, "sandbox": null, "symbolized": null
  })");
  r["version"] = engine::kReportVersion;
  return r;
}

std::string errors_of(const json& doc, const std::string& definition = "") {
  return schema_errors_of(doc.dump(), definition);
}

TEST(ReportSchema, AcceptsAWellFormedReportAndRejectsBrokenOnes) {
  EXPECT_EQ(errors_of(minimal_report()), "");
  json missing = minimal_report();
  missing.erase("signature");
  EXPECT_NE(errors_of(missing).find("'signature' is a required property"), std::string::npos);
  json no_id = minimal_report();
  no_id.erase("id");
  EXPECT_NE(errors_of(no_id).find("'id' is a required property"), std::string::npos);
  json bad_id = minimal_report();
  bad_id["id"] = "usercrash_07";
  EXPECT_NE(errors_of(bad_id).find("id"), std::string::npos);
  json old = minimal_report();
  old["version"] = 2;
  EXPECT_NE(errors_of(old).find("version"), std::string::npos);
  json bad_pc = minimal_report();
  bad_pc["threads"][0]["frames"][0]["pc"] = 1;
  EXPECT_NE(errors_of(bad_pc).find("threads/0/frames/0/pc"), std::string::npos);
  json bad_signature = minimal_report();
  bad_signature["signature"] = "not hex";
  EXPECT_NE(errors_of(bad_signature).find("signature"), std::string::npos);
  json unknown = minimal_report();
  unknown["brand_new_key"] = 1;
  EXPECT_NE(errors_of(unknown).find("brand_new_key"), std::string::npos) << "a new key needs the schema";
  json bad_method = minimal_report();
  bad_method["threads"][0]["frames"][0]["method"] = "guess";
  EXPECT_NE(errors_of(bad_method).find("method"), std::string::npos);
}

TEST(ReportSchema, AcceptsWhatVersion3Allows) {
  json r = minimal_report();
  r["time"] = nullptr;  // a core file analyzed later
  r["source"] = "core_file";
  r["signal"]["code"] = nullptr;
  r["signal"]["code_name"] = nullptr;
  r["threads"][0]["frames"][0]["method"] = "signal";
  r["uncaught_exception"] = {{"type", "std::runtime_error"}, {"message", "boom"}, {"source", "the thrown object"}};
  r["sandbox"] = {{"user", "usercrash"},  {"uid", 998},      {"gid", 998},
                  {"no_new_privs", true}, {"seccomp", true}, {"landlock", false}};
  r["environment"] = {"PATH=/bin"};
  r["core"] = {{"saved", true}, {"bytes", 10}, {"compressed_bytes", 5}, {"truncated", false}};
  EXPECT_EQ(errors_of(r), "");
  r["sandbox"].erase("landlock");
  EXPECT_NE(errors_of(r).find(": sandbox: "), std::string::npos) << "each of its keys is required";
}

TEST(ReportSchema, AcceptsAReportSymbolizedElsewhere) {
  json r = minimal_report();
  r["threads"][0]["frames"][0]["resymbolized"] = true;
  r["symbolized"] = json::parse(R"({"time": "2026-01-01T00:00:00Z", "frames_changed": 1, "modules": [
    {"build_id": "abcd", "module": "/usr/bin/x", "debug_file": "/d/.build-id/ab/cd.debug", "source": "debug_dir",
     "problem": null},
    {"build_id": "ef01", "module": null, "debug_file": null, "source": null, "problem": "no debug file"}]})");
  EXPECT_EQ(errors_of(r), "");
  r["symbolized"]["modules"][0]["source"] = "somewhere";
  EXPECT_NE(errors_of(r).find("source"), std::string::npos);
  r = minimal_report();
  r["threads"][0]["frames"][0].erase("resymbolized");
  EXPECT_NE(errors_of(r).find("'resymbolized' is a required property"), std::string::npos);
}

TEST(ReportSchema, DescribesListAndListGroup) {
  json entry = json::parse(R"({
    "version": 3, "slot": "usercrash_00", "id": null, "index": 0, "path": "/var/crash/usercrash_00",
    "time": "2026-01-01T00:00:00Z", "pid": 1, "uid": 0, "signal": {"number": 11, "name": "SIGSEGV"},
    "comm": "x", "exe": null, "signature": null, "core": false, "json": true, "problem": null, "disk_bytes": 10
  })");
  entry["version"] = engine::kReportVersion;
  EXPECT_EQ(errors_of(json::array({entry}), "list"), "");
  entry.erase("version");
  EXPECT_NE(errors_of(json::array({entry}), "list"), "");
  json group = json::parse(R"({
    "version": 3, "signature": "0123456789abcdef0123456789abcdef", "uid": 0, "count": 300,
    "counted_by_index": true, "first_seen": "a", "last_seen": "b", "newest": "usercrash_03",
    "newest_path": "/var/crash/usercrash_03", "slots": ["usercrash_03"], "comm": "x", "exe": "/x"
  })");
  group["version"] = engine::kReportVersion;
  EXPECT_EQ(errors_of(json::array({group}), "list_groups"), "");
  group["count"] = 0;
  EXPECT_NE(errors_of(json::array({group}), "list_groups"), "");
}

}  // namespace
}  // namespace usercrash::test
