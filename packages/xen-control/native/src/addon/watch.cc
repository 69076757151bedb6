// Watch: a xenstore watch on a connection of its own; next() parks on a thread until an event or close().
#include <memory>
#include <string>

#include "args.h"
#include "handle.h"
#include "handles.h"
#include "library.h"
#include "opener.h"
#include "workers.h"

namespace rumpxen {

namespace {

class Watch : public Napi::ObjectWrap<Watch>, public Handle {
 public:
  static Napi::FunctionReference* constructor;
  static Napi::Function Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "Watch", {
      InstanceMethod("next", &Watch::Next),
      InstanceMethod("close", &Watch::Close),
    });
    constructor = new Napi::FunctionReference(Napi::Persistent(f));
    return f;
  }
  explicit Watch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watch>(info) {}
  ~Watch() override { CloseHandle(); }
  void Adopt(rxc_watch* w) { w_ = w; }

 private:
  void FreeResource() override {
    if (w_) api.watch_close(w_);
    w_ = nullptr;
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseHandle();
    return info.Env().Undefined();
  }
  Napi::Value Next(const Napi::CallbackInfo& info) {
    if (!Usable(info.Env(), "watch.next")) return info.Env().Undefined();
    auto ev = std::make_shared<rxc_watch_event>();
    rxc_watch* w = w_;
    int cancel = cancel_fd();
    return RunOnThread(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.watch_next(w, cancel, ev.get(), e); },
        [=](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("path", ev->path);
          o.Set("token", ev->token);
          api.free(ev->path);
          api.free(ev->token);
          return o;
        });
  }
  rxc_watch* w_ = nullptr;
};
Napi::FunctionReference* Watch::constructor = nullptr;

}  // namespace

void InitWatch(Napi::Env env) { Watch::Init(env); }

Napi::Value OpenWatch(const Napi::CallbackInfo& info) {
  std::string path, token;
  if (!ArgString(info, 0, "path", &path) || !ArgString(info, 1, "token", &token)) return info.Env().Undefined();
  return Open<Watch, rxc_watch>(info.Env(),
      [=](rxc_watch** w, rxc_error* e) { return api.watch_open(path.c_str(), token.c_str(), w, e); });
}

}  // namespace rumpxen
