// Connection tracking as nf_conntrack does it: tuples and their inverses,
// per-protocol trackers, a bounded table of entries confirmed only when a
// packet leaves the last hook, expiry with the kernel's default timeouts,
// and the entries printed as `conntrack -L` prints them.
//
// A packet's life: in() at the conntrack hook (prerouting or output,
// priority -200) finds the packet's entry or makes an unconfirmed one and
// runs its protocol's tracker, giving the packet's Info (ct state); the
// rules run; confirm() at the last hook (input or postrouting) inserts an
// unconfirmed entry into the table, drop() forgets it. So a first packet
// that is dropped leaves no state.
#pragma once

#include <nfx/packet.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace nfx::conntrack {

// IPS_* status bits (linux/netfilter/nf_conntrack_common.h).
enum Status : uint32_t {
  kExpected = 1u << 0,
  kSeenReply = 1u << 1,
  kAssured = 1u << 2,
  kConfirmed = 1u << 3,
  kSrcNat = 1u << 4,
  kDstNat = 1u << 5,
  kSeqAdjust = 1u << 6,
  kSrcNatDone = 1u << 7,
  kDstNatDone = 1u << 8,
  kDying = 1u << 9,
  kFixedTimeout = 1u << 10,
  kTemplate = 1u << 11,
  kHelper = 1u << 13,
  kOffload = 1u << 14,
};

// What a packet is to its connection (enum ip_conntrack_info); None: the
// packet has no entry (not IP, a tracker refused it: ct state invalid).
enum class Info : uint8_t {
  Established = 0,
  Related = 1,
  New = 2,
  EstablishedReply = 3,
  RelatedReply = 4,
  Untracked = 7,
  None = 255,
};

// `ct state` bits as nft matches them (NF_CT_STATE_*_BIT).
inline constexpr uint32_t kStateInvalid = 1, kStateEstablished = 2, kStateRelated = 4, kStateNew = 8,
                          kStateUntracked = 64;
uint32_t state_bits(Info info);

enum class Dir : uint8_t { Original = 0, Reply = 1 };

inline constexpr uint8_t kNfprotoIpv4 = 2, kNfprotoIpv6 = 10;

// nf_conntrack_tuple: addresses, protocols and the per-protocol part.
struct Tuple {
  std::array<uint8_t, 16> src{}, dst{};  // IPv4: the first 4 bytes, the rest 0
  // TCP, UDP, UDP-Lite, SCTP, DCCP: the ports. ICMP/ICMPv6: sport is the echo
  // id, dport the type (high byte) and code (low byte). GRE: the keys.
  uint16_t sport = 0, dport = 0;
  uint8_t l3 = 0;  // kNfprotoIpv4 or kNfprotoIpv6
  uint8_t l4 = 0;  // IP protocol number
  bool operator==(const Tuple&) const = default;

  uint8_t icmp_type() const { return static_cast<uint8_t>(dport >> 8); }
  uint8_t icmp_code() const { return static_cast<uint8_t>(dport); }
};

// The tuple of a packet (nf_ct_get_tuple): nullopt when its headers are
// too short for the protocol's part. `th_off` is the transport header.
std::optional<Tuple> packet_tuple(std::span<const uint8_t> frame, const packet::PacketLayout& layout);

// The tuple of the reply direction (nf_ct_invert_tuple): nullopt for an
// ICMP/ICMPv6 type without an answer type.
std::optional<Tuple> invert(const Tuple& t);

// TCP connection states (enum tcp_conntrack), as conntrack -L names them.
enum class TcpState : uint8_t {
  None,
  SynSent,
  SynRecv,
  Established,
  FinWait,
  CloseWait,
  LastAck,
  TimeWait,
  Close,
  SynSent2,
};
const char* tcp_state_name(TcpState s);

