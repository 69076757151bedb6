/**
 * rumpuser, interface version 17: the hypercalls a NetBSD rump kernel makes into its host,
 * the upcall table it hands over at init, and every constant. Facts (names, types, values,
 * struct layouts) follow NetBSD's sys/rump/include/rump/rumpuser.h at version 17 and
 * lib/librumpuser/rumpuser_component.h; contracts are written here.
 *
 * All int results are 0 or an errno value in NetBSD numbering (see errno.ts).
 */
import type { Constant, EnumDef, Hypercall, Param, StructDef, TypedefDef } from './types.js';

export const RUMPUSER_VERSION = 17;

const p = (name: string, type: string): Param => ({ name, type });

type Spec = Omit<Hypercall, 'interface' | 'direction' | 'librumpImport' | 'mandatory' | 'symbol'> & {
  mandatory?: boolean;
  librumpImport?: boolean;
};

/** Mandatory and imported by librump.so unless the spec says otherwise. */
function ru(spec: Spec): Hypercall {
  return {
    interface: 'rumpuser',
    direction: 'hypercall',
    mandatory: true,
    librumpImport: true,
    ...spec,
    symbol: spec.name,
  };
}

const MTX = 'struct rumpuser_mtx *';
const RW = 'struct rumpuser_rw *';
const CV = 'struct rumpuser_cv *';

