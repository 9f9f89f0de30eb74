// The nft front end as a user sees it: errors with locations and carets,
// several errors per run, variables, includes, and listing round trips.
#include <gtest/gtest.h>
#include <nfx/compiler.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace {

struct Loaded {
  bool ok = false;
  std::string errors;
  std::string listing;
};

Loaded load(const std::string& text, const nfx::ParseOptions& popts = {}) {
  Loaded r;
  nfx::Diagnostics diags;
  nfx::Script script = nfx::parse_string(text, "test.nft", diags, popts);
  nfx::Ruleset rs;
  if (!diags.has_errors()) nfx::apply_script(script, rs, diags);
  r.ok = !diags.has_errors();
  r.errors = diags.format();
  if (r.ok) r.listing = nfx::print_ruleset(rs, {});
  return r;
}

TEST(Frontend, SyntaxErrorHasLocationSourceLineAndCaret) {
  auto r = load("table ip t {\n\tchain c {\n\t\tip saddr 1.2.3.4 acept\n\t}\n}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.errors.find("test.nft:3:"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("Error: "), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("\t\tip saddr 1.2.3.4 acept\n"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("^"), std::string::npos) << r.errors;
}

TEST(Frontend, ValueOutOfRangeIsReportedAsNftDoes) {
  auto r = load("table ip t { chain c { ip dscp 99 accept; } }\n");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.errors.find("test.nft:1:32-33: Error: Value 99 exceeds valid range 0-63"), std::string::npos)
      << r.errors;
}

TEST(Frontend, ReportsEverySemanticErrorInOneRun) {
  auto r = load("table ip t {\n chain c {\n  ip dscp 99\n  tcp dport nosuchservice\n }\n}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.errors.find("test.nft:3:"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("test.nft:4:"), std::string::npos) << r.errors;
}

TEST(Frontend, ConflictingProtocolsAreRejected) {
  auto r = load("table inet t { chain c { tcp dport 22 icmp type echo-request accept; } }\n");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.errors.find("conflicting protocols specified: tcp vs. icmp"), std::string::npos) << r.errors;
}

TEST(Frontend, UndefinedVariableIsAnError) {
  auto r = load("table ip t { chain c { ip saddr $nope accept; } }\n");
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.errors.find("nope"), std::string::npos) << r.errors;
}

TEST(Frontend, DefinesExpandAndSymbolsResolve) {
  auto r = load("define ports = { ssh, http }\n"
                "table inet f {\n"
                "\tchain in {\n"
                "\t\ttype filter hook input priority filter + 5; policy drop;\n"
                "\t\ttcp dport $ports ip dscp cs1 accept\n"
                "\t\ticmp type echo-request accept\n"
                "\t}\n"
                "}\n");
  ASSERT_TRUE(r.ok) << r.errors;
  EXPECT_EQ(r.listing,
            "table inet f {\n"
            "\tchain in {\n"
            "\t\ttype filter hook input priority filter + 5; policy drop;\n"
            "\t\ttcp dport { 22, 80 } ip dscp cs1 accept\n"
            "\t\ticmp type echo-request accept\n"
            "\t}\n"
            "}\n");
}

TEST(Frontend, IncludeSearchesTheIncludePath) {
  auto dir = std::filesystem::temp_directory_path() / "nfx_include_test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "defs.nft") << "define web = 80\n";
  nfx::ParseOptions popts;
  popts.include_paths = {dir.string()};
  auto r = load("include \"defs.nft\"\ntable ip t { chain c { tcp dport $web accept; } }\n", popts);
  EXPECT_TRUE(r.ok) << r.errors;
  EXPECT_NE(r.listing.find("tcp dport 80 accept"), std::string::npos) << r.listing;
  auto missing = load("include \"does-not-exist.nft\"\n");
  EXPECT_FALSE(missing.ok);
  std::filesystem::remove_all(dir);
}

TEST(Frontend, FailedScriptChangesNothing) {
  nfx::Diagnostics diags;
  nfx::Ruleset rs;
  auto good = nfx::parse_string("table ip t { chain c { accept; } }\n", "a.nft", diags);
  ASSERT_TRUE(nfx::apply_script(good, rs, diags)) << diags.format();
  std::string before = nfx::print_ruleset(rs, {});
  auto bad = nfx::parse_string("add rule ip t c accept\nadd rule ip t nosuchchain accept\n", "b.nft", diags);
  EXPECT_FALSE(nfx::apply_script(bad, rs, diags));
  EXPECT_EQ(nfx::print_ruleset(rs, {}), before);
}

TEST(Frontend, MalformedInputIsRejectedWithALocatedError) {
  for (const char* text : {"", "{", "}}}}", "table", "table ip", "table ip t { chain", "\"unterminated",
                           "table ip t { chain c { ip saddr 1.2.3.4/99 } }", "@@@@", "$", "define",
                           "table ip t { set s { type ipv4_addr; elements = { 1.2.3.4-1.2.3.1 } } }"}) {
    auto r = load(text);
    // Every input is either accepted or rejected with a located message.
    EXPECT_TRUE(r.ok || r.errors.find("test.nft:") != std::string::npos) << text << "\n" << r.errors;
  }
}

}  // namespace

namespace {

// Found by fuzz_nft_json: a number too large for JSON's number types made
// the reader throw instead of reporting an error.
TEST(JsonInput, HugeNumberIsAnErrorNotACrash) {
  nfx::Diagnostics diags;
  std::string text = "{\"nftables\": [" + std::string(70, '6') + "e666666]}";
  nfx::parse_json(text, "huge.json", diags);
  EXPECT_TRUE(diags.has_errors());
  EXPECT_NE(diags.format().find("huge.json"), std::string::npos) << diags.format();
}

TEST(JsonInput, MalformedJsonPointsAtTheByte) {
  nfx::Diagnostics diags;
  nfx::parse_json("{\"nftables\": [\n  {\"add\": }\n]}", "bad.json", diags);
  EXPECT_TRUE(diags.has_errors());
  EXPECT_NE(diags.format().find("bad.json:2:"), std::string::npos) << diags.format();
}

}  // namespace
