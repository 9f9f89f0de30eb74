// nfx grammar: the nft rule language as text in, an AST with source locations out.
//
// This is the one public header of the grammar library. It knows nothing about
// packets or the IR: it parses, and it reports errors the way nft prints them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace nfx {

// ---------------------------------------------------------------- locations

// A span of source text. Lines and columns are 1-based; `last_col` is inclusive.
struct SourceLoc {
  std::shared_ptr<const std::string> file;  // display name ("<cmdline>", path)
  int first_line = 0, first_col = 0, last_line = 0, last_col = 0;
  bool valid() const { return first_line > 0; }
};

// Source text kept alive so diagnostics can print the offending line.
struct SourceBuffer {
  std::string name;
  std::string text;
};

struct Diagnostic {
  SourceLoc loc;
  std::string message;
  bool warning = false;
};

// Collects errors; formats them as nft does:
//   file:1:10-13: Error: message
//   <the source line>
//            ^^^^
class Diagnostics {
 public:
  void error(const SourceLoc& loc, std::string message);
  void warning(const SourceLoc& loc, std::string message);
  bool has_errors() const { return errors_ > 0; }
  const std::vector<Diagnostic>& all() const { return diags_; }
  void add_source(std::shared_ptr<const SourceBuffer> src);
  std::string format() const;
  std::string format(const Diagnostic& d) const;

 private:
  std::vector<Diagnostic> diags_;
  std::vector<std::shared_ptr<const SourceBuffer>> sources_;
  int errors_ = 0;
};

// ---------------------------------------------------------------- expressions

struct Expr;
using ExprPtr = std::shared_ptr<Expr>;
struct ChainDecl;

enum class ExprKind {
  Symbol,     // bare word: ssh, echo-request, established, eth0, a hostname
  Number,     // integer literal, text kept for exact re-printing
  String,     // "quoted string"
  Variable,   // $name
  Selector,   // a packet/meta/state selector: ip saddr, meta mark, ct original saddr...
  Unary,      // !x  (negation of a flag value) or -x (never used by nft; reserved)
  Binop,      // & | ^ << >>
  Relational, // lhs op rhs (op may be implicit)
  Range,      // a-b
  Prefix,     // x/len
  Concat,     // a . b . c
  List,       // a,b,c (flag lists without braces)
  Set,        // { e1, e2 } anonymous set
  SetRef,     // @name
  Map,        // key map { ... } or key map @name
  Mapping,    // k : v
  SetElem,    // element with options (timeout, expires, comment, counter...)
  Verdict,    // accept, drop, jump x, goto x, continue, return, queue
  Wildcard,   // *  (catch-all element)
  Value,      // a typed constant produced by semantic analysis
};

enum class RelOp { Implicit, Eq, Ne, Lt, Gt, Le, Ge, Neg /* "!" flags */ };
enum class BinOp { And, Or, Xor, Lshift, Rshift };

// Selector kinds known to the grammar. Names and fields are strings so the
// semantic tables (compiler/) decide what is valid and what it means.
enum class SelectorKind {
  Payload,     // proto field            (ip saddr, tcp dport, vlan id)
  RawPayload,  // @base,offset,length
  Exthdr,      // ip6 extension header field / exthdr X exists
  TcpOption,   // tcp option NAME [FIELD]
  IpOption,    // ip option NAME [FIELD]
  SctpChunk,   // sctp chunk NAME [FIELD]
  Meta,        // meta KEY / bare meta key
  Ct,          // ct [dir] KEY
  Rt,          // rt [ip|ip6] KEY
  Fib,         // fib FLAGS KEY
  Socket,      // socket KEY [level]
  Osf,         // osf [ttl X] name|version
  Ipsec,       // ipsec in|out [spnum N] KEY
  Numgen,      // numgen inc|random mod N [offset N]
  Hash,        // jhash EXPR mod N [seed N] [offset N] / symhash mod N [offset N]
  Tunnel,      // tunnel KEY
  Inner,       // tunnel-inner header selector: vxlan ip saddr, gre tcp dport...
};

struct Expr {
  ExprKind kind;
  SourceLoc loc;

  // Symbol / Number / String / Variable / Verdict name / Selector family
  std::string text;

  // Selector data: family ("ip", "meta", "ct"...) in `text`, then path words
  // (e.g. {"original", "saddr"}) and numeric arguments (raw payload, numgen...)
  SelectorKind selector = SelectorKind::Payload;
  std::vector<std::string> path;
  std::vector<int64_t> args;

  RelOp rel = RelOp::Implicit;
  BinOp binop = BinOp::And;

  // children: Binop/Relational/Range/Mapping use [0],[1]; Prefix [0];
  // Concat/List/Set list; Map [0]=key [1]=set/ref; SetElem [0]=key;
  // Verdict [0]=target expr for jump/goto vmap targets; Hash [0]=input
  std::vector<ExprPtr> kids;

  // Prefix length, Number value (when it fits)
  uint64_t number = 0;
  bool number_fits = true;

  // SetElem options
  struct ElemOptions {
    std::optional<std::string> timeout, expires, comment;
    std::vector<std::string> stmts;  // counter / quota / limit as printed
  } elem;

  // Verdict jump/goto { rules }: the anonymous chain (no name, no hook), or null
  std::shared_ptr<ChainDecl> chain;

  // Filled by semantic analysis: the datatype name and typed bytes.
  std::string dtype;
  std::vector<uint8_t> bytes;  // big-endian value
  unsigned bits = 0;
};

ExprPtr make_expr(ExprKind kind, const SourceLoc& loc, std::string text = {});

// ---------------------------------------------------------------- statements

