// Evtchn: a libxenevtchn handle; wait() parks on a thread until an event, the timeout or close().
#include <memory>
#include <string>

#include "args.h"
#include "handle.h"
#include "handles.h"
#include "library.h"
#include "opener.h"
#include "workers.h"
#include <functional>

namespace rumpxen {

namespace {

class Evtchn : public Napi::ObjectWrap<Evtchn>, public Handle {
 public:
  static Napi::FunctionReference* constructor;
  static Napi::Function Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "Evtchn", {
      InstanceMethod("bindInterdomain", &Evtchn::BindInterdomain),
      InstanceMethod("bindUnbound", &Evtchn::BindUnbound),
      InstanceMethod("unbind", &Evtchn::Unbind),
      InstanceMethod("notify", &Evtchn::Notify),
      InstanceMethod("wait", &Evtchn::Wait),
      InstanceMethod("close", &Evtchn::Close),
    });
    constructor = new Napi::FunctionReference(Napi::Persistent(f));
    return f;
  }
  explicit Evtchn(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Evtchn>(info) {}
  ~Evtchn() override { CloseHandle(); }
  void Adopt(rxc_evtchn* e) { e_ = e; }

 private:
  void FreeResource() override {
    if (e_) api.evtchn_close(e_);
    e_ = nullptr;
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseHandle();
    return info.Env().Undefined();
  }
  Napi::Value PortResult(Napi::Env env, std::function<int(rxc_evtchn*, uint32_t*, rxc_error*)> fn) {
    auto port = std::make_shared<uint32_t>(0);
    rxc_evtchn* h = e_;
    return RunInPool(env, this, Value(), [=](rxc_error* e) { return fn(h, port.get(), e); },
                     [=](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *port); });
  }
  Napi::Value BindInterdomain(const Napi::CallbackInfo& info) {
    uint32_t domid, remote;
    if (!Usable(info.Env(), "evtchn.bindInterdomain") || !ArgU32(info, 0, "domid", &domid) ||
        !ArgU32(info, 1, "remotePort", &remote))
      return info.Env().Undefined();
    return PortResult(info.Env(), [=](rxc_evtchn* h, uint32_t* p, rxc_error* e) {
      return api.evtchn_bind_interdomain(h, domid, remote, p, e);
    });
  }
  Napi::Value BindUnbound(const Napi::CallbackInfo& info) {
    uint32_t domid;
    if (!Usable(info.Env(), "evtchn.bindUnbound") || !ArgU32(info, 0, "domid", &domid)) return info.Env().Undefined();
    return PortResult(info.Env(), [=](rxc_evtchn* h, uint32_t* p, rxc_error* e) {
      return api.evtchn_bind_unbound(h, domid, p, e);
    });
  }
  Napi::Value Unbind(const Napi::CallbackInfo& info) {
    uint32_t port;
    if (!Usable(info.Env(), "evtchn.unbind") || !ArgU32(info, 0, "port", &port)) return info.Env().Undefined();
    rxc_evtchn* h = e_;
    return RunInPool(info.Env(), this, Value(), [=](rxc_error* e) { return api.evtchn_unbind(h, port, e); }, nullptr);
  }
  Napi::Value Notify(const Napi::CallbackInfo& info) {
    uint32_t port;
    if (!Usable(info.Env(), "evtchn.notify") || !ArgU32(info, 0, "port", &port)) return info.Env().Undefined();
    rxc_evtchn* h = e_;
    return RunInPool(info.Env(), this, Value(), [=](rxc_error* e) { return api.evtchn_notify(h, port, e); }, nullptr);
  }
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    if (!Usable(info.Env(), "evtchn.wait")) return info.Env().Undefined();
    int timeout = -1;
    if (info.Length() > 0 && info[0].IsNumber()) timeout = info[0].As<Napi::Number>().Int32Value();
    auto port = std::make_shared<int32_t>(-1);
    rxc_evtchn* h = e_;
    int cancel = cancel_fd();
    return RunOnThread(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.evtchn_wait(h, cancel, timeout, port.get(), e); },
        [=](Napi::Env env) -> Napi::Value {
          return *port < 0 ? env.Null() : Napi::Number::New(env, *port).As<Napi::Value>();
        });
  }
  rxc_evtchn* e_ = nullptr;
};
Napi::FunctionReference* Evtchn::constructor = nullptr;

}  // namespace

void InitEvtchn(Napi::Env env) { Evtchn::Init(env); }

Napi::Value OpenEvtchn(const Napi::CallbackInfo& info) {
  return Open<Evtchn, rxc_evtchn>(info.Env(), [](rxc_evtchn** h, rxc_error* e) { return api.evtchn_open(h, e); });
}

}  // namespace rumpxen