export const rumpuserFunctions: Hypercall[] = [
  // init
  ru({
    name: 'rumpuser_init', area: 'init', returns: 'int',
    params: [p('version', 'int'), p('hyp', 'const struct rumpuser_hyperup *')],
    contract: 'First call of all: accepts the kernel\'s upcall table and returns 0 only if version equals RUMPUSER_VERSION (17), an errno otherwise.',
  }),

  // memory
  ru({
    name: 'rumpuser_malloc', area: 'memory', returns: 'int',
    params: [p('len', 'size_t'), p('alignment', 'int'), p('memp', 'void **')],
    contract: 'Allocates len bytes aligned to alignment (a power of two, 0 meaning natural) into *memp; returns 0 or ENOMEM/EINVAL.',
  }),
  ru({
    name: 'rumpuser_free', area: 'memory', returns: 'void',
    params: [p('mem', 'void *'), p('len', 'size_t')],
    contract: 'Releases memory from rumpuser_malloc; len is the size originally requested.',
  }),
  ru({
    name: 'rumpuser_anonmmap', area: 'memory', returns: 'int', mandatory: false,
    params: [p('prefaddr', 'void *'), p('size', 'size_t'), p('alignbit', 'int'), p('exec', 'int'), p('memp', 'void **')],
    contract: 'Maps size bytes of zeroed anonymous memory aligned to 2^alignbit, executable if exec, near prefaddr if possible, into *memp; returns 0 or an errno.',
  }),
  ru({
    name: 'rumpuser_unmap', area: 'memory', returns: 'void', mandatory: false,
    params: [p('addr', 'void *'), p('len', 'size_t')],
    contract: 'Unmaps a range obtained from rumpuser_anonmmap.',
  }),

  // files and block I/O
  ru({
    name: 'rumpuser_open', area: 'files', returns: 'int', librumpImport: false,
    params: [p('path', 'const char *'), p('ruflags', 'int'), p('fdp', 'int *')],
    contract: 'Opens a host file or device with RUMPUSER_OPEN_* flags and stores a host descriptor in *fdp; returns 0 or an errno.',
  }),
  ru({
    name: 'rumpuser_close', area: 'files', returns: 'int', librumpImport: false,
    params: [p('fd', 'int')],
    contract: 'Closes a descriptor from rumpuser_open; returns 0 or an errno.',
  }),
  ru({
    name: 'rumpuser_getfileinfo', area: 'files', returns: 'int', librumpImport: false,
    params: [p('path', 'const char *'), p('sizep', 'uint64_t *'), p('ftp', 'int *')],
    contract: 'Reports a host path\'s size in bytes (media size for devices) and its RUMPUSER_FT_* type; either output pointer may be NULL; returns 0 or an errno.',
  }),
  ru({
    name: 'rumpuser_bio', area: 'files', returns: 'void', librumpImport: false,
    params: [
      p('fd', 'int'), p('op', 'int'), p('data', 'void *'), p('dlen', 'size_t'),
      p('off', 'int64_t'), p('biodone', 'rump_biodone_fn'), p('donearg', 'void *'),
    ],
    contract: 'Starts a block transfer (RUMPUSER_BIO_READ or _WRITE, optionally | _SYNC) of dlen bytes at off and later calls biodone(donearg, bytes moved, errno), possibly from another thread.',
  }),
  ru({
    name: 'rumpuser_iovread', area: 'files', returns: 'int', mandatory: false, librumpImport: false,
    params: [p('fd', 'int'), p('ruiov', 'struct rumpuser_iovec *'), p('iovlen', 'size_t'), p('off', 'int64_t'), p('retv', 'size_t *')],
    contract: 'Scatter-reads into iovlen buffers at off (RUMPUSER_IOV_NOSEEK: current position) and stores the byte count in *retv; returns 0 or an errno.',
  }),
  ru({
    name: 'rumpuser_iovwrite', area: 'files', returns: 'int', mandatory: false, librumpImport: false,
    params: [p('fd', 'int'), p('ruiov', 'const struct rumpuser_iovec *'), p('iovlen', 'size_t'), p('off', 'int64_t'), p('retv', 'size_t *')],
    contract: 'Gather-writes iovlen buffers at off (RUMPUSER_IOV_NOSEEK: current position) and stores the byte count in *retv; returns 0 or an errno.',
  }),
  ru({
    name: 'rumpuser_syncfd', area: 'files', returns: 'int', mandatory: false, librumpImport: false,
    params: [p('fd', 'int'), p('flags', 'int'), p('start', 'uint64_t'), p('len', 'uint64_t')],
    contract: 'Makes writes (and/or reads) in [start, start+len) durable or ordered per RUMPUSER_SYNCFD_* flags, len 0 meaning to the end; returns 0 or an errno (EOPNOTSUPP if a flag cannot be honoured).',
  }),

  // clocks
  ru({
    name: 'rumpuser_clock_gettime', area: 'clocks', returns: 'int',
    params: [p('clk', 'int'), p('sec', 'int64_t *'), p('nsec', 'long *')],
    contract: 'Reads RUMPUSER_CLOCK_RELWALL (wall time since the epoch) or RUMPUSER_CLOCK_ABSMONO (monotonic time) as seconds and nanoseconds; returns 0 or an errno.',
  }),
  ru({
    name: 'rumpuser_clock_sleep', area: 'clocks', returns: 'int',
    params: [p('clk', 'int'), p('sec', 'int64_t'), p('nsec', 'long')],
    contract: 'Blocks for a relative interval (RUMPUSER_CLOCK_RELWALL) or until an absolute monotonic time (RUMPUSER_CLOCK_ABSMONO), releasing the rump CPU meanwhile; returns 0 or an errno.',
  }),

  // params
  ru({
    name: 'rumpuser_getparam', area: 'params', returns: 'int',
    params: [p('name', 'const char *'), p('buf', 'void *'), p('buflen', 'size_t')],
    contract: 'Copies the NUL-terminated value of a host parameter (_RUMPUSER_NCPU, _RUMPUSER_HOSTNAME, else host configuration such as the environment) into buf; returns 0, ENOENT if the name is unknown, or another errno (e.g. ERANGE) if the value does not fit.',
  }),

  // errno
  ru({
    name: 'rumpuser_seterrno', area: 'errno', returns: 'void',
    params: [p('error', 'int')],
    contract: 'Sets the calling thread\'s errno as seen by a client of the rump system call interface.',
  }),

  // termination
  ru({
    name: 'rumpuser_kill', area: 'termination', returns: 'int', mandatory: false,
    params: [p('pid', 'int64_t'), p('sig', 'int')],
    contract: 'Delivers a NetBSD-numbered signal to a host process, RUMPUSER_PID_SELF meaning the one hosting the kernel; returns 0 or an errno.',
  }),
  ru({
    name: 'rumpuser_exit', area: 'termination', returns: 'void', noreturn: true,
    params: [p('rv', 'int')],
    contract: 'Ends the host process or domain with status rv; RUMPUSER_PANIC requests an abnormal (crash) exit; never returns.',
  }),

  // console
  ru({
    name: 'rumpuser_putchar', area: 'console', returns: 'void',
    params: [p('ch', 'int')],
    contract: 'Writes one character to the host console.',
  }),
  ru({
    name: 'rumpuser_dprintf', area: 'console', returns: 'void', variadic: true, printf: [1, 2],
    params: [p('fmt', 'const char *')],
    contract: 'Formats like printf and writes the result to the host console without taking kernel locks (usable from any context).',
  }),

  // random
  ru({
    name: 'rumpuser_getrandom', area: 'random', returns: 'int',
    params: [p('buf', 'void *'), p('buflen', 'size_t'), p('flags', 'int'), p('retp', 'size_t *')],
    contract: 'Fills buf from the host\'s entropy source and stores the count in *retp; always fills it all unless RUMPUSER_RANDOM_NOWAIT is set; returns 0 or an errno.',
  }),

  // threads
  ru({
    name: 'rumpuser_thread_create', area: 'threads', returns: 'int',
    params: [
      p('fun', 'void *(*)(void *)'), p('arg', 'void *'), p('thrname', 'const char *'),
      p('mustjoin', 'int'), p('priority', 'int'), p('cpuidx', 'int'), p('cookie', 'void **'),
    ],
    contract: 'Starts a host thread running fun(arg), named thrname; if mustjoin, stores a cookie for rumpuser_thread_join; priority and cpuidx (-1: any) are hints; returns 0 or an errno.',
  }),
  ru({
    name: 'rumpuser_thread_exit', area: 'threads', returns: 'void', noreturn: true,
    params: [],
    contract: 'Terminates the calling thread; never returns.',
  }),
  ru({
    name: 'rumpuser_thread_join', area: 'threads', returns: 'int',
    params: [p('cookie', 'void *')],
    contract: 'Waits for a thread created with mustjoin to exit, releasing the rump CPU meanwhile; returns 0 or an errno.',
  }),

  // curlwp
  ru({
    name: 'rumpuser_curlwpop', area: 'curlwp', returns: 'void',
    params: [p('op', 'int'), p('l', 'struct lwp *')],
    contract: 'Maintains the per-thread current lwp: RUMPUSER_LWP_CREATE/DESTROY announce an lwp, SET binds it to the calling thread, CLEAR unbinds it.',
  }),
  ru({
    name: 'rumpuser_curlwp', area: 'curlwp', returns: 'struct lwp *',
    params: [],
    contract: 'Returns the lwp bound to the calling thread, or NULL; must be fast (called constantly).',
  }),

  // mutex
  ru({
    name: 'rumpuser_mutex_init', area: 'mutex', returns: 'void',
    params: [p('mtxp', 'struct rumpuser_mtx **'), p('flags', 'int')],
    contract: 'Creates a mutex; RUMPUSER_MTX_SPIN means never block on the host, RUMPUSER_MTX_KMUTEX means track the owning lwp for rumpuser_mutex_owner.',
  }),
  ru({
    name: 'rumpuser_mutex_enter', area: 'mutex', returns: 'void',
    params: [p('mtx', MTX)],
    contract: 'Acquires the mutex; if it must wait it first releases the rump CPU and retakes it after acquiring.',
  }),
  ru({
    name: 'rumpuser_mutex_enter_nowrap', area: 'mutex', returns: 'void',
    params: [p('mtx', MTX)],
    contract: 'Acquires the mutex without releasing the rump CPU while waiting (for spin mutexes and scheduler-internal locks).',
  }),
  ru({
    name: 'rumpuser_mutex_tryenter', area: 'mutex', returns: 'int',
    params: [p('mtx', MTX)],
    contract: 'Acquires the mutex only if free: returns 0 on success, EBUSY otherwise.',
  }),
  ru({
    name: 'rumpuser_mutex_exit', area: 'mutex', returns: 'void',
    params: [p('mtx', MTX)],
    contract: 'Releases a mutex held by the caller.',
  }),
  ru({
    name: 'rumpuser_mutex_destroy', area: 'mutex', returns: 'void',
    params: [p('mtx', MTX)],
    contract: 'Frees an unheld mutex.',
  }),
  ru({
    name: 'rumpuser_mutex_owner', area: 'mutex', returns: 'void',
    params: [p('mtx', MTX), p('lp', 'struct lwp **')],
    contract: 'Stores the lwp holding a KMUTEX mutex in *lp, or NULL if it is free.',
  }),

  // rw
  ru({
    name: 'rumpuser_rw_init', area: 'rw', returns: 'void',
    params: [p('rwp', 'struct rumpuser_rw **')],
    contract: 'Creates a reader/writer lock.',
  }),
  ru({
    name: 'rumpuser_rw_enter', area: 'rw', returns: 'void',
    params: [p('lk', 'int'), p('rw', RW)],
    contract: 'Takes the lock as RUMPUSER_RW_READER or RUMPUSER_RW_WRITER, releasing the rump CPU while it waits.',
  }),
  ru({
    name: 'rumpuser_rw_tryenter', area: 'rw', returns: 'int',
    params: [p('lk', 'int'), p('rw', RW)],
    contract: 'Takes the lock in the given mode only if possible without waiting: returns 0 on success, EBUSY otherwise.',
  }),
  ru({
    name: 'rumpuser_rw_tryupgrade', area: 'rw', returns: 'int',
    params: [p('rw', RW)],
    contract: 'Turns the caller\'s read hold into a write hold if it is the only reader: returns 0 on success, EBUSY otherwise (still holding for read).',
  }),
  ru({
    name: 'rumpuser_rw_downgrade', area: 'rw', returns: 'void',
    params: [p('rw', RW)],
    contract: 'Turns the caller\'s write hold into a read hold without letting a writer in between.',
  }),
  ru({
    name: 'rumpuser_rw_exit', area: 'rw', returns: 'void',
    params: [p('rw', RW)],
    contract: 'Releases the caller\'s hold, whichever mode.',
  }),
  ru({
    name: 'rumpuser_rw_destroy', area: 'rw', returns: 'void',
    params: [p('rw', RW)],
    contract: 'Frees an unheld lock.',
  }),
  ru({
    name: 'rumpuser_rw_held', area: 'rw', returns: 'void',
    params: [p('lk', 'int'), p('rw', RW), p('rvp', 'int *')],
    contract: 'Stores in *rvp whether the lock is held in the given mode (for WRITER: by the caller).',
  }),

  // cv
  ru({
    name: 'rumpuser_cv_init', area: 'cv', returns: 'void',
    params: [p('cvp', 'struct rumpuser_cv **')],
    contract: 'Creates a condition variable.',
  }),
  ru({
    name: 'rumpuser_cv_destroy', area: 'cv', returns: 'void',
    params: [p('cv', CV)],
    contract: 'Frees a condition variable nobody waits on.',
  }),
  ru({
    name: 'rumpuser_cv_wait', area: 'cv', returns: 'void',
    params: [p('cv', CV), p('mtx', MTX)],
    contract: 'Atomically releases mtx and waits for a signal, releasing the rump CPU; reacquires mtx and the CPU before returning.',
  }),
  ru({
    name: 'rumpuser_cv_wait_nowrap', area: 'cv', returns: 'void',
    params: [p('cv', CV), p('mtx', MTX)],
    contract: 'Like rumpuser_cv_wait but keeps the rump CPU (used by the scheduler itself).',
  }),
  ru({
    name: 'rumpuser_cv_timedwait', area: 'cv', returns: 'int',
    params: [p('cv', CV), p('mtx', MTX), p('sec', 'int64_t'), p('nsec', 'int64_t')],
    contract: 'Like rumpuser_cv_wait but gives up after the relative time sec+nsec: returns 0 if signalled, ETIMEDOUT (60) on timeout.',
  }),
  ru({
    name: 'rumpuser_cv_signal', area: 'cv', returns: 'void',
    params: [p('cv', CV)],
    contract: 'Wakes one waiter, if any.',
  }),
  ru({
    name: 'rumpuser_cv_broadcast', area: 'cv', returns: 'void',
    params: [p('cv', CV)],
    contract: 'Wakes every waiter.',
  }),
  ru({
    name: 'rumpuser_cv_has_waiters', area: 'cv', returns: 'void',
    params: [p('cv', CV), p('rvp', 'int *')],
    contract: 'Stores in *rvp whether any thread waits on the condition variable.',
  }),

  // dl
  ru({
    name: 'rumpuser_dl_bootstrap', area: 'dl', returns: 'void', mandatory: false,
    params: [p('domodinit', 'rump_modinit_fn'), p('symload', 'rump_symload_fn'), p('compload', 'rump_compload_fn')],
    contract: 'Hands every kernel module, symbol table and rump component linked into the image to the callbacks; may do nothing where there is no dynamic linking.',
  }),

  // daemonize
  ru({
    name: 'rumpuser_daemonize_begin', area: 'daemonize', returns: 'int', mandatory: false,
    params: [],
    contract: 'Detaches the hosting process from its terminal, the parent waiting for rumpuser_daemonize_done; returns 0 or an errno.',
  }),
  ru({
    name: 'rumpuser_daemonize_done', area: 'daemonize', returns: 'int', mandatory: false,
    params: [p('error', 'int')],
    contract: 'Reports the outcome of start-up to the waiting parent, which exits with it; returns 0 or an errno.',
  }),

  // sysproxy (remote system calls; librumpkern_sysproxy imports these)
  ...(
    [
      ['rumpuser_sp_init', 'int', [p('url', 'const char *'), p('ostype', 'const char *'), p('osrelease', 'const char *'), p('machine', 'const char *')],
        'Starts serving remote system call clients at url, advertising the given OS identity; returns 0 or an errno.'],
      ['rumpuser_sp_copyin', 'int', [p('arg', 'void *'), p('raddr', 'const void *'), p('laddr', 'void *'), p('len', 'size_t')],
        'Copies len bytes from the remote client\'s address raddr to laddr; returns 0 or an errno.'],
      ['rumpuser_sp_copyinstr', 'int', [p('arg', 'void *'), p('raddr', 'const void *'), p('laddr', 'void *'), p('lenp', 'size_t *')],
        'Copies a NUL-terminated string from the remote client, at most *lenp bytes, updating *lenp; returns 0 or an errno.'],
      ['rumpuser_sp_copyout', 'int', [p('arg', 'void *'), p('laddr', 'const void *'), p('raddr', 'void *'), p('len', 'size_t')],
        'Copies len bytes from laddr to the remote client\'s address raddr; returns 0 or an errno.'],
      ['rumpuser_sp_copyoutstr', 'int', [p('arg', 'void *'), p('laddr', 'const void *'), p('raddr', 'void *'), p('lenp', 'size_t *')],
        'Copies a NUL-terminated string to the remote client, at most *lenp bytes, updating *lenp; returns 0 or an errno.'],
      ['rumpuser_sp_anonmmap', 'int', [p('arg', 'void *'), p('howmuch', 'size_t'), p('addr', 'void **')],
        'Maps anonymous memory in the remote client and stores its address in *addr; returns 0 or an errno.'],
      ['rumpuser_sp_raise', 'int', [p('arg', 'void *'), p('signo', 'int')],
        'Raises a signal in the remote client; returns 0 or an errno.'],
      ['rumpuser_sp_fini', 'void', [p('arg', 'void *')],
        'Shuts the remote system call server down.'],
    ] as const
  ).map(([name, returns, params, contract]) =>
    ru({ name, area: 'sysproxy', returns, params: [...params], contract, mandatory: false, librumpImport: false }),
  ),
];