enum class StmtKind {
  Match,      // a relational expression
  Verdict,
  Counter,    // anonymous or named (counter name X)
  Limit,
  Quota,
  Log,
  Nat,        // snat / dnat / masquerade / redirect
  Reject,
  Queue,
  Dup,
  Fwd,
  Tproxy,
  Synproxy,
  Notrack,
  Last,
  SetStmt,    // add/update/delete @set { ... }
  MapStmt,    // add/update @map { k : v }
  Assign,     // meta/ct/payload/exthdr X set Y
  ObjRef,     // counter name X, quota name X, ct helper set X, ct timeout set X...
  FlowOffload,// flow add @ft
  Xt,         // xt match/target placeholder from iptables-nft (list only)
  OptionReset,  // reset tcp option NAME (strip the option from the packet)
};

struct Stmt {
  StmtKind kind;
  SourceLoc loc;
  std::string name;                 // nat kind, log/reject variant, objref type...
  std::vector<ExprPtr> exprs;       // Match: [rel]; Assign: [lhs, rhs]; Set: [set, elem]...
  std::map<std::string, std::string> opts;  // keyword options: rate, burst, prefix, level...
  std::vector<std::string> flags;   // nat flags, log flags, queue flags
  std::vector<std::shared_ptr<Stmt>> inner;  // statements attached to set/map updates
};
using StmtPtr = std::shared_ptr<Stmt>;

struct Rule {
  SourceLoc loc;
  std::vector<StmtPtr> stmts;
  std::optional<std::string> comment;
  uint64_t handle = 0;
};

// ---------------------------------------------------------------- objects

struct ChainDecl {
  SourceLoc loc;
  std::string name;
  std::optional<std::string> type, hook, policy, comment;
  std::vector<std::string> devices;
  ExprPtr priority;      // number, named priority, or "name +/- n"
  bool has_priority = false;
  std::vector<std::string> flags;  // offload
  std::vector<Rule> rules;
  uint64_t handle = 0;
};

struct SetDecl {
  SourceLoc loc;
  bool is_map = false;
  std::string name;
  std::vector<std::string> key_types;    // "type a . b"
  std::vector<ExprPtr> key_typeof;       // "typeof expr . expr"
  std::vector<std::string> data_types;   // maps: ": type"
  std::vector<ExprPtr> data_typeof;
  bool data_interval = false;            // ": interval type"
  std::optional<std::string> data_verdict_or_obj;  // "verdict", "counter", "quota"...
  std::vector<std::string> flags;
  std::optional<std::string> timeout, gc_interval, policy, comment;
  std::optional<uint64_t> size;
  bool auto_merge = false;
  std::vector<ExprPtr> elements;
  std::vector<StmtPtr> stmts;            // per-element stateful statements template
  uint64_t handle = 0;
};

// Named stateful objects: counter, quota, limit, ct helper/timeout/expectation,
// secmark, synproxy, tunnel.
struct ObjDecl {
  SourceLoc loc;
  std::string type;  // "counter", "quota", "limit", "ct helper", "ct timeout", ...
  std::string name;
  std::map<std::string, std::string> opts;  // keyed option values as written
  std::vector<std::string> order;           // option keys in source order
  std::optional<std::string> comment;
  uint64_t handle = 0;
};

struct FlowtableDecl {
  SourceLoc loc;
  std::string name;
  std::optional<std::string> hook;
  ExprPtr priority;
  std::vector<std::string> devices;
  std::vector<std::string> flags;
  std::optional<std::string> comment;
  uint64_t handle = 0;
};

struct TableDecl {
  SourceLoc loc;
  std::string family = "ip";
  std::string name;
  std::vector<std::string> flags;
  std::optional<std::string> comment;
  std::vector<ChainDecl> chains;
  std::vector<SetDecl> sets;
  std::vector<ObjDecl> objs;
  std::vector<FlowtableDecl> flowtables;
  uint64_t handle = 0;
  uint64_t next_handle = 1;  // kernel: one counter per table for chains, rules, sets, objects
};

// ---------------------------------------------------------------- commands

enum class Verb { Add, Create, Insert, Replace, Delete, Destroy, Flush, Rename, Reset, List, Get,
                  Describe, Monitor, Import, Export };
enum class ObjKind { Ruleset, Table, Chain, Rule, Set, Map, Element, Flowtable, Obj,
                     Tables, Chains, Sets, Maps, Flowtables, Objs, Hook };

struct Command {
  SourceLoc loc;
  Verb verb = Verb::Add;
  ObjKind what = ObjKind::Table;
  std::string family;           // empty: default ("ip")
  std::string table, chain, set, name;  // name: object name / new name for rename
  std::string obj_type;         // for ObjKind::Obj(s): "counter", "ct helper"...
  std::optional<uint64_t> handle, position, index;
  bool position_after = true;   // add ... position N (after) vs insert (before)
  // Payload of the command:
  std::optional<TableDecl> table_decl;      // table blocks and add table
  std::optional<ChainDecl> chain_decl;
  std::optional<SetDecl> set_decl;
  std::optional<ObjDecl> obj_decl;
  std::optional<FlowtableDecl> flowtable_decl;
  std::optional<Rule> rule;
  std::vector<ExprPtr> elements;
};

struct Script {
  std::vector<Command> commands;
};

// ---------------------------------------------------------------- parsing

struct ParseOptions {
  std::vector<std::string> include_paths;  // searched for relative `include` files
  std::map<std::string, std::string> defines;  // -D name=value
};

// Parses a whole nft script. Errors go to `diags`; the returned script holds
// every command that parsed (so several errors can be reported per run).
Script parse_file(const std::string& path, Diagnostics& diags, const ParseOptions& opts = {});
Script parse_string(const std::string& text, const std::string& name, Diagnostics& diags,
                    const ParseOptions& opts = {});

}  // namespace nfx
