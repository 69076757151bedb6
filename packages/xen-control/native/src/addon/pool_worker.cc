// PoolWorker: a call on the libuv thread pool.
#include <string.h>

#include "library.h"
#include "workers.h"

namespace rumpxen {

namespace {

// Runs work on the libuv thread pool (short calls).
class PoolWorker : public Napi::AsyncWorker {
 public:
  PoolWorker(Napi::Env env, Handle* owner, Napi::Object self, Work work, Done done)
      : Napi::AsyncWorker(env, "rumpxen:xen"),
        deferred_(Napi::Promise::Deferred::New(env)),
        owner_(owner),
        work_(std::move(work)),
        done_(std::move(done)) {
    memset(&err_, 0, sizeof err_);
    if (owner_) {
      owner_->Acquire();
      self_ = Napi::Persistent(self);
    }
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { rc_ = work_(&err_); }
  void OnOK() override {
    Napi::Env env = Env();
    if (rc_) {
      deferred_.Reject(MakeError(env, err_).Value());
    } else {
      Napi::Value v = done_ ? done_(env) : env.Undefined();
      if (env.IsExceptionPending())
        deferred_.Reject(env.GetAndClearPendingException().Value());
      else
        deferred_.Resolve(v);
    }
    if (owner_) owner_->Release();
    self_.Reset();
  }

 private:
  Napi::Promise::Deferred deferred_;
  Handle* owner_;
  Napi::ObjectReference self_;
  Work work_;
  Done done_;
  int rc_ = 0;
  rxc_error err_;
};

}  // namespace

Napi::Promise RunInPool(Napi::Env env, Handle* owner, Napi::Object self, Work work, Done done) {
  auto* w = new PoolWorker(env, owner, self, std::move(work), std::move(done));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace rumpxen
