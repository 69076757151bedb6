// Session: libxenctrl, libxenstore and libxl opened together; domains and xenstore.
#include <string.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "args.h"
#include "console_ring.h"
#include "domain_config.h"
#include "handle.h"
#include "handles.h"
#include "library.h"
#include "opener.h"
#include "workers.h"

namespace rumpxen {

namespace {

Napi::Object DomainInfoToJs(Napi::Env env, const rxc_domain_info& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("domid", d.domid);
  o.Set("name", d.name);
  o.Set("uuid", d.uuid);
  o.Set("running", static_cast<bool>(d.running));
  o.Set("blocked", static_cast<bool>(d.blocked));
  o.Set("paused", static_cast<bool>(d.paused));
  o.Set("shutdown", static_cast<bool>(d.shutdown));
  o.Set("dying", static_cast<bool>(d.dying));
  o.Set("shutdownReason", d.shutdown_reason);
  o.Set("memoryKb", static_cast<double>(d.memory_kb));
  o.Set("maxMemoryKb", static_cast<double>(d.max_memory_kb));
  o.Set("vcpus", d.vcpus);
  o.Set("cpuTimeNs", static_cast<double>(d.cpu_time_ns));
  return o;
}

class Session : public Napi::ObjectWrap<Session>, public Handle {
 public:
  static Napi::FunctionReference* constructor;

  static Napi::Function Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "Session", {
      InstanceMethod("close", &Session::Close),
      InstanceMethod("domainList", &Session::DomainList),
      InstanceMethod("domainInfo", &Session::DomainInfo),
      InstanceMethod("domainLookup", &Session::DomainLookup),
      InstanceMethod("domainPause", &Session::DomainPause),
      InstanceMethod("domainUnpause", &Session::DomainUnpause),
      InstanceMethod("domainShutdown", &Session::DomainShutdown),
      InstanceMethod("domainDestroy", &Session::DomainDestroy),
      InstanceMethod("domainCreate", &Session::DomainCreate),
      InstanceMethod("domainWaitShutdown", &Session::DomainWaitShutdown),
      InstanceMethod("freeMemory", &Session::FreeMemory),
      InstanceMethod("physinfo", &Session::Physinfo),
      InstanceMethod("consoleRingOpen", &Session::ConsoleRingOpen),
      InstanceMethod("xsRead", &Session::XsRead),
      InstanceMethod("xsWrite", &Session::XsWrite),
      InstanceMethod("xsMkdir", &Session::XsMkdir),
      InstanceMethod("xsRm", &Session::XsRm),
      InstanceMethod("xsLs", &Session::XsLs),
      InstanceMethod("xsGetPerms", &Session::XsGetPerms),
      InstanceMethod("xsSetPerms", &Session::XsSetPerms),
      InstanceMethod("xsTxStart", &Session::XsTxStart),
      InstanceMethod("xsTxEnd", &Session::XsTxEnd),
    });
    constructor = new Napi::FunctionReference(Napi::Persistent(f));
    return f;
  }

  explicit Session(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Session>(info) {}
  ~Session() override { CloseHandle(); }
  void Adopt(rxc_session* s) { s_ = s; }

 private:
  void FreeResource() override {
    if (s_) api.session_close(s_);
    s_ = nullptr;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseHandle();
    return info.Env().Undefined();
  }

  // Domain id from argument 0, or an exception.
  bool Domid(const Napi::CallbackInfo& info, uint32_t* domid) {
    return Usable(info.Env(), "domain operation") && ArgU32(info, 0, "domid", domid);
  }

  Napi::Value Simple(const Napi::CallbackInfo& info, int (*fn)(rxc_session*, uint32_t, rxc_error*)) {
    uint32_t domid;
    if (!Domid(info, &domid)) return info.Env().Undefined();
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(), [=](rxc_error* e) { return fn(s, domid, e); }, nullptr);
  }

