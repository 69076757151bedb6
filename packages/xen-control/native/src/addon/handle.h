// Handle: the base of every object that owns a C handle (Session, Watch, Evtchn, Mapping,
// the mappers).
#ifndef RUMPXEN_ADDON_HANDLE_H
#define RUMPXEN_ADDON_HANDLE_H

#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <string>

#include <napi.h>

namespace rumpxen {

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

}  // namespace rumpxen

#endif
