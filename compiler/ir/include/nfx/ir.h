// nfx IR: a checked ruleset as typed expressions, rules, chains and sets.
//
// This is the one public header of the IR library. The IR sits between the
// front end (compiler/) and the executors (vm/ interpreter, compiler/jit):
// three consumers look inside it (optimiser, JIT, diff), so rules are data,
// not callbacks.
//
// Values are byte strings laid out as the kernel's registers hold them:
// payload loads and big-endian keys in network order, host-order keys
// (meta mark, ct mark, ...) in this machine's order. Every value expression
// knows its byte length and byte order, so compares and ranges can order
// values numerically the way nft's bytecode does after its byteorder ops.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace nfx::ir {

using Bytes = std::vector<uint8_t>;

enum class Order : uint8_t { Big, Host };

// Kernel enum values where one exists, so traces and dumps read like nft's.
enum class PayloadBase : uint8_t { Link = 0, Network = 1, Transport = 2, Inner = 3 };
enum class ExthdrOp : uint8_t { Ipv6 = 0, TcpOpt = 1, Ipv4 = 2, Sctp = 3 };
enum class CtDir : int8_t { None = -1, Original = 0, Reply = 1 };

// ------------------------------------------------------------------ values

enum class ValueKind : uint8_t {
  Const,      // data
  Payload,    // base, offset, len (bytes); a load outside the packet breaks the rule
  Exthdr,     // op, type, offset, len; present: 1-byte "exists" flag instead of data
  Meta,       // key = NFT_META_*
  Ct,         // key = NFT_CT_*, dir
  Rt,         // key = NFT_RT_*
  Fib,        // key = NFT_FIB_RESULT_*, flags = NFTA_FIB_F_*
  Socket,     // key = NFT_SOCKET_*, level
  Numgen,     // random or incremental: (n % modulus) + offset
  Hash,       // jhash(args[0], seed) % modulus + offset; symmetric: symhash
  Bitwise,    // (args[0] & mask) ^ xor  (the kernel's mask-and-xor form)
  Binop,      // args[0] OP args[1]     (and, or, xor between two values)
  Shift,      // args[0] << shift or >> shift, on the value as a big number
  ByteOrder,  // hton/ntoh of args[0] in `size`-byte units
  Concat,     // args laid out in order, each padded to 4 bytes (registers)
  MapLookup,  // data of set `set` for key args[0]; no element: the rule breaks
};

enum class BinOp : uint8_t { And, Or, Xor };

struct Value;
using ValuePtr = std::shared_ptr<const Value>;

struct Value {
  ValueKind kind = ValueKind::Const;
  uint32_t len = 0;           // bytes produced
  Order order = Order::Big;
  std::string dtype;          // nft datatype name, for printing only

  Bytes data;                 // Const; Bitwise mask
  Bytes xor_data;             // Bitwise xor

  PayloadBase base = PayloadBase::Link;
  ExthdrOp exthdr = ExthdrOp::Ipv6;
  uint32_t offset = 0;        // Payload / Exthdr byte offset
  uint32_t type = 0;          // Exthdr header type / option kind
  bool present = false;       // Exthdr "exists"

  uint32_t key = 0;           // Meta / Ct / Rt / Fib / Socket key
  CtDir dir = CtDir::None;
  uint32_t flags = 0;         // Fib input flags; Numgen: 1 = random
  uint32_t level = 0;         // Socket cgroupv2 level

  uint32_t modulus = 0, seed = 0, add = 0;  // Numgen / Hash
  bool symmetric = false;                   // Hash: symhash

  BinOp op = BinOp::And;
  bool left = true;           // Shift direction
  uint32_t shift = 0;         // Shift bits
  bool hton = true;           // ByteOrder direction
  uint32_t size = 0;          // ByteOrder unit

  int set = -1;               // MapLookup: index into Table::sets
  std::vector<ValuePtr> args;
};

// ------------------------------------------------------------------ predicates