  Napi::Value DomainList(const Napi::CallbackInfo& info) {
    if (!Usable(info.Env(), "domainList")) return info.Env().Undefined();
    auto list = std::make_shared<std::pair<rxc_domain_info*, uint32_t>>(nullptr, 0);
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.domain_list(s, &list->first, &list->second, e); },
        [=](Napi::Env env) -> Napi::Value {
          Napi::Array a = Napi::Array::New(env, list->second);
          for (uint32_t i = 0; i < list->second; i++) a.Set(i, DomainInfoToJs(env, list->first[i]));
          api.free(list->first);
          return a;
        });
  }

  Napi::Value DomainInfo(const Napi::CallbackInfo& info) {
    uint32_t domid;
    if (!Domid(info, &domid)) return info.Env().Undefined();
    auto out = std::make_shared<rxc_domain_info>();
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.domain_get(s, domid, out.get(), e); },
        [=](Napi::Env env) -> Napi::Value { return DomainInfoToJs(env, *out); });
  }

  Napi::Value DomainLookup(const Napi::CallbackInfo& info) {
    std::string name;
    if (!Usable(info.Env(), "domainLookup") || !ArgString(info, 0, "name", &name)) return info.Env().Undefined();
    auto domid = std::make_shared<uint32_t>(0);
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.domain_lookup(s, name.c_str(), domid.get(), e); },
        [=](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *domid); });
  }

  Napi::Value DomainPause(const Napi::CallbackInfo& info) { return Simple(info, api.domain_pause); }
  Napi::Value DomainUnpause(const Napi::CallbackInfo& info) { return Simple(info, api.domain_unpause); }
  Napi::Value DomainDestroy(const Napi::CallbackInfo& info) { return Simple(info, api.domain_destroy); }

  Napi::Value DomainShutdown(const Napi::CallbackInfo& info) {
    uint32_t domid;
    if (!Domid(info, &domid)) return info.Env().Undefined();
    bool reboot = info.Length() > 1 && info[1].ToBoolean().Value();
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.domain_shutdown(s, domid, reboot, e); }, nullptr);
  }

  Napi::Value DomainCreate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!Usable(env, "domainCreate")) return env.Undefined();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsObject()) {
      Napi::TypeError::New(env, "domainCreate(config, how): config must be a checked domain config and how { direct, paused, consoleRing? }")
          .ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto st = std::make_shared<DomainSpec>();
    if (!ConvertDomainConfig(info[0].As<Napi::Object>(), info[1].As<Napi::Object>(), st.get())) return env.Undefined();
    auto domid = std::make_shared<uint32_t>(0);
    auto timing = std::make_shared<rxc_create_timing>();
    auto ring = std::make_shared<rxc_ring*>(nullptr);
    // The ring (when asked for) keeps this session busy, as consoleRingOpen's does.
    auto keep = std::make_shared<Napi::ObjectReference>(Napi::Persistent(Value()));
    rxc_session* s = s_;
    Session* self = this;
    return RunInPool(env, this, Value(),
        [=](rxc_error* e) {
          rxc_ring** r = st->console_ring ? ring.get() : nullptr;
          return st->direct ? api.domain_create_direct(s, &st->spec, domid.get(), timing.get(), r, e)
                            : api.domain_create(s, &st->spec, domid.get(), timing.get(), r, e);
        },
        [=](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("domid", *domid);
          o.Set("buildMs", timing->build_ms);
          o.Set("xenstoreMs", timing->xenstore_ms);
          o.Set("unpauseMs", timing->unpause_ms);
          o.Set("domainMs", timing->domain_ms);
          o.Set("imageMs", timing->image_ms);
          o.Set("memoryMs", timing->memory_ms);
          o.Set("loadMs", timing->load_ms);
          o.Set("nodesMs", timing->nodes_ms);
          o.Set("introduceMs", timing->introduce_ms);
          o.Set("attachMs", timing->attach_ms);
          o.Set("startedAtMs", timing->started_at);
          o.Set("endedAtMs", timing->ended_at);
          o.Set("imageCached", static_cast<bool>(timing->image_cached));
          o.Set("nodesBatched", static_cast<bool>(timing->nodes_batched));
          o.Set("nodesTries", timing->nodes_tries);
          if (*ring) {
            o.Set("ring", WrapConsoleRing(env, *ring, self, keep->Value()));
            o.Set("ringAttachedAtMs", timing->ring_attached_at);
          }
          keep->Reset();
          return o;
        });
  }

  Napi::Value DomainWaitShutdown(const Napi::CallbackInfo& info) {
    uint32_t domid;
    if (!Domid(info, &domid)) return info.Env().Undefined();
    auto reason = std::make_shared<int>(-1);
    rxc_session* s = s_;
    int cancel = cancel_fd();
    return RunOnThread(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.domain_wait_shutdown(s, domid, cancel, reason.get(), e); },
        [=](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *reason); });
  }

  Napi::Value FreeMemory(const Napi::CallbackInfo& info) {
    if (!Usable(info.Env(), "freeMemory")) return info.Env().Undefined();
    auto kb = std::make_shared<uint64_t>(0);
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.free_memory(s, kb.get(), e); },
        [=](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, static_cast<double>(*kb)); });
  }

  Napi::Value Physinfo(const Napi::CallbackInfo& info) {
    if (!Usable(info.Env(), "physinfo")) return info.Env().Undefined();
    auto p = std::make_shared<rxc_phys_info>();
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.physinfo(s, p.get(), e); },
        [=](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("totalPages", static_cast<double>(p->total_pages));
          o.Set("freePages", static_cast<double>(p->free_pages));
          o.Set("scrubPages", static_cast<double>(p->scrub_pages));
          o.Set("outstandingPages", static_cast<double>(p->outstanding_pages));
          return o;
        });
  }

  Napi::Value ConsoleRingOpen(const Napi::CallbackInfo& info) {
    uint32_t domid;
    if (!Domid(info, &domid)) return info.Env().Undefined();
    return OpenConsoleRing(info.Env(), s_, domid, this, Value());
  }

  // xenstore calls take (tx, path, ...); tx 0 is "no transaction".
  bool TxPath(const Napi::CallbackInfo& info, const char* what, uint32_t* tx, std::string* path) {
    return Usable(info.Env(), what) && ArgU32(info, 0, "tx", tx) && ArgString(info, 1, "path", path);
  }

  Napi::Value XsRead(const Napi::CallbackInfo& info) {
    uint32_t tx;
    std::string path;
    if (!TxPath(info, "xenstore read", &tx, &path)) return info.Env().Undefined();
    auto out = std::make_shared<std::pair<char*, size_t>>(nullptr, 0);
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.xs_read(s, tx, path.c_str(), &out->first, &out->second, e); },
        [=](Napi::Env env) -> Napi::Value {
          Napi::Buffer<char> b = Napi::Buffer<char>::Copy(env, out->first, out->second);
          api.free(out->first);
          return b;
        });
  }

  Napi::Value XsWrite(const Napi::CallbackInfo& info) {
    uint32_t tx;
    std::string path;
    if (!TxPath(info, "xenstore write", &tx, &path)) return info.Env().Undefined();
    if (info.Length() < 3 || !info[2].IsBuffer()) {
      Napi::TypeError::New(info.Env(), "value must be a Buffer").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    Napi::Buffer<char> b = info[2].As<Napi::Buffer<char>>();
    auto data = std::make_shared<std::string>(b.Data(), b.Length());
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.xs_write(s, tx, path.c_str(), data->data(), data->size(), e); }, nullptr);
  }

  Napi::Value XsMkdir(const Napi::CallbackInfo& info) {
    uint32_t tx;
    std::string path;
    if (!TxPath(info, "xenstore mkdir", &tx, &path)) return info.Env().Undefined();
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(), [=](rxc_error* e) { return api.xs_mkdir(s, tx, path.c_str(), e); }, nullptr);
  }

  Napi::Value XsRm(const Napi::CallbackInfo& info) {
    uint32_t tx;
    std::string path;
    if (!TxPath(info, "xenstore rm", &tx, &path)) return info.Env().Undefined();
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(), [=](rxc_error* e) { return api.xs_rm(s, tx, path.c_str(), e); }, nullptr);
  }

  Napi::Value XsLs(const Napi::CallbackInfo& info) {
    uint32_t tx;
    std::string path;
    if (!TxPath(info, "xenstore ls", &tx, &path)) return info.Env().Undefined();
    auto out = std::make_shared<std::pair<char**, uint32_t>>(nullptr, 0);
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.xs_ls(s, tx, path.c_str(), &out->first, &out->second, e); },
        [=](Napi::Env env) -> Napi::Value {
          Napi::Array a = Napi::Array::New(env, out->second);
          for (uint32_t i = 0; i < out->second; i++) a.Set(i, Napi::String::New(env, out->first[i]));
          api.free(out->first);
          return a;
        });
  }

  Napi::Value XsGetPerms(const Napi::CallbackInfo& info) {
    uint32_t tx;
    std::string path;
    if (!TxPath(info, "xenstore getPermissions", &tx, &path)) return info.Env().Undefined();
    auto out = std::make_shared<std::pair<rxc_perm*, uint32_t>>(nullptr, 0);
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.xs_get_perms(s, tx, path.c_str(), &out->first, &out->second, e); },
        [=](Napi::Env env) -> Napi::Value {
          Napi::Array a = Napi::Array::New(env, out->second);
          for (uint32_t i = 0; i < out->second; i++) {
            Napi::Object o = Napi::Object::New(env);
            o.Set("domid", out->first[i].domid);
            o.Set("bits", out->first[i].perms);
            a.Set(i, o);
          }
          api.free(out->first);
          return a;
        });
  }

  Napi::Value XsSetPerms(const Napi::CallbackInfo& info) {
    uint32_t tx;
    std::string path;
    if (!TxPath(info, "xenstore setPermissions", &tx, &path)) return info.Env().Undefined();
    if (info.Length() < 3 || !info[2].IsArray()) {
      Napi::TypeError::New(info.Env(), "permissions must be an array").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    Napi::Array a = info[2].As<Napi::Array>();
    auto perms = std::make_shared<std::vector<rxc_perm>>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Object o = a.Get(i).As<Napi::Object>();
      perms->push_back(rxc_perm{o.Get("domid").As<Napi::Number>().Uint32Value(), o.Get("bits").As<Napi::Number>().Uint32Value()});
    }
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(),
        [=](rxc_error* e) {
          return api.xs_set_perms(s, tx, path.c_str(), perms->data(), static_cast<uint32_t>(perms->size()), e);
        },
        nullptr);
  }

  Napi::Value XsTxStart(const Napi::CallbackInfo& info) {
    if (!Usable(info.Env(), "xenstore transaction")) return info.Env().Undefined();
    auto tx = std::make_shared<uint32_t>(0);
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(), [=](rxc_error* e) { return api.xs_tx_start(s, tx.get(), e); },
                     [=](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *tx); });
  }

  Napi::Value XsTxEnd(const Napi::CallbackInfo& info) {
    uint32_t tx;
    if (!Usable(info.Env(), "xenstore transaction") || !ArgU32(info, 0, "tx", &tx)) return info.Env().Undefined();
    bool abort = info.Length() > 1 && info[1].ToBoolean().Value();
    rxc_session* s = s_;
    return RunInPool(info.Env(), this, Value(), [=](rxc_error* e) { return api.xs_tx_end(s, tx, abort, e); }, nullptr);
  }

  rxc_session* s_ = nullptr;
};
Napi::FunctionReference* Session::constructor = nullptr;

}  // namespace

void InitSession(Napi::Env env) { Session::Init(env); }

Napi::Value OpenSession(const Napi::CallbackInfo& info) {
  return Open<Session, rxc_session>(info.Env(), [](rxc_session** s, rxc_error* e) { return api.session_open(s, e); });
}

}  // namespace rumpxen
