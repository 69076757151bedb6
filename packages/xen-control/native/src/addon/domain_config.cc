#include "domain_config.h"

#include <stdio.h>
#include <string.h>

#include <libxl.h>  // enum values only: this addon links no Xen library

namespace rumpxen {

namespace {

bool Fail(Napi::Env env, const std::string& path, const char* what) {
  Napi::TypeError::New(env, path + " must be " + what).ThrowAsJavaScriptException();
  return false;
}

// o[key], optional: *present is false when undefined or null.
bool OptString(Napi::Object o, const std::string& path, const char* key, std::string* out, bool* present) {
  Napi::Value v = o.Get(key);
  *present = !(v.IsUndefined() || v.IsNull());
  if (!*present) return true;
  if (!v.IsString()) return Fail(o.Env(), path + key, "a string");
  *out = v.As<Napi::String>();
  return true;
}

bool String(Napi::Object o, const std::string& path, const char* key, std::string* out) {
  bool present = false;
  if (!OptString(o, path, key, out, &present)) return false;
  return present ? true : Fail(o.Env(), path + key, "a string");
}

// An optional string kept in out->strings; *where is its c_str() or NULL.
bool KeptString(Napi::Object o, const std::string& path, const char* key, DomainSpec* out, const char** where) {
  std::string s;
  bool present = false;
  if (!OptString(o, path, key, &s, &present)) return false;
  *where = nullptr;
  if (present) {
    out->strings.push_back(std::move(s));
    *where = out->strings.back().c_str();
  }
  return true;
}

bool Number(Napi::Object o, const std::string& path, const char* key, double* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return Fail(o.Env(), path + key, "a number");
  *out = v.As<Napi::Number>().DoubleValue();
  return true;
}

bool Boolean(Napi::Object o, const std::string& path, const char* key, bool* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) return Fail(o.Env(), path + key, "true or false");
  *out = v.As<Napi::Boolean>().Value();
  return true;
}

bool Array(Napi::Object o, const char* key, Napi::Array* out) {
  Napi::Value v = o.Get(key);
  if (!v.IsArray()) return Fail(o.Env(), std::string("config.") + key, "an array");
  *out = v.As<Napi::Array>();
  return true;
}

bool Element(Napi::Array a, uint32_t i, const std::string& path, Napi::Object* out) {
  Napi::Value v = a.Get(i);
  if (!v.IsObject()) return Fail(a.Env(), path, "an object");
  *out = v.As<Napi::Object>();
  return true;
}

// A ShutdownAction name as libxl_action_on_shutdown.
bool Action(Napi::Object o, const char* key, int* out) {
  std::string s;
  if (!String(o, "config.", key, &s)) return false;
  if (s == "destroy") *out = LIBXL_ACTION_ON_SHUTDOWN_DESTROY;
  else if (s == "preserve") *out = LIBXL_ACTION_ON_SHUTDOWN_PRESERVE;
  else return Fail(o.Env(), std::string("config.") + key, "'destroy' or 'preserve'");
  return true;
}

// A DiskFormat name as libxl_disk_format.
bool Format(Napi::Object o, const std::string& path, int* out) {
  static const struct { const char* name; int value; } formats[] = {
    {"raw", LIBXL_DISK_FORMAT_RAW}, {"qcow", LIBXL_DISK_FORMAT_QCOW}, {"qcow2", LIBXL_DISK_FORMAT_QCOW2},
    {"vhd", LIBXL_DISK_FORMAT_VHD}, {"qed", LIBXL_DISK_FORMAT_QED},
  };
  std::string s;
  if (!String(o, path, "format", &s)) return false;
  for (const auto& f : formats) {
    if (s == f.name) {
      *out = f.value;
      return true;
    }
  }
  return Fail(o.Env(), path + "format", "raw, qcow, qcow2, vhd or qed");
}

bool Mac(Napi::Object o, const std::string& path, rxc_nic_spec* nic) {
  std::string s;
  bool present = false;
  if (!OptString(o, path, "mac", &s, &present)) return false;
  if (!present) return true;
  unsigned int b[6];
  char end;
  if (sscanf(s.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
    return Fail(o.Env(), path + "mac", "a MAC address such as 00:16:3e:00:00:01");
  for (int k = 0; k < 6; k++) nic->mac[k] = static_cast<uint8_t>(b[k]);
  nic->has_mac = 1;
  return true;
}

bool Disks(Napi::Object config, DomainSpec* out) {
  Napi::Array a;
  if (!Array(config, "disks", &a)) return false;
  for (uint32_t i = 0; i < a.Length(); i++) {
    std::string path = "config.disks[" + std::to_string(i) + "]";
    Napi::Object d;
    bool readonly = false;
    rxc_disk_spec disk{};
    if (!Element(a, i, path, &d)) return false;
    path += ".";
    if (!KeptString(d, path, "target", out, &disk.target) || !KeptString(d, path, "vdev", out, &disk.vdev) ||
        !KeptString(d, path, "script", out, &disk.script) || !Format(d, path, &disk.format) ||
        !Boolean(d, path, "readonly", &readonly))
      return false;
    if (!disk.target || !disk.vdev) return Fail(config.Env(), path + (disk.target ? "vdev" : "target"), "a string");
    disk.readwrite = !readonly;
    out->disks.push_back(disk);
  }
  return true;
}

bool Vifs(Napi::Object config, DomainSpec* out) {
  Napi::Array a;
  if (!Array(config, "vifs", &a)) return false;
  for (uint32_t i = 0; i < a.Length(); i++) {
    std::string path = "config.vifs[" + std::to_string(i) + "]";
    Napi::Object v;
    rxc_nic_spec nic{};
    if (!Element(a, i, path, &v)) return false;
    path += ".";
    if (!Mac(v, path, &nic) || !KeptString(v, path, "bridge", out, &nic.bridge) || !KeptString(v, path, "ip", out, &nic.ip) ||
        !KeptString(v, path, "script", out, &nic.script))
      return false;
    out->nics.push_back(nic);
  }
  return true;
}

bool Pcis(Napi::Object config, DomainSpec* out) {
  Napi::Array a;
  if (!Array(config, "pci", &a)) return false;
  for (uint32_t i = 0; i < a.Length(); i++) {
    std::string path = "config.pci[" + std::to_string(i) + "]";
    Napi::Object p;
    double domain, bus, dev, func;
    bool permissive = false;
    if (!Element(a, i, path, &p)) return false;
    path += ".";
    if (!Number(p, path, "domain", &domain) || !Number(p, path, "bus", &bus) || !Number(p, path, "dev", &dev) ||
        !Number(p, path, "func", &func) || !Boolean(p, path, "permissive", &permissive))
      return false;
    out->pcis.push_back(rxc_pci_spec{static_cast<uint32_t>(domain), static_cast<uint8_t>(bus), static_cast<uint8_t>(dev),
                                     static_cast<uint8_t>(func), permissive});
  }
  return true;
}

}  // namespace

bool ConvertDomainConfig(Napi::Object config, Napi::Object how, DomainSpec* out) {
  rxc_domain_spec& spec = out->spec;
  std::string type;
  double memory = 0, max_memory = 0, vcpus = 0;
  bool paused = false;
  if (!KeptString(config, "config.", "name", out, &spec.name) || !KeptString(config, "config.", "kernel", out, &spec.kernel))
    return false;
  if (!spec.name || !spec.kernel) return Fail(config.Env(), spec.name ? "config.kernel" : "config.name", "a string");
  if (!KeptString(config, "config.", "ramdisk", out, &spec.ramdisk) || !KeptString(config, "config.", "cmdline", out, &spec.cmdline) ||
      !KeptString(config, "config.", "guestConfigJson", out, &spec.guest_config) || !String(config, "config.", "type", &type) ||
      !Number(config, "config.", "memory", &memory) || !Number(config, "config.", "maxMemory", &max_memory) ||
      !Number(config, "config.", "vcpus", &vcpus) || !Action(config, "on_poweroff", &spec.on_poweroff) ||
      !Action(config, "on_crash", &spec.on_crash))
    return false;
  if (type != "pv" && type != "pvh") return Fail(config.Env(), "config.type", "'pv' or 'pvh'");
  spec.pvh = type == "pvh";
  spec.memory_kb = static_cast<uint64_t>(memory) * 1024;
  spec.max_memory_kb = static_cast<uint64_t>(max_memory) * 1024;
  spec.vcpus = static_cast<uint32_t>(vcpus);
  if (!Disks(config, out) || !Vifs(config, out) || !Pcis(config, out)) return false;
  if (!Boolean(how, "how.", "direct", &out->direct) || !Boolean(how, "how.", "paused", &paused)) return false;
  Napi::Value ring = how.Get("consoleRing");
  if (!ring.IsUndefined() && !Boolean(how, "how.", "consoleRing", &out->console_ring)) return false;
  spec.leave_paused = paused;
  spec.disks = out->disks.data();
  spec.num_disks = static_cast<uint32_t>(out->disks.size());
  spec.nics = out->nics.data();
  spec.num_nics = static_cast<uint32_t>(out->nics.size());
  spec.pcis = out->pcis.data();
  spec.num_pcis = static_cast<uint32_t>(out->pcis.size());
  return true;
}

}  // namespace rumpxen
