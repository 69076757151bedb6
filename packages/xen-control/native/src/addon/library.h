// The dlopen()ed C library (librxctl.so): its table of rxc_* entry points, the module
// functions that load it and talk to it outside any handle, and the conversion of its
// rxc_error into a JS exception.
#ifndef RUMPXEN_ADDON_LIBRARY_H
#define RUMPXEN_ADDON_LIBRARY_H

#include <napi.h>

#include "rxctl.h"

namespace rumpxen {

// Every rxc_* function, resolved by load(); see RXC_FUNCTIONS in rxctl.h.
struct Api {
#define RXC_POINTER(name, ret, params) ret(*name) params = nullptr;
  RXC_FUNCTIONS(RXC_POINTER)
#undef RXC_POINTER
};

// The table; its pointers are null until load() succeeds.
extern Api api;

// An Error with code (errno name), errno, syscall (the failing call) and detail (the libraries' log).
Napi::Error MakeError(Napi::Env env, const rxc_error& err);

// True once load() succeeded; otherwise throws ERR_XEN_NOT_LOADED and returns false.
bool RequireLoaded(Napi::Env env);

// load(path): dlopen librxctl.so and resolve every rxc_* entry point (a no-op once loaded).
Napi::Value Load(const Napi::CallbackInfo& info);
// isLoaded(): whether load() succeeded.
Napi::Value IsLoaded(const Napi::CallbackInfo& info);
// drainLog(): what libxentoollog said since the last call (never printed by us).
Napi::Value DrainLog(const Napi::CallbackInfo& info);
// abortCreations(): destroys, synchronously, every domain a create is still building.
Napi::Value AbortCreations(const Napi::CallbackInfo& info);

}  // namespace rumpxen

#endif
