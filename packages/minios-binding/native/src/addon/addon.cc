// The Node face of rxctl: converts and checks arguments, runs every blocking
// call off the JavaScript thread and turns rxc_error into JS exceptions.
// The Xen logic lives in the C library (src/c), which is dlopen()ed by load()
// so that this addon loads on machines without the Xen libraries.

#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <napi.h>

#include "rxctl.h"

namespace {

// ---- the dlopen()ed library -------------------------------------------------

struct Api {
#define RXC_POINTER(name, ret, params) ret(*name) params = nullptr;
  RXC_FUNCTIONS(RXC_POINTER)
#undef RXC_POINTER
};

Api api;
void* library = nullptr;

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
// mode keeps ONLCR, which would turn the guest's "\n" input into "\r\n".
Napi::Value TtyMakeRaw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) {
    Napi::TypeError::New(env, "ttyMakeRaw(fd): fd must be a number").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct termios t;
  if (tcgetattr(fd, &t) != 0) {
    Napi::Error e = Napi::Error::New(env, std::string("tcgetattr: fd ") + std::to_string(fd) + " is not a terminal (" + strerror(errno) + ")");
    e.Set("code", Napi::String::New(env, strerrorname_np(errno) ? strerrorname_np(errno) : "EIO"));
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  cfmakeraw(&t);
  if (tcsetattr(fd, TCSANOW, &t) != 0) {
    Napi::Error e = Napi::Error::New(env, std::string("tcsetattr on fd ") + std::to_string(fd) + " failed (" + strerror(errno) + ")");
    e.Set("code", Napi::String::New(env, strerrorname_np(errno) ? strerrorname_np(errno) : "EIO"));
    e.ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// ---- handles ----------------------------------------------------------------

// Base of every handle: counts operations in flight so that close() frees the
// C resource only once the last one has finished, and owns an eventfd that
// close() signals to cancel blocking waits.
class Handle {
 public:
  Handle() { cancel_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }
  virtual ~Handle() {
    if (cancel_fd_ >= 0) close(cancel_fd_);
  }
  bool Usable(Napi::Env env, const char* what) {
    if (closed_) {
      Napi::Error e = Napi::Error::New(env, std::string(what) + ": the handle is closed; open a new one");
      e.Set("code", Napi::String::New(env, "ERR_XEN_CLOSED"));
      e.ThrowAsJavaScriptException();
      return false;
    }
    return true;
  }
  void Acquire() { busy_++; }
  void Release() {
    if (--busy_ == 0 && closed_) FreeNow();
  }
  void CloseHandle() {
    if (closed_) return;
    closed_ = true;
    if (cancel_fd_ >= 0) {
      uint64_t one = 1;
      ssize_t r = write(cancel_fd_, &one, sizeof one);
      (void)r;
    }
    if (busy_ == 0) FreeNow();
  }
  int cancel_fd() const { return cancel_fd_; }
  bool closed() const { return closed_; }

 protected:
  virtual void FreeResource() = 0;

 private:
  void FreeNow() {
    if (freed_) return;
    freed_ = true;
    FreeResource();
  }
  int busy_ = 0;
  bool closed_ = false;
  bool freed_ = false;
  int cancel_fd_ = -1;
};

using Work = std::function<int(rxc_error*)>;
using Done = std::function<Napi::Value(Napi::Env)>;

// Runs work on the libuv thread pool (short calls).
class PoolWorker : public Napi::AsyncWorker {
 public:
  PoolWorker(Napi::Env env, Handle* owner, Napi::Object self, Work work, Done done)
      : Napi::AsyncWorker(env, "rumpxen:xen"),
        deferred_(Napi::Promise::Deferred::New(env)),
        owner_(owner),
        work_(std::move(work)),
        done_(std::move(done)) {
    memset(&err_, 0, sizeof err_);
    if (owner_) {
      owner_->Acquire();
      self_ = Napi::Persistent(self);
    }
  }
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { rc_ = work_(&err_); }
  void OnOK() override {
    Napi::Env env = Env();
    if (rc_) {
      deferred_.Reject(MakeError(env, err_).Value());
    } else {
      Napi::Value v = done_ ? done_(env) : env.Undefined();
      if (env.IsExceptionPending())
        deferred_.Reject(env.GetAndClearPendingException().Value());
      else
        deferred_.Resolve(v);
    }
    if (owner_) owner_->Release();
    self_.Reset();
  }

 private:
  Napi::Promise::Deferred deferred_;
  Handle* owner_;
  Napi::ObjectReference self_;
  Work work_;
  Done done_;
  int rc_ = 0;
  rxc_error err_;
};

Napi::Promise RunInPool(Napi::Env env, Handle* owner, Napi::Object self, Work work, Done done) {
  auto* w = new PoolWorker(env, owner, self, std::move(work), std::move(done));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// Runs work that may block indefinitely (waits, watches) on a thread of its
// own, so parked waiters never starve the libuv pool.
struct ThreadJob;
void FinishThreadJob(Napi::Env env, Napi::Function, std::nullptr_t*, ThreadJob* job);
using JobTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, ThreadJob, FinishThreadJob>;

struct ThreadJob {
  explicit ThreadJob(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) { memset(&err, 0, sizeof err); }
  Napi::Promise::Deferred deferred;
  Handle* owner = nullptr;
  Napi::ObjectReference self;
  Work work;
  Done done;
  int rc = 0;
  rxc_error err;
  JobTsfn tsfn;
};

void FinishThreadJob(Napi::Env env, Napi::Function, std::nullptr_t*, ThreadJob* job) {
  if (env != nullptr) {
    Napi::HandleScope scope(env);
    if (job->rc) {
      job->deferred.Reject(MakeError(env, job->err).Value());
    } else {
      Napi::Value v = job->done ? job->done(env) : env.Undefined();
      if (env.IsExceptionPending())
        job->deferred.Reject(env.GetAndClearPendingException().Value());
      else
        job->deferred.Resolve(v);
    }
    job->owner->Release();
    job->self.Reset();
  }
  delete job;
}

Napi::Promise RunOnThread(Napi::Env env, Handle* owner, Napi::Object self, Work work, Done done) {
  auto* job = new ThreadJob(env);
  job->owner = owner;
  job->self = Napi::Persistent(self);
  job->work = std::move(work);
  job->done = std::move(done);
  owner->Acquire();
  Napi::Promise p = job->deferred.Promise();
  job->tsfn = JobTsfn::New(env, "rumpxen:xen-wait", 0, 1, nullptr);
  std::thread([job]() {
    job->rc = job->work(&job->err);
    JobTsfn tsfn = job->tsfn;
    tsfn.BlockingCall(job);
    tsfn.Release();
  }).detach();
  return p;
}

// ---- argument helpers (the TS layer validates; these only guard the C calls) --

bool ArgU32(const Napi::CallbackInfo& info, size_t i, const char* name, uint32_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), std::string(name) + " must be a number").ThrowAsJavaScriptException();
    return false;
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint32_t>(d))) {
    Napi::RangeError::New(info.Env(), std::string(name) + " must be an integer from 0 to 2^32-1")
        .ThrowAsJavaScriptException();
    return false;
  }
  *out = static_cast<uint32_t>(d);
  return true;
}

bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out) {
  if (info.Length() <= i || !info[i].IsString()) {
    Napi::TypeError::New(info.Env(), std::string(name) + " must be a string").ThrowAsJavaScriptException();
    return false;
  }
  *out = info[i].As<Napi::String>();
  return true;
}

bool GetString(Napi::Object o, const char* key, std::string* out, bool* present) {
  Napi::Value v = o.Get(key);
  *present = !(v.IsUndefined() || v.IsNull());
  if (!*present) return true;
  if (!v.IsString()) {
    Napi::TypeError::New(o.Env(), std::string("spec.") + key + " must be a string").ThrowAsJavaScriptException();
    return false;
  }
  *out = v.As<Napi::String>();
  return true;
}

bool GetNumber(Napi::Object o, const char* key, double* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) {
    Napi::TypeError::New(o.Env(), std::string("spec.") + key + " must be a number").ThrowAsJavaScriptException();
    return false;
  }
  *out = v.As<Napi::Number>().DoubleValue();
  return true;
}

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

// Owned copies of a domain spec's strings, kept alive for the worker thread.
struct SpecStorage {
  rxc_domain_spec spec{};
  bool direct = false;  // libxenguest builder instead of libxl
  std::string name, kernel, ramdisk, cmdline, guest_config;
  std::vector<std::string> strings;  // disk/nic strings; reserved up front so c_str() stays valid
  std::vector<rxc_disk_spec> disks;
  std::vector<rxc_nic_spec> nics;
  std::vector<rxc_pci_spec> pcis;
};

