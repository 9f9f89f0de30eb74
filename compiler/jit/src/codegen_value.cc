// Values as integers: a value of n bytes is an i(8n) whose little-endian
// bytes are the value's, so a load is one unaligned load and a compare with
// a constant one icmp. Payload loads check their base and bounds inline
// (a miss is NFT_BREAK); meta keys the packet fixes are read from NativeCtx;
// everything else goes through nfx_native_value.
#include "codegen.h"

namespace nfx::jit {

using llvm::BasicBlock;

namespace {

// NFT_META_* keys compiled inline.
enum : uint32_t { kLen = 0, kProtocol = 1, kIif = 4, kOif = 5, kNfproto = 15, kL4proto = 16, kRandom = 24 };
// NFT_CT_STATE, the one ct key compiled inline.
constexpr uint32_t kCtState = 0;

}  // namespace

bool value_is_pure(const ir::Value& v) {
  switch (v.kind) {
    case ir::ValueKind::Numgen: return false;
    case ir::ValueKind::Meta: if (v.key == kRandom) return false; break;
    case ir::ValueKind::MapLookup: return false;  // its set may change under it
    case ir::ValueKind::Ct: case ir::ValueKind::Rt: case ir::ValueKind::Fib: case ir::ValueKind::Socket: return false;
    default: break;
  }
  for (const auto& a : v.args)
    if (!value_is_pure(*a)) return false;
  return true;
}

llvm::Value* Codegen::value_by_abi(const ir::Value& v, BasicBlock* fail) {
  llvm::IRBuilder<> entry(&fn_->getEntryBlock(), fn_->getEntryBlock().begin());
  llvm::Value* buf = entry.CreateAlloca(llvm::ArrayType::get(b_.getInt8Ty(), v.len));
  buf = b_.CreateBitCast(buf, b_.getInt8PtrTy());
  llvm::Value* ok = b_.CreateCall(abi_.value, {exec(), ptr_const(&v), buf});
  BasicBlock* got = block("value.ok");
  b_.CreateCondBr(b_.CreateICmpNE(ok, b_.getInt32(0)), got, fail);
  b_.SetInsertPoint(got);
  return b_.CreateLoad(int_bytes(v.len), b_.CreateBitCast(buf, int_bytes(v.len)->getPointerTo()));
}

namespace {

// The size the interpreter's value really has (ByteOrder keeps its
// argument's, a concatenation pads each part to 4 bytes); compiled values
// must have exactly their declared length, everywhere in the tree.
uint32_t actual_size(const ir::Value& v) {
  switch (v.kind) {
    case ir::ValueKind::Const: return static_cast<uint32_t>(v.data.size());
    case ir::ValueKind::ByteOrder: return v.args.empty() ? 0 : actual_size(*v.args[0]);
    case ir::ValueKind::Concat: {
      uint32_t n = 0;
      for (const auto& a : v.args) n += (actual_size(*a) + 3) / 4 * 4;
      return n;
    }
    default: return v.len;
  }
}

bool sized(const ir::Value& v) {
  if (actual_size(v) != v.len) return false;
  for (const auto& a : v.args)
    if (!sized(*a)) return false;
  return true;
}

}  // namespace

bool value_is_sized(const ir::Value& v) { return sized(v); }

llvm::Value* Codegen::value(const ir::Value& v, BasicBlock* fail) {
  if (v.len == 0 || v.len > 16 || !sized(v)) return nullptr;
  llvm::IntegerType* type = int_bytes(v.len);
  auto resize = [&](llvm::Value* x) { return b_.CreateZExtOrTrunc(x, type); };
  switch (v.kind) {
    case ir::ValueKind::Const: return llvm::ConstantInt::get(type, le_int(v.data, v.len));
    case ir::ValueKind::Payload: {
      size_t field = 0;
      switch (v.base) {
        case ir::PayloadBase::Link:
          // with a VLAN tag the kernel rebuilds bytes 16..17 (nft_payload_copy_vlan)
          if (v.offset < 18 && v.offset + v.len > 16) return value_by_abi(v, fail);
          field = offsetof(vm::NativeCtx, link_off);
          break;
        case ir::PayloadBase::Network: field = offsetof(vm::NativeCtx, nh_off); break;
        case ir::PayloadBase::Transport:
          field = (v.len == 1 || v.len == 2 || v.len == 4) && v.offset % v.len == 0 ? offsetof(vm::NativeCtx, th_fast_off)
                                                                                     : offsetof(vm::NativeCtx, th_off);
          break;
        case ir::PayloadBase::Inner: return value_by_abi(v, fail);
      }
      // One check covers both misses: a base of -1 widens to 2^32 - 1, past
      // any end.
      llvm::Value* base = ctx_field(field, b_.getInt32Ty());
      llvm::Value* at = b_.CreateAdd(b_.CreateZExt(base, b_.getInt64Ty()), b_.getInt64(v.offset));
      llvm::Value* end = ctx_field(offsetof(vm::NativeCtx, end), b_.getInt32Ty());
      BasicBlock* fits = block("load.fits");
      b_.CreateCondBr(b_.CreateICmpULE(b_.CreateAdd(at, b_.getInt64(v.len)), b_.CreateZExt(end, b_.getInt64Ty())), fits, fail);
      b_.SetInsertPoint(fits);
      llvm::Value* data = ctx_field(offsetof(vm::NativeCtx, data), b_.getInt8PtrTy());
      llvm::Value* p = b_.CreateInBoundsGEP(b_.getInt8Ty(), data, at);
      return b_.CreateAlignedLoad(type, b_.CreateBitCast(p, type->getPointerTo()), llvm::MaybeAlign(1));
    }
    case ir::ValueKind::Meta:
      switch (v.key) {
        case kLen: return resize(ctx_field(offsetof(vm::NativeCtx, skb_len), b_.getInt32Ty()));
        case kProtocol: {
          // be_from_u64(protocol, 2) then resized: the big-endian bytes first
          llvm::Value* p = ctx_field(offsetof(vm::NativeCtx, protocol), b_.getInt16Ty());
          return resize(b_.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, p));
        }
        case kIif: return resize(ctx_field(offsetof(vm::NativeCtx, iif), b_.getInt32Ty()));
        case kOif: return resize(ctx_field(offsetof(vm::NativeCtx, oif), b_.getInt32Ty()));
        case kNfproto: return resize(ctx_field(offsetof(vm::NativeCtx, nfproto), b_.getInt8Ty()));
        case kL4proto: {
          llvm::Value* valid = ctx_field(offsetof(vm::NativeCtx, l4_valid), b_.getInt8Ty());
          BasicBlock* ok = block("l4proto.valid");
          b_.CreateCondBr(b_.CreateICmpNE(valid, b_.getInt8(0)), ok, fail);
          b_.SetInsertPoint(ok);
          return resize(ctx_field(offsetof(vm::NativeCtx, l4proto), b_.getInt8Ty()));
        }
        default: return value_by_abi(v, fail);
      }
    case ir::ValueKind::Ct: {
      if (v.key != kCtState || v.len > 8) return value_by_abi(v, fail);
      // nft_ct_get_eval: NF_CT_STATE_BIT(ctinfo) = 1 << (ctinfo % IP_CT_IS_REPLY
      // + 1) for the five tracked kinds (0..4), the untracked bit for
      // IP_CT_UNTRACKED (7), the invalid bit without a connection
      llvm::Value* at = ctx_field(offsetof(vm::NativeCtx, ct_info), b_.getInt8PtrTy());
      llvm::Value* info = b_.CreateZExt(b_.CreateLoad(b_.getInt8Ty(), at), b_.getInt32Ty());
      llvm::Value* tracked = b_.CreateShl(b_.getInt32(1), b_.CreateAdd(b_.CreateURem(info, b_.getInt32(3)), b_.getInt32(1)));
      llvm::Value* other = b_.CreateSelect(b_.CreateICmpEQ(info, b_.getInt32(7)), b_.getInt32(conntrack::kStateUntracked),
                                           b_.getInt32(conntrack::kStateInvalid));
      return resize(b_.CreateSelect(b_.CreateICmpULT(info, b_.getInt32(5)), tracked, other));
    }
    case ir::ValueKind::Bitwise: {
      llvm::Value* a = value(*v.args.at(0), fail);
      if (!a) return value_by_abi(v, fail);
      a = resize(a);
      a = b_.CreateAnd(a, llvm::ConstantInt::get(type, le_int(v.data, v.len)));
      return b_.CreateXor(a, llvm::ConstantInt::get(type, le_int(v.xor_data, v.len)));
    }
    case ir::ValueKind::Binop: {
      llvm::Value* a = value(*v.args.at(0), fail);
      llvm::Value* c = a ? value(*v.args.at(1), fail) : nullptr;
      if (!a || !c) return value_by_abi(v, fail);
      a = resize(a);
      c = resize(c);
      return v.op == ir::BinOp::And ? b_.CreateAnd(a, c) : v.op == ir::BinOp::Or ? b_.CreateOr(a, c) : b_.CreateXor(a, c);
    }
    case ir::ValueKind::ByteOrder: {
      uint32_t unit = v.size ? v.size : v.len;
      if (unit == 1) {
        llvm::Value* a = value(*v.args.at(0), fail);
        return a ? a : value_by_abi(v, fail);
      }
      if (unit != v.len || v.len % 2 != 0) return value_by_abi(v, fail);
      llvm::Value* a = value(*v.args.at(0), fail);
      if (!a) return value_by_abi(v, fail);
      return b_.CreateUnaryIntrinsic(llvm::Intrinsic::bswap, a);
    }
    case ir::ValueKind::Concat: {
      llvm::Value* out = llvm::ConstantInt::get(type, 0);
      uint32_t at = 0;
      for (const auto& a : v.args) {
        llvm::Value* part = value(*a, fail);
        if (!part) return value_by_abi(v, fail);
        out = b_.CreateOr(out, b_.CreateShl(b_.CreateZExt(part, type), at * 8));
        at += (a->len + 3) / 4 * 4;
      }
      return out;
    }
    default: return value_by_abi(v, fail);
  }
}

}  // namespace nfx::jit
