/**
 * The shell side of the full-mode dom0: busybox init's table, the start-up script, the
 * control agent, the xl hotplug scripts and the wrappers that run the host's programs.
 * Everything here is busybox `sh`; Debian's own hotplug scripts need bash, which the
 * initramfs does not carry.
 *
 * Run-time settings (shared folder paths, bridge address) are not baked in: the start-up
 * script reads them from `testbed.conf` on the run share, so one initramfs (cached by content
 * hash) serves every run.
 */
import { resultLine } from '@rumpxen/protocol';

/** virtio-serial port name of the control channel (`/sys/class/virtio-ports/<port>/name`). */
export const CONTROL_PORT_NAME = 'org.rumpxen.ctl';
/** 9p mount tags. */
export const SHARE_TAGS = { run: 'tbrun', repo: 'repo', hostRoot: 'hostroot' } as const;
/**
 * dom0's Xen tools offered to the host's programs that dom0 runs (`hostrun`, `node`, ...):
 * wrappers in this folder of the chroot (on hostrun's PATH, after the host's own folders)
 * run the dom0 program of the same name in dom0's root, in the same current folder.
 */
export const DOM0_TOOLS_DIR = '/run/testbed/bin';
export const DOM0_TOOLS_FOR_HOST = ['xl', 'xenconsole', 'xenstore-read', 'xenstore-write', 'xenstore-chmod', 'xenstore-exists', 'xenstore-ls', 'xenstore-list', 'xenstore-rm', 'xenstore-watch'] as const;

/** Prefix of the start-up script's progress lines on dom0's console. */
export const INIT_PREFIX = 'testbed-init:';

const NINEP_OPTS = 'trans=virtio,version=9p2000.L,msize=512000';

/** busybox init reads this: run the start-up script once, then keep the agent running. */
export const INITTAB = `::sysinit:/etc/testbed/rc
::respawn:/etc/testbed/agent
::ctrlaltdel:/bin/poweroff -f
`;