/** Helpers librumpuser offers to host-side component code (lib/librumpuser/rumpuser_component.h). */
export const componentFunctions: Hypercall[] = (
  [
    ['rumpuser_component_unschedule', 'void *', [],
      'Releases the rump CPU before host code blocks and returns a cookie for rumpuser_component_schedule.'],
    ['rumpuser_component_schedule', 'void', [p('cookie', 'void *')],
      'Retakes a rump CPU with the cookie from rumpuser_component_unschedule (NULL: fresh context).'],
    ['rumpuser_component_errtrans', 'int', [p('hosterr', 'int')],
      'Translates a host errno value into NetBSD numbering.'],
    ['rumpuser_component_kthread', 'void', [],
      'Makes the calling host thread a rump kernel thread (gives it an lwp) so it may enter the kernel.'],
    ['rumpuser_component_curlwp', 'struct lwp *', [],
      'Returns the lwp the calling host thread currently runs as.'],
    ['rumpuser_component_switchlwp', 'void', [p('l', 'struct lwp *')],
      'Makes the calling host thread run as lwp l.'],
    ['rumpuser_component_kthread_release', 'void', [],
      'Releases the lwp given by rumpuser_component_kthread.'],
  ] as const
).map(([name, returns, params, contract]) => ({
  name,
  symbol: name,
  interface: 'rumpuser_component' as const,
  area: 'component' as const,
  direction: 'hypercall' as const,
  returns,
  params: [...params],
  mandatory: false,
  librumpImport: false,
  contract,
}));

