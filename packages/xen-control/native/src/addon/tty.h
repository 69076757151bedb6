// ttyMakeRaw(fd): cfmakeraw on a console pty, as `xl console` does.
#ifndef RUMPXEN_ADDON_TTY_H
#define RUMPXEN_ADDON_TTY_H

#include <napi.h>

namespace rumpxen {

// libuv's raw mode keeps ONLCR, which would turn the guest's "\n" input into "\r\n"; this
// makes the pty fully raw. Throws naming the fd when it is not a terminal.
Napi::Value TtyMakeRaw(const Napi::CallbackInfo& info);

}  // namespace rumpxen

#endif
