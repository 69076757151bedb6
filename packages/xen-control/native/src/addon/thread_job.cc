// ThreadJob: a call that may block indefinitely, on a thread of its own; its result comes
// back to the JavaScript thread through a thread-safe function.
#include <string.h>

#include <thread>

#include "library.h"
#include "workers.h"

namespace rumpxen {

namespace {

struct ThreadJob;
void FinishThreadJob(Napi::Env env, Napi::Function, std::nullptr_t*, ThreadJob* job);
using JobTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, ThreadJob, FinishThreadJob>;

struct ThreadJob {
  explicit ThreadJob(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) { memset(&err, 0, sizeof err); }
  Napi::Promise::Deferred deferred;
  Handle* owner = nullptr;
  Napi::ObjectReference self;
  Work work;
  Done done;
  int rc = 0;
  rxc_error err;
  JobTsfn tsfn;
};

void FinishThreadJob(Napi::Env env, Napi::Function, std::nullptr_t*, ThreadJob* job) {
  if (env != nullptr) {
    Napi::HandleScope scope(env);
    if (job->rc) {
      job->deferred.Reject(MakeError(env, job->err).Value());
    } else {
      Napi::Value v = job->done ? job->done(env) : env.Undefined();
      if (env.IsExceptionPending())
        job->deferred.Reject(env.GetAndClearPendingException().Value());
      else
        job->deferred.Resolve(v);
    }
    job->owner->Release();
    job->self.Reset();
  }
  delete job;
}

}  // namespace

Napi::Promise RunOnThread(Napi::Env env, Handle* owner, Napi::Object self, Work work, Done done) {
  auto* job = new ThreadJob(env);
  job->owner = owner;
  job->self = Napi::Persistent(self);
  job->work = std::move(work);
  job->done = std::move(done);
  owner->Acquire();
  Napi::Promise p = job->deferred.Promise();
  job->tsfn = JobTsfn::New(env, "rumpxen:xen-wait", 0, 1, nullptr);
  std::thread([job]() {
    job->rc = job->work(&job->err);
    JobTsfn tsfn = job->tsfn;
    tsfn.BlockingCall(job);
    tsfn.Release();
  }).detach();
  return p;
}

}  // namespace rumpxen