const c = (
  name: string, group: string, value: number | bigint | string, cText: string, meaning: string, enumName?: string,
): Constant => ({ name, interface: 'rumpuser', group, value, c: cText, meaning, ...(enumName ? { enumName } : {}) });
const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
const flag = (name: string, group: string, v: number, meaning: string) => c(name, group, v, hex(v), meaning);

export const rumpuserConstants: Constant[] = [
  c('RUMPUSER_VERSION', 'version', RUMPUSER_VERSION, String(RUMPUSER_VERSION), 'Interface version rumpuser_init expects.'),

  flag('RUMPUSER_OPEN_RDONLY', 'open', 0x0000, 'Open for reading only.'),
  flag('RUMPUSER_OPEN_WRONLY', 'open', 0x0001, 'Open for writing only.'),
  flag('RUMPUSER_OPEN_RDWR', 'open', 0x0002, 'Open for reading and writing.'),
  flag('RUMPUSER_OPEN_ACCMODE', 'open', 0x0003, 'Mask of the access mode bits.'),
  flag('RUMPUSER_OPEN_CREATE', 'open', 0x0004, 'Create the file if missing.'),
  flag('RUMPUSER_OPEN_EXCL', 'open', 0x0008, 'With CREATE: fail if it exists.'),
  flag('RUMPUSER_OPEN_BIO', 'open', 0x0010, 'The descriptor will be used with rumpuser_bio.'),

  c('RUMPUSER_FT_OTHER', 'ft', 0, '0', 'Neither of the types below.'),
  c('RUMPUSER_FT_DIR', 'ft', 1, '1', 'Directory.'),
  c('RUMPUSER_FT_REG', 'ft', 2, '2', 'Regular file.'),
  c('RUMPUSER_FT_BLK', 'ft', 3, '3', 'Block device.'),
  c('RUMPUSER_FT_CHR', 'ft', 4, '4', 'Character device.'),

  flag('RUMPUSER_BIO_READ', 'bio', 0x01, 'Transfer from the file into memory.'),
  flag('RUMPUSER_BIO_WRITE', 'bio', 0x02, 'Transfer from memory to the file.'),
  flag('RUMPUSER_BIO_SYNC', 'bio', 0x04, 'The write must be durable before completion is reported.'),

  c('RUMPUSER_IOV_NOSEEK', 'iov', -1, '-1', 'Offset meaning "at the current file position".'),

  flag('RUMPUSER_SYNCFD_READ', 'syncfd', 0x01, 'Order/complete outstanding reads.'),
  flag('RUMPUSER_SYNCFD_WRITE', 'syncfd', 0x02, 'Order/complete outstanding writes.'),
  c('RUMPUSER_SYNCFD_BOTH', 'syncfd', 0x03, '(RUMPUSER_SYNCFD_READ | RUMPUSER_SYNCFD_WRITE)', 'READ and WRITE.'),
  flag('RUMPUSER_SYNCFD_BARRIER', 'syncfd', 0x04, 'Act as an ordering barrier.'),
  flag('RUMPUSER_SYNCFD_SYNC', 'syncfd', 0x08, 'Wait until the data is on stable storage.'),

  c('RUMPUSER_CLOCK_RELWALL', 'clock', 0, '0', 'Wall clock; sleeps are relative.', 'rumpclock'),
  c('RUMPUSER_CLOCK_ABSMONO', 'clock', 1, '1', 'Monotonic clock; sleeps are absolute deadlines.', 'rumpclock'),

  c('RUMPUSER_PARAM_NCPU', 'param', '_RUMPUSER_NCPU', '"_RUMPUSER_NCPU"', 'Number of virtual CPUs the kernel should configure.'),
  c('RUMPUSER_PARAM_CPU_FREQUENCY', 'param', '_RUMPUSER_CPU_FREQUENCY', '"_RUMPUSER_CPU_FREQUENCY"', 'CPU frequency in Hz, if known.'),
  c('RUMPUSER_PARAM_HOSTNAME', 'param', '_RUMPUSER_HOSTNAME', '"_RUMPUSER_HOSTNAME"', 'Host name the kernel should use.'),

  c('RUMPUSER_PID_SELF', 'kill', -1n, '((int64_t)-1)', 'rumpuser_kill target meaning the hosting process itself.'),
  c('RUMPUSER_PANIC', 'exit', -1, '(-1)', 'rumpuser_exit status meaning an abnormal end.'),

  flag('RUMPUSER_RANDOM_HARD', 'random', 0x01, 'Ask for the strongest randomness the host offers.'),
  flag('RUMPUSER_RANDOM_NOWAIT', 'random', 0x02, 'Return what is available without blocking.'),

  c('RUMPUSER_LWP_CREATE', 'lwp', 0, '0', 'An lwp came into existence.', 'rumplwpop'),
  c('RUMPUSER_LWP_DESTROY', 'lwp', 1, '1', 'An lwp is going away.', 'rumplwpop'),
  c('RUMPUSER_LWP_SET', 'lwp', 2, '2', 'Bind the lwp to the calling thread.', 'rumplwpop'),
  c('RUMPUSER_LWP_CLEAR', 'lwp', 3, '3', 'Unbind the calling thread\'s lwp.', 'rumplwpop'),

  flag('RUMPUSER_MTX_SPIN', 'mtx', 0x01, 'Spin mutex: never release the rump CPU while waiting.'),
  flag('RUMPUSER_MTX_KMUTEX', 'mtx', 0x02, 'Kernel mutex: record the owner lwp.'),

  c('RUMPUSER_RW_READER', 'rw', 0, '0', 'Shared (read) hold.', 'rumprwlock'),
  c('RUMPUSER_RW_WRITER', 'rw', 1, '1', 'Exclusive (write) hold.', 'rumprwlock'),
];

