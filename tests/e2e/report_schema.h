// schema/report.schema.json in the tests: every report a server-backed e2e
// test produced is validated against it when its ServerProcess goes, and
// the JSON of debugger, analyze and list where their tests read it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace usercrash::test {

// Validates the JSON reports at `paths` (files, or directories standing for
// their usercrash_NN.json) against schema/report.schema.json with
// python3-jsonschema (scripts/validate_reports.py); "" when all are valid,
// else what is wrong. `definition`: validate against the schema's
// $defs/DEFINITION instead of a report ("list", "list_groups").
std::string schema_errors(const std::vector<std::string>& paths, const std::string& definition = "");

// The same for one document given as text (a program's --json output).
std::string schema_errors_of(std::string_view json_text, const std::string& definition = "");

}  // namespace usercrash::test