bool ConvertSpec(Napi::Object o, SpecStorage* st) {
  Napi::Env env = o.Env();
  bool present = false;
  double num = 0;
  if (!GetString(o, "name", &st->name, &present)) return false;
  if (!GetString(o, "kernel", &st->kernel, &present)) return false;
  if (!present || st->name.empty()) {
    Napi::TypeError::New(env, "spec.name and spec.kernel are required").ThrowAsJavaScriptException();
    return false;
  }
  st->spec.name = st->name.c_str();
  st->spec.kernel = st->kernel.c_str();
  if (!GetString(o, "ramdisk", &st->ramdisk, &present)) return false;
  st->spec.ramdisk = present ? st->ramdisk.c_str() : nullptr;
  if (!GetString(o, "cmdline", &st->cmdline, &present)) return false;
  st->spec.cmdline = present ? st->cmdline.c_str() : nullptr;
  if (!GetString(o, "guestConfig", &st->guest_config, &present)) return false;
  st->spec.guest_config = present ? st->guest_config.c_str() : nullptr;
  if (!GetNumber(o, "memoryKb", &num)) return false;
  st->spec.memory_kb = static_cast<uint64_t>(num);
  if (!GetNumber(o, "maxMemoryKb", &num)) return false;
  st->spec.max_memory_kb = static_cast<uint64_t>(num);
  if (!GetNumber(o, "vcpus", &num)) return false;
  st->spec.vcpus = static_cast<uint32_t>(num);
  if (!GetNumber(o, "pvh", &num)) return false;
  st->spec.pvh = num != 0;
  if (!GetNumber(o, "onPoweroff", &num)) return false;
  st->spec.on_poweroff = static_cast<int>(num);
  if (!GetNumber(o, "onCrash", &num)) return false;
  st->spec.on_crash = static_cast<int>(num);
  if (!GetNumber(o, "leavePaused", &num)) return false;
  st->spec.leave_paused = num != 0;
  if (!GetNumber(o, "direct", &num)) return false;
  st->direct = num != 0;

  Napi::Value dv = o.Get("disks"), nv = o.Get("nics"), pv = o.Get("pcis");
  if (!dv.IsArray() || !nv.IsArray() || !pv.IsArray()) {
    Napi::TypeError::New(env, "spec.disks, spec.nics and spec.pcis must be arrays").ThrowAsJavaScriptException();
    return false;
  }
  Napi::Array da = dv.As<Napi::Array>(), na = nv.As<Napi::Array>(), pa = pv.As<Napi::Array>();
  st->strings.reserve(da.Length() * 3 + na.Length() * 3);
  for (uint32_t i = 0; i < da.Length(); i++) {
    Napi::Object d = da.Get(i).As<Napi::Object>();
    std::string target, vdev, script;
    bool has_script = false;
    if (!GetString(d, "target", &target, &present) || !GetString(d, "vdev", &vdev, &present)) return false;
    if (!GetString(d, "script", &script, &has_script)) return false;
    if (!GetNumber(d, "format", &num)) return false;
    int format = static_cast<int>(num);
    if (!GetNumber(d, "readwrite", &num)) return false;
    st->strings.push_back(target);
    const char* t = st->strings.back().c_str();
    st->strings.push_back(vdev);
    const char* v = st->strings.back().c_str();
    const char* sc = nullptr;
    if (has_script) {
      st->strings.push_back(script);
      sc = st->strings.back().c_str();
    }
    st->disks.push_back(rxc_disk_spec{t, v, format, num != 0, sc});
  }
  for (uint32_t i = 0; i < na.Length(); i++) {
    Napi::Object n = na.Get(i).As<Napi::Object>();
    rxc_nic_spec ns{};
    Napi::Value mac = n.Get("mac");
    if (mac.IsArray() && mac.As<Napi::Array>().Length() == 6) {
      for (uint32_t k = 0; k < 6; k++) ns.mac[k] = static_cast<uint8_t>(mac.As<Napi::Array>().Get(k).As<Napi::Number>().Uint32Value());
      ns.has_mac = 1;
    }
    const char* keys[3] = {"bridge", "ip", "script"};
    const char** slots[3] = {&ns.bridge, &ns.ip, &ns.script};
    for (int k = 0; k < 3; k++) {
      std::string v;
      if (!GetString(n, keys[k], &v, &present)) return false;
      if (present) {
        st->strings.push_back(v);
        *slots[k] = st->strings.back().c_str();
      }
    }
    st->nics.push_back(ns);
  }
  for (uint32_t i = 0; i < pa.Length(); i++) {
    Napi::Object p = pa.Get(i).As<Napi::Object>();
    double dom, bus, dev, fn, perm;
    if (!GetNumber(p, "domain", &dom) || !GetNumber(p, "bus", &bus) || !GetNumber(p, "dev", &dev) ||
        !GetNumber(p, "func", &fn) || !GetNumber(p, "permissive", &perm))
      return false;
    st->pcis.push_back(rxc_pci_spec{static_cast<uint32_t>(dom), static_cast<uint8_t>(bus), static_cast<uint8_t>(dev),
                                    static_cast<uint8_t>(fn), perm != 0});
  }
  st->spec.disks = st->disks.data();
  st->spec.num_disks = static_cast<uint32_t>(st->disks.size());
  st->spec.nics = st->nics.data();
  st->spec.num_nics = static_cast<uint32_t>(st->nics.size());
  st->spec.pcis = st->pcis.data();
  st->spec.num_pcis = static_cast<uint32_t>(st->pcis.size());
  return true;
}

