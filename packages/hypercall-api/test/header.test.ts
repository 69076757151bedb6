import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LINUX_TO_NETBSD_FUNCTION,
  NETBSD_ERRNO_PREFIX,
  constants,
  headerNames,
  linuxToNetbsdErrno,
  netbsdErrnos,
  renderHeader,
  renderTypeCheck,
  translateLinuxErrno,
} from '../src/index.js';
import { cc, cleanupTemp, freshInclude, run, type Mode } from './cc.js';

afterAll(cleanupTemp);

const include = freshInclude();
const modes: Mode[] = ['linux', 'freestanding'];
const reference = readFileSync(fileURLToPath(new URL('./fixtures/reference-v17.c', import.meta.url)), 'utf8');

describe('every generated header compiles on its own', () => {
  for (const name of headerNames) {
    for (const mode of modes) {
      it(`${name} (${mode})`, () => {
        const r = cc(`#include "${name}"\nint header_test_unit_not_empty;\n`, include, mode);
        expect(r.stderr).toBe('');
        expect(r.ok).toBe(true);
      });
    }
  }
});

describe('prototype-by-prototype type check from the data', () => {
  for (const name of ['rumpuser.h', 'pci_user.h', 'virtif_user.h'] as const) {
    for (const mode of modes) {
      it(`${name} (${mode})`, () => {
        const src = renderTypeCheck(name);
        expect(src.match(/_Static_assert/g)?.length ?? 0).toBeGreaterThan(4);
        const r = cc(src, include, mode);
        expect(r.stderr).toBe('');
        expect(r.ok).toBe(true);
      });
    }
  }

  it('fails when a single parameter type differs (the check can fail)', () => {
    const bad = freshInclude((name, text) =>
      name === 'rumpuser.h' ? text.replace('int rumpuser_iovwrite(int fd, const struct', 'int rumpuser_iovwrite(int fd, struct') : text,
    );
    const r = cc(renderTypeCheck('rumpuser.h'), bad, 'linux');
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain('rumpuser_iovwrite has type');
  });

  it('fails when a struct field type differs', () => {
    const bad = freshInclude((name, text) =>
      name === 'rumpuser.h' ? text.replace('int (*hyp_syscall)(int, void *, long *);', 'int (*hyp_syscall)(int, void *, int *);') : text,
    );
    const r = cc(renderTypeCheck('rumpuser.h'), bad, 'linux');
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain('hyp_syscall');
  });
});

/**
 * The reference with every function it names taken by address before its redeclaration: a
 * redeclaration alone would also compile against a header that lacks the prototype.
 */
