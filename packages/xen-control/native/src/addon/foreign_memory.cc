// ForeignMemory: a libxenforeignmemory handle that maps another domain's frames.
#include "handles.h"
#include "library.h"
#include "mapper.h"
#include "opener.h"

namespace rumpxen {

namespace {

class ForeignMemory : public Napi::ObjectWrap<ForeignMemory>, public MapperBase<rxc_fmem, uint64_t> {
 public:
  static Napi::FunctionReference* constructor;
  static Napi::Function Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "ForeignMemory", {
      InstanceMethod("map", &ForeignMemory::Map),
      InstanceMethod("close", &ForeignMemory::Close),
    });
    constructor = new Napi::FunctionReference(Napi::Persistent(f));
    return f;
  }
  explicit ForeignMemory(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ForeignMemory>(info) {}
  ~ForeignMemory() override { CloseHandle(); }
  void Adopt(rxc_fmem* f) { h_ = f; close_ = api.fmem_close; }

 private:
  Napi::Object JsObject() override { return Value(); }
  Napi::Value Map(const Napi::CallbackInfo& info) { return DoMap(info, Value(), api.fmem_map, api.fmem_unmap); }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseHandle();
    return info.Env().Undefined();
  }
};
Napi::FunctionReference* ForeignMemory::constructor = nullptr;

}  // namespace

void InitForeignMemory(Napi::Env env) { ForeignMemory::Init(env); }

Napi::Value OpenForeignMemory(const Napi::CallbackInfo& info) {
  return Open<ForeignMemory, rxc_fmem>(info.Env(), [](rxc_fmem** h, rxc_error* e) { return api.fmem_open(h, e); });
}

}  // namespace rumpxen