enum class CmpOp : uint8_t { Eq, Ne, Lt, Gt, Le, Ge };

enum class PredKind : uint8_t {
  Cmp,     // lhs OP value
  Range,   // lo <= lhs <= hi  (negate: outside)
  Prefix,  // the first `prefix` bits of lhs equal value's (negate: differ)
  Flags,   // lhs & value != 0 ; negate: == 0  (nft's implicit flag test)
  Lookup,  // lhs in set `set` (negate: not in)
};

struct Predicate {
  PredKind kind = PredKind::Cmp;
  CmpOp op = CmpOp::Eq;
  bool negate = false;
  ValuePtr lhs;
  Bytes value, hi;    // Cmp/Prefix/Flags: value; Range: value..hi
  uint32_t prefix = 0;
  int set = -1;
};

// ------------------------------------------------------------------ statements

// Verdict codes as the kernel numbers them.
enum class VerdictCode : int32_t {
  Drop = 0, Accept = 1, Stolen = 2, Queue = 3,
  Continue = -1, Break = -2, Jump = -3, Goto = -4, Return = -5,
};

struct Verdict {
  VerdictCode code = VerdictCode::Continue;
  int chain = -1;        // Jump/Goto: index into Table::chains
  uint16_t queue_num = 0, queue_to = 0;  // Queue: range [num, to]
  bool queue_bypass = false, queue_fanout = false;
};

enum class StmtKind : uint8_t {
  Match,       // pred; not matching ends the rule
  Verdict,     // verdict
  VerdictMap,  // verdict from set `set` for value; no element: the rule breaks
  Counter,     // anonymous (obj = -1) or named counter object
  Limit,       // rate/unit/burst/bytes/over, or named limit object
  Quota,       // bytes/used/over, or named quota object
  Log,         // prefix, level, group...
  MetaSet,     // key := value
  CtSet,       // key[dir] := value
  PayloadSet,  // base/offset/len := value, checksum fix-up
  ExthdrSet,   // exthdr op/type/offset/len := value
  Nat,         // snat/dnat/masquerade/redirect
  Reject,      // type/code
  Notrack,
  SetUpdate,   // add/update/delete key [: data] in set, with timeout
  ObjRef,      // ct helper/timeout/expectation, secmark, synproxy by name
  Dup, Fwd,    // to address/device
  Last,        // last used
};

enum class NatType : uint8_t { Snat, Dnat, Masquerade, Redirect };
enum class SetOp : uint8_t { Add, Update, Delete };

struct Stmt {
  StmtKind kind = StmtKind::Verdict;
  Predicate pred;             // Match
  Verdict verdict;            // Verdict
  ValuePtr value;             // VerdictMap key; *Set value; Dup/Fwd address
  ValuePtr data;              // SetUpdate map data; Dup/Fwd device
  int set = -1;               // VerdictMap / SetUpdate
  int obj = -1;               // named counter/limit/quota/objref: index into Table::objects

  // Meta/Ct/Payload/Exthdr set: the target, as in Value
  uint32_t key = 0;
  CtDir dir = CtDir::None;
  PayloadBase base = PayloadBase::Link;
  ExthdrOp exthdr = ExthdrOp::Ipv6;
  uint32_t offset = 0, len = 0, type = 0;
  uint8_t csum_type = 0;      // 0 none, 1 inet, 2 sctp
  uint32_t csum_offset = 0;   // within the same base
  bool csum_l4 = false;       // also fix the transport pseudo-header checksum

  // Counter: initial values
  uint64_t packets = 0, bytes = 0;

  // Limit / Quota
  uint64_t rate = 0, unit_seconds = 1, burst = 0, quota_bytes = 0, quota_used = 0;
  bool limit_bytes = false, over = false;

  // Log
  std::string prefix;
  int level = -1, group = -1;
  uint32_t snaplen = 0, qthreshold = 0, log_flags = 0;

