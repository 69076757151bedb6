/**
 * Whether a process id names a process that still exists: signal 0 checks without sending
 * anything; EPERM means it exists but belongs to someone else. A zombie counts as alive (it
 * holds its pid until reaped). Used for the pids written into lock folders and temp folder
 * names, to take over what a process that died left behind.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
