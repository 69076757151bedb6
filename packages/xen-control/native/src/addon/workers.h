// Where blocking C calls run: short ones on the libuv pool (RunInPool), waits that may park
// indefinitely on threads of their own (RunOnThread), so parked waiters never starve the pool.
// Either way the promise settles on the JavaScript thread: rejected with MakeError's error
// when the call returned non-zero, else resolved with what `done` makes.
#ifndef RUMPXEN_ADDON_WORKERS_H
#define RUMPXEN_ADDON_WORKERS_H

#include <functional>

#include <napi.h>

#include "handle.h"
#include "rxctl.h"

namespace rumpxen {

using Work = std::function<int(rxc_error*)>;
using Done = std::function<Napi::Value(Napi::Env)>;

// owner (may be null) is held busy until the call settles, and self (its JS object) alive.
Napi::Promise RunInPool(Napi::Env env, Handle* owner, Napi::Object self, Work work, Done done);
// owner must not be null: close() on it cancels the wait through its eventfd.
Napi::Promise RunOnThread(Napi::Env env, Handle* owner, Napi::Object self, Work work, Done done);

}  // namespace rumpxen

#endif
