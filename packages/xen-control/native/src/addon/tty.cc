#include "tty.h"

#include <errno.h>
#include <string.h>
#include <termios.h>

#include <string>

namespace rumpxen {

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

}  // namespace rumpxen