export const rumpuserEnums: EnumDef[] = [
  { name: 'rumpclock', interface: 'rumpuser', meaning: 'Clock ids for rumpuser_clock_gettime/sleep.' },
  { name: 'rumplwpop', interface: 'rumpuser', meaning: 'Operations of rumpuser_curlwpop.' },
  { name: 'rumprwlock', interface: 'rumpuser', meaning: 'Lock modes of the rumpuser_rw_* calls.' },
];

export const rumpuserTypedefs: TypedefDef[] = [
  { name: 'rump_biodone_fn', interface: 'rumpuser', type: 'void (*)(void *, size_t, int)',
    meaning: 'Completion of rumpuser_bio: (donearg, bytes transferred, NetBSD errno).' },
  { name: 'rump_modinit_fn', interface: 'rumpuser', type: 'void (*)(const struct modinfo *const *, size_t)',
    meaning: 'Receives an array of linked-in kernel modules.' },
  { name: 'rump_symload_fn', interface: 'rumpuser', type: 'int (*)(void *, uint64_t, char *, uint64_t)',
    meaning: 'Receives a symbol table and its string table.' },
  { name: 'rump_compload_fn', interface: 'rumpuser', type: 'void (*)(const struct rump_component *)',
    meaning: 'Receives one linked-in rump component.' },
];

