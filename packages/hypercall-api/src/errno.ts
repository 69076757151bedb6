/**
 * Every hypercall result is an errno in NetBSD numbering, whatever the host uses. This file
 * holds NetBSD's table (sys/sys/errno.h: numbers and the strerror messages) and the
 * Linux (asm-generic, i.e. x86-64 and arm64) numbers with the NetBSD value each maps to.
 */

export interface NetbsdErrno {
  name: string;
  number: number;
  message: string;
}

const table: Array<[string, string]> = [
  ['EPERM', 'Operation not permitted'],
  ['ENOENT', 'No such file or directory'],
  ['ESRCH', 'No such process'],
  ['EINTR', 'Interrupted system call'],
  ['EIO', 'Input/output error'],
  ['ENXIO', 'Device not configured'],
  ['E2BIG', 'Argument list too long'],
  ['ENOEXEC', 'Exec format error'],
  ['EBADF', 'Bad file descriptor'],
  ['ECHILD', 'No child processes'],
  ['EDEADLK', 'Resource deadlock avoided'],
  ['ENOMEM', 'Cannot allocate memory'],
  ['EACCES', 'Permission denied'],
  ['EFAULT', 'Bad address'],
  ['ENOTBLK', 'Block device required'],
  ['EBUSY', 'Device busy'],
  ['EEXIST', 'File exists'],
  ['EXDEV', 'Cross-device link'],
  ['ENODEV', 'Operation not supported by device'],
  ['ENOTDIR', 'Not a directory'],
  ['EISDIR', 'Is a directory'],
  ['EINVAL', 'Invalid argument'],
  ['ENFILE', 'Too many open files in system'],
  ['EMFILE', 'Too many open files'],
  ['ENOTTY', 'Inappropriate ioctl for device'],
  ['ETXTBSY', 'Text file busy'],
  ['EFBIG', 'File too large'],
  ['ENOSPC', 'No space left on device'],
  ['ESPIPE', 'Illegal seek'],
  ['EROFS', 'Read-only file system'],
  ['EMLINK', 'Too many links'],
  ['EPIPE', 'Broken pipe'],
  ['EDOM', 'Numerical argument out of domain'],
  ['ERANGE', 'Result too large or too small'],
  ['EAGAIN', 'Resource temporarily unavailable'],
  ['EINPROGRESS', 'Operation now in progress'],
  ['EALREADY', 'Operation already in progress'],
  ['ENOTSOCK', 'Socket operation on non-socket'],
  ['EDESTADDRREQ', 'Destination address required'],
  ['EMSGSIZE', 'Message too long'],
  ['EPROTOTYPE', 'Protocol wrong type for socket'],
  ['ENOPROTOOPT', 'Protocol option not available'],
  ['EPROTONOSUPPORT', 'Protocol not supported'],
  ['ESOCKTNOSUPPORT', 'Socket type not supported'],
  ['EOPNOTSUPP', 'Operation not supported'],
  ['EPFNOSUPPORT', 'Protocol family not supported'],
  ['EAFNOSUPPORT', 'Address family not supported by protocol family'],
  ['EADDRINUSE', 'Address already in use'],
  ['EADDRNOTAVAIL', "Can't assign requested address"],
  ['ENETDOWN', 'Network is down'],
  ['ENETUNREACH', 'Network is unreachable'],
  ['ENETRESET', 'Network dropped connection on reset'],
  ['ECONNABORTED', 'Software caused connection abort'],
  ['ECONNRESET', 'Connection reset by peer'],
  ['ENOBUFS', 'No buffer space available'],
  ['EISCONN', 'Socket is already connected'],
  ['ENOTCONN', 'Socket is not connected'],
  ['ESHUTDOWN', "Can't send after socket shutdown"],
  ['ETOOMANYREFS', "Too many references: can't splice"],
  ['ETIMEDOUT', 'Operation timed out'],
  ['ECONNREFUSED', 'Connection refused'],
  ['ELOOP', 'Too many levels of symbolic links'],
  ['ENAMETOOLONG', 'File name too long'],
  ['EHOSTDOWN', 'Host is down'],
  ['EHOSTUNREACH', 'No route to host'],
  ['ENOTEMPTY', 'Directory not empty'],
  ['EPROCLIM', 'Too many processes'],
  ['EUSERS', 'Too many users'],
  ['EDQUOT', 'Disc quota exceeded'],
  ['ESTALE', 'Stale NFS file handle'],
  ['EREMOTE', 'Too many levels of remote in path'],
  ['EBADRPC', 'RPC struct is bad'],
  ['ERPCMISMATCH', 'RPC version wrong'],
  ['EPROGUNAVAIL', 'RPC prog. not avail'],
  ['EPROGMISMATCH', 'Program version wrong'],
  ['EPROCUNAVAIL', 'Bad procedure for program'],
  ['ENOLCK', 'No locks available'],
  ['ENOSYS', 'Function not implemented'],
  ['EFTYPE', 'Inappropriate file type or format'],
  ['EAUTH', 'Authentication error'],
  ['ENEEDAUTH', 'Need authenticator'],
  ['EIDRM', 'Identifier removed'],
  ['ENOMSG', 'No message of desired type'],
  ['EOVERFLOW', 'Value too large to be stored in data type'],
  ['EILSEQ', 'Illegal byte sequence'],
  ['ENOTSUP', 'Not supported'],
  ['ECANCELED', 'Operation canceled'],
  ['EBADMSG', 'Bad or Corrupt message'],
  ['ENODATA', 'No message available'],
  ['ENOSR', 'No STREAM resources'],
  ['ENOSTR', 'Not a STREAM'],
  ['ETIME', 'STREAM ioctl timeout'],
  ['ENOATTR', 'Attribute not found'],
  ['EMULTIHOP', 'Multihop attempted'],
  ['ENOLINK', 'Link has been severed'],
  ['EPROTO', 'Protocol error'],
  ['EOWNERDEAD', 'Previous owner died'],
  ['ENOTRECOVERABLE', 'State not recoverable'],
];

