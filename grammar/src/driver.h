// Parser driver: owns the scanner state, the current location, `define`
// scopes and the include stack for one source buffer, plus the small
// scratch state some grammar actions accumulate into.
#pragma once

#include <nfx/grammar.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace nfx {

// Variables defined with `define`, shared by a file and the files it includes.
struct DefineScope {
  std::map<std::string, ExprPtr> vars;
};

class Driver {
 public:
  Driver(Diagnostics& diags, const ParseOptions& opts, std::shared_ptr<DefineScope> scope,
         int include_depth);

  // Parses `text` (named `name` in messages) and appends its commands to `out`.
  void parse(const std::string& text, const std::string& name, Script& out);

  // --- used by the scanner
  void advance(int len);  // the token just matched spans len more columns
  void retreat(int len);  // the scanner gave back the last len characters (yyless)
  void step();            // whitespace: nothing to report
  void newline();
  const SourceLoc& loc() const { return loc_; }
  void bad_char(char c);

  // --- used by the grammar actions
  void error(const SourceLoc& loc, const std::string& msg) { diags_.error(loc, msg); }
  Script& script() { return *script_; }
  void define(const SourceLoc& loc, const std::string& name, ExprPtr value, bool redefine);
  void undefine(const SourceLoc& loc, const std::string& name);
  ExprPtr lookup(const SourceLoc& loc, const std::string& name);
  void include(const SourceLoc& loc, const std::string& path);
  static void set_position(Command& cmd, std::pair<int, uint64_t> pos);

  // object specs of delete/list/flush/reset
  void spec(ObjKind what, const std::string& family, const std::string& table);
  Command spec_;

  // object option lists (`counter c { packets 1 bytes 2 }`)
  void opt(const SourceLoc& loc, const std::string& key, const std::string& value);
  void take_option(ObjDecl& obj);
  void policy_item(const std::string& key, const std::string& value);
  std::vector<std::pair<std::string, std::string>> pending_opts_;
  std::string policy_text_;

  // set element options
  ExprPtr wrap_elem(ExprPtr key);
  Expr::ElemOptions elem_;
  std::string elem_timeout_;

  // statement scratch
  void log_arg(Stmt& s);    // moves the last log argument (opts_, flags_) into s
  void queue_arg(Stmt& s);  // moves the last queue argument (inner_expr_, flags_) into s
  ExprPtr inner_expr_;
  std::map<std::string, std::string> opts_;
  std::vector<std::string> flags_;
  std::vector<std::shared_ptr<Stmt>> inner_;
  std::string sign_;
  std::vector<std::string> words_;
  std::vector<int64_t> args_;
  std::vector<std::string> take_words() { return std::exchange(words_, {}); }
  std::vector<int64_t> take_args() { return std::exchange(args_, {}); }
  int64_t hash_seed_ = 0, hash_offset_ = 0, hash_has_seed_ = 0;
  void reset_hash() { hash_seed_ = hash_offset_ = hash_has_seed_ = 0; }

 private:
  Diagnostics& diags_;
  const ParseOptions& opts_cfg_;
  std::shared_ptr<DefineScope> scope_;
  int include_depth_;
  std::shared_ptr<const std::string> file_;
  SourceLoc loc_;
  int line_ = 1, col_ = 1;
  Script* script_ = nullptr;
};

}  // namespace nfx