/** The start-up order of XEN-IN-QEMU.md, plus the shares, the bridge and the control port. */
export const RC_SCRIPT = `#!/bin/sh
# dom0 start-up: file systems, modules, shares, xenstored, xenconsoled, bridge.
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin
step() { echo "${INIT_PREFIX} $*"; }
fail() { echo "${INIT_PREFIX} FAILED: $*"; sleep 1; poweroff -f; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/xen /run/xenstored /run/ctl /run/lock /var/lib/xen /var/lib/xenstored /var/log/xen
step "modules"
while read -r m; do
  modprobe "$m" || fail "modprobe $m"
done < /etc/testbed/modules
mount -t xenfs xenfs /proc/xen || fail "mount -t xenfs (is this kernel running as Xen's dom0?)"

step "shares"
mkdir -p /tb
mount -t 9p -o ${NINEP_OPTS} ${SHARE_TAGS.run} /tb || fail "mount the run share (9p tag ${SHARE_TAGS.run})"
[ -r /tb/testbed.conf ] || fail "no testbed.conf on the run share"
. /tb/testbed.conf
mkdir -p "$TB_RUNDIR" && mount --bind /tb "$TB_RUNDIR" || fail "bind the run share at $TB_RUNDIR"
if [ -n "$TB_REPO" ]; then
  mkdir -p "$TB_REPO"
  mount -t 9p -o ${NINEP_OPTS} ${SHARE_TAGS.repo} "$TB_REPO" || fail "mount the repository share at $TB_REPO"
fi
if [ "$TB_HOSTROOT" = 1 ]; then
  mkdir -p /host
  mount -t 9p -o ${NINEP_OPTS},ro,cache=loose ${SHARE_TAGS.hostRoot} /host || fail "mount the host's / (9p tag ${SHARE_TAGS.hostRoot})"
  mount -t proc proc /host/proc
  mount -t xenfs xenfs /host/proc/xen
  mount --rbind /dev /host/dev
  mount --rbind /sys /host/sys
  # One /tmp for dom0 and the host's programs, so files either side writes (xl.cfg files in
  # mkdtemp folders) are at the same path for the other. That hides the host's own /tmp, so a
  # workspace checked out there (TB_HOST_KEEP: a CI clone, say) is bound back at its path.
  case "$TB_HOST_KEEP" in
  /tmp/?*) mkdir -p /run/host-keep && mount --bind "/host$TB_HOST_KEEP" /run/host-keep || fail "keep $TB_HOST_KEEP";;
  esac
  mount --bind /tmp /host/tmp
  if [ -d /run/host-keep ]; then
    mkdir -p "/host$TB_HOST_KEEP" && mount --bind /run/host-keep "/host$TB_HOST_KEEP" || fail "bind $TB_HOST_KEEP back into /host"
  fi
  mount -t tmpfs tmpfs /host/run
  # libxl (the host's node with @rumpxen/xen-control's addon, the host's own xl) keeps its
  # state in /var/lib/xen and /run/xen and reaches xenstored through /run/xenstored: bind dom0's
  # (writable, shared with dom0's own xl) over the read-only host's. /var/lib gets a tmpfs first
  # so the mount points can be made.
  mount -t tmpfs tmpfs /host/var/lib || fail "tmpfs on /host/var/lib"
  mkdir -p /host/var/lib/xen /host/run/xen /host/run/xenstored
  mount --bind /var/lib/xen /host/var/lib/xen || fail "bind /var/lib/xen into /host"
  mount --bind /run/xen /host/run/xen || fail "bind /run/xen into /host"
  mount --bind /run/xenstored /host/run/xenstored || fail "bind /run/xenstored into /host"
  # dom0's Xen tools for the host's programs (which have none): wrappers in /run/testbed/bin,
  # last on hostrun's PATH, that go back to dom0's root through /proc/1/root.
  mkdir -p "/host${DOM0_TOOLS_DIR}" && cp -p /etc/testbed/host-tools/* "/host${DOM0_TOOLS_DIR}/" || fail "dom0 tool wrappers in /host${DOM0_TOOLS_DIR}"
  mkdir -p "/host$TB_RUNDIR" && mount --bind /tb "/host$TB_RUNDIR"
  if [ -n "$TB_REPO" ]; then mkdir -p "/host$TB_REPO" && mount --bind "$TB_REPO" "/host$TB_REPO" || fail "bind the repository into /host"; fi
fi

step "xenstored"
xenstored --pid-file /run/xenstored.pid || fail "xenstored"
xen-init-dom0 >/run/xen-init-dom0.log 2>&1 || { cat /run/xen-init-dom0.log; fail "xen-init-dom0"; }
mkdir -p "$TB_RUNDIR/xenlog"
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir="$TB_RUNDIR/xenlog" || fail "xenconsoled"

step "network"
ip link set lo up
brctl addbr xenbr0 || fail "brctl addbr xenbr0"
ip addr add "$TB_BRIDGE_ADDR" dev xenbr0 || fail "address $TB_BRIDGE_ADDR on xenbr0"
ip link set xenbr0 up
# dom0's ends of the passed-through NICs' QEMU hubs (TB_PT_NIC_MACS): found by MAC, on xenbr0.
for mac in $TB_PT_NIC_MACS; do
  nic=
  for a in /sys/class/net/*/address; do [ "$(cat "$a")" = "$mac" ] && nic=$(basename "$(dirname "$a")"); done
  [ -n "$nic" ] || fail "no dom0 interface with MAC $mac (the passed-through NIC's peer)"
  ip link set "$nic" up && brctl addif xenbr0 "$nic" || fail "$nic ($mac) on xenbr0"
done
xl list >/dev/null || fail "xl list"
step "ready"
`;

/**
 * The control agent: reads `RUN <id>` / `KILL <id>` lines from the control port; each RUN
 * executes `ctl/<id>.sh` from the run share in its own session, with stdout and stderr going
 * to `ctl/<id>.out` and `ctl/<id>.err` there, and answers `DONE <id> <exit code>`.
 */
