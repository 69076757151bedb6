import { describe, expect, it } from 'vitest';
import {
  NETBSD_ELAST,
  NETBSD_ERRNO,
  RUMPUSER_VERSION,
  areas,
  byArea,
  byInterface,
  constant,
  hypercall,
  hypercalls,
  librumpImports,
  linuxToNetbsdErrno,
  mandatory,
  netbsdErrno,
  netbsdErrnos,
  optional,
  struct,
  translateLinuxErrno,
  virtifSymbol,
} from '../src/index.js';

/** The 45 hypercalls NetBSD's librump.so (rumpkern) leaves undefined, held here as a fact. */
const LIBRUMP_IMPORTS = `
rumpuser_init rumpuser_malloc rumpuser_free rumpuser_anonmmap rumpuser_unmap
rumpuser_clock_gettime rumpuser_clock_sleep rumpuser_getparam rumpuser_seterrno
rumpuser_kill rumpuser_exit rumpuser_putchar rumpuser_dprintf rumpuser_getrandom
rumpuser_thread_create rumpuser_thread_exit rumpuser_thread_join rumpuser_curlwpop rumpuser_curlwp
rumpuser_mutex_init rumpuser_mutex_enter rumpuser_mutex_enter_nowrap rumpuser_mutex_tryenter
rumpuser_mutex_exit rumpuser_mutex_destroy rumpuser_mutex_owner
rumpuser_rw_init rumpuser_rw_enter rumpuser_rw_tryenter rumpuser_rw_tryupgrade rumpuser_rw_downgrade
rumpuser_rw_exit rumpuser_rw_destroy rumpuser_rw_held
rumpuser_cv_init rumpuser_cv_destroy rumpuser_cv_wait rumpuser_cv_wait_nowrap rumpuser_cv_timedwait
rumpuser_cv_signal rumpuser_cv_broadcast rumpuser_cv_has_waiters
rumpuser_dl_bootstrap rumpuser_daemonize_begin rumpuser_daemonize_done
`.trim().split(/\s+/);

const names = (hs: readonly { name: string }[]) => hs.map((h) => h.name);

describe('rumpuser v17 as data', () => {
  it('is version 17', () => {
    expect(RUMPUSER_VERSION).toBe(17);
    expect(constant('RUMPUSER_VERSION').value).toBe(17);
  });

  it('lists 60 rumpuser functions: 52 core + 8 sysproxy', () => {
    const ru = byInterface('rumpuser');
    expect(ru).toHaveLength(60);
    expect(byArea('sysproxy')).toHaveLength(8);
    expect(new Set(names(hypercalls)).size).toBe(hypercalls.length);
  });

  it('flags exactly the 45 librump.so imports', () => {
    expect(librumpImports).toHaveLength(45);
    expect(names(librumpImports).sort()).toEqual([...LIBRUMP_IMPORTS].sort());
  });

  it('marks anonmmap, unmap, kill, daemonize, dl_bootstrap, iovread/iovwrite, syncfd and sysproxy optional', () => {
    const opt = names(optional).filter((n) => !n.startsWith('rumpuser_sp_'));
    expect(opt.sort()).toEqual(
      [
        'rumpuser_anonmmap', 'rumpuser_unmap', 'rumpuser_kill', 'rumpuser_daemonize_begin',
        'rumpuser_daemonize_done', 'rumpuser_dl_bootstrap', 'rumpuser_iovread', 'rumpuser_iovwrite',
        'rumpuser_syncfd',
      ].sort(),
    );
    expect(mandatory).toHaveLength(43);
    expect(mandatory.every((h) => h.interface === 'rumpuser' && h.mandatory)).toBe(true);
    expect(names(mandatory)).toContain('rumpuser_bio');
    expect(names(mandatory)).not.toContain('rumpuser_sp_init');
  });

  it('gives every function a type, area and one-sentence contract', () => {
    for (const h of hypercalls) {
      expect(h.returns, h.name).toMatch(/\S/);
      expect(h.contract, h.name).toMatch(/^[A-Z].{15,}\.$/);
      for (const p of h.params) expect(p.type, `${h.name}.${p.name}`).toMatch(/\S/);
    }
  });

  it('byArea groups by area and rejects unknown areas by name', () => {
    expect(names(byArea('cv'))).toEqual([
      'rumpuser_cv_init', 'rumpuser_cv_destroy', 'rumpuser_cv_wait', 'rumpuser_cv_wait_nowrap',
      'rumpuser_cv_timedwait', 'rumpuser_cv_signal', 'rumpuser_cv_broadcast', 'rumpuser_cv_has_waiters',
    ]);
    expect(names(byArea('termination'))).toEqual(['rumpuser_kill', 'rumpuser_exit']);
    expect(byArea('mutex')).toHaveLength(7);
    expect(byArea('rw')).toHaveLength(8);
    expect(areas).toContain('files');
    expect(() => byArea('bogus' as never)).toThrow(/"bogus" is not an area; use one of init/);
  });

  it('describes rumpuser_init, bio and thread_create exactly', () => {
    expect(hypercall('rumpuser_init').params.map((p) => p.type)).toEqual(['int', 'const struct rumpuser_hyperup *']);
    expect(hypercall('rumpuser_bio').params.map((p) => p.type)).toEqual([
      'int', 'int', 'void *', 'size_t', 'int64_t', 'rump_biodone_fn', 'void *',
    ]);
    expect(hypercall('rumpuser_thread_create').params).toHaveLength(7);
    expect(hypercall('rumpuser_exit').noreturn).toBe(true);
    expect(hypercall('rumpuser_dprintf').variadic).toBe(true);
    expect(() => hypercall('rumpuser_nope')).toThrow(/no function named "rumpuser_nope"/);
  });

  it('holds struct rumpuser_hyperup field by field and struct rumpuser_iovec', () => {
    const hyp = struct('rumpuser_hyperup');
    expect(hyp.fields.map((f) => f.name)).toEqual([
      'hyp_schedule', 'hyp_unschedule', 'hyp_backend_unschedule', 'hyp_backend_schedule',
      'hyp_lwproc_switch', 'hyp_lwproc_release', 'hyp_lwproc_rfork', 'hyp_lwproc_newlwp',
      'hyp_lwproc_curlwp', 'hyp_syscall', 'hyp_lwpexit', 'hyp_execnotify', 'hyp_getpid', 'hyp__extra',
    ]);
    expect(struct('rumpuser_iovec').fields).toEqual([
      { name: 'iov_base', type: 'void *' },
      { name: 'iov_len', type: 'size_t' },
    ]);
  });

  it('lists the component helpers', () => {
    expect(names(byInterface('rumpuser_component')).sort()).toEqual(
      [
        'rumpuser_component_schedule', 'rumpuser_component_unschedule', 'rumpuser_component_errtrans',
        'rumpuser_component_kthread', 'rumpuser_component_kthread_release', 'rumpuser_component_curlwp',
        'rumpuser_component_switchlwp',
      ].sort(),
    );
  });
});

