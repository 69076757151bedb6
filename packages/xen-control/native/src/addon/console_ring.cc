// ConsoleRing: a domain's console ring mapped read-only (rxc_ring_*); read() parks on a thread
// until the guest writes, the domain ends, the timeout passes or close().  Opened by the
// session's consoleRingOpen(domid), whose handle it keeps busy (and whose JS object alive)
// until it is closed, so the session's C handles outlive the mapping.
#include <memory>
#include <vector>

#include "args.h"
#include "console_ring.h"
#include "handle.h"
#include "library.h"
#include "workers.h"

namespace rumpxen {

namespace {

constexpr uint32_t kChunk = 4096;

class ConsoleRing : public Napi::ObjectWrap<ConsoleRing>, public Handle {
 public:
  static Napi::FunctionReference* constructor;
  static Napi::Function Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "ConsoleRing", {
      InstanceMethod("read", &ConsoleRing::Read),
      InstanceMethod("close", &ConsoleRing::Close),
    });
    constructor = new Napi::FunctionReference(Napi::Persistent(f));
    return f;
  }
  explicit ConsoleRing(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ConsoleRing>(info) {}
  ~ConsoleRing() override { CloseHandle(); }
  void Adopt(rxc_ring* r, Handle* owner, Napi::Object keep) {
    r_ = r;
    owner_ = owner;
    owner_->Acquire();
    keep_ = Napi::Persistent(keep);
  }

 private:
  void FreeResource() override {
    if (r_) api.ring_close(r_);
    r_ = nullptr;
    if (owner_) owner_->Release();
    owner_ = nullptr;
    keep_.Reset();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseHandle();
    return info.Env().Undefined();
  }
  // read(timeoutMs): { data: Buffer, lost, ended, atMs }; an empty data and ended false: timed out.
  Napi::Value Read(const Napi::CallbackInfo& info) {
    uint32_t timeout;
    if (!Usable(info.Env(), "consoleRing.read") || !ArgU32(info, 0, "timeoutMs", &timeout)) return info.Env().Undefined();
    auto buf = std::make_shared<std::vector<char>>(kChunk);
    auto chunk = std::make_shared<rxc_ring_chunk>();
    rxc_ring* r = r_;
    int cancel = cancel_fd();
    int ms = timeout > 0x7fffffff ? 0x7fffffff : static_cast<int>(timeout);
    return RunOnThread(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.ring_read(r, cancel, ms, buf->data(), kChunk, chunk.get(), e); },
        [=](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("data", Napi::Buffer<char>::Copy(env, buf->data(), chunk->len));
          o.Set("lost", chunk->lost);
          o.Set("ended", static_cast<bool>(chunk->ended));
          o.Set("atMs", chunk->at_ms);
          return o;
        });
  }
  rxc_ring* r_ = nullptr;
  Handle* owner_ = nullptr;
  Napi::ObjectReference keep_;
};
Napi::FunctionReference* ConsoleRing::constructor = nullptr;

}  // namespace

void InitConsoleRing(Napi::Env env) { ConsoleRing::Init(env); }

Napi::Object WrapConsoleRing(Napi::Env env, rxc_ring* r, Handle* owner, Napi::Object self) {
  Napi::Object ring = ConsoleRing::constructor->New({});
  ConsoleRing::Unwrap(ring)->Adopt(r, owner, self);
  return ring;
}

Napi::Value OpenConsoleRing(Napi::Env env, rxc_session* s, uint32_t domid, Handle* owner, Napi::Object self) {
  struct Opened {
    rxc_ring* r = nullptr;
    double attached_at = 0, attach_ms = 0;
  };
  auto out = std::make_shared<Opened>();
  // self is a handle of this call's scope: keep a reference for the completion to use.
  auto keep = std::make_shared<Napi::ObjectReference>(Napi::Persistent(self));
  return RunInPool(env, owner, self,
      [=](rxc_error* e) { return api.ring_open(s, domid, &out->r, &out->attached_at, &out->attach_ms, e); },
      [=](Napi::Env env) -> Napi::Value {
        Napi::Object ring = ConsoleRing::constructor->New({});
        ConsoleRing::Unwrap(ring)->Adopt(out->r, owner, keep->Value());
        keep->Reset();
        Napi::Object o = Napi::Object::New(env);
        o.Set("ring", ring);
        o.Set("attachedAtMs", out->attached_at);
        o.Set("attachMs", out->attach_ms);
        return o;
      });
}

}  // namespace rumpxen