/** NetBSD's errno values, 1..ELAST, in order: the number is the position in the table. */
export const netbsdErrnos: readonly NetbsdErrno[] = table.map(([name, message], i) => ({
  name,
  number: i + 1,
  message,
}));

/** Largest NetBSD errno value (ELAST). */
export const NETBSD_ELAST = netbsdErrnos.length;

/** Aliases NetBSD defines on top of the table. */
export const netbsdErrnoAliases: Readonly<Record<string, string>> = { EWOULDBLOCK: 'EAGAIN' };

const byName = new Map(netbsdErrnos.map((e) => [e.name, e]));

/** The NetBSD errno called `name` (aliases such as EWOULDBLOCK accepted). */
export function netbsdErrno(name: string): NetbsdErrno {
  const e = byName.get(netbsdErrnoAliases[name] ?? name);
  if (!e) {
    throw new Error(
      `netbsdErrno: "${name}" is not a NetBSD errno name; use one of ${netbsdErrnos[0]!.name}..${netbsdErrnos.at(-1)!.name} (see netbsdErrnos)`,
    );
  }
  return e;
}

/** Symbolic NetBSD errno constants, e.g. `NETBSD_ERRNO.ETIMEDOUT === 60`. */
export const NETBSD_ERRNO: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries([
    ...netbsdErrnos.map((e) => [e.name, e.number] as const),
    ...Object.entries(netbsdErrnoAliases).map(([alias, name]) => [alias, byName.get(name)!.number] as const),
  ]),
);

export interface LinuxErrnoMapping {
  /** Linux name. */
  linux: string;
  /** Linux number (asm-generic: x86-64, arm64, riscv). */
  linuxNumber: number;
  /** NetBSD name it becomes. */
  netbsd: string;
}

/**
 * Linux errno → NetBSD errno. Same-named errors map to each other; Linux-only ones map to
 * the closest NetBSD error (stated per entry). Linux numbers absent here translate to
 * `LINUX_UNMAPPED_TO_NETBSD`.
 */
