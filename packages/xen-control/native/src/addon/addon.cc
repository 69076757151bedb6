// The Node face of rxctl: converts and checks arguments, runs every blocking
// call off the JavaScript thread and turns rxc_error into JS exceptions.
// The Xen logic lives in the C library (src/c), which is dlopen()ed by load()
// so that this addon loads on machines without the Xen libraries.
//
// One file per part: library.cc (the dlopen()ed table and the module functions
// over it), tty.cc, handle.h (the base of every handle), pool_worker.cc and
// thread_job.cc (where blocking calls run), args.cc, domain_config.cc (the
// checked domain config as rxc_domain_spec), and one file per handle class:
// session.cc, console_ring.cc (opened through a session), watch.cc, evtchn.cc,
// mapping.cc, gnttab.cc, foreign_memory.cc (the last two on mapper.h).

#include <napi.h>

#include "console_ring.h"
#include "handles.h"
#include "library.h"
#include "rxctl.h"
#include "tty.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace rumpxen;
  exports.Set("load", Napi::Function::New(env, Load));
  exports.Set("isLoaded", Napi::Function::New(env, IsLoaded));
  exports.Set("drainLog", Napi::Function::New(env, DrainLog));
  exports.Set("ttyMakeRaw", Napi::Function::New(env, TtyMakeRaw));
  exports.Set("abortCreations", Napi::Function::New(env, AbortCreations));
  exports.Set("openSession", Napi::Function::New(env, OpenSession));
  exports.Set("openWatch", Napi::Function::New(env, OpenWatch));
  exports.Set("openEvtchn", Napi::Function::New(env, OpenEvtchn));
  exports.Set("openGnttab", Napi::Function::New(env, OpenGnttab));
  exports.Set("openForeignMemory", Napi::Function::New(env, OpenForeignMemory));
  InitSession(env);
  InitConsoleRing(env);
  InitWatch(env);
  InitEvtchn(env);
  InitMapping(env);
  InitGnttab(env);
  InitForeignMemory(env);
  exports.Set("abiVersion", Napi::Number::New(env, RXC_ABI_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(rumpxen_xen, Init)