export const AGENT_SCRIPT = `#!/bin/sh
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin
. /tb/testbed.conf
port=
for p in /sys/class/virtio-ports/*; do
  [ "$(cat "$p/name" 2>/dev/null)" = "${CONTROL_PORT_NAME}" ] && port=/dev/\${p##*/}
done
[ -n "$port" ] || { echo "${INIT_PREFIX} FAILED: no virtio port named ${CONTROL_PORT_NAME}"; sleep 5; exit 1; }
ctl="$TB_RUNDIR/ctl"
exec 3<>"$port"
run_job() {
  setsid sh -c 'echo $$ >"/run/ctl/$1.pid"; cd "$3" 2>/dev/null || cd /; exec sh "$2/$1.sh"' job "$1" "$ctl" "\${TB_REPO:-/}" \\
    </dev/null >"$ctl/$1.out" 2>"$ctl/$1.err"
  echo "DONE $1 $?" >&3
  rm -f "/run/ctl/$1.pid"
}
echo "READY" >&3
echo "${INIT_PREFIX} agent on $port"
while read -r verb id <&3; do
  case "$id" in ''|*[!A-Za-z0-9_-]*) echo "BAD $verb" >&3; continue ;; esac
  case "$verb" in
    RUN) run_job "$id" & ;;
    KILL) pg=$(cat "/run/ctl/$id.pid" 2>/dev/null) && kill -9 -"$pg" 2>/dev/null ;;
    *) echo "BAD $verb" >&3 ;;
  esac
done
`;

/**
 * xl's default block hotplug script for the phy backend: backs a regular file with a loop
 * device and publishes its device number for blkback.
 */
export const BLOCK_HOTPLUG_SCRIPT = `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
fail() {
  xenstore-write "$XENBUS_PATH/hotplug-error" "$*" "$XENBUS_PATH/hotplug-status" error
  echo "block hotplug: $*" >&2
  exit 1
}
case "$1" in
  add)
    target=$(xenstore-read "$XENBUS_PATH/params") || fail "no params in $XENBUS_PATH"
    mode=$(xenstore-read "$XENBUS_PATH/mode" 2>/dev/null)
    if [ -b "$target" ]; then
      dev=$target
    elif [ -f "$target" ]; then
      ro=; [ "$mode" = r ] && ro=-r
      # busybox losetup has no --show: take the next free device, retry if another script won it.
      dev=
      for try in 1 2 3 4 5; do
        free=$(losetup -f) || break
        if losetup $ro "$free" "$target" 2>/dev/null; then dev=$free; break; fi
      done
      [ -n "$dev" ] || fail "losetup of $target failed"
    else
      fail "$target is neither a block device nor a file"
    fi
    major=$(stat -L -c %t "$dev"); minor=$(stat -L -c %T "$dev")
    xenstore-write "$XENBUS_PATH/physical-device" "$major:$minor" "$XENBUS_PATH/physical-device-path" "$dev" \\
      || fail "cannot publish $dev"
    xenstore-write "$XENBUS_PATH/hotplug-status" connected
    ;;
  remove)
    dev=$(xenstore-read "$XENBUS_PATH/physical-device-path" 2>/dev/null)
    case "$dev" in /dev/loop*) losetup -d "$dev" 2>/dev/null ;; esac
    ;;
esac
exit 0
`;

/** xl's default vif hotplug script: puts the backend interface on the bridge named in xenstore. */
export const VIF_HOTPLUG_SCRIPT = `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
path=\${XENBUS_PATH#backend/vif/}
dev=\${vif:-vif\${path%%/*}.\${path#*/}}
case "$1" in
  online|add)
    bridge=$(xenstore-read "$XENBUS_PATH/bridge" 2>/dev/null) || bridge=xenbr0
    if ! { ip link set "$dev" master "$bridge" && ip link set "$dev" up; }; then
      xenstore-write "$XENBUS_PATH/hotplug-error" "cannot put $dev on $bridge" "$XENBUS_PATH/hotplug-status" error
      exit 1
    fi
    xenstore-write "$XENBUS_PATH/hotplug-status" connected
    ;;
  offline|remove)
    ip link set "$dev" down 2>/dev/null
    ;;
esac
exit 0
`;

/** Runs one of the host's programs (from the read-only 9p share of its /) in the current folder. */
export const HOSTRUN_SCRIPT = `#!/bin/sh
[ -d /host/usr ] || { echo "hostrun: the host's / is not shared into this dom0 (start the testbed with hostRoot: true)" >&2; exit 127; }
[ $# -gt 0 ] || { echo "usage: hostrun PROGRAM [ARG...]" >&2; exit 2; }
unset LD_LIBRARY_PATH
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${DOM0_TOOLS_DIR}
exec chroot /host /bin/sh -c 'cd "$0" 2>/dev/null || cd /; exec "$@"' "$PWD" "$@"
`;

