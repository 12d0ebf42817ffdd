"""Run a command and write its peak RSS (KiB) to a file:

    python bench/peak.py OUT COMMAND [ARG...]

A child's ru_maxrss counts the pages of the process that forked it until
it execs, so the runner (holding the 10 MB input blocks) would inflate it;
this small process does the fork instead.  Standard streams pass through;
the exit status is the command's.
"""

import os
import sys


def main() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    with open(out, "w") as fh:
        fh.write(str(usage.ru_maxrss))
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
