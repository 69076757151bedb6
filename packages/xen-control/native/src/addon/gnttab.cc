// Gnttab: a libxengnttab handle that maps the grants another domain gave us.
#include "handles.h"
#include "library.h"
#include "mapper.h"
#include "opener.h"

namespace rumpxen {

namespace {

class Gnttab : public Napi::ObjectWrap<Gnttab>, public MapperBase<rxc_gnttab, uint32_t> {
 public:
  static Napi::FunctionReference* constructor;
  static Napi::Function Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "Gnttab", {
      InstanceMethod("map", &Gnttab::Map),
      InstanceMethod("close", &Gnttab::Close),
    });
    constructor = new Napi::FunctionReference(Napi::Persistent(f));
    return f;
  }
  explicit Gnttab(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Gnttab>(info) {}
  ~Gnttab() override { CloseHandle(); }
  void Adopt(rxc_gnttab* g) { h_ = g; close_ = api.gnttab_close; }

 private:
  Napi::Object JsObject() override { return Value(); }
  Napi::Value Map(const Napi::CallbackInfo& info) { return DoMap(info, Value(), api.gnttab_map, api.gnttab_unmap); }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseHandle();
    return info.Env().Undefined();
  }
};
Napi::FunctionReference* Gnttab::constructor = nullptr;

}  // namespace

void InitGnttab(Napi::Env env) { Gnttab::Init(env); }

Napi::Value OpenGnttab(const Napi::CallbackInfo& info) {
  return Open<Gnttab, rxc_gnttab>(info.Env(), [](rxc_gnttab** h, rxc_error* e) { return api.gnttab_open(h, e); });
}

}  // namespace rumpxen