/**
 * Waits until a domain has shut down, crashed or gone; prints `shutdown <reason code>`,
 * `crashed` or `gone`. `xl list` costs ≈0.3 s of dom0 CPU under TCG, so instead of polling
 * it the script sleeps in a xenstore watch on @releaseDomain (xenstored fires it when a
 * domain shuts down or dies). The watch is registered (its first, immediate event seen)
 * before the state is checked, so no shutdown slips between check and wait.
 */
export const WAIT_DOMAIN_SCRIPT = `#!/bin/sh
# usage: tb-wait-domain NAME
name=$1
events=/run/ctl/wait.$$
trap 'rm -f "$events"; kill $watcher 2>/dev/null' EXIT
while :; do
  : >"$events"
  xenstore-watch -n 2 @releaseDomain >"$events" 2>/dev/null &
  watcher=$!
  while [ ! -s "$events" ] && kill -0 $watcher 2>/dev/null; do usleep 20000; done
  line=$(xl list -v "$name" 2>/dev/null | sed -n 2p)
  [ -n "$line" ] || { echo gone; exit 0; }
  set -- $line
  state=$5; reason=$8
  case "$state" in
    ????c*) echo crashed; exit 0 ;;
    ???s*) echo "shutdown $reason"; exit 0 ;;
  esac
  wait $watcher
done
`;

/**
 * A wrapper for the host's programs chrooted into /host (in DOM0_TOOLS_DIR there) that runs
 * dom0's program of the same name: back into dom0's root through /proc/1/root (init's root),
 * in the same current folder (the repository and the run share are at the same paths on both
 * sides, and /tmp is one folder).
 */
export function dom0ToolWrapper(program: string): string {
  return `#!/bin/sh
# dom0's ${program}, for the host's programs that dom0 runs in a chroot of the host's /.
exec chroot /proc/1/root /bin/sh -c 'cd "$0" 2>/dev/null || cd /; export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin; exec "$@"' "$PWD" ${program} "$@"
`;
}

/** A wrapper in dom0's PATH that runs the host's program of the same name. */
export function hostProgramWrapper(program: string): string {
  return `#!/bin/sh\nexec hostrun ${program} "$@"\n`;
}

/** Quotes a value for `sh` (single quotes). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * /init of the Linux DomU (buildLinuxDomUInitramfs). Loads the Xen net and block frontends,
 * prints `linux-domu: disk xvdX N sectors, starts with: TEXT` for each vbd, configures eth0
 * from `tb.ip=A.B.C.D/N` and pings `tb.peer=ADDR` (3 tries), then ends with
 * `Test result: SUCCESS|FAILURE` and powers off; with `tb.mode=hang` it stays up instead
 * (so dom0 can reach it) until destroyed.
 */
export const LINUX_DOMU_INIT = `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
say() { echo "linux-domu: $*"; }
for m in xen-netfront xen-blkfront; do modprobe "$m" || say "modprobe $m failed"; done
ip=; peer=; mode=
for w in $(cat /proc/cmdline); do
  case "$w" in
    tb.ip=*) ip=\${w#tb.ip=} ;;
    tb.peer=*) peer=\${w#tb.peer=} ;;
    tb.mode=*) mode=\${w#tb.mode=} ;;
  esac
done
fails=0
sleep 1
for b in /sys/block/xvd*; do
  [ -e "$b" ] || continue
  d=\${b##*/}
  say "disk $d $(cat "$b/size") sectors, starts with: $(head -c 64 "/dev/$d" | tr -cd 'A-Za-z0-9 _.:=-')"
done
if [ -n "$ip" ]; then
  ip link set lo up
  if ip link set eth0 up && ip addr add "$ip" dev eth0; then say "eth0 $ip up"; else say "eth0 failed"; fails=1; fi
  if [ -n "$peer" ]; then
    if ping -c 3 -w 15 "$peer" >/dev/null 2>&1; then say "ping $peer ok"; else say "ping $peer failed"; fails=1; fi
  fi
fi
if [ "$mode" = hang ]; then
  say "staying up"
  while :; do sleep 3600; done
fi
if [ $fails = 0 ]; then echo "${resultLine('SUCCESS')}"; else echo "${resultLine('FAILURE')}"; fi
poweroff -f
`;