// SCTP association states (enum sctp_conntrack).
enum class SctpState : uint8_t {
  None,
  Closed,
  CookieWait,
  CookieEchoed,
  Established,
  ShutdownSent,
  ShutdownRecd,
  ShutdownAckSent,
  HeartbeatSent,
};
const char* sctp_state_name(SctpState s);

// The kernel's default timeouts, in seconds (the nf_conntrack_*_timeout
// sysctls of a fresh namespace).
struct Timeouts {
  uint32_t generic = 600;
  uint32_t udp_unreplied = 30, udp_stream = 120;
  uint32_t icmp = 30, icmpv6 = 30;
  uint32_t gre_unreplied = 30, gre_stream = 180;
  // By TcpState (None unused), then the retransmission and unacknowledged
  // data timeouts.
  std::array<uint32_t, 10> tcp = {120, 120, 60, 432000, 120, 60, 30, 120, 10, 120};
  uint32_t tcp_max_retrans = 300, tcp_unacknowledged = 300;
  // By SctpState (None: a new association's, the Closed one).
  std::array<uint32_t, 9> sctp = {10, 10, 3, 3, 210, 3, 3, 3, 30};
};

struct Config {
  size_t max_entries = 262144;  // nf_conntrack_max
  Timeouts timeouts;
  bool checksum = true;         // nf_conntrack_checksum: verify at prerouting
  bool tcp_loose = true;        // nf_conntrack_tcp_loose: pick up established connections
  bool tcp_be_liberal = false;  // nf_conntrack_tcp_be_liberal: only out-of-window RSTs are invalid
  uint32_t tcp_max_retrans = 3; // nf_conntrack_tcp_max_retrans
};

// What the TCP tracker keeps per direction (struct ip_ct_tcp_state): the
// highest sequence end sent, the highest end the peer's window allows, the
// largest window, the highest ack sent, the window scale, flags.
struct TcpSide {
  uint32_t end = 0, maxend = 0, maxwin = 0, maxack = 0;
  uint8_t scale = 0, flags = 0;
};

// The SCTP tracker's state of an association (struct ip_ct_sctp): the
// verification tags each direction must carry, which side sent an INIT.
struct SctpTrack {
  SctpState state = SctpState::None;
  std::array<uint32_t, 2> vtag{};  // by Dir
  std::array<bool, 2> init{};
  bool heartbeat_vtag_failed = false;
  uint8_t last_dir = 0;
};

// Sequence number adjustment of one direction (struct nf_ct_seqadj), when
// a helper with NAT changed the length of a segment: segments after
// `correction_pos` are shifted by `offset_after`, earlier ones by
// `offset_before`.
struct SeqAdj {
  uint32_t correction_pos = 0;
  int32_t offset_before = 0, offset_after = 0;
};
// nf_ct_seq_offset: the shift for sequence number `seq` of `adj`'s direction.
int32_t seq_offset(const SeqAdj& adj, uint32_t seq);

// The TCP tracker's state of a connection (struct ip_ct_tcp).
struct TcpTrack {
  std::array<TcpSide, 2> seen;  // by Dir
  std::array<SeqAdj, 2> seqadj;  // by Dir
  TcpState state = TcpState::None;
  uint8_t last_dir = 0, last_index = 0, last_wscale = 0, last_flags = 0, retrans = 0;
  uint16_t last_win = 0;
  uint32_t last_seq = 0, last_ack = 0, last_end = 0;
};

// Where the packet is when it is tracked.
enum class TrackHook : uint8_t { Prerouting, Output };

// One connection (struct nf_conn).
struct Entry;

