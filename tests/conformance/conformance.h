// Conformance runner against the nftables project's own tests: shared pieces.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace conformance {

// Outcome of one checked item (a rule line, a dump file).
struct Failure {
  std::string where;   // file:line or file
  std::string detail;  // what was expected and what came out
};

struct GroupResult {
  int passed = 0;
  std::vector<Failure> failures;
  int failed() const { return static_cast<int>(failures.size()); }
};

// Groups by name: "py-ok", "py-fail", "py-skipped", "py-decl", "dump-nft", "dump-json".
using Results = std::map<std::string, GroupResult>;

// Runs every tests/py .t file under `py_dir`.
void run_py_suite(const std::filesystem::path& py_dir, const std::string& filter, Results& out);
// Runs every tests/shell dumps/*.nft and *.json-nft under `shell_dir`.
void run_dump_suite(const std::filesystem::path& shell_dir, const std::string& filter, Results& out);

// Sorts the elements of every `{ a, b, c }` in a rule line, so anonymous set
// listings compare without regard to order.
std::string normalize_anonymous_sets(const std::string& rule);

std::string read_text(const std::filesystem::path& p);

}  // namespace conformance
