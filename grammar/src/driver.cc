#include "driver.h"

#include <fmt/format.h>
#include <glob.h>

#include <filesystem>
#include <fstream>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "parser.hh"
#include "scanner.hh"

namespace nfx {

namespace {
constexpr int kMaxIncludeDepth = 16;  // as nft's MAX_INCLUDE_DEPTH

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}
}  // namespace

Driver::Driver(Diagnostics& diags, const ParseOptions& opts, std::shared_ptr<DefineScope> scope,
               int include_depth)
    : diags_(diags), opts_cfg_(opts), scope_(std::move(scope)), include_depth_(include_depth) {}

void Driver::parse(const std::string& text, const std::string& name, Script& out) {
  auto src = std::make_shared<SourceBuffer>(SourceBuffer{name, text});
  diags_.add_source(src);
  file_ = std::make_shared<const std::string>(name);
  line_ = col_ = 1;
  loc_ = SourceLoc{file_, 1, 1, 1, 0};
  script_ = &out;

  yyscan_t scanner;
  nfx_yylex_init_extra(this, &scanner);
  // A NUL byte would end flex's buffer early; nft rejects such input, so do we.
  if (text.find('\0') != std::string::npos) {
    diags_.error(loc_, "input contains a NUL byte");
    nfx_yylex_destroy(scanner);
    return;
  }
  YY_BUFFER_STATE buf = nfx_yy_scan_bytes(text.data(), static_cast<int>(text.size()), scanner);
  Parser parser(scanner, *this);
  parser.parse();
  nfx_yy_delete_buffer(buf, scanner);
  nfx_yylex_destroy(scanner);
}

void Driver::advance(int len) {
  loc_.first_line = loc_.last_line = line_;
  loc_.first_col = col_;
  loc_.last_col = col_ + len - 1;
  col_ += len;
}

void Driver::retreat(int len) {
  col_ -= len;
  loc_.last_col -= len;
}

void Driver::step() {}

void Driver::newline() {
  ++line_;
  col_ = 1;
}

void Driver::bad_char(char c) {
  if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f)
    diags_.error(loc_, fmt::format("syntax error, unexpected character '{}'", c));
  else
    diags_.error(loc_, fmt::format("syntax error, unexpected byte 0x{:02x}", static_cast<unsigned char>(c)));
}

void Driver::define(const SourceLoc& loc, const std::string& name, ExprPtr value, bool redefine) {
  if (!redefine && scope_->vars.count(name)) {
    diags_.error(loc, fmt::format("redefinition of symbol '{}'", name));
    return;
  }
  scope_->vars[name] = std::move(value);
}

void Driver::undefine(const SourceLoc& loc, const std::string& name) {
  if (!scope_->vars.erase(name)) diags_.error(loc, fmt::format("undefined symbol '{}'", name));
}

// Variables expand to a copy of their value that carries the use's location.
ExprPtr Driver::lookup(const SourceLoc& loc, const std::string& name) {
  auto it = scope_->vars.find(name);
  if (it == scope_->vars.end() || !it->second) {
    diags_.error(loc, fmt::format("unknown identifier '{}'", name));
    return make_expr(ExprKind::Symbol, loc, name);
  }
  auto copy = std::make_shared<Expr>(*it->second);
  copy->loc = loc;
  return copy;
}

void Driver::include(const SourceLoc& loc, const std::string& path) {
  if (include_depth_ >= kMaxIncludeDepth) {
    diags_.error(loc, "Include nested too deeply, max 16 levels");
    return;
  }
  namespace fs = std::filesystem;
  std::vector<std::string> candidates;
  bool has_glob = path.find_first_of("*?[") != std::string::npos;
  auto expand = [&](const std::string& pattern) {
    if (!has_glob) {
      if (fs::exists(pattern)) candidates.push_back(pattern);
      return;
    }
    glob_t g{};
    if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) candidates.push_back(g.gl_pathv[i]);
    globfree(&g);
  };
  if (!path.empty() && path[0] == '/') {
    expand(path);
  } else {
    // Relative paths: the including file's directory... nft uses the search
    // path (-I) then the default include directory.
    for (const auto& dir : opts_cfg_.include_paths) {
      expand((fs::path(dir) / path).string());
      if (!candidates.empty()) break;
    }
    if (candidates.empty()) expand(path);
  }
  if (candidates.empty()) {
    // A glob that matches nothing is not an error in nft; a plain path is.
    if (!has_glob) diags_.error(loc, fmt::format("File not found: {}", path));
    return;
  }
  for (const auto& file : candidates) {
    std::string text;
    if (!read_file(file, text)) {
      diags_.error(loc, fmt::format("Could not open file \"{}\"", file));
      continue;
    }
    Driver nested(diags_, opts_cfg_, scope_, include_depth_ + 1);
    nested.parse(text, file, *script_);
  }
}

void Driver::set_position(Command& cmd, std::pair<int, uint64_t> pos) {
  switch (pos.first) {
    case 0: cmd.position = pos.second; break;
    case 1: cmd.handle = pos.second; break;
    case 2: cmd.index = pos.second; break;
    default: break;
  }
}

void Driver::spec(ObjKind what, const std::string& family, const std::string& table) {
  spec_ = Command{};
  spec_.what = what;
  spec_.family = family;
  spec_.table = table;
}

void Driver::opt(const SourceLoc&, const std::string& key, const std::string& value) {
  pending_opts_.emplace_back(key, value);
}

void Driver::take_option(ObjDecl& obj) {
  for (auto& [k, v] : pending_opts_) {
    if (!obj.opts.count(k)) obj.order.push_back(k);
    obj.opts[k] = v;
  }
  pending_opts_.clear();
}

void Driver::policy_item(const std::string& key, const std::string& value) {
  if (!policy_text_.empty()) policy_text_ += ", ";
  policy_text_ += key + " : " + value;
}

void Driver::log_arg(Stmt& s) {
  for (auto& [k, v] : opts_) s.opts[k] = v;
  opts_.clear();
  for (auto& f : flags_) s.flags.push_back(f);
  flags_.clear();
}

void Driver::queue_arg(Stmt& s) {
  if (inner_expr_) s.exprs = {std::exchange(inner_expr_, nullptr)};
  for (auto& f : flags_) s.flags.push_back(f);
  flags_.clear();
}

ExprPtr Driver::wrap_elem(ExprPtr key) {
  if (!elem_.timeout && !elem_.expires && !elem_.comment && elem_.stmts.empty()) return key;
  auto e = make_expr(ExprKind::SetElem, key->loc);
  e->kids = {key};
  e->elem = std::exchange(elem_, {});
  return e;
}

// ----------------------------------------------------------------- public API

Script parse_string(const std::string& text, const std::string& name, Diagnostics& diags,
                    const ParseOptions& opts) {
  Script script;
  auto scope = std::make_shared<DefineScope>();
  Driver drv(diags, opts, scope, 0);
  for (auto& [k, v] : opts.defines) scope->vars[k] = make_expr(ExprKind::Symbol, {}, v);
  drv.parse(text, name, script);
  return script;
}

Script parse_file(const std::string& path, Diagnostics& diags, const ParseOptions& opts) {
  std::string text;
  if (!read_file(path, text)) {
    diags.error(SourceLoc{}, fmt::format("Could not open file \"{}\": {}", path, std::strerror(errno)));
    return {};
  }
  return parse_string(text, path, diags, opts);
}

}  // namespace nfx