// What only some connections carry (the kernel's conntrack extensions), kept
// out of the entry so that the common one stays small.
struct Extensions {
  SctpTrack sctp;
  // The connection that expected this one (a helper's data connection), and
  // the helper attached to this one ("ftp", "tftp"; empty: none).
  std::weak_ptr<Entry> master;
  std::string helper;
  // Accounting (the acct extension, present when the table counted at the
  // entry's creation): packets and bytes (IP lengths) by direction.
  bool acct = false;
  std::array<uint64_t, 2> packets{}, bytes{};
  // The FTP helper's state (struct nf_ct_ftp_master): per direction the
  // sequence numbers just after a newline, where commands may start.
  std::array<std::array<uint32_t, 2>, 2> ftp_seq_after_nl{};
  std::array<uint8_t, 2> ftp_seq_after_nl_count{};
};

struct Entry {
  std::array<Tuple, 2> tuple;  // by Dir
  uint16_t zone = 0;
  uint32_t status = 0;
  uint32_t mark = 0;
  uint64_t expires_ns = 0;  // absolute, on the table's clock
  // Per-protocol state: UDP's time after which a replied flow is a stream,
  // TCP's states and windows.
  uint64_t stream_after_ns = 0;
  TcpTrack tcp;
  uint64_t id = 0;  // creation order, for listings
  std::unique_ptr<Extensions> ext;  // null until one is needed

  Extensions& extend() {
    if (!ext) ext = std::make_unique<Extensions>();
    return *ext;
  }
  std::shared_ptr<Entry> master() const { return ext ? ext->master.lock() : nullptr; }
  const std::string& helper() const {
    static const std::string none;
    return ext ? ext->helper : none;
  }
  bool acct() const { return ext && ext->acct; }
};

// A connection a helper expects (struct nf_conntrack_expect): its original
// tuple, with the source port (and source address, when `any_src_addr`)
// left open; it becomes RELATED to its master when it comes, and is then
// used up.
struct Expectation {
  Tuple tuple;
  bool any_sport = true, any_src_addr = false;
  uint16_t zone = 0;
  std::weak_ptr<Entry> master;
  std::string helper;       // the helper that made it, for listings
  uint64_t expires_ns = 0;
  // NAT (nf_nat_follow_master): the direction of the master the new
  // connection follows and the port it really goes to; `on_new` binds it.
  Dir dir = Dir::Original;
  uint16_t saved_port = 0;
  std::function<void(const std::shared_ptr<Entry>& ct, const Expectation& e)> on_new;
};
enum class ExpectResult : uint8_t {
  Added,
  Busy,     // another expectation takes the same connection (-EBUSY)
  Already,  // the same one from another master (-EALREADY)
  Full,     // the master has too many and none could be evicted (-EMFILE)
};

// What in() found for a packet.
struct Tracked {
  std::shared_ptr<Entry> entry;  // null: Info is None or Untracked
  Info info = Info::None;
  Dir dir = Dir::Original;
  bool drop = false;  // the table is full and nothing could be evicted (NF_DROP)
  std::string why;  // when Info::None: why the tracker refused it (for logs and tests)
};

class Reassembler;

class Table {
 public:
  explicit Table(Config config = {});
  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // nf_conntrack_in for an IPv4 or IPv6 packet at `hook` at time `now_ns`.
  Tracked in(std::span<const uint8_t> frame, const packet::PacketLayout& layout, TrackHook hook, uint16_t zone,
             uint64_t now_ns);
  // __nf_conntrack_confirm: an unconfirmed entry joins the table (false: a
  // clash with an entry confirmed meanwhile, or the table is full and no
  // unreplied entry could be dropped: the packet is to be dropped).
  bool confirm(const Tracked& t, uint64_t now_ns);

  // nf_conntrack_acct: connections created from now on count their packets
  // and bytes (a rule reading ct bytes, packets or avgpkt turns it on).
  void set_accounting(bool on);

  // The IPv4 fragment queues of nf_defrag_ipv4.
  Reassembler& reassembler();

  // Expired entries removed (the kernel's gc worker); returns how many.
  size_t collect(uint64_t now_ns);
  void flush();

