// Open<Cls, Raw>: opens a C handle on the pool and wraps it in a new instance of Cls (whose
// Adopt takes the raw handle); what every open*() of the module does.
#ifndef RUMPXEN_ADDON_OPENER_H
#define RUMPXEN_ADDON_OPENER_H

#include <functional>
#include <memory>

#include <napi.h>

#include "library.h"
#include "workers.h"

namespace rumpxen {

template <typename Cls, typename Raw>
Napi::Value Open(Napi::Env env, std::function<int(Raw**, rxc_error*)> open) {
  if (!RequireLoaded(env)) return env.Undefined();
  auto raw = std::make_shared<Raw*>(nullptr);
  return RunInPool(env, nullptr, Napi::Object(), [=](rxc_error* e) { return open(raw.get(), e); },
      [=](Napi::Env env) -> Napi::Value {
        Napi::Object o = Cls::constructor->New({});
        Cls::Unwrap(o)->Adopt(*raw);
        return o;
      });
}

}  // namespace rumpxen

#endif