// ---- Session ------------------------------------------------------------------

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
    if (info.Length() < 1 || !info[0].IsObject()) {
      Napi::TypeError::New(env, "domainCreate(spec): spec must be an object").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto st = std::make_shared<SpecStorage>();
    if (!ConvertSpec(info[0].As<Napi::Object>(), st.get())) return env.Undefined();
    auto domid = std::make_shared<uint32_t>(0);
    auto timing = std::make_shared<rxc_create_timing>();
    rxc_session* s = s_;
    return RunInPool(env, this, Value(),
        [=](rxc_error* e) {
          return st->direct ? api.domain_create_direct(s, &st->spec, domid.get(), timing.get(), e)
                            : api.domain_create(s, &st->spec, domid.get(), timing.get(), e);
        },
        [=](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("domid", *domid);
          o.Set("buildMs", timing->build_ms);
          o.Set("xenstoreMs", timing->xenstore_ms);
          o.Set("unpauseMs", timing->unpause_ms);
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

// ---- Watch --------------------------------------------------------------------

class Watch : public Napi::ObjectWrap<Watch>, public Handle {
 public:
  static Napi::FunctionReference* constructor;
  static Napi::Function Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "Watch", {
      InstanceMethod("next", &Watch::Next),
      InstanceMethod("close", &Watch::Close),
    });
    constructor = new Napi::FunctionReference(Napi::Persistent(f));
    return f;
  }
  explicit Watch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watch>(info) {}
  ~Watch() override { CloseHandle(); }
  void Adopt(rxc_watch* w) { w_ = w; }

 private:
  void FreeResource() override {
    if (w_) api.watch_close(w_);
    w_ = nullptr;
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseHandle();
    return info.Env().Undefined();
  }
  Napi::Value Next(const Napi::CallbackInfo& info) {
    if (!Usable(info.Env(), "watch.next")) return info.Env().Undefined();
    auto ev = std::make_shared<rxc_watch_event>();
    rxc_watch* w = w_;
    int cancel = cancel_fd();
    return RunOnThread(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.watch_next(w, cancel, ev.get(), e); },
        [=](Napi::Env env) -> Napi::Value {
          Napi::Object o = Napi::Object::New(env);
          o.Set("path", ev->path);
          o.Set("token", ev->token);
          api.free(ev->path);
          api.free(ev->token);
          return o;
        });
  }
  rxc_watch* w_ = nullptr;
};
Napi::FunctionReference* Watch::constructor = nullptr;

// ---- Evtchn -------------------------------------------------------------------