export const rumpuserStructs: StructDef[] = [
  {
    name: 'rumpuser_hyperup',
    interface: 'rumpuser',
    meaning: 'Upcalls the kernel gives rumpuser_init: how the hypercall layer schedules, switches lwps and serves system calls.',
    fields: [
      { name: 'hyp_schedule', type: 'void (*)(void)' },
      { name: 'hyp_unschedule', type: 'void (*)(void)' },
      { name: 'hyp_backend_unschedule', type: 'void (*)(int, int *, void *)' },
      { name: 'hyp_backend_schedule', type: 'void (*)(int, void *)' },
      { name: 'hyp_lwproc_switch', type: 'void (*)(struct lwp *)' },
      { name: 'hyp_lwproc_release', type: 'void (*)(void)' },
      { name: 'hyp_lwproc_rfork', type: 'int (*)(void *, int, const char *)' },
      { name: 'hyp_lwproc_newlwp', type: 'int (*)(pid_t)' },
      { name: 'hyp_lwproc_curlwp', type: 'struct lwp *(*)(void)' },
      { name: 'hyp_syscall', type: 'int (*)(int, void *, long *)' },
      { name: 'hyp_lwpexit', type: 'void (*)(void)' },
      { name: 'hyp_execnotify', type: 'void (*)(const char *)' },
      { name: 'hyp_getpid', type: 'pid_t (*)(void)' },
      { name: 'hyp__extra', type: 'void *[8]' },
    ],
  },
  {
    name: 'rumpuser_iovec',
    interface: 'rumpuser',
    meaning: 'One buffer of rumpuser_iovread/iovwrite (same layout as NetBSD\'s struct iovec).',
    fields: [
      { name: 'iov_base', type: 'void *' },
      { name: 'iov_len', type: 'size_t' },
    ],
  },
];

/** Incomplete types the rumpuser prototypes mention. */
export const rumpuserOpaque = ['lwp', 'rumpuser_mtx', 'rumpuser_rw', 'rumpuser_cv', 'modinfo', 'rump_component'];