  size_t size() const;
  const Config& config() const;
  // Confirmed entries, oldest first.
  std::vector<std::shared_ptr<const Entry>> entries() const;
  std::shared_ptr<Entry> find(const Tuple& t, uint16_t zone, Dir* dir = nullptr) const;

  // nf_ct_expect_related: registers `e` (replacing the same expectation of
  // the same master); a master with `max_expected` already loses its oldest.
  ExpectResult expect(Expectation e, size_t max_expected, uint64_t now_ns);
  // The table as `conntrack -L` prints it, oldest first: format_entry with
  // each entry's reference count (one more per expected connection alive
  // and per expectation it is the master of).
  std::vector<std::string> list(uint64_t now_ns) const;
  // Expectations alive at `now_ns`, oldest first.
  std::vector<Expectation> expectations(uint64_t now_ns) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What defragmentation (nf_defrag_ipv4/ipv6, before conntrack) does with
// a packet: passes it, holds it, or replaces it by the whole datagram.
struct Defrag {
  enum Action { Pass, Hold, Replace } action = Pass;
  std::vector<uint8_t> frame;  // Replace: the new frame
  std::string why;             // Hold: why
  // Replace by reassembly: the payload bytes of each fragment, in offset
  // order, and the largest fragment's length (frag_max_size): how the
  // datagram is cut again on the way out.
  std::vector<uint32_t> fragments;
  uint16_t max_size = 0;

  static Defrag held(std::string why) {
    Defrag d;
    d.action = Hold;
    d.why = std::move(why);
    return d;
  }
};
// Reassembly before conntrack: IPv4 as ip_defrag does it for conntrack
// (queues by source, destination, id, protocol and zone, 30 s), IPv6 as
// nf_ct_frag6_gather (by source, destination, id and zone, 60 s; what it
// leaves to the stack passes, a datagram whole in one fragment loses its
// fragment header).
class Reassembler {
 public:
  Reassembler();
  ~Reassembler();
  // A fragment: held (queued, or dropped, with its queue or alone), or the
  // whole datagram when it completes it. Not a fragment: passed.
  // `local_delivery`: the queues of ip_local_deliver (IPv4 for this host,
  // without conntrack), apart from conntrack's.
  Defrag in(std::span<const uint8_t> frame, const packet::PacketLayout& layout, uint16_t zone, uint64_t now_ns,
            bool local_delivery = false);
  size_t queues() const;
  // An identification for a datagram cut again (ipv6_select_ident: the
  // kernel's is a keyed hash, so no two runs agree on it).
  uint32_t ipv6_ident();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Defrag ipv4(std::span<const uint8_t> frame, const packet::PacketLayout& layout, uint32_t user, uint64_t now_ns);
  Defrag ipv6(std::span<const uint8_t> frame, const packet::PacketLayout& layout, uint32_t user, uint64_t now_ns);
};

// ip_do_fragment: a reassembled IPv4 datagram (IP header at `nh`) cut again
// into pieces of `sizes` payload bytes, each with a copy of the header
// (offset, MF, length and checksum set; after the first, only options
// marked copied). Sizes that do not add up to the payload (a helper changed
// its length) are replaced by pieces of the largest fragment's size.
std::vector<std::vector<uint8_t>> refragment_ipv4(std::span<const uint8_t> frame, uint32_t nh,
                                                  std::vector<uint32_t> sizes, uint16_t max_size);
// ip6_fragment: the same for IPv6, the pieces under the unfragmentable
// headers and a fragment header with identification `id` (the kernel picks
// a new one).
std::vector<std::vector<uint8_t>> refragment_ipv6(std::span<const uint8_t> frame, uint32_t nh,
                                                  std::vector<uint32_t> sizes, uint16_t max_size, uint32_t id);

// One entry as `conntrack -L` prints it (without the trailing newline), its
// timeout counted down from `now_ns`, `use` its reference count.
std::string format_entry(const Entry& e, uint64_t now_ns, uint32_t use = 1);

}  // namespace nfx::conntrack