class Evtchn : public Napi::ObjectWrap<Evtchn>, public Handle {
 public:
  static Napi::FunctionReference* constructor;
  static Napi::Function Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "Evtchn", {
      InstanceMethod("bindInterdomain", &Evtchn::BindInterdomain),
      InstanceMethod("bindUnbound", &Evtchn::BindUnbound),
      InstanceMethod("unbind", &Evtchn::Unbind),
      InstanceMethod("notify", &Evtchn::Notify),
      InstanceMethod("wait", &Evtchn::Wait),
      InstanceMethod("close", &Evtchn::Close),
    });
    constructor = new Napi::FunctionReference(Napi::Persistent(f));
    return f;
  }
  explicit Evtchn(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Evtchn>(info) {}
  ~Evtchn() override { CloseHandle(); }
  void Adopt(rxc_evtchn* e) { e_ = e; }

 private:
  void FreeResource() override {
    if (e_) api.evtchn_close(e_);
    e_ = nullptr;
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    CloseHandle();
    return info.Env().Undefined();
  }
  Napi::Value PortResult(Napi::Env env, std::function<int(rxc_evtchn*, uint32_t*, rxc_error*)> fn) {
    auto port = std::make_shared<uint32_t>(0);
    rxc_evtchn* h = e_;
    return RunInPool(env, this, Value(), [=](rxc_error* e) { return fn(h, port.get(), e); },
                     [=](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, *port); });
  }
  Napi::Value BindInterdomain(const Napi::CallbackInfo& info) {
    uint32_t domid, remote;
    if (!Usable(info.Env(), "evtchn.bindInterdomain") || !ArgU32(info, 0, "domid", &domid) ||
        !ArgU32(info, 1, "remotePort", &remote))
      return info.Env().Undefined();
    return PortResult(info.Env(), [=](rxc_evtchn* h, uint32_t* p, rxc_error* e) {
      return api.evtchn_bind_interdomain(h, domid, remote, p, e);
    });
  }
  Napi::Value BindUnbound(const Napi::CallbackInfo& info) {
    uint32_t domid;
    if (!Usable(info.Env(), "evtchn.bindUnbound") || !ArgU32(info, 0, "domid", &domid)) return info.Env().Undefined();
    return PortResult(info.Env(), [=](rxc_evtchn* h, uint32_t* p, rxc_error* e) {
      return api.evtchn_bind_unbound(h, domid, p, e);
    });
  }
  Napi::Value Unbind(const Napi::CallbackInfo& info) {
    uint32_t port;
    if (!Usable(info.Env(), "evtchn.unbind") || !ArgU32(info, 0, "port", &port)) return info.Env().Undefined();
    rxc_evtchn* h = e_;
    return RunInPool(info.Env(), this, Value(), [=](rxc_error* e) { return api.evtchn_unbind(h, port, e); }, nullptr);
  }
  Napi::Value Notify(const Napi::CallbackInfo& info) {
    uint32_t port;
    if (!Usable(info.Env(), "evtchn.notify") || !ArgU32(info, 0, "port", &port)) return info.Env().Undefined();
    rxc_evtchn* h = e_;
    return RunInPool(info.Env(), this, Value(), [=](rxc_error* e) { return api.evtchn_notify(h, port, e); }, nullptr);
  }
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    if (!Usable(info.Env(), "evtchn.wait")) return info.Env().Undefined();
    int timeout = -1;
    if (info.Length() > 0 && info[0].IsNumber()) timeout = info[0].As<Napi::Number>().Int32Value();
    auto port = std::make_shared<int32_t>(-1);
    rxc_evtchn* h = e_;
    int cancel = cancel_fd();
    return RunOnThread(info.Env(), this, Value(),
        [=](rxc_error* e) { return api.evtchn_wait(h, cancel, timeout, port.get(), e); },
        [=](Napi::Env env) -> Napi::Value {
          return *port < 0 ? env.Null() : Napi::Number::New(env, *port).As<Napi::Value>();
        });
  }
  rxc_evtchn* e_ = nullptr;
};
Napi::FunctionReference* Evtchn::constructor = nullptr;

// ---- Mapping (grant or foreign) ----------------------------------------------

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
Napi::FunctionReference* Mapping::constructor = nullptr;

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

// ---- openers ------------------------------------------------------------------

// Opens a C handle on the pool and wraps it in a new instance of Cls.
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

Napi::Value OpenSession(const Napi::CallbackInfo& info) {
  return Open<Session, rxc_session>(info.Env(), [](rxc_session** s, rxc_error* e) { return api.session_open(s, e); });
}

Napi::Value OpenWatch(const Napi::CallbackInfo& info) {
  std::string path, token;
  if (!ArgString(info, 0, "path", &path) || !ArgString(info, 1, "token", &token)) return info.Env().Undefined();
  return Open<Watch, rxc_watch>(info.Env(),
      [=](rxc_watch** w, rxc_error* e) { return api.watch_open(path.c_str(), token.c_str(), w, e); });
}

Napi::Value OpenEvtchn(const Napi::CallbackInfo& info) {
  return Open<Evtchn, rxc_evtchn>(info.Env(), [](rxc_evtchn** h, rxc_error* e) { return api.evtchn_open(h, e); });
}

Napi::Value OpenGnttab(const Napi::CallbackInfo& info) {
  return Open<Gnttab, rxc_gnttab>(info.Env(), [](rxc_gnttab** h, rxc_error* e) { return api.gnttab_open(h, e); });
}

Napi::Value OpenForeignMemory(const Napi::CallbackInfo& info) {
  return Open<ForeignMemory, rxc_fmem>(info.Env(), [](rxc_fmem** h, rxc_error* e) { return api.fmem_open(h, e); });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
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
  Session::Init(env);
  Watch::Init(env);
  Evtchn::Init(env);
  Mapping::Init(env);
  Gnttab::Init(env);
  ForeignMemory::Init(env);
  exports.Set("abiVersion", Napi::Number::New(env, RXC_ABI_VERSION));
  return exports;
}

}  // namespace

NODE_API_MODULE(rumpxen_xen, Init)