  // Nat: family 2 ip / 10 ip6; addresses and ports as values (or null)
  NatType nat = NatType::Snat;
  uint8_t nat_family = 0;
  ValuePtr addr_min, addr_max, port_min, port_max;
  uint32_t nat_flags = 0;     // NF_NAT_RANGE_* (persistent, random, fully-random, netmap)

  // Reject: NFT_REJECT_* type and code
  uint8_t reject_type = 0, reject_code = 0;

  // SetUpdate
  SetOp set_op = SetOp::Add;
  std::optional<uint64_t> timeout_ms;
  std::vector<Stmt> inner;    // stateful statements per element

  std::string name;           // ObjRef kind ("ct helper"), for printing
};

// ------------------------------------------------------------------ containers

struct Rule {
  uint64_t handle = 0;
  std::string comment;
  std::string source;         // "file:line:col" of the rule, for traces and errors
  std::vector<Stmt> stmts;
};

struct Chain {
  std::string name;
  uint64_t handle = 0;
  bool base = false;
  std::string type, hook;     // "filter" / "nat" / "route"; "input", "ingress", ...
  int priority = 0;
  bool policy_drop = false;
  std::vector<std::string> devices;
  std::vector<Rule> rules;
};

struct Element {
  Bytes key, key_end;         // key_end: interval end (inclusive) for ranges
  Bytes data;                 // map data
  Verdict verdict;            // verdict maps
  bool catchall = false;
  std::optional<uint64_t> timeout_ms, expires_ms;
};

struct Set {
  std::string name;
  uint64_t handle = 0;
  bool anonymous = false, is_map = false, verdict_map = false, interval = false;
  bool dynamic = false, has_timeout = false;
  uint32_t key_len = 0, data_len = 0;
  std::vector<uint32_t> field_len;   // concatenation field lengths (bytes, unpadded)
  Order key_order = Order::Big, data_order = Order::Big;
  std::optional<uint64_t> timeout_ms;
  uint64_t size = 0;                 // 0: unlimited
  std::vector<Element> elements;
};

struct Object {
  std::string type;                  // "counter", "quota", "limit", "ct helper", ...
  std::string name;
  uint64_t handle = 0;
  uint64_t packets = 0, bytes = 0;   // counter
  uint64_t quota_bytes = 0, quota_used = 0;
  bool over = false;
  uint64_t rate = 0, unit_seconds = 1, burst = 0;
  bool limit_bytes = false;
  std::string helper;                // ct helper protocol name ("ftp")
  uint8_t l4proto = 0;
};

enum class Family : uint8_t { Ip = 2, Ip6 = 10, Inet = 1, Arp = 3, Bridge = 7, Netdev = 5 };

struct Table {
  Family family = Family::Ip;
  std::string name;
  uint64_t handle = 0;
  bool dormant = false;
  std::vector<Chain> chains;
  std::vector<Set> sets;
  std::vector<Object> objects;
};

struct Program {
  std::vector<Table> tables;
};

// ------------------------------------------------------------------ helpers

const char* family_name(Family f);
bool family_from_name(const std::string& name, Family& out);

// Big-endian byte-string arithmetic, shared by lowering and the executors.
Bytes be_resize(const Bytes& b, size_t len);          // keep low-order bytes, zero-extend
Bytes be_shift_left(const Bytes& b, unsigned bits);   // same length, bits shifted out are lost
Bytes be_shift_right(const Bytes& b, unsigned bits);
Bytes be_from_u64(uint64_t v, size_t len);
uint64_t be_to_u64(const Bytes& b);                   // low 64 bits
Bytes reversed(Bytes b);
// A value in the canonical order sets and ranges use (big-endian numbers).
inline Bytes to_big(const Bytes& b, Order o) { return o == Order::Host ? reversed(b) : b; }
inline Bytes from_big(const Bytes& b, Order o) { return o == Order::Host ? reversed(b) : b; }

// Readable IR, one block per rule (`nfx compile --emit=ir`).
std::string print_program(const Program& p);
std::string print_value(const Value& v);
std::string print_predicate(const Predicate& p);

}  // namespace nfx::ir