function referenceRequiringDeclarations(): { source: string; names: string[] } {
  const names = [...new Set([...reference.matchAll(/^[A-Za-z][^;#(]*?\b((?:rumpuser|rumpcomp)_\w+)\(/gm)].map((m) => m[1]!))];
  const lines = reference.split('\n');
  // Right after the reference's first block of #include lines (the headers under test).
  let at = lines.findIndex((l) => l.startsWith('#include'));
  while (lines[at]?.startsWith('#include')) at++;
  const check = `typedef void (*any_function)(void);\nconst any_function declared_by_the_headers[] = { ${names.map((n) => `(any_function)&${n}`).join(', ')} };`;
  return { source: [...lines.slice(0, at), check, ...lines.slice(at)].join('\n'), names };
}

describe('independent v17 reference (redeclarations and x86-64 layout)', () => {
  it('every function the reference names is declared by the headers before it is redeclared', () => {
    const { source, names } = referenceRequiringDeclarations();
    expect(names.length).toBeGreaterThanOrEqual(80);
    expect(names).toEqual(expect.arrayContaining(['rumpuser_daemonize_done', 'rumpuser_sp_raise', 'rumpcomp_pci_dmafree', 'rumpcomp_virt_send']));
    for (const mode of modes) {
      const r = cc(source, include, mode);
      expect(r.stderr).toBe('');
      expect(r.ok).toBe(true);
    }
    // Control: a header without one prototype fails here, though the plain reference compiles.
    const bad = freshInclude((name, text) => (name === 'rumpuser.h' ? text.replace(/^int rumpuser_daemonize_done\(.*\);$/m, '') : text));
    expect(cc(reference, bad, 'linux').ok).toBe(true);
    const r = cc(source, bad, 'linux');
    expect(r.ok).toBe(false);
    expect(r.stderr).toContain('rumpuser_daemonize_done');
  });

  for (const mode of modes) {
    it(`matches the hand-written reference (${mode})`, () => {
      const r = cc(reference, include, mode);
      expect(r.stderr).toBe('');
      expect(r.ok).toBe(true);
    });
  }

  it('rejects a header whose iovec length is 32-bit', () => {
    const bad = freshInclude((name, text) =>
      name === 'rumpuser.h' ? text.replace('\tsize_t iov_len;', '\tuint32_t iov_len;') : text,
    );
    expect(cc(reference, bad, 'linux').ok).toBe(false);
  });
});

describe('pid_t and libc coexistence', () => {
  for (const order of [
    ['sys/types.h', 'rumpuser.h'],
    ['rumpuser.h', 'sys/types.h'],
    ['rumpuser.h', 'unistd.h', 'errno.h', 'rumpxen/netbsd_errno.h', 'rumpxen/errno_linux_to_netbsd.h'],
  ]) {
    it(`compiles with glibc headers in order ${order.join(', ')}`, () => {
      const src = `${order.map((h) => `#include <${h}>`).join('\n')}\n_Static_assert(sizeof(pid_t) == 4, "pid_t");\n`;
      const r = cc(src, include, 'linux');
      expect(r.stderr).toBe('');
      expect(r.ok).toBe(true);
    });
  }

  it('leaves pid_t to a libc that declared it first (RUMPXEN_PID_T_DEFINED)', () => {
    const src = '#include <stdint.h>\ntypedef int32_t pid_t;\n#define RUMPXEN_PID_T_DEFINED\n#include "rumpuser.h"\n';
    expect(cc(src, include, 'freestanding').ok).toBe(true);
  });
});

/** Values as NetBSD defines them, held here independently of src/. */
const expectedConstants: Record<string, number | string> = {
  RUMPUSER_VERSION: 17,
  RUMPUSER_OPEN_RDONLY: 0, RUMPUSER_OPEN_WRONLY: 1, RUMPUSER_OPEN_RDWR: 2, RUMPUSER_OPEN_ACCMODE: 3,
  RUMPUSER_OPEN_CREATE: 4, RUMPUSER_OPEN_EXCL: 8, RUMPUSER_OPEN_BIO: 16,
  RUMPUSER_FT_OTHER: 0, RUMPUSER_FT_DIR: 1, RUMPUSER_FT_REG: 2, RUMPUSER_FT_BLK: 3, RUMPUSER_FT_CHR: 4,
  RUMPUSER_BIO_READ: 1, RUMPUSER_BIO_WRITE: 2, RUMPUSER_BIO_SYNC: 4,
  RUMPUSER_IOV_NOSEEK: -1,
  RUMPUSER_SYNCFD_READ: 1, RUMPUSER_SYNCFD_WRITE: 2, RUMPUSER_SYNCFD_BOTH: 3, RUMPUSER_SYNCFD_BARRIER: 4, RUMPUSER_SYNCFD_SYNC: 8,
  RUMPUSER_CLOCK_RELWALL: 0, RUMPUSER_CLOCK_ABSMONO: 1,
  RUMPUSER_PARAM_NCPU: '_RUMPUSER_NCPU', RUMPUSER_PARAM_CPU_FREQUENCY: '_RUMPUSER_CPU_FREQUENCY', RUMPUSER_PARAM_HOSTNAME: '_RUMPUSER_HOSTNAME',
  RUMPUSER_PID_SELF: -1, RUMPUSER_PANIC: -1,
  RUMPUSER_RANDOM_HARD: 1, RUMPUSER_RANDOM_NOWAIT: 2,
  RUMPUSER_LWP_CREATE: 0, RUMPUSER_LWP_DESTROY: 1, RUMPUSER_LWP_SET: 2, RUMPUSER_LWP_CLEAR: 3,
  RUMPUSER_MTX_SPIN: 1, RUMPUSER_MTX_KMUTEX: 2,
  RUMPUSER_RW_READER: 0, RUMPUSER_RW_WRITER: 1,
  RUMPCOMP_USERFEATURE_PCI_DMAFREE: 1, RUMPCOMP_USERFEATURE_PCI_IOSPACE: 1,
  VIFHYPER_REVISION: 20140313,
};

describe('constants as the compiler sees them', () => {
  it('every constant in the data prints the NetBSD value, and the data lists them all', () => {
    const body = constants
      .map((k) =>
        typeof k.value === 'string'
          ? `printf("%s=%s\\n", "${k.name}", ${k.name});`
          : `printf("%s=%lld\\n", "${k.name}", (long long)(${k.name}));`,
      )
      .join('\n');
    const src = `#include <stdio.h>\n#include "rumpuser.h"\n#include "pci_user.h"\n#include "virtif_user.h"\nint main(void) {\n${body}\nreturn 0;\n}\n`;
    const seen = Object.fromEntries(
      run(src, include)
        .trim()
        .split('\n')
        .map((l) => {
          const [k, v] = l.split('=') as [string, string];
          return [k, /^-?\d+$/.test(v) ? Number(v) : v];
        }),
    );
    expect(seen).toEqual(expectedConstants);
  });

  it('RUMPUSER_PID_SELF is an int64_t', () => {
    const r = cc('#include "rumpuser.h"\n_Static_assert(__builtin_types_compatible_p(__typeof__(RUMPUSER_PID_SELF), int64_t), "");\n', include, 'freestanding');
    expect(r.ok).toBe(true);
  });
});

describe('errno headers', () => {
  it('netbsd_errno.h: EAGAIN 35, ETIMEDOUT 60, and every entry of the table', () => {
    const body = netbsdErrnos
      .map((e) => `printf("%d %s %s\\n", ${NETBSD_ERRNO_PREFIX}${e.name}, rumpxen_netbsd_errno_name(${e.number}), rumpxen_netbsd_strerror(${e.number}));`)
      .join('\n');
    const src = `#include <stdio.h>\n#include "rumpxen/netbsd_errno.h"\nint main(void) {\n${body}\nprintf("%d %d %d\\n", ${NETBSD_ERRNO_PREFIX}EAGAIN, ${NETBSD_ERRNO_PREFIX}ETIMEDOUT, ${NETBSD_ERRNO_PREFIX}EWOULDBLOCK);\nreturn 0;\n}\n`;
    const lines = run(src, include).trim().split('\n');
    expect(lines.at(-1)).toBe('35 60 35');
    expect(lines.slice(0, -1)).toEqual(netbsdErrnos.map((e) => `${e.number} ${e.name} ${e.message}`));
  });

  it('errno_linux_to_netbsd.h agrees with glibc\'s numbers and with translateLinuxErrno', () => {
    // Uses the host's <errno.h> names, so a wrong Linux number in the data fails here.
    const body = linuxToNetbsdErrno
      .map((m) => `printf("%s %d %d\\n", "${m.linux}", ${m.linux}, ${LINUX_TO_NETBSD_FUNCTION}(${m.linux}));`)
      .join('\n');
    const src = `#include <stdio.h>\n#include <errno.h>\n#include "rumpxen/errno_linux_to_netbsd.h"\nint main(void) {\n${body}\nprintf("unmapped %d %d\\n", ${LINUX_TO_NETBSD_FUNCTION}(4000), ${LINUX_TO_NETBSD_FUNCTION}(0));\nreturn 0;\n}\n`;
    const lines = run(src, include).trim().split('\n');
    expect(lines.at(-1)).toBe(`unmapped ${translateLinuxErrno(4000)} 0`);
    for (const [i, m] of linuxToNetbsdErrno.entries()) {
      expect(lines[i]).toBe(`${m.linux} ${m.linuxNumber} ${translateLinuxErrno(m.linuxNumber)}`);
    }
  });

  it('the Linux mapping sends ETIMEDOUT 110 to 60 and EAGAIN 11 to 35', () => {
    const src = `#include <stdio.h>\n#include "rumpxen/errno_linux_to_netbsd.h"\nint main(void) { printf("%d %d %d\\n", ${LINUX_TO_NETBSD_FUNCTION}(110), ${LINUX_TO_NETBSD_FUNCTION}(11), ${LINUX_TO_NETBSD_FUNCTION}(95)); return 0; }\n`;
    expect(run(src, include).trim()).toBe('60 35 45');
  });
});

describe('rendering', () => {
  it('renderHeader names the bad input', () => {
    expect(() => renderHeader('nope.h' as never)).toThrow(/"nope.h" is not a generated header; use one of rumpuser.h/);
  });

  it('rumpuser.h keeps NetBSD\'s include guard and version', () => {
    const h = renderHeader('rumpuser.h');
    expect(h).toContain('#ifndef _RUMP_RUMPUSER_H_');
    expect(h).toMatch(/#define RUMPUSER_VERSION\s+17\n/);
  });
});
