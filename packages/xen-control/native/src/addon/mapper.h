// MapperBase: what the grant table and foreign memory handles share: map(domid, list,
// writable) resolving to a Mapping, and close().
#ifndef RUMPXEN_ADDON_MAPPER_H
#define RUMPXEN_ADDON_MAPPER_H

#include <stddef.h>
#include <stdint.h>

#include <memory>
#include <vector>

#include <napi.h>

#include "args.h"
#include "handle.h"
#include "mapping.h"
#include "rxctl.h"
#include "workers.h"

namespace rumpxen {

constexpr size_t kPageSize = 4096;

// Grant table and foreign memory handles share one shape: open, map(domid, list, writable), close.
template <typename H, typename Elem>
class MapperBase : public Handle {
 protected:
  using MapFn = int (*)(H*, uint32_t, const Elem*, uint32_t, int, void**, rxc_error*);
  using UnmapFn = int (*)(H*, void*, uint32_t, rxc_error*);
  using CloseFn = void (*)(H*);

  Napi::Value DoMap(const Napi::CallbackInfo& info, Napi::Object self, MapFn map, UnmapFn unmap) {
    Napi::Env env = info.Env();
    uint32_t domid;
    if (!Usable(env, "map") || !ArgU32(info, 0, "domid", &domid)) return env.Undefined();
    if (info.Length() < 2 || !info[1].IsArray() || info[1].As<Napi::Array>().Length() == 0) {
      Napi::TypeError::New(env, "map: the second argument must be a non-empty array of numbers").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Array a = info[1].As<Napi::Array>();
    auto list = std::make_shared<std::vector<Elem>>();
    for (uint32_t i = 0; i < a.Length(); i++) list->push_back(static_cast<Elem>(a.Get(i).As<Napi::Number>().Int64Value()));
    bool writable = info.Length() > 2 && info[2].ToBoolean().Value();
    auto addr = std::make_shared<void*>(nullptr);
    H* h = h_;
    // The Mapping keeps this handle alive (Acquire) until it is unmapped.
    Handle* owner = this;
    return RunInPool(env, this, self,
        [=](rxc_error* e) { return map(h, domid, list->data(), static_cast<uint32_t>(list->size()), writable, addr.get(), e); },
        [=](Napi::Env env) -> Napi::Value {
          Napi::Object m = Mapping::constructor->New({});
          uint32_t n = static_cast<uint32_t>(list->size());
          void* where = *addr;
          owner->Acquire();
          Mapping::Unwrap(m)->Adopt([=]() {
            rxc_error err;
            unmap(h, where, n, &err);
            owner->Release();
          }, where, n * kPageSize, writable, JsObject());
          return m;
        });
  }
  void FreeResource() override {
    if (h_) close_(h_);
    h_ = nullptr;
  }
  virtual Napi::Object JsObject() = 0;
  H* h_ = nullptr;
  CloseFn close_ = nullptr;
};

}  // namespace rumpxen

#endif