describe('PCI and virtif as data', () => {
  it('gates dmafree and iospace_init behind their features', () => {
    expect(hypercall('rumpcomp_pci_dmafree').feature).toBe('RUMPCOMP_USERFEATURE_PCI_DMAFREE');
    expect(hypercall('rumpcomp_pci_iospace_init').feature).toBe('RUMPCOMP_USERFEATURE_PCI_IOSPACE');
    expect(byInterface('rumpcomp_pci')).toHaveLength(10);
  });

  it('resolves virtif macros through VIRTIF_BASE', () => {
    expect(virtifSymbol('VIFHYPER_SEND')).toBe('rumpcomp_virt_send');
    expect(virtifSymbol('VIF_DELIVERPKT', 'xenif')).toBe('rump_virtif_xenif_deliverpkt');
    expect(hypercall('VIF_DELIVERPKT').direction).toBe('upcall');
    expect(hypercall('VIFHYPER_CREATE').symbol).toBe('rumpcomp_virt_create');
    expect(hypercall('rumpuser_bio').symbol).toBe('rumpuser_bio');
    expect(() => virtifSymbol('VIFHYPER_NOPE')).toThrow(/not a virtif macro/);
  });
});

describe('errno data', () => {
  it('numbers NetBSD errnos as NetBSD does', () => {
    expect(NETBSD_ERRNO.EAGAIN).toBe(35);
    expect(NETBSD_ERRNO.EWOULDBLOCK).toBe(35);
    expect(NETBSD_ERRNO.ETIMEDOUT).toBe(60);
    expect(NETBSD_ERRNO.EDEADLK).toBe(11);
    expect(NETBSD_ERRNO.ENOSYS).toBe(78);
    expect(NETBSD_ERRNO.EOVERFLOW).toBe(84);
    expect(NETBSD_ERRNO.ENOTSUP).toBe(86);
    expect(NETBSD_ERRNO.ENOATTR).toBe(93);
    expect(NETBSD_ERRNO.EPROTO).toBe(96);
    expect(NETBSD_ELAST).toBe(98);
    expect(netbsdErrno('EBUSY')).toEqual({ name: 'EBUSY', number: 16, message: 'Device busy' });
    expect(netbsdErrnos.map((e) => e.number)).toEqual(Array.from({ length: 98 }, (_, i) => i + 1));
    expect(() => netbsdErrno('EFOO')).toThrow(/"EFOO" is not a NetBSD errno name/);
  });

  it('maps every Linux errno to an existing NetBSD errno', () => {
    for (const m of linuxToNetbsdErrno) expect(() => netbsdErrno(m.netbsd), m.linux).not.toThrow();
    expect(new Set(linuxToNetbsdErrno.map((m) => m.linuxNumber)).size).toBe(linuxToNetbsdErrno.length);
    expect(translateLinuxErrno(110)).toBe(60);
    expect(translateLinuxErrno(11)).toBe(35);
    expect(translateLinuxErrno(0)).toBe(0);
    expect(translateLinuxErrno(9999)).toBe(NETBSD_ERRNO.EIO);
  });
});
