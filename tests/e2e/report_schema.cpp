#include "e2e/report_schema.h"

#include <sys/wait.h>

#include "e2e/harness.h"

namespace usercrash::test {

std::string schema_errors(const std::vector<std::string>& paths, const std::string& definition) {
  std::vector<std::string> argv = {"python3", USERCRASH_SCRIPTS_DIR "/validate_reports.py"};
  if (!definition.empty()) argv.insert(argv.end(), {"--def", definition});
  argv.push_back(USERCRASH_SCHEMA_DIR "/report.schema.json");
  argv.insert(argv.end(), paths.begin(), paths.end());
  RunResult r = run(argv);
  if (WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) return {};
  return r.output.empty() ? "the validator failed" : r.output;
}

std::string schema_errors_of(std::string_view json_text, const std::string& definition) {
  TempDir dir;
  std::string path = dir / "document.json";
  write_file(path, std::string(json_text));
  return schema_errors({path}, definition);
}

}  // namespace usercrash::test