const linuxTable: Array<[string, number, string?]> = [
  ['EPERM', 1], ['ENOENT', 2], ['ESRCH', 3], ['EINTR', 4], ['EIO', 5], ['ENXIO', 6],
  ['E2BIG', 7], ['ENOEXEC', 8], ['EBADF', 9], ['ECHILD', 10], ['EAGAIN', 11], ['ENOMEM', 12],
  ['EACCES', 13], ['EFAULT', 14], ['ENOTBLK', 15], ['EBUSY', 16], ['EEXIST', 17], ['EXDEV', 18],
  ['ENODEV', 19], ['ENOTDIR', 20], ['EISDIR', 21], ['EINVAL', 22], ['ENFILE', 23], ['EMFILE', 24],
  ['ENOTTY', 25], ['ETXTBSY', 26], ['EFBIG', 27], ['ENOSPC', 28], ['ESPIPE', 29], ['EROFS', 30],
  ['EMLINK', 31], ['EPIPE', 32], ['EDOM', 33], ['ERANGE', 34], ['EDEADLK', 35],
  ['ENAMETOOLONG', 36], ['ENOLCK', 37], ['ENOSYS', 38], ['ENOTEMPTY', 39], ['ELOOP', 40],
  ['ENOMSG', 42], ['EIDRM', 43],
  // Linux-only STREAMS/RPC-ish errors without a NetBSD twin.
  ['ECHRNG', 44, 'ERANGE'], ['EL2NSYNC', 45, 'EIO'], ['EL3HLT', 46, 'EIO'], ['EL3RST', 47, 'EIO'],
  ['ELNRNG', 48, 'ERANGE'], ['EUNATCH', 49, 'ENXIO'], ['ENOCSI', 50, 'EIO'], ['EL2HLT', 51, 'EIO'],
  ['EBADE', 52, 'EINVAL'], ['EBADR', 53, 'EINVAL'], ['EXFULL', 54, 'ENOSPC'], ['ENOANO', 55, 'EIO'],
  ['EBADRQC', 56, 'EINVAL'], ['EBADSLT', 57, 'EINVAL'], ['EBFONT', 59, 'EFTYPE'],
  ['ENOSTR', 60], ['ENODATA', 61], ['ETIME', 62], ['ENOSR', 63],
  ['ENONET', 64, 'ENETUNREACH'], ['ENOPKG', 65, 'ENOENT'], ['EREMOTE', 66], ['ENOLINK', 67],
  ['EADV', 68, 'EIO'], ['ESRMNT', 69, 'EIO'], ['ECOMM', 70, 'EIO'], ['EPROTO', 71],
  ['EMULTIHOP', 72], ['EDOTDOT', 73, 'EIO'], ['EBADMSG', 74], ['EOVERFLOW', 75],
  ['ENOTUNIQ', 76, 'EADDRINUSE'], ['EBADFD', 77, 'EBADF'], ['EREMCHG', 78, 'EADDRNOTAVAIL'],
  ['ELIBACC', 79, 'ENOEXEC'], ['ELIBBAD', 80, 'ENOEXEC'], ['ELIBSCN', 81, 'ENOEXEC'],
  ['ELIBMAX', 82, 'ENOEXEC'], ['ELIBEXEC', 83, 'ENOEXEC'], ['EILSEQ', 84],
  ['ERESTART', 85, 'EINTR'], ['ESTRPIPE', 86, 'EPIPE'], ['EUSERS', 87], ['ENOTSOCK', 88],
  ['EDESTADDRREQ', 89], ['EMSGSIZE', 90], ['EPROTOTYPE', 91], ['ENOPROTOOPT', 92],
  ['EPROTONOSUPPORT', 93], ['ESOCKTNOSUPPORT', 94],
  // Linux ENOTSUP is the same number as EOPNOTSUPP; the socket meaning wins.
  ['EOPNOTSUPP', 95], ['EPFNOSUPPORT', 96], ['EAFNOSUPPORT', 97], ['EADDRINUSE', 98],
  ['EADDRNOTAVAIL', 99], ['ENETDOWN', 100], ['ENETUNREACH', 101], ['ENETRESET', 102],
  ['ECONNABORTED', 103], ['ECONNRESET', 104], ['ENOBUFS', 105], ['EISCONN', 106],
  ['ENOTCONN', 107], ['ESHUTDOWN', 108], ['ETOOMANYREFS', 109], ['ETIMEDOUT', 110],
  ['ECONNREFUSED', 111], ['EHOSTDOWN', 112], ['EHOSTUNREACH', 113], ['EALREADY', 114],
  ['EINPROGRESS', 115], ['ESTALE', 116], ['EUCLEAN', 117, 'EIO'], ['ENOTNAM', 118, 'ENOENT'],
  ['ENAVAIL', 119, 'ENOENT'], ['EISNAM', 120, 'EFTYPE'], ['EREMOTEIO', 121, 'EIO'],
  ['EDQUOT', 122], ['ENOMEDIUM', 123, 'ENXIO'], ['EMEDIUMTYPE', 124, 'EFTYPE'],
  ['ECANCELED', 125], ['ENOKEY', 126, 'ENOENT'], ['EKEYEXPIRED', 127, 'EAUTH'],
  ['EKEYREVOKED', 128, 'EAUTH'], ['EKEYREJECTED', 129, 'EAUTH'], ['EOWNERDEAD', 130],
  ['ENOTRECOVERABLE', 131], ['ERFKILL', 132, 'ENETDOWN'], ['EHWPOISON', 133, 'EIO'],
];

export const linuxToNetbsdErrno: readonly LinuxErrnoMapping[] = linuxTable.map(([linux, linuxNumber, netbsd]) => ({
  linux,
  linuxNumber,
  netbsd: netbsd ?? linux,
}));

/** What a Linux errno without an entry becomes. */
export const LINUX_UNMAPPED_TO_NETBSD = 'EIO';

const linuxByNumber = new Map(linuxToNetbsdErrno.map((m) => [m.linuxNumber, m]));

/** Translates a Linux errno number into NetBSD numbering (0 stays 0). */
export function translateLinuxErrno(linuxNumber: number): number {
  if (linuxNumber === 0) return 0;
  const m = linuxByNumber.get(linuxNumber);
  return netbsdErrno(m ? m.netbsd : LINUX_UNMAPPED_TO_NETBSD).number;
}
