// Mapping: the pages of another domain one map() call mapped, by grant or by frame.
#ifndef RUMPXEN_ADDON_MAPPING_H
#define RUMPXEN_ADDON_MAPPING_H

#include <stdint.h>
#include <string.h>

#include <functional>
#include <string>

#include <napi.h>

#include "args.h"
#include "handle.h"

namespace rumpxen {

// A mapped range of another domain's pages.  Reads copy out (the memory is
// shared with a domain we do not trust); nothing hands JS a view of it.
class Mapping : public Napi::ObjectWrap<Mapping>, public Handle {
 public:
  static Napi::FunctionReference* constructor;
  static Napi::Function Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "Mapping", {
      InstanceMethod("read", &Mapping::Read),
      InstanceMethod("write", &Mapping::Write),
      InstanceMethod("size", &Mapping::Size),
      InstanceMethod("close", &Mapping::Close),
    });
    constructor = new Napi::FunctionReference(Napi::Persistent(f));
    return f;
  }
  explicit Mapping(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Mapping>(info) {}
  ~Mapping() override { CloseHandle(); }
  // keep: the mapper's JS object, held until unmap so its handle outlives the mapping.
  void Adopt(std::function<void()> unmap, void* addr, size_t size, bool writable, Napi::Object keep) {
    keep_ = Napi::Persistent(keep);
    unmap_ = std::move(unmap);
    addr_ = static_cast<uint8_t*>(addr);
    size_ = size;
    writable_ = writable;
  }

 private:
  void FreeResource() override {
    if (unmap_) unmap_();
    unmap_ = nullptr;
    addr_ = nullptr;
    keep_.Reset();
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseHandle();
    return info.Env().Undefined();
  }
  Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(size_)); }
  bool Range(const Napi::CallbackInfo& info, uint32_t off, uint32_t len) {
    if (static_cast<uint64_t>(off) + len > size_) {
      Napi::RangeError::New(info.Env(), "offset " + std::to_string(off) + " + length " + std::to_string(len) +
                                            " is past the end of the " + std::to_string(size_) + "-byte mapping")
          .ThrowAsJavaScriptException();
      return false;
    }
    return true;
  }
  Napi::Value Read(const Napi::CallbackInfo& info) {
    uint32_t off, len;
    if (!Usable(info.Env(), "mapping.read") || !ArgU32(info, 0, "offset", &off) || !ArgU32(info, 1, "length", &len) ||
        !Range(info, off, len))
      return info.Env().Undefined();
    return Napi::Buffer<uint8_t>::Copy(info.Env(), addr_ + off, len);
  }
  Napi::Value Write(const Napi::CallbackInfo& info) {
    uint32_t off;
    if (!Usable(info.Env(), "mapping.write") || !ArgU32(info, 0, "offset", &off)) return info.Env().Undefined();
    if (!writable_) {
      Napi::Error::New(info.Env(), "mapping.write: this mapping is read-only; map it with { writable: true }")
          .ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    if (info.Length() < 2 || !info[1].IsBuffer()) {
      Napi::TypeError::New(info.Env(), "mapping.write: data must be a Buffer").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    Napi::Buffer<uint8_t> b = info[1].As<Napi::Buffer<uint8_t>>();
    if (!Range(info, off, static_cast<uint32_t>(b.Length()))) return info.Env().Undefined();
    memcpy(addr_ + off, b.Data(), b.Length());
    return info.Env().Undefined();
  }
  std::function<void()> unmap_;
  Napi::ObjectReference keep_;
  uint8_t* addr_ = nullptr;
  size_t size_ = 0;
  bool writable_ = false;
};

}  // namespace rumpxen

#endif
