// The dlopen()ed library: it is loaded by load() rather than linked, so that this addon
// loads on machines without the Xen libraries.
#include "library.h"

#include <dlfcn.h>
#include <string.h>

#include <string>

namespace rumpxen {

Api api;

namespace {
void* library = nullptr;
}  // namespace

Napi::Error MakeError(Napi::Env env, const rxc_error& err) {
  const char* name = err.errnum ? strerrorname_np(err.errnum) : nullptr;
  std::string code = name ? name : "EIO";
  std::string msg = std::string(err.detail) + " (" + err.call + ": " + code + " " +
                    (err.errnum ? strerror(err.errnum) : "failed") + ")";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err.errnum));
  e.Set("syscall", Napi::String::New(env, err.call));
  e.Set("detail", Napi::String::New(env, err.detail));
  return e;
}

bool RequireLoaded(Napi::Env env) {
  if (library) return true;
  Napi::Error e = Napi::Error::New(env, "the Xen control library is not loaded: call load(path) first");
  e.Set("code", Napi::String::New(env, "ERR_XEN_NOT_LOADED"));
  e.ThrowAsJavaScriptException();
  return false;
}

// load(path): dlopen librxctl.so and resolve every rxc_* entry point.
Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(env, "load(path): path must be the path of librxctl.so").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (library) return env.Undefined();
  std::string path = info[0].As<Napi::String>();
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    Napi::Error e = Napi::Error::New(env, dlerror());
    e.Set("code", Napi::String::New(env, "ERR_XEN_LIBRARY"));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Api table;
#define RXC_RESOLVE(name, ret, params)                                                           \
  table.name = reinterpret_cast<ret(*) params>(dlsym(h, "rxc_" #name));                          \
  if (!table.name) {                                                                             \
    dlclose(h);                                                                                  \
    Napi::Error::New(env, path + " lacks rxc_" #name ": rebuild the addon (npm run build)")      \
        .ThrowAsJavaScriptException();                                                           \
    return env.Undefined();                                                                      \
  }
  RXC_FUNCTIONS(RXC_RESOLVE)
#undef RXC_RESOLVE
  if (table.abi_version() != RXC_ABI_VERSION) {
    dlclose(h);
    Napi::Error::New(env, path + " has a different ABI version: rebuild the addon (npm run build)")
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  api = table;
  library = h;
  return env.Undefined();
}

Napi::Value IsLoaded(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), library != nullptr);
}

// drainLog(): what libxentoollog said since the last call (never printed by us).
Napi::Value DrainLog(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!library) return Napi::String::New(env, "");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = api.log_drain(buf, sizeof buf)) > 0) out.append(buf, n);
  return Napi::String::New(env, out);
}

// abortCreations(): destroys every domain a create is still building, synchronously, on the
// JavaScript thread (the creates themselves keep running on their workers and fail).  For
// the exit and signal hooks; 0 when the library was never loaded (nothing can be in flight).
Napi::Value AbortCreations(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!library) return Napi::Number::New(env, 0);
  rxc_error err;
  memset(&err, 0, sizeof err);
  uint32_t destroyed = 0;
  if (api.abort_creations(&destroyed, &err) != 0) {
    MakeError(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, destroyed);
}

// ttyMakeRaw(fd): cfmakeraw on a console pty, as `xl console` does.  libuv's raw

}  // namespace rumpxen
