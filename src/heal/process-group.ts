import { readFileSync } from 'node:fs';

/**
 * The start time of a process (field 22 of /proc/<pid>/stat, clock ticks since boot), or
 * undefined where /proc is missing or the process is gone. With the pid it names one process for
 * good: a pid reused later has a different start time.
 */
export function processStartTime(pid: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

export type GroupKill = 'killed' | 'gone' | 'reused';

/**
 * SIGKILLs a process group recorded earlier, unless its number now belongs to someone else.
 * While any member of a group lives, the kernel does not hand its number out again; so when the
 * leader is gone the remaining members are ours, and when a live leader has another start time
 * than recorded, the number was reused and is left alone.
 */
export function killProcessGroup(pgid: number, recordedStart: string | undefined): GroupKill {
  if (!Number.isInteger(pgid) || pgid <= 1) return 'gone';
  const leaderStart = processStartTime(pgid);
  if (leaderStart !== undefined && recordedStart !== undefined && leaderStart !== recordedStart) return 'reused';
  try {
    process.kill(-pgid, 'SIGKILL');
    return 'killed';
  } catch {
    return 'gone';
  }
}
